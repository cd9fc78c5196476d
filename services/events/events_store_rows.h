// What the events store's parts share: how event and registration rows are
// read, locked and counted, and the SQL they have in common. Internal to
// the store (events_store.cc, registrations_store.cc, signups_store.cc).
//
//   SMZ_ASSIGN_OR_RETURN(LockedEvent locked, LockEvent(session, event_id));
//   ... change locked.event's counts ...
//   SMZ_RETURN_IF_ERROR(SaveCounts(session, locked.event, next_arrival));
#ifndef SMZ_SERVICES_EVENTS_EVENTS_STORE_ROWS_H_
#define SMZ_SERVICES_EVENTS_EVENTS_STORE_ROWS_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "common/mysql/database.h"
#include "services/events/event_rules.h"
#include "services/events/events_store.h"
#include "smz/events/v1/events.pb.h"

namespace smz::events {

// Enum numbers as they appear in SQL text, named, and checked against the
// proto here so that a renumbering cannot silently change a query.
#define DRAFT_SQL "1"
#define COMPLETED_SQL "3"
#define CANCELLED_SQL "4"
#define UPCOMING_EVENT_SQL "(2, 5)"  // PUBLISHED, POSTPONED
#define CONFIRMED_SQL "1"
#define WAITLISTED_SQL "2"
#define CANCELLED_BY_REGISTRANT_SQL "3"
#define CANCELLED_WITH_EVENT_SQL "4"
#define LIVE_REGISTRATION_SQL "(1, 2)"  // CONFIRMED, WAITLISTED
#define LAPSED_SQL "5"
#define ATTENDANCE_UNSPECIFIED_SQL "0"
#define NO_SHOW_SQL "2"
static_assert(v1::DRAFT == 1 && v1::PUBLISHED == 2 && v1::COMPLETED == 3 &&
              v1::CANCELLED == 4 && v1::POSTPONED == 5);
static_assert(v1::CONFIRMED == 1 && v1::WAITLISTED == 2 &&
              v1::CANCELLED_BY_REGISTRANT == 3 &&
              v1::CANCELLED_WITH_EVENT == 4 && v1::LAPSED == 5);
static_assert(v1::ATTENDANCE_UNSPECIFIED == 0 && v1::NO_SHOW == 2);

inline constexpr int kConfirmed = v1::CONFIRMED;
inline constexpr int kWaitlisted = v1::WAITLISTED;

int64_t Micros(const google::protobuf::Timestamp& t);

google::protobuf::Timestamp FromMicros(int64_t us);

// "?, ?, ?" for n parameters.
std::string Placeholders(size_t n);

template <typename Enum>
void AddInFilter(absl::string_view column, const std::vector<Enum>& values,
                 std::string* where, std::vector<SqlValue>* params) {
  if (values.empty()) return;
  absl::StrAppend(where, " AND ", column, " IN (", Placeholders(values.size()),
                  ")");
  for (Enum v : values) params->push_back(SqlInt(v));
}

// The columns ReadEvent expects, for "SELECT <kEventColumns> FROM events e".
inline constexpr absl::string_view kEventColumns =
    "e.id, e.state, e.confirmed, e.waitlisted, e.attended, e.no_show, "
    "e.revision, e.create_us, e.update_us, e.body";

absl::StatusOr<Event> ReadEvent(const Row& row);

// The definition as stored: without what the columns hold.
std::string Body(const Event& event);

// Fills what is derived from the definition: local times and the expanded
// recurrence (the event is valid).
void Derive(Event* event);

inline constexpr absl::string_view kRegistrationColumns =
    "r.id, r.event_id, r.arrival, r.state, r.attendance, r.create_us, "
    "r.confirm_us, r.check_in_us, r.cancel_us, r.body, "
    "(SELECT COUNT(*) FROM registrations w WHERE w.event_id = r.event_id "
    "AND w.state = " WAITLISTED_SQL
    " AND w.arrival <= r.arrival), "
    "r.hold_until_us";

absl::StatusOr<Registration> ReadRegistration(const Row& row);

absl::StatusOr<Registration> LoadRegistration(Session& session, int64_t id);

// The event's CONFIRMED and WAITLISTED registrations, in arrival order,
// without their waiting positions.
absl::StatusOr<std::vector<Registration>> LiveRegistrations(Session& session,
                                                            int64_t event_id);

// The locked event row, as an Event with counts and next_arrival.
struct LockedEvent {
  Event event;
  int64_t next_arrival = 0;
};

absl::StatusOr<LockedEvent> LockEvent(Session& session, int64_t id);

// A registration locked for a change, after its event (in the order
// Register locks them, so the two cannot deadlock): the event with its counts,
// and the registration's state and attendance. ABORTED when the registration
// moved to another event between its first read and its lock.
struct LockedRegistration : LockedEvent {
  int state = 0;
  int attendance = 0;
};

absl::StatusOr<LockedRegistration> LockRegistration(Session& session,
                                                    int64_t id);

absl::Status SaveCounts(Session& session, const Event& event,
                        int64_t next_arrival);

// Gives free seats to waiting registrations in arrival order; updates the
// event's counts (the caller saves them).
// `random`: the check-in codes of the mail that tells them.
absl::Status PromoteWaitlisted(Session& session, Event* event, absl::Time now,
                               RandomSource& random);

std::string DescribeOther(const Row& row);

// Rewrites the slots and hosts of `event` (already stored under its id).
// Refuses a room booked by another event at an overlapping time; warns
// about partners hosting overlapping visits of other events.
// A new event has no rows to delete: skipping the DELETEs matters, since
// their gap locks at the end of the index make concurrent creates deadlock.
//
// Must run before the transaction's first plain (non-locking) read. InnoDB
// fixes a REPEATABLE READ snapshot at that read; taken before the room lock
// was granted, it would miss a booking committed while this writer waited,
// and the room could be booked twice. (A locking read would avoid that but
// its gap locks reach into the neighbouring room's index range and make
// concurrent creates deadlock.)
absl::Status ReplaceDerivedRows(Session& session, const Event& event,
                                bool is_new,
                                std::vector<v1::Warning>* warnings);

// What the slot and host rows are derived from; when it is unchanged (a
// lifecycle step, an edited title) the rows are left alone.
std::string DerivedRowsKey(const Event& event);

// The event's indexed columns and definition.
std::vector<SqlValue> EventColumns(const Event& event);

absl::StatusOr<Event> LoadEvent(Session& session, int64_t id);

// The events `where` (with `params`, the last one the LIMIT) selects from
// "events e", by start time then id.
absl::StatusOr<std::vector<Event>> QueryEventsByStart(
    Session& session, absl::string_view where,
    const std::vector<SqlValue>& params);

std::string StateName(v1::EventState state);

}  // namespace smz::events

#endif  // SMZ_SERVICES_EVENTS_EVENTS_STORE_ROWS_H_
