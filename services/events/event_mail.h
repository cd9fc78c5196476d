// The mail the events service writes to people, in their language (Korean,
// English, Chinese, Mongolian, Russian, Vietnamese): a registration
// received (a seat, or a place on the waiting list), a waiting-list place
// turned into a seat, a registration cancelled, an event postponed or
// cancelled, and reminders a week and a day before. Each is queued into the
// service's outbox (common/mail/outbox.h) by the transaction of the change
// that causes it, under a key that makes queuing it twice harmless: Register
// and CancelRegistration (registrations_store.cc), PromoteWaitlisted
// (events_store_rows.cc), ApplyEventChange and QueueDueReminders
// (events_store.cc). The worker that sends them is in events_server.cc.
//
//   // In the transaction that confirmed registration `r` of event `e`:
//   absl::StatusOr<bool> queued = QueueRegistrationMail(
//       session, e, r, RegistrationMail::kReceived, now);
#ifndef SMZ_SERVICES_EVENTS_EVENT_MAIL_H_
#define SMZ_SERVICES_EVENTS_EVENT_MAIL_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "common/mail/outbox.h"
#include "common/mysql/database.h"
#include "smz/events/v1/events.pb.h"

namespace smz::events {

using Event = v1::Event;
using Registration = v1::Registration;

// The languages mail is written in.
bool IsMailLanguage(absl::string_view language);

// The language of mail to `registration`: its `language`, else the first of
// its interpretation languages smz writes, else English.
std::string MailLanguageOf(const Registration& registration);

enum class RegistrationMail {
  kReceived,   // CONFIRMED: the seat; WAITLISTED: the place in line
  kPromoted,   // a waiting-list place became a seat
  kCancelled,  // the registration was cancelled (by the person or for them)
  kEventCancelled,  // with the event's reason
  kEventPostponed,  // to the event's new dates, with the reason
  kWeekBefore,      // reminders
  kDayBefore,
};

// The mail `kind` to the person of `registration` (its state and waiting
// position as they are now) about `event` (as it is now; for kEventPostponed
// `previous_start` is the start it had).
OutgoingMail RenderRegistrationMail(
    const Event& event, const Registration& registration, RegistrationMail kind,
    absl::Time previous_start = absl::InfinitePast());

// Renders and queues it; registrations without an address (none to send), or
// with one a mail cannot carry, stored before addresses were checked for mail)
// get none. The key is the registration's and the kind's (and for a
// postponement the new start, for a reminder the start it is about): true
// when the mail is new, false when that key was queued before.
absl::StatusOr<bool> QueueRegistrationMail(
    Session& session, const Event& event, const Registration& registration,
    RegistrationMail kind, absl::Time now,
    absl::Time previous_start = absl::InfinitePast());

}  // namespace smz::events

#endif  // SMZ_SERVICES_EVENTS_EVENT_MAIL_H_
