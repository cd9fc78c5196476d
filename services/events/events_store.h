// The events service's storage: every SQL statement it runs, each write in
// one transaction (events_store.cc, registrations_store.cc; what they share
// in events_store_rows.h). Rules that need no database live in
// event_rules.h; the checks that need the database's answer under a lock
// live here: seats (the event row is locked, counts are on it, so
// concurrent registrations queue in arrival order), waiting-list promotion,
// duplicate persons, room double-booking (a per-room lock row), and the side
// effects of lifecycle steps on registrations.
//
//   EventsStore store(&database, &clock, &random);
//   absl::StatusOr<StoredEvent> created = store.CreateEvent(
//       event, smz::KeyOf(caller, "CreateEvent", request));
//   absl::StatusOr<StoredEvent> published = store.ModifyEvent(
//       id, etag, "PUBLISH", "ORGANIZER#3", [](Event& e) {
//         e.set_state(v1::PUBLISHED);
//         return absl::OkStatus();
//       });
#ifndef SMZ_SERVICES_EVENTS_EVENTS_STORE_H_
#define SMZ_SERVICES_EVENTS_EVENTS_STORE_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/functional/function_ref.h"
#include "absl/status/statusor.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "common/aip/request_key.h"
#include "common/auth/token.h"
#include "common/clock.h"
#include "common/mysql/database.h"
#include "common/pagination.h"
#include "services/events/event_rules.h"
#include "smz/audit/v1/audit.pb.h"
#include "smz/events/v1/events.pb.h"
#include "smz/registry/v1/registry.pb.h"

namespace smz::events {

struct EventQuery {
  std::vector<v1::EventType> types;    // empty: all
  std::vector<v1::EventState> states;  // empty: all but DRAFT unless allowed
  bool include_drafts = false;
  std::optional<absl::CivilDay> from;  // local dates, inclusive
  std::optional<absl::CivilDay> to;
  std::string country;
  int64_t host_partner_id = 0;
  PageCursor after;  // last_key: start_us; last_id: event id
  int limit = 50;
};

struct RegistrationQuery {
  int64_t event_id = 0;
  int64_t partner_id = 0;  // 0: any
  std::vector<v1::RegistrationState> states;
  PageCursor after;  // last_key: event id; last_id: arrival
  int limit = 50;
};

// What a write stored, with the soft conflicts found on the way (a partner
// or a person busy elsewhere at the time).
struct StoredEvent {
  Event event;
  std::vector<v1::Warning> warnings;
};
struct StoredRegistration {
  Registration registration;
  std::vector<v1::Warning> warnings;
};

// A public sign-up's place is held until `hold_until` unless the link with
// the token whose hash this is confirms it first; `link` (with the token)
// goes to the person by mail and is not stored.
struct SignUpHold {
  std::string token_hash;
  absl::Time hold_until;
  std::string link;
  // At most this many places of one event held unconfirmed at once (so that
  // made-up addresses cannot take every seat): RESOURCE_EXHAUSTED beyond.
  int max_unconfirmed = 20;
};

// One sign-up counted against one limit: per hour, at most `limit` for
// `subject` (hashed before it is stored); `what` names it in the refusal.
struct SignUpCharge {
  std::string subject;
  int limit = 0;
  std::string what;
};

// How long after an event's end its check-in codes still work.
inline constexpr absl::Duration kCheckInAfterEnd = absl::Hours(12);

class EventsStore {
 public:
  // `random`: the check-in codes mailed to people with a seat.
  EventsStore(Database* database, const Clock* clock, RandomSource* random);

  // Inserts a DRAFT (the event must be normalized and valid). A room booked
  // at an overlapping time is FAILED_PRECONDITION naming the booking.
  absl::StatusOr<StoredEvent> CreateEvent(const Event& event,
                                          const RequestKey& key);

  absl::StatusOr<Event> GetEvent(int64_t id);

  // Locks event `id`, checks `etag` (when non-empty; stale -> ABORTED), lets
  // `change` edit it (its error refuses the change), then enforces what
  // needs the database: capacity not below confirmed registrations,
  // sessions with registrations kept, rooms free; and applies the
  // consequences: seats freed by a larger capacity go to the waiting list,
  // cancelling cancels registrations and frees rooms, completing marks
  // confirmed registrants who never checked in NO_SHOW. Audited as `action`.
  absl::StatusOr<StoredEvent> ModifyEvent(
      int64_t id, absl::string_view etag, absl::string_view action,
      const std::string& actor, absl::FunctionRef<absl::Status(Event&)> change);

  // Events by start time.
  absl::StatusOr<std::vector<Event>> ListEvents(const EventQuery& query);

