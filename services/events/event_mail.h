// The mail the events service writes to people, in their language (Korean,
// English, Chinese, Mongolian, Russian, Vietnamese): a registration
// received (a seat, or a place on the waiting list), a waiting-list place
// turned into a seat, a registration cancelled, a registration moved by an
// organizer to another event, an event postponed or cancelled, reminders a
// week and a day before, and the question to a public sign-up's address
// with the link that confirms it (kConfirmSignUp; a mail with a link is
// erased from the outbox once sent or failed for good). A mail about a seat
// carries a check-in code (check_in_code.h). Each is queued into the
// service's outbox (common/mail/outbox.h) by the transaction of the change
// that causes it, under a key that makes queuing it twice harmless:
// Register, CancelRegistration and MoveRegistration (registrations_store.cc),
// PromoteWaitlisted (events_store_rows.cc), ApplyEventChange and
// QueueDueReminders (events_store.cc), ConfirmSignUp and CancelSignUp
// (signups_store.cc). The worker that sends them is in events_server.cc.
//
//   // In the transaction that confirmed registration `r` of event `e`:
//   absl::StatusOr<bool> queued = QueueRegistrationMail(
//       session, e, r, RegistrationMail::kReceived, now);
#ifndef SMZ_SERVICES_EVENTS_EVENT_MAIL_H_
#define SMZ_SERVICES_EVENTS_EVENT_MAIL_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "common/auth/token.h"
#include "common/mail/outbox.h"
#include "common/mysql/database.h"
#include "smz/events/v1/events.pb.h"
#include "smz/registry/v1/registry.pb.h"

namespace smz::events {

using Event = v1::Event;
using Registration = v1::Registration;

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
  // A public sign-up, held until hold_until: the link confirms it.
  kConfirmSignUp,
  kMovedToOtherEvent,  // by an organizer to this event (MoveRegistration), with
                       // a seat
};

// The mail `kind` to the person of `registration` (its state and waiting
// position as they are now) about `event` (as it is now; for kEventPostponed
// `previous_start` is the start it had). `link`, for a public sign-up:
// the page that confirms it (kConfirmSignUp) or lets the person cancel it
// (after); a mail with a link is erased from the outbox once sent or failed
// for good.
//
// `check_in_code` (check_in_code.h), for a mail about a seat: shown as text and
// as a QR image, and the mail is erased once sent. `moved_from`, for
// kMovedToOtherEvent: the event the person was moved from, named and dated.
OutgoingMail RenderRegistrationMail(
    const Event& event, const Registration& registration, RegistrationMail kind,
    absl::Time previous_start = absl::InfinitePast(),
    absl::string_view link = "", absl::string_view check_in_code = "",
    const Event* moved_from = nullptr);

// Whether the mail `kind` to `registration` carries a check-in code: a
// mail that gives or reminds of a seat (received with a seat, promoted,
// moved, reminders), at an event with a door (not online only), to a
// confirmed person.
bool CarriesCheckInCode(const Event& event, const Registration& registration,
                        RegistrationMail kind);

// The reminder three days before to one contact of a hosting partner
// (`partner_name`), in Korean unless the contact handles English and not
// Korean; it says how many people are confirmed.
OutgoingMail RenderHostReminder(const Event& event,
                                absl::string_view partner_name,
                                const registry::v1::Contact& contact);

// Renders and queues it for each contact with an address, once per event
// start (a postponed event reminds again): the number newly queued.
absl::StatusOr<int> QueueHostReminders(
    Session& session, const Event& event, int64_t partner_id,
    absl::string_view partner_name,
    const std::vector<registry::v1::Contact>& contacts, absl::Time now);

// Renders and queues it. A registration without an address gets none, nor
// one whose address mail cannot carry (stored before addresses were checked
// for mail). The key is the registration's and the kind's, with the new
// start and the revision for a postponement and the start for a reminder; a
// move to another event is keyed by its new event and arrival. True when
// the mail is new, false when that key was queued before. A public sign-up
// still held (not confirmed) gets only kConfirmSignUp. A mail that
// CarriesCheckInCode gets a new code from `random`, kept (hashed) in
// check_in_codes under the registration's (event, arrival) once queued.
absl::StatusOr<bool> QueueRegistrationMail(
    Session& session, const Event& event, const Registration& registration,
    RegistrationMail kind, absl::Time now, RandomSource& random,
    absl::Time previous_start = absl::InfinitePast(),
    absl::string_view link = "", const Event* moved_from = nullptr);

}  // namespace smz::events

#endif  // SMZ_SERVICES_EVENTS_EVENT_MAIL_H_
