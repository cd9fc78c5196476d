// The events service's rules without I/O: field validation of events and
// registrations, recurrence expansion (an RRULE subset), the lifecycle's
// legal transitions, the time slots an event occupies (for conflict
// detection), and the keys that identify a room and a person.
//
//   smz::FieldViolations violations;
//   smz::events::NormalizeEvent(&event);   // defaults: Asia/Seoul, KR
//   smz::events::ValidateEvent(event, &violations);
//   if (!violations.empty()) return violations.ToStatus();
//   absl::TimeZone zone = *smz::events::LoadZone(event.time_zone());
//   std::vector<smz::events::v1::Session> weekly =
//       *smz::events::ExpandRecurrence(event.recurrence(), zone);
#ifndef SMZ_SERVICES_EVENTS_EVENT_RULES_H_
#define SMZ_SERVICES_EVENTS_EVENT_RULES_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "common/status_util.h"
#include "smz/events/v1/events.pb.h"

namespace smz::events {

using Event = v1::Event;
using Registration = v1::Registration;

inline constexpr absl::string_view kDefaultTimeZone = "Asia/Seoul";
inline constexpr int kMaxOccurrences = 400;
inline constexpr int kMaxSessions = 200;
inline constexpr int kMaxCapacity = 100000;

// An IANA zone from the system's tzdata; NOT_FOUND-like INVALID_ARGUMENT for
// names tzdata does not know (absl would silently fall back to UTC).
absl::StatusOr<absl::TimeZone> LoadZone(absl::string_view name);

absl::Time ToTime(const google::protobuf::Timestamp& t);
google::protobuf::Timestamp ToTimestamp(absl::Time t);
// "2019-05-23T10:00" in `zone`.
std::string LocalDateTime(absl::Time t, absl::TimeZone zone);
// The local days an event touches: [start day, day of the last instant].
absl::CivilDay LocalStartDay(const Event& event, absl::TimeZone zone);
absl::CivilDay LocalEndDay(const Event& event, absl::TimeZone zone);

// Fills defaults the API documents: time zone Asia/Seoul, country KR,
// session kind SESSION, codes upper/lower-cased.
void NormalizeEvent(Event* event);

// Every field problem of an event as written by an organizer (not the
// output-only fields, not the registry check of partners). `prefix` is
// "event".
void ValidateEvent(const Event& event, FieldViolations* violations);

// Whether `from` -> `to` is a legal lifecycle step.
bool TransitionAllowed(v1::EventState from, v1::EventState to);
// Whether the event may take registrations / be edited.
bool AcceptsRegistrations(v1::EventState state);
// FAILED_PRECONDITION unless `event` takes registrations at `now`: PUBLISHED
// or POSTPONED, after registration_opens (if set) and before
// registration_closes (default: the start), times named in its own zone.
absl::Status CheckRegistrationWindow(const v1::Event& event, absl::Time now);
bool Editable(v1::EventState state);

// The RRULE subset the service understands.
struct RecurrenceRule {
  enum class Frequency { kDaily, kWeekly, kMonthly };
  Frequency frequency = Frequency::kWeekly;
  int interval = 1;
  int count = 0;                        // 0: bounded by `until`
  std::optional<absl::CivilDay> until;  // inclusive local date
  std::vector<absl::Weekday> by_day;    // weekly only; empty: first's weekday
};
// INVALID_ARGUMENT naming the problem (the caller prefixes the field).
absl::StatusOr<RecurrenceRule> ParseRecurrenceRule(absl::string_view rule);

// The occurrences of `recurrence` in `zone` (local wall-clock times are kept
// across offset changes), minus exception dates, numbered from 1. Errors are
// INVALID_ARGUMENT on "event.recurrence.*".
absl::StatusOr<std::vector<v1::Session>> ExpandRecurrence(
    const v1::Recurrence& recurrence, absl::TimeZone zone);

// A span of time an event occupies somewhere: one per session and
// occurrence, or the whole event when it has neither.
struct Slot {
  absl::Time start;
  absl::Time end;
  std::string venue_key;  // "" when online or no venue given
  std::string venue_label;
  int64_t host_partner_id = 0;
  std::string field;  // "event.sessions[2]", "event.occurrences[5]", "event"
};
std::vector<Slot> SlotsOf(const Event& event);

// Two slots of the same event that are impossible together: the same room
// twice at once, or one partner hosting two stops at once. Hard conflicts.
void CheckInternalConflicts(const std::vector<Slot>& slots,
                            FieldViolations* violations);

// A stable hash of venue and room, case and spacing ignored; "" when the
// room is unknown (no conflict is possible then).
std::string VenueKey(absl::string_view venue, absl::string_view room);

// The languages mail to a person is written in (event_mail.h): ko, en, zh,
// mn, ru, vi.
bool IsMailLanguage(absl::string_view language);

// Validates a registration's own fields against its event (sessions
// exist and do not overlap each other).
void ValidateRegistration(const Registration& registration, const Event& event,
                          FieldViolations* violations);
// Identifies a person within an event: the e-mail when given, else name,
// organization and country; case and spacing ignored. A SHA-256 hex.
std::string PersonKey(const Registration& registration);

// The text to show when one is needed: ko, else en, else the first locale.
std::string PrimaryText(
    const google::protobuf::Map<std::string, std::string>& texts);

}  // namespace smz::events

#endif  // SMZ_SERVICES_EVENTS_EVENT_RULES_H_