  // A registration (fields valid) for an event taking registrations:
  // CONFIRMED while seats remain, WAITLISTED after; refuses a person already
  // registered (ALREADY_EXISTS) and registrations outside the window
  // (FAILED_PRECONDITION).
  //
  // `visible_partner_id` > 0 narrows what the answer reveals to a partner
  // registering its own people: a DRAFT event is reported as missing, a
  // duplicate held by another partner is not identified, and overlap
  // warnings only name that partner's registrations. 0: the caller manages
  // events and sees everything.
  //
  // `hold`: a public sign-up (public_signups.h), held until confirmed.
  absl::StatusOr<StoredRegistration> Register(const Registration& registration,
                                              const RequestKey& key,
                                              int64_t visible_partner_id = 0,
                                              const SignUpHold* hold = nullptr);
  absl::StatusOr<Registration> GetRegistration(int64_t id);
  absl::StatusOr<std::vector<Registration>> ListRegistrations(
      const RegistrationQuery& query);
  // Frees the seat (the first waiting registration takes it).
  absl::StatusOr<Registration> CancelRegistration(int64_t id,
                                                  const std::string& actor);
  // Moves a live registration to event `to_event_id` (MoveRegistration's
  // rules, events.proto): both events locked in id order, the seat left
  // given to the waiting list, the person mailed.
  absl::StatusOr<Registration> MoveRegistration(int64_t id, int64_t to_event_id,
                                                const std::string& actor);
  // `previous`, when given, receives the attendance recorded before.
  // `at_event_id` > 0: only while the registration is that event's (a door
  // checks its own people in, not one moved meanwhile).
  absl::StatusOr<Registration> RecordAttendance(
      int64_t id, v1::Attendance attendance, const std::string& actor,
      v1::Attendance* previous = nullptr, int64_t at_event_id = 0);

  // The registration of event `event_id` whose check-in code has the key
  // `code_key` (check_in_code.h), marked ATTENDED (RecordAttendance's
  // rules). NOT_FOUND for a missing event (named first) or an unknown code;
  // FAILED_PRECONDITION from kCheckInAfterEnd after the event's end.
  absl::StatusOr<v1::CheckInResponse> CheckIn(int64_t event_id,
                                              const std::string& code_key,
                                              const std::string& actor);

  absl::StatusOr<v1::CountCompletedEventsResponse> CountCompleted(
      int year_from, int year_to, bool by_country,
      const std::vector<v1::EventType>& types);

  // Reminders whose due time is in (at - lookback, at], by due time.
  absl::StatusOr<std::vector<v1::Reminder>> DueReminders(
      absl::Time at, absl::Duration lookback);

  // A hosting partner as its reminder needs it.
  struct HostContacts {
    std::string name;
    std::vector<registry::v1::Contact> contacts;
  };
  // Queues the reminders due in (at - lookback, at] into the outbox (each
  // once, however often this runs): registrants' and, through
  // `host_contacts` (asked outside any transaction), hosting partners'
  // contacts'. The number newly queued; one that fails is logged and
  // skipped.
  absl::StatusOr<int> QueueDueReminders(
      absl::Time at, absl::Duration lookback,
      absl::FunctionRef<absl::StatusOr<HostContacts>(int64_t partner_id)>
          host_contacts);

  // The public's side (signups_store.cc).
  //
  // Events open to the public, PUBLISHED or POSTPONED, ending after `now`,
  // by start time.
  absl::StatusOr<std::vector<Event>> ListPublicEvents(absl::Time now,
                                                      PageCursor after,
                                                      int limit);
  // Counts one sign-up against each charge in one transaction; a charge
  // over its limit refuses it all (RESOURCE_EXHAUSTED, when to try again),
  // counting nothing.
  absl::Status ChargeSignUp(const std::vector<SignUpCharge>& charges);
  // The registration whose link has this token hash (NOT_FOUND: none, or
  // erased).
  absl::StatusOr<Registration> SignUpByToken(absl::string_view token_hash);
  // Confirms the held place (harmless when confirmed already) and queues the
  // confirmation, whose mail carries `link` to manage it. A place that
  // lapsed or was cancelled is FAILED_PRECONDITION.
  absl::StatusOr<Registration> ConfirmSignUp(absl::string_view token_hash,
                                             absl::string_view link);
  // Cancels it (when live; the seat goes to the waiting list) and with
  // `erase` erases the person's data from it and forgets the token.
  absl::StatusOr<Registration> CancelSignUp(absl::string_view token_hash,
                                            bool erase);
  // Places held past their time lapse (the waiting list moves up); sign-up
  // counts older than a day are dropped. The number lapsed.
  absl::StatusOr<int> LapseUnconfirmedSignUps();
  // Erases the personal data of registrations that are not a partner's
  // staff (partner_id 0) of events that ended before `ended_before`, also
  // from their audit entries. The number erased (at most 500 a call).
  absl::StatusOr<int> EraseExpiredRegistrations(absl::Time ended_before);

  // The audit trail of events and registrations.
  absl::StatusOr<audit::v1::ListChangesResponse> ListChanges(
      const audit::v1::ListChangesRequest& request);

 private:
  Database* const database_;
  const Clock* const clock_;
  RandomSource* const random_;
};

}  // namespace smz::events

#endif  // SMZ_SERVICES_EVENTS_EVENTS_STORE_H_
