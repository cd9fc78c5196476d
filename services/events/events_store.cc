#include "services/events/events_store.h"

#include <algorithm>
#include <set>
#include <utility>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/aip/change_log.h"
#include "common/aip/etag.h"
#include "common/aip/idempotency.h"
#include "common/aip/status_macros.h"
#include "common/aip/versioned_row.h"
#include "common/mysql/audit.h"
#include "common/request_fields.h"
#include "common/status_util.h"
#include "google/protobuf/io/coded_stream.h"
#include "google/protobuf/io/zero_copy_stream_impl_lite.h"

namespace smz::events {
namespace {

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
#define ATTENDANCE_UNSPECIFIED_SQL "0"
#define NO_SHOW_SQL "2"
static_assert(v1::DRAFT == 1 && v1::PUBLISHED == 2 && v1::COMPLETED == 3 &&
              v1::CANCELLED == 4 && v1::POSTPONED == 5);
static_assert(v1::CONFIRMED == 1 && v1::WAITLISTED == 2 &&
              v1::CANCELLED_BY_REGISTRANT == 3 &&
              v1::CANCELLED_WITH_EVENT == 4);
static_assert(v1::ATTENDANCE_UNSPECIFIED == 0 && v1::NO_SHOW == 2);

constexpr int kConfirmed = v1::CONFIRMED;
constexpr int kWaitlisted = v1::WAITLISTED;

int64_t Micros(const google::protobuf::Timestamp& t) {
  return absl::ToUnixMicros(ToTime(t));
}
google::protobuf::Timestamp FromMicros(int64_t us) {
  return ToTimestamp(absl::FromUnixMicros(us));
}

// "?, ?, ?" for n parameters.
std::string Placeholders(size_t n) {
  std::string out;
  for (size_t i = 0; i < n; ++i) absl::StrAppend(&out, i == 0 ? "?" : ", ?");
  return out;
}

template <typename Enum>
void AddInFilter(absl::string_view column, const std::vector<Enum>& values,
                 std::string* where, std::vector<SqlValue>* params) {
  if (values.empty()) return;
  absl::StrAppend(where, " AND ", column, " IN (", Placeholders(values.size()),
                  ")");
  for (Enum v : values) params->push_back(SqlInt(v));
}

// The columns ReadEvent expects, for "SELECT <kEventColumns> FROM events e".
constexpr absl::string_view kEventColumns =
    "e.id, e.state, e.confirmed, e.waitlisted, e.attended, e.no_show, "
    "e.revision, e.create_us, e.update_us, e.body";

absl::StatusOr<Event> ReadEvent(const Row& row) {
  Event event;
  if (!event.ParseFromString(row.Text(9))) {
    return absl::DataLossError(
        absl::StrCat("event ", row.Int(0), ": stored definition unreadable"));
  }
  event.set_id(row.Int(0));
  event.set_state(static_cast<v1::EventState>(row.Int(1)));
  event.set_confirmed_count(static_cast<int32_t>(row.Int(2)));
  event.set_waitlisted_count(static_cast<int32_t>(row.Int(3)));
  event.set_attended_count(static_cast<int32_t>(row.Int(4)));
  event.set_no_show_count(static_cast<int32_t>(row.Int(5)));
  event.set_revision(row.Int(6));
  event.set_etag(EtagOf(row.Int(6)));
  *event.mutable_create_time() = FromMicros(row.Int(7));
  *event.mutable_update_time() = FromMicros(row.Int(8));
  return event;
}

// The definition as stored: without what the columns hold.
std::string Body(const Event& event) {
  Event body = event;
  body.clear_id();
  body.clear_confirmed_count();
  body.clear_waitlisted_count();
  body.clear_attended_count();
  body.clear_no_show_count();
  body.clear_revision();
  body.clear_etag();
  body.clear_create_time();
  body.clear_update_time();
  std::string bytes;
  google::protobuf::io::StringOutputStream stream(&bytes);
  google::protobuf::io::CodedOutputStream coded(&stream);
  coded.SetSerializationDeterministic(true);
  body.SerializeToCodedStream(&coded);
  coded.Trim();
  return bytes;
}

// Fills what is derived from the definition: local times and the expanded
// recurrence (the event is valid).
void Derive(Event* event) {
  const absl::TimeZone zone = *LoadZone(event->time_zone());
  event->set_local_start(LocalDateTime(ToTime(event->start_time()), zone));
  event->set_local_end(LocalDateTime(ToTime(event->end_time()), zone));
  event->clear_occurrences();
  if (event->has_recurrence()) {
    absl::StatusOr<std::vector<v1::Session>> occurrences =
        ExpandRecurrence(event->recurrence(), zone);
    if (occurrences.ok()) {
      for (v1::Session& s : *occurrences) {
        *event->add_occurrences() = std::move(s);
      }
    }
  }
}

constexpr absl::string_view kRegistrationColumns =
    "r.id, r.event_id, r.arrival, r.state, r.attendance, r.create_us, "
    "r.confirm_us, r.check_in_us, r.cancel_us, r.body, "
    "(SELECT COUNT(*) FROM registrations w WHERE w.event_id = r.event_id "
    "AND w.state = " WAITLISTED_SQL " AND w.arrival <= r.arrival)";

absl::StatusOr<Registration> ReadRegistration(const Row& row) {
  Registration r;
  if (!r.ParseFromString(row.Text(9))) {
    return absl::DataLossError(absl::StrCat(
        "registration ", row.Int(0), ": stored registration unreadable"));
  }
  r.set_id(row.Int(0));
  r.set_event_id(row.Int(1));
  r.set_arrival(row.Int(2));
  r.set_state(static_cast<v1::RegistrationState>(row.Int(3)));
  r.set_attendance(static_cast<v1::Attendance>(row.Int(4)));
  *r.mutable_create_time() = FromMicros(row.Int(5));
  if (!row.IsNull(6)) *r.mutable_confirm_time() = FromMicros(row.Int(6));
  if (!row.IsNull(7)) *r.mutable_check_in_time() = FromMicros(row.Int(7));
  if (!row.IsNull(8)) *r.mutable_cancel_time() = FromMicros(row.Int(8));
  if (r.state() == v1::WAITLISTED) {
    r.set_waitlist_position(static_cast<int32_t>(row.Int(10)));
  }
  return r;
}

absl::StatusOr<Registration> LoadRegistration(Session& session, int64_t id) {
  absl::StatusOr<std::vector<Row>> rows =
      session.Query(absl::StrCat("SELECT ", kRegistrationColumns,
                                 " FROM registrations r WHERE r.id = ?"),
                    {SqlInt(id)});
  if (!rows.ok()) return rows.status();
  if (rows->empty()) {
    return absl::NotFoundError(absl::StrCat("registration ", id, " not found"));
  }
  return ReadRegistration(rows->front());
}

// The locked event row, as an Event with counts and next_arrival.
struct LockedEvent {
  Event event;
  int64_t next_arrival = 0;
};

absl::StatusOr<LockedEvent> LockEvent(Session& session, int64_t id) {
  absl::StatusOr<std::vector<Row>> rows = session.Query(
      absl::StrCat("SELECT ", kEventColumns,
                   ", e.next_arrival FROM events e WHERE e.id = ? FOR UPDATE"),
      {SqlInt(id)});
  if (!rows.ok()) return rows.status();
  if (rows->empty()) {
    return absl::NotFoundError(absl::StrCat("event ", id, " not found"));
  }
  absl::StatusOr<Event> event = ReadEvent(rows->front());
  if (!event.ok()) return event.status();
  return LockedEvent{*std::move(event), rows->front().Int(10)};
}

// A registration locked for a change, after its event (in the order
// Register locks them, so the two cannot deadlock): the event with its counts,
// and the registration's state and attendance.
struct LockedRegistration : LockedEvent {
  int state = 0;
  int attendance = 0;
};

absl::StatusOr<LockedRegistration> LockRegistration(Session& session,
                                                    int64_t id) {
  absl::StatusOr<std::vector<Row>> owner = session.Query(
      "SELECT event_id FROM registrations WHERE id = ?", {SqlInt(id)});
  if (!owner.ok()) return owner.status();
  if (owner->empty()) {
    return absl::NotFoundError(absl::StrCat("registration ", id, " not found"));
  }
  absl::StatusOr<LockedEvent> event = LockEvent(session, owner->front().Int(0));
  if (!event.ok()) return event.status();
  absl::StatusOr<std::vector<Row>> row = session.Query(
      "SELECT state, attendance FROM registrations WHERE id = ? FOR UPDATE",
      {SqlInt(id)});
  if (!row.ok()) return row.status();
  LockedRegistration locked;
  static_cast<LockedEvent&>(locked) = *std::move(event);
  locked.state = static_cast<int>(row->front().Int(0));
  locked.attendance = static_cast<int>(row->front().Int(1));
  return locked;
}

absl::Status SaveCounts(Session& session, const Event& event,
                        int64_t next_arrival) {
  return session
      .Execute(
          "UPDATE events SET confirmed = ?, waitlisted = ?, attended = ?, "
          "no_show = ?, next_arrival = ? WHERE id = ?",
          {SqlInt(event.confirmed_count()), SqlInt(event.waitlisted_count()),
           SqlInt(event.attended_count()), SqlInt(event.no_show_count()),
           SqlInt(next_arrival), SqlInt(event.id())})
      .status();
}

// Gives free seats to waiting registrations in arrival order; updates the
// event's counts (the caller saves them).
absl::Status PromoteWaitlisted(Session& session, Event* event, absl::Time now) {
  if (event->waitlisted_count() == 0) return absl::OkStatus();
  int64_t seats = event->capacity() == 0
                      ? event->waitlisted_count()
                      : event->capacity() - event->confirmed_count();
  if (seats <= 0) return absl::OkStatus();
  absl::StatusOr<std::vector<Row>> next = session.Query(
      "SELECT id FROM registrations WHERE event_id = ? AND state "
      "= " WAITLISTED_SQL " ORDER BY arrival LIMIT ? FOR UPDATE",
      {SqlInt(event->id()), SqlInt(seats)});
  if (!next.ok()) return next.status();
  for (const Row& row : *next) {
    absl::StatusOr<int64_t> changed =
        session.Execute("UPDATE registrations SET state = " CONFIRMED_SQL
                        ", confirm_us = ? WHERE id = ?",
                        {SqlInt(absl::ToUnixMicros(now)), SqlInt(row.Int(0))});
    if (!changed.ok()) return changed.status();
    event->set_confirmed_count(event->confirmed_count() + 1);
    event->set_waitlisted_count(event->waitlisted_count() - 1);
  }
  return absl::OkStatus();
}

std::string DescribeOther(const Row& row) {
  // event_id, field, start_us, end_us, time_zone
  absl::StatusOr<absl::TimeZone> zone = LoadZone(row.Text(4));
  const absl::TimeZone z = zone.ok() ? *zone : absl::UTCTimeZone();
  std::string field = row.Text(1);
  if (absl::StartsWith(field, "event.")) {
    field = field.substr(6);
  } else if (field == "event") {
    field.clear();
  }
  return absl::StrCat("event ", row.Int(0), field.empty() ? "" : " ", field,
                      " (", LocalDateTime(absl::FromUnixMicros(row.Int(2)), z),
                      "–", LocalDateTime(absl::FromUnixMicros(row.Int(3)), z),
                      " ", row.Text(4), ")");
}

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
                                std::vector<v1::Warning>* warnings) {
  const int64_t id = event.id();
  for (const char* sql : {"DELETE FROM event_slots WHERE event_id = ?",
                          "DELETE FROM event_hosts WHERE event_id = ?"}) {
    if (is_new) break;
    if (absl::StatusOr<int64_t> s = session.Execute(sql, {SqlInt(id)});
        !s.ok()) {
      return s.status();
    }
  }
  std::set<int64_t> hosts(event.host_partner_ids().begin(),
                          event.host_partner_ids().end());
  for (const v1::Session& s : event.sessions()) {
    if (s.host_partner_id() > 0) hosts.insert(s.host_partner_id());
  }
  for (int64_t partner : hosts) {
    absl::StatusOr<int64_t> s = session.Execute(
        "INSERT INTO event_hosts (partner_id, event_id) VALUES (?, ?)",
        {SqlInt(partner), SqlInt(id)});
    if (!s.ok()) return s.status();
  }
  if (event.state() == v1::CANCELLED) return absl::OkStatus();

  const std::vector<Slot> slots = SlotsOf(event);
  // Room locks in key order, so two writers cannot deadlock on them.
  std::set<std::string> rooms;
  for (const Slot& slot : slots) {
    if (!slot.venue_key.empty()) rooms.insert(slot.venue_key);
  }
  // One statement both creates and exclusively locks a room's row: an
  // INSERT IGNORE followed by SELECT ... FOR UPDATE lets two writers share
  // the row first and then deadlock upgrading.
  for (const std::string& room : rooms) {
    absl::StatusOr<int64_t> s = session.Execute(
        "INSERT INTO venue_locks (venue_key) VALUES (?) "
        "ON DUPLICATE KEY UPDATE venue_key = venue_key",
        {room});
    if (!s.ok()) return s.status();
  }
  std::vector<std::string> conflicts;
  for (const Slot& slot : slots) {
    const int64_t start = absl::ToUnixMicros(slot.start);
    const int64_t end = absl::ToUnixMicros(slot.end);
    if (!slot.venue_key.empty()) {
      // The room is locked and, as the function comment requires, this
      // is the transaction's first plain read: its snapshot is taken now
      // and holds every booking committed before the lock was granted.
      absl::StatusOr<std::vector<Row>> taken = session.Query(
          "SELECT s.event_id, s.field, s.start_us, s.end_us, s.time_zone "
          "FROM event_slots s "
          "WHERE s.venue_key = ? AND s.start_us < ? AND s.end_us > ? "
          "AND s.event_id <> ? ORDER BY s.start_us LIMIT 1",
          {slot.venue_key, SqlInt(end), SqlInt(start), SqlInt(id)});
      if (!taken.ok()) return taken.status();
      if (!taken->empty()) {
        conflicts.push_back(absl::StrCat(slot.field, ": room '",
                                         slot.venue_label, "' is booked by ",
                                         DescribeOther(taken->front())));
      }
    }
    if (slot.host_partner_id > 0) {
      absl::StatusOr<std::vector<Row>> busy = session.Query(
          "SELECT s.event_id, s.field, s.start_us, s.end_us, s.time_zone "
          "FROM event_slots s "
          "WHERE s.host_partner_id = ? AND s.start_us < ? AND s.end_us > ? "
          "AND s.event_id <> ? ORDER BY s.start_us LIMIT 1",
          {SqlInt(slot.host_partner_id), SqlInt(end), SqlInt(start),
           SqlInt(id)});
      if (!busy.ok()) return busy.status();
      if (!busy->empty()) {
        v1::Warning warning;
        warning.set_kind(v1::PARTNER_DOUBLE_BOOKED);
        warning.set_field(slot.field);
        warning.set_other_event_id(busy->front().Int(0));
        warning.set_message(absl::StrCat("partner ", slot.host_partner_id,
                                         " also hosts ",
                                         DescribeOther(busy->front())));
        warnings->push_back(std::move(warning));
      }
    }
  }
  if (!conflicts.empty()) {
    return absl::FailedPreconditionError(
        absl::StrCat("room double-booked: ", absl::StrJoin(conflicts, "; ")));
  }
  for (size_t i = 0; i < slots.size(); ++i) {
    const Slot& slot = slots[i];
    absl::StatusOr<int64_t> s = session.Execute(
        "INSERT INTO event_slots (event_id, slot_no, venue_key, venue_label, "
        "host_partner_id, start_us, end_us, field, time_zone) VALUES (?, ?, "
        "?, ?, ?, ?, ?, ?, ?)",
        {SqlInt(id), SqlInt(static_cast<int64_t>(i)), slot.venue_key,
         slot.venue_label.substr(0, 420), SqlInt(slot.host_partner_id),
         SqlInt(absl::ToUnixMicros(slot.start)),
         SqlInt(absl::ToUnixMicros(slot.end)), slot.field.substr(0, 100),
         event.time_zone()});
    if (!s.ok()) return s.status();
  }
  return absl::OkStatus();
}

// What the slot and host rows are derived from; when it is unchanged (a
// lifecycle step, an edited title) the rows are left alone.
std::string DerivedRowsKey(const Event& event) {
  std::string key = event.state() == v1::CANCELLED ? "cancelled" : "live";
  absl::StrAppend(&key, ",", event.time_zone());
  for (int64_t host : event.host_partner_ids())
    absl::StrAppend(&key, ",", host);
  for (const Slot& slot : SlotsOf(event)) {
    absl::StrAppend(&key, "|", absl::ToUnixMicros(slot.start), ",",
                    absl::ToUnixMicros(slot.end), ",", slot.venue_key, ",",
                    slot.venue_label, ",", slot.host_partner_id, ",",
                    slot.field);
  }
  return key;
}

// The event's indexed columns and definition.
std::vector<SqlValue> EventColumns(const Event& event) {
  const absl::TimeZone zone = *LoadZone(event.time_zone());
  return {SqlInt(event.type()),
          SqlInt(event.state()),
          event.time_zone(),
          SqlInt(Micros(event.start_time())),
          SqlInt(Micros(event.end_time())),
          FormatDate(LocalStartDay(event, zone)),
          FormatDate(LocalEndDay(event, zone)),
          SqlInt(LocalEndDay(event, zone) - LocalStartDay(event, zone)),
          event.country(),
          SqlInt(event.capacity()),
          SqlInt(event.outcome().attendees()),
          SqlInt(event.outcome().mous_signed()),
          Body(event)};
}

absl::StatusOr<Event> LoadEvent(Session& session, int64_t id) {
  absl::StatusOr<std::vector<Row>> rows = session.Query(
      absl::StrCat("SELECT ", kEventColumns, " FROM events e WHERE e.id = ?"),
      {SqlInt(id)});
  if (!rows.ok()) return rows.status();
  if (rows->empty()) {
    return absl::NotFoundError(absl::StrCat("event ", id, " not found"));
  }
  return ReadEvent(rows->front());
}

std::string StateName(v1::EventState state) {
  return v1::EventState_Name(state);
}

// What the database must enforce after `change` edited an event, and the
// consequences: capacity not below confirmed registrations, sessions with
// registrations kept, rooms free; seats freed by a larger capacity go to the
// waiting list, cancelling cancels registrations, completing marks
// confirmed registrants who never checked in NO_SHOW. `event` holds the
// change and receives the counts.
absl::Status ApplyEventChange(Session& session, const Event& before,
                              absl::Time now, int64_t next_arrival,
                              Event* event_out,
                              std::vector<v1::Warning>* warnings) {
  const int64_t id = before.id();
  Event& event = *event_out;
  // What the change may not touch.
  event.set_id(id);
  event.set_confirmed_count(before.confirmed_count());
  event.set_waitlisted_count(before.waitlisted_count());
  event.set_attended_count(before.attended_count());
  event.set_no_show_count(before.no_show_count());
  Derive(&event);

  if (event.state() != v1::CANCELLED && event.capacity() > 0 &&
      event.capacity() < before.confirmed_count()) {
    return InvalidField(
        "event.capacity",
        absl::StrCat(event.capacity(), " is below the ",
                     before.confirmed_count(),
                     " confirmed registrations; cancel registrations "
                     "first"));
  }
  // First, before any plain read (see ReplaceDerivedRows).
  if (DerivedRowsKey(event) != DerivedRowsKey(before)) {
    if (absl::Status s = ReplaceDerivedRows(session, event,
                                            /*is_new=*/false, warnings);
        !s.ok()) {
      return s;
    }
  }
  // Sessions that registrations chose must stay.
  absl::flat_hash_set<int64_t> kept;
  for (const v1::Session& s : event.sessions()) kept.insert(s.id());
  std::vector<int64_t> removed;
  for (const v1::Session& s : before.sessions()) {
    if (!kept.contains(s.id())) removed.push_back(s.id());
  }
  if (!removed.empty() && event.state() != v1::CANCELLED) {
    absl::StatusOr<std::vector<Row>> live = session.Query(
        "SELECT id, body FROM registrations WHERE event_id = ? AND "
        "state IN " LIVE_REGISTRATION_SQL,
        {SqlInt(id)});
    if (!live.ok()) return live.status();
    for (const Row& row : *live) {
      Registration r;
      if (!r.ParseFromString(row.Text(1))) {
        return absl::DataLossError(absl::StrCat(
            "registration ", row.Int(0), ": stored registration unreadable"));
      }
      for (int64_t session_id : r.session_ids()) {
        if (std::find(removed.begin(), removed.end(), session_id) !=
            removed.end()) {
          return absl::FailedPreconditionError(
              absl::StrCat("event.sessions: session ", session_id,
                           " was chosen by registration ", row.Int(0),
                           "; keep the session or cancel those registrations "
                           "first"));
        }
      }
    }
  }

  const int64_t now_us = absl::ToUnixMicros(now);
  if (event.state() == v1::CANCELLED && before.state() != v1::CANCELLED) {
    absl::StatusOr<int64_t> s = session.Execute(
        "UPDATE registrations SET state = " CANCELLED_WITH_EVENT_SQL
        ", active_person_key = NULL, cancel_us = ? WHERE event_id = ? AND "
        "state IN " LIVE_REGISTRATION_SQL,
        {SqlInt(now_us), SqlInt(id)});
    if (!s.ok()) return s.status();
    event.set_confirmed_count(0);
    event.set_waitlisted_count(0);
  }
  if (event.state() == v1::COMPLETED && before.state() != v1::COMPLETED) {
    absl::StatusOr<int64_t> no_shows =
        session.Execute("UPDATE registrations SET attendance = " NO_SHOW_SQL
                        " WHERE event_id = ? AND state = " CONFIRMED_SQL
                        " AND attendance = " ATTENDANCE_UNSPECIFIED_SQL,
                        {SqlInt(id)});
    if (!no_shows.ok()) return no_shows.status();
    event.set_no_show_count(event.no_show_count() +
                            static_cast<int32_t>(*no_shows));
  }
  if (event.state() != v1::CANCELLED && event.state() != v1::COMPLETED) {
    if (absl::Status s = PromoteWaitlisted(session, &event, now); !s.ok()) {
      return s;
    }
  }
  if (absl::Status s = SaveCounts(session, event, next_arrival); !s.ok()) {
    return s;
  }

  return absl::OkStatus();
}

}  // namespace

EventsStore::EventsStore(Database* database, const Clock* clock)
    : database_(database), clock_(clock) {}

absl::StatusOr<v1::EventResponse> EventsStore::CreateEvent(
    const Event& input, const RequestKey& key) {
  const absl::Time now = clock_->Now();
  return database_->TransactFor<v1::EventResponse>(
      [&](Session& session) -> absl::StatusOr<v1::EventResponse> {
        v1::EventResponse response;
        // Claimed first: nothing may be read before ReplaceDerivedRows locks.
        SMZ_ASSIGN_OR_RETURN(std::optional<FirstAnswer> replay,
                             ClaimRequest(session, key, now));
        if (replay.has_value()) {
          absl::StatusOr<Event> first = LoadEvent(session, replay->result_id);
          if (!first.ok()) return first.status();
          *response.mutable_event() = *std::move(first);
          return response;
        }
        Event event = input;
        event.set_state(v1::DRAFT);
        Derive(&event);
        std::vector<SqlValue> params = EventColumns(event);
        params.push_back(SqlInt(absl::ToUnixMicros(now)));
        params.push_back(SqlInt(absl::ToUnixMicros(now)));
        absl::StatusOr<int64_t> inserted = session.Execute(
            "INSERT INTO events (type, state, time_zone, start_us, end_us, "
            "local_start_date, local_end_date, span_days, country, capacity, "
            "outcome_attendees, outcome_mous, body, revision, create_us, "
            "update_us) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1, ?, "
            "?)",
            params);
        if (!inserted.ok()) return inserted.status();
        absl::StatusOr<int64_t> id = session.LastInsertId();
        if (!id.ok()) return id.status();
        event.set_id(*id);
        std::vector<v1::Warning> warnings;
        if (absl::Status s = ReplaceDerivedRows(session, event,
                                                /*is_new=*/true, &warnings);
            !s.ok()) {
          return s;
        }
        SMZ_RETURN_IF_ERROR(SetRequestResult(session, key, *id));
        absl::StatusOr<Event> stored = LoadEvent(session, *id);
        if (!stored.ok()) return stored.status();
        SMZ_RETURN_IF_ERROR(
            AppendAudit(session, AuditEntry{"event",
                                            *id,
                                            "CREATE",
                                            key.caller,
                                            now,
                                            "",
                                            stored->SerializeAsString(),
                                            {}}));
        *response.mutable_event() = *std::move(stored);
        for (v1::Warning& w : warnings) *response.add_warnings() = std::move(w);
        return response;
      });
}

absl::StatusOr<Event> EventsStore::GetEvent(int64_t id) {
  return database_->RunFor<Event>(
      [&](Session& session) { return LoadEvent(session, id); });
}

absl::StatusOr<v1::EventResponse> EventsStore::ModifyEvent(
    int64_t id, absl::string_view etag, absl::string_view action,
    const std::string& actor, absl::FunctionRef<absl::Status(Event&)> change) {
  const WriteContext write{actor, clock_->Now()};
  int64_t next_arrival = 0;  // of the locked event
  std::vector<v1::Warning> warnings;
  const VersionedTable<Event> events{
      "event",
      [&](Session& session, int64_t event_id,
          bool lock) -> absl::StatusOr<Event> {
        if (!lock) return LoadEvent(session, event_id);
        SMZ_ASSIGN_OR_RETURN(LockedEvent locked, LockEvent(session, event_id));
        next_arrival = locked.next_arrival;
        return std::move(locked.event);
      },
      [](const Event& event) { return event.etag(); },
      /*insert=*/nullptr,
      [](Session& session, const Event&, const Event& event, absl::Time now) {
        std::vector<SqlValue> params = EventColumns(event);
        params.push_back(SqlInt(absl::ToUnixMicros(now)));
        params.push_back(SqlInt(event.id()));
        return session
            .Execute(
                "UPDATE events SET type = ?, state = ?, time_zone = ?, "
                "start_us = ?, end_us = ?, local_start_date = ?, "
                "local_end_date = ?, span_days = ?, country = ?, "
                "capacity = ?, outcome_attendees = ?, outcome_mous = ?, "
                "body = ?, revision = revision + 1, update_us = ? "
                "WHERE id = ?",
                params)
            .status();
      }};
  return database_->TransactFor<v1::EventResponse>(
      [&](Session& session) -> absl::StatusOr<v1::EventResponse> {
        warnings.clear();  // a retried transaction starts afresh
        SMZ_ASSIGN_OR_RETURN(
            Event stored,
            ModifyVersioned<Event>(
                session, events, id, etag, action, write,
                [&](Session& session, Event& event) -> absl::Status {
                  const Event before = event;
                  SMZ_RETURN_IF_ERROR(change(event));
                  return ApplyEventChange(session, before, write.now,
                                          next_arrival, &event, &warnings);
                }));
        v1::EventResponse response;
        *response.mutable_event() = std::move(stored);
        for (v1::Warning& w : warnings) *response.add_warnings() = std::move(w);
        return response;
      });
}

absl::StatusOr<std::vector<Event>> EventsStore::ListEvents(
    const EventQuery& query) {
  std::string where = "WHERE 1 = 1";
  std::vector<SqlValue> params;
  AddInFilter("e.type", query.types, &where, &params);
  if (!query.states.empty()) {
    AddInFilter("e.state", query.states, &where, &params);
  }
  if (!query.include_drafts)
    absl::StrAppend(&where, " AND e.state <> " DRAFT_SQL);
  if (query.from) {
    // Only events that started at most the longest event's span before
    // `from` can still be running: that bounds the index ranges (with a day
    // of slack on the instants for every zone's offset).
    absl::StatusOr<int64_t> longest = database_->RunFor<int64_t>(
        [](Session& session) -> absl::StatusOr<int64_t> {
          absl::StatusOr<std::vector<Row>> rows = session.Query(
              "SELECT COALESCE(MAX(span_days), 0) FROM events", {});
          if (!rows.ok()) return rows.status();
          return rows->front().Int(0);
        });
    if (!longest.ok()) return longest.status();
    const absl::CivilDay earliest = *query.from - *longest;
    absl::StrAppend(&where,
                    " AND e.local_end_date >= ? AND e.local_start_date >= ?"
                    " AND e.start_us >= ?");
    params.push_back(FormatDate(*query.from));
    params.push_back(FormatDate(earliest));
    params.push_back(SqlInt(absl::ToUnixMicros(
        absl::FromCivil(earliest - 1, absl::UTCTimeZone()))));
  }
  if (query.to) {
    absl::StrAppend(&where, " AND e.local_start_date <= ? AND e.start_us < ?");
    params.push_back(FormatDate(*query.to));
    params.push_back(SqlInt(absl::ToUnixMicros(
        absl::FromCivil(*query.to + 2, absl::UTCTimeZone()))));
  }
  if (!query.country.empty()) {
    absl::StrAppend(&where, " AND e.country = ?");
    params.push_back(query.country);
  }
  if (query.host_partner_id > 0) {
    absl::StrAppend(&where,
                    " AND e.id IN (SELECT event_id FROM event_hosts WHERE "
                    "partner_id = ?)");
    params.push_back(SqlInt(query.host_partner_id));
  }
  if (query.after.has_position) {
    int64_t start_us = 0;
    if (!absl::SimpleAtoi(query.after.last_key, &start_us)) {
      return InvalidField("page_token", "is not a token this service issued");
    }
    absl::StrAppend(&where,
                    " AND (e.start_us > ? OR (e.start_us = ? AND e.id > ?))");
    params.push_back(SqlInt(start_us));
    params.push_back(SqlInt(start_us));
    params.push_back(SqlInt(query.after.last_id));
  }
  params.push_back(SqlInt(query.limit));
  return database_->RunFor<std::vector<Event>>(
      [&](Session& session) -> absl::StatusOr<std::vector<Event>> {
        absl::StatusOr<std::vector<Row>> rows = session.Query(
            absl::StrCat("SELECT ", kEventColumns, " FROM events e ", where,
                         " ORDER BY e.start_us, e.id LIMIT ?"),
            params);
        if (!rows.ok()) return rows.status();
        std::vector<Event> events;
        events.reserve(rows->size());
        for (const Row& row : *rows) {
          absl::StatusOr<Event> event = ReadEvent(row);
          if (!event.ok()) return event.status();
          events.push_back(*std::move(event));
        }
        return events;
      });
}

absl::StatusOr<v1::RegistrationResponse> EventsStore::Register(
    const Registration& input, const RequestKey& key,
    int64_t visible_partner_id) {
  const absl::Time now = clock_->Now();
  bool new_registration = false;
  int64_t event_start_us = 0;
  int64_t event_end_us = 0;
  absl::StatusOr<v1::RegistrationResponse> registered =
      database_->TransactFor<v1::RegistrationResponse>(
          [&](Session& session) -> absl::StatusOr<v1::RegistrationResponse> {
            new_registration = false;  // a retried transaction starts afresh
            // The event row lock queues concurrent registrations: each sees the
            // counts its predecessors left, in the order they got the lock.
            absl::StatusOr<LockedEvent> locked =
                LockEvent(session, input.event_id());
            if (!locked.ok() && !absl::IsNotFound(locked.status())) {
              return locked.status();
            }
            // Drafts do not exist for partners (as GetEvent says).
            if (!locked.ok() || (visible_partner_id > 0 &&
                                 locked->event.state() == v1::DRAFT)) {
              return InvalidField(
                  "registration.event_id",
                  absl::StrCat("event ", input.event_id(), " not found"));
            }
            Event& event = locked->event;
            v1::RegistrationResponse response;
            // After the event's lock, which serializes this request's twins.
            SMZ_ASSIGN_OR_RETURN(std::optional<FirstAnswer> replay,
                                 LookUpRequest(session, key));
            if (replay.has_value()) {
              // The key remembers the arrival (see below).
              absl::StatusOr<std::vector<Row>> first_id = session.Query(
                  "SELECT id FROM registrations WHERE event_id = ? AND "
                  "arrival = ?",
                  {SqlInt(event.id()), SqlInt(replay->result_id)});
              if (!first_id.ok()) return first_id.status();
              if (first_id->empty()) {
                return absl::DataLossError("remembered registration missing");
              }
              absl::StatusOr<Registration> first =
                  LoadRegistration(session, first_id->front().Int(0));
              if (!first.ok()) return first.status();
              *response.mutable_registration() = *std::move(first);
              return response;
            }
            if (!AcceptsRegistrations(event.state())) {
              return absl::FailedPreconditionError(absl::StrCat(
                  "registration.event_id: event ", event.id(), " is ",
                  StateName(event.state()),
                  "; registrations are taken while it is PUBLISHED or "
                  "POSTPONED"));
            }
            const absl::TimeZone zone = *LoadZone(event.time_zone());
            const absl::Time closes = event.has_registration_closes()
                                          ? ToTime(event.registration_closes())
                                          : ToTime(event.start_time());
            if (event.has_registration_opens() &&
                now < ToTime(event.registration_opens())) {
              return absl::FailedPreconditionError(absl::StrCat(
                  "event.registration_opens: registration for event ",
                  event.id(), " opens at ",
                  LocalDateTime(ToTime(event.registration_opens()), zone), " ",
                  event.time_zone()));
            }
            if (now >= closes) {
              return absl::FailedPreconditionError(absl::StrCat(
                  "event.registration_closes: registration for event ",
                  event.id(), " closed at ", LocalDateTime(closes, zone), " ",
                  event.time_zone()));
            }
            FieldViolations violations;
            ValidateRegistration(input, event, &violations);
            if (!violations.empty()) return violations.ToStatus();

            const std::string person = PersonKey(input);
            const bool seat = event.capacity() == 0 ||
                              event.confirmed_count() < event.capacity();
            const int64_t arrival = locked->next_arrival;
            Registration stored = input;
            stored.clear_id();
            const int64_t now_us = absl::ToUnixMicros(now);
            absl::StatusOr<int64_t> inserted = session.Execute(
                "INSERT INTO registrations (event_id, arrival, partner_id, "
                "person_key, active_person_key, state, attendance, create_us, "
                "confirm_us, body) VALUES (?, ?, ?, ?, ?, ?, 0, ?, ?, ?)",
                {SqlInt(event.id()), SqlInt(arrival),
                 SqlInt(input.partner_id()), person, person,
                 SqlInt(seat ? kConfirmed : kWaitlisted), SqlInt(now_us),
                 seat ? SqlValue(SqlInt(now_us)) : nullptr,
                 stored.SerializeAsString()});
            if (absl::IsAlreadyExists(inserted.status())) {
              // The unique key on (event, live person) refused a second
              // registration of this person; say which one exists.
              absl::StatusOr<std::vector<Row>> twin = session.Query(
                  "SELECT id, state, partner_id FROM registrations "
                  "WHERE event_id = ? AND active_person_key = ?",
                  {SqlInt(event.id()), person});
              if (!twin.ok()) return twin.status();
              if (twin->empty()) return inserted.status();
              if (visible_partner_id > 0 &&
                  twin->front().Int(2) != visible_partner_id) {
                // Another partner's registration: confirm only that the
                // person is taken, not by whom.
                return absl::AlreadyExistsError(absl::StrCat(
                    input.email().empty() ? "registration.name"
                                          : "registration.email",
                    ": this person is already registered for event ",
                    event.id()));
              }
              return absl::AlreadyExistsError(absl::StrCat(
                  input.email().empty() ? "registration.name"
                                        : "registration.email",
                  ": this person is already registered for event ", event.id(),
                  " (registration ", twin->front().Int(0), ", ",
                  v1::RegistrationState_Name(
                      static_cast<v1::RegistrationState>(twin->front().Int(1))),
                  ")"));
            }
            if (!inserted.ok()) return inserted.status();
            if (seat) {
              event.set_confirmed_count(event.confirmed_count() + 1);
            } else {
              event.set_waitlisted_count(event.waitlisted_count() + 1);
            }
            if (absl::Status s = SaveCounts(session, event, arrival + 1);
                !s.ok()) {
              return s;
            }
            // The arrival, not the id: (event, arrival) is unique, and
            // asking for LAST_INSERT_ID() would hold the event's lock one
            // more round trip.
            SMZ_RETURN_IF_ERROR(
                RecordRequest(session, key, arrival, /*response=*/"", now));

            // Answered from what this transaction knows: the waiting position
            // of the newest registration is the length of the line.
            Registration* out = response.mutable_registration();
            *out = stored;
            out->set_arrival(arrival);
            out->set_state(seat ? v1::CONFIRMED : v1::WAITLISTED);
            *out->mutable_create_time() = FromMicros(now_us);
            if (seat) {
              *out->mutable_confirm_time() = FromMicros(now_us);
            } else {
              out->set_waitlist_position(event.waitlisted_count());
            }
            new_registration = true;
            event_start_us = Micros(event.start_time());
            event_end_us = Micros(event.end_time());
            return response;
          });
  if (!registered.ok() || !new_registration) return registered;

  // After the commit, so the event's row lock is not held for them: the new
  // registration's id, and soft conflicts. Should this read fail, the
  // registration is committed all the same and a retry with the same
  // request_id returns it.
  absl::Status read = database_->Run([&](Session& session) -> absl::Status {
    absl::StatusOr<std::vector<Row>> id = session.Query(
        "SELECT id FROM registrations WHERE event_id = ? AND arrival = ?",
        {SqlInt(input.event_id()),
         SqlInt(registered->registration().arrival())});
    if (!id.ok()) return id.status();
    if (id->empty()) return absl::DataLossError("registration missing");
    registered->mutable_registration()->set_id(id->front().Int(0));
    // The same person in another event at an overlapping time.
    absl::StatusOr<std::vector<Row>> overlapping = session.Query(
        "SELECT e.id, '', e.start_us, e.end_us, e.time_zone "
        "FROM registrations r JOIN events e ON e.id = r.event_id "
        "WHERE r.person_key = ? AND r.active_person_key IS NOT NULL "
        "AND r.event_id <> ? AND e.start_us < ? AND e.end_us > ? "
        "AND (? = 0 OR r.partner_id = ?) "
        "ORDER BY e.start_us LIMIT 5",
        {PersonKey(input), SqlInt(input.event_id()), SqlInt(event_end_us),
         SqlInt(event_start_us), SqlInt(visible_partner_id),
         SqlInt(visible_partner_id)});
    if (!overlapping.ok()) return overlapping.status();
    for (const Row& row : *overlapping) {
      v1::Warning* w = registered->add_warnings();
      w->set_kind(v1::PARTICIPANT_OVERLAP);
      w->set_field(input.email().empty() ? "registration.name"
                                         : "registration.email");
      w->set_other_event_id(row.Int(0));
      w->set_message(absl::StrCat("the same person is registered for ",
                                  DescribeOther(row),
                                  ", which overlaps this event"));
    }
    return absl::OkStatus();
  });
  if (!read.ok()) return read;
  return registered;
}

absl::StatusOr<Registration> EventsStore::GetRegistration(int64_t id) {
  return database_->RunFor<Registration>(
      [&](Session& session) { return LoadRegistration(session, id); });
}

absl::StatusOr<std::vector<Registration>> EventsStore::ListRegistrations(
    const RegistrationQuery& query) {
  std::string where = "WHERE 1 = 1";
  std::vector<SqlValue> params;
  if (query.event_id > 0) {
    absl::StrAppend(&where, " AND r.event_id = ?");
    params.push_back(SqlInt(query.event_id));
  }
  if (query.partner_id > 0) {
    absl::StrAppend(&where, " AND r.partner_id = ?");
    params.push_back(SqlInt(query.partner_id));
  }
  AddInFilter("r.state", query.states, &where, &params);
  if (query.after.has_position) {
    int64_t event_id = 0;
    if (!absl::SimpleAtoi(query.after.last_key, &event_id)) {
      return InvalidField("page_token", "is not a token this service issued");
    }
    absl::StrAppend(
        &where, " AND (r.event_id > ? OR (r.event_id = ? AND r.arrival > ?))");
    params.push_back(SqlInt(event_id));
    params.push_back(SqlInt(event_id));
    params.push_back(SqlInt(query.after.last_id));
  }
  params.push_back(SqlInt(query.limit));
  return database_->RunFor<std::vector<Registration>>(
      [&](Session& session) -> absl::StatusOr<std::vector<Registration>> {
        absl::StatusOr<std::vector<Row>> rows = session.Query(
            absl::StrCat("SELECT ", kRegistrationColumns,
                         " FROM registrations r ", where,
                         " ORDER BY r.event_id, r.arrival LIMIT ?"),
            params);
        if (!rows.ok()) return rows.status();
        std::vector<Registration> out;
        for (const Row& row : *rows) {
          absl::StatusOr<Registration> r = ReadRegistration(row);
          if (!r.ok()) return r.status();
          out.push_back(*std::move(r));
        }
        return out;
      });
}

absl::StatusOr<Registration> EventsStore::CancelRegistration(
    int64_t id, const std::string& actor) {
  const absl::Time now = clock_->Now();
  return database_->TransactFor<Registration>(
      [&](Session& session) -> absl::StatusOr<Registration> {
        absl::StatusOr<LockedRegistration> locked =
            LockRegistration(session, id);
        if (!locked.ok()) return locked.status();
        Event& event = locked->event;
        const int state = locked->state;
        if (state != kConfirmed && state != kWaitlisted) {
          return absl::FailedPreconditionError(
              absl::StrCat("registration ", id, " is already ",
                           v1::RegistrationState_Name(
                               static_cast<v1::RegistrationState>(state))));
        }
        if (event.state() == v1::COMPLETED) {
          return absl::FailedPreconditionError(
              absl::StrCat("event ", event.id(),
                           " is COMPLETED; record attendance instead"));
        }
        if (locked->attendance != v1::ATTENDANCE_UNSPECIFIED) {
          return absl::FailedPreconditionError(absl::StrCat(
              "registration ", id, " already has its attendance recorded (",
              v1::Attendance_Name(
                  static_cast<v1::Attendance>(locked->attendance)),
              "); it can no longer be cancelled"));
        }
        // Once the event has begun a seat given up is a no-show, and a seat
        // handed to the waiting list then would reach nobody in time.
        if (now >= ToTime(event.start_time())) {
          const absl::TimeZone zone = *LoadZone(event.time_zone());
          return absl::FailedPreconditionError(absl::StrCat(
              "event ", event.id(), " started at ",
              LocalDateTime(ToTime(event.start_time()), zone), " ",
              event.time_zone(),
              "; registrations can no longer be cancelled, record a no-show "
              "instead"));
        }
        absl::StatusOr<int64_t> changed = session.Execute(
            "UPDATE registrations SET state = " CANCELLED_BY_REGISTRANT_SQL
            ", active_person_key = NULL, cancel_us = ? WHERE id = ?",
            {SqlInt(absl::ToUnixMicros(now)), SqlInt(id)});
        if (!changed.ok()) return changed.status();
        if (state == kConfirmed) {
          event.set_confirmed_count(event.confirmed_count() - 1);
        } else {
          event.set_waitlisted_count(event.waitlisted_count() - 1);
        }
        if (absl::Status s = PromoteWaitlisted(session, &event, now); !s.ok()) {
          return s;
        }
        if (absl::Status s = SaveCounts(session, event, locked->next_arrival);
            !s.ok()) {
          return s;
        }
        absl::StatusOr<Registration> result = LoadRegistration(session, id);
        if (!result.ok()) return result.status();
        if (absl::Status s =
                AppendAudit(session, AuditEntry{"registration",
                                                id,
                                                "CANCEL",
                                                actor,
                                                now,
                                                "",
                                                result->SerializeAsString(),
                                                {}});
            !s.ok()) {
          return s;
        }
        return result;
      });
}

absl::StatusOr<Registration> EventsStore::RecordAttendance(
    int64_t id, v1::Attendance attendance, const std::string& actor) {
  const absl::Time now = clock_->Now();
  return database_->TransactFor<Registration>(
      [&](Session& session) -> absl::StatusOr<Registration> {
        absl::StatusOr<LockedRegistration> locked =
            LockRegistration(session, id);
        if (!locked.ok()) return locked.status();
        Event& event = locked->event;
        const int state = locked->state;
        const int previous = locked->attendance;
        if (state != kConfirmed) {
          return absl::FailedPreconditionError(
              absl::StrCat("registration ", id, " is ",
                           v1::RegistrationState_Name(
                               static_cast<v1::RegistrationState>(state)),
                           "; only CONFIRMED registrations attend"));
        }
        if (event.state() != v1::PUBLISHED && event.state() != v1::POSTPONED &&
            event.state() != v1::COMPLETED) {
          return absl::FailedPreconditionError(absl::StrCat(
              "event ", event.id(), " is ", StateName(event.state())));
        }
        const absl::Time start = ToTime(event.start_time());
        if (attendance == v1::ATTENDED && now < start - absl::Hours(24)) {
          return absl::FailedPreconditionError(
              "check-in opens 24 hours before the event starts");
        }
        if (attendance == v1::NO_SHOW && now < start) {
          return absl::FailedPreconditionError(
              "a no-show can be recorded once the event has started");
        }
        const int64_t now_us = absl::ToUnixMicros(now);
        absl::StatusOr<int64_t> changed = session.Execute(
            "UPDATE registrations SET attendance = ?, check_in_us = "
            "CASE WHEN ? = 1 THEN COALESCE(check_in_us, ?) ELSE NULL END "
            "WHERE id = ?",
            {SqlInt(attendance), SqlInt(attendance), SqlInt(now_us),
             SqlInt(id)});
        if (!changed.ok()) return changed.status();
        auto bump = [&](int kind, int by) {
          if (kind == v1::ATTENDED) {
            event.set_attended_count(event.attended_count() + by);
          } else if (kind == v1::NO_SHOW) {
            event.set_no_show_count(event.no_show_count() + by);
          }
        };
        bump(previous, -1);
        bump(attendance, 1);
        if (absl::Status s = SaveCounts(session, event, locked->next_arrival);
            !s.ok()) {
          return s;
        }
        absl::StatusOr<Registration> result = LoadRegistration(session, id);
        if (!result.ok()) return result.status();
        if (absl::Status s =
                AppendAudit(session, AuditEntry{"registration",
                                                id,
                                                v1::Attendance_Name(attendance),
                                                actor,
                                                now,
                                                "",
                                                result->SerializeAsString(),
                                                {}});
            !s.ok()) {
          return s;
        }
        return result;
      });
}

absl::StatusOr<v1::CountCompletedEventsResponse> EventsStore::CountCompleted(
    int year_from, int year_to, bool by_country,
    const std::vector<v1::EventType>& types) {
  std::vector<SqlValue> params = {FormatDate(absl::CivilDay(year_from, 1, 1)),
                                  FormatDate(absl::CivilDay(year_to, 12, 31))};
  std::string where = "WHERE local_start_date >= ? AND local_start_date <= ?";
  AddInFilter("type", types, &where, &params);
  const std::string country = by_country ? "country" : "''";
  return database_->RunFor<v1::CountCompletedEventsResponse>(
      [&](Session& session)
          -> absl::StatusOr<v1::CountCompletedEventsResponse> {
        v1::CountCompletedEventsResponse response;
        absl::StatusOr<std::vector<Row>> rows = session.Query(
            absl::StrCat(
                "SELECT YEAR(local_start_date) AS y, type, ", country,
                " AS c, COUNT(*), SUM(CASE WHEN outcome_attendees > 0 THEN "
                "outcome_attendees ELSE attended END), SUM(outcome_mous) "
                "FROM events ",
                where,
                " AND state = " COMPLETED_SQL
                " GROUP BY y, type, c ORDER BY y, type, c"),
            params);
        if (!rows.ok()) return rows.status();
        for (const Row& row : *rows) {
          v1::EventCount* count = response.add_counts();
          count->set_year(static_cast<int32_t>(row.Int(0)));
          count->set_type(static_cast<v1::EventType>(row.Int(1)));
          count->set_country(row.Text(2));
          count->set_completed(static_cast<int32_t>(row.Int(3)));
          count->set_attendees(static_cast<int32_t>(row.Int(4)));
          count->set_mous_signed(static_cast<int32_t>(row.Int(5)));
        }
        absl::StatusOr<std::vector<Row>> others = session.Query(
            absl::StrCat("SELECT SUM(state = " CANCELLED_SQL
                         "), SUM(state IN " UPCOMING_EVENT_SQL ") FROM events ",
                         where),
            params);
        if (!others.ok()) return others.status();
        response.set_cancelled(static_cast<int32_t>(others->front().Int(0)));
        response.set_not_yet_completed(
            static_cast<int32_t>(others->front().Int(1)));
        return response;
      });
}

absl::StatusOr<std::vector<v1::Reminder>> EventsStore::DueReminders(
    absl::Time at, absl::Duration lookback) {
  struct Rule {
    v1::ReminderKind kind;
    absl::Duration before;
    bool registrants;
  };
  static constexpr absl::Duration kDay = absl::Hours(24);
  const Rule rules[] = {
      {v1::REGISTRANT_WEEK_BEFORE, 7 * kDay, true},
      {v1::REGISTRANT_DAY_BEFORE, kDay, true},
      {v1::HOST_PARTNER_THREE_DAYS_BEFORE, 3 * kDay, false},
  };
  return database_->RunFor<std::vector<v1::Reminder>>(
      [&](Session& session) -> absl::StatusOr<std::vector<v1::Reminder>> {
        std::vector<v1::Reminder> out;
        for (const Rule& rule : rules) {
          // Due at start - before, in (at - lookback, at].
          const int64_t low = absl::ToUnixMicros(at - lookback + rule.before);
          const int64_t high = absl::ToUnixMicros(at + rule.before);
          const std::string sql =
              rule.registrants
                  ? "SELECT e.id, e.start_us, r.id, r.partner_id, r.body "
                    "FROM events e JOIN registrations r ON r.event_id = e.id "
                    "AND r.state = " CONFIRMED_SQL
                    " WHERE e.state IN " UPCOMING_EVENT_SQL
                    " AND "
                    "e.start_us > ? AND e.start_us <= ? "
                    "ORDER BY e.start_us, e.id, r.arrival"
                  : "SELECT e.id, e.start_us, 0, h.partner_id, '' "
                    "FROM events e JOIN event_hosts h ON h.event_id = e.id "
                    "WHERE e.state IN " UPCOMING_EVENT_SQL
                    " AND e.start_us > ? AND "
                    "e.start_us <= ? ORDER BY e.start_us, e.id, h.partner_id";
          absl::StatusOr<std::vector<Row>> rows =
              session.Query(sql, {SqlInt(low), SqlInt(high)});
          if (!rows.ok()) return rows.status();
          for (const Row& row : *rows) {
            v1::Reminder reminder;
            reminder.set_kind(rule.kind);
            reminder.set_event_id(row.Int(0));
            const absl::Time start = absl::FromUnixMicros(row.Int(1));
            *reminder.mutable_event_start_time() = ToTimestamp(start);
            *reminder.mutable_due_time() = ToTimestamp(start - rule.before);
            reminder.set_registration_id(row.Int(2));
            reminder.set_partner_id(row.Int(3));
            if (rule.registrants) {
              Registration r;
              if (!r.ParseFromString(row.Text(4))) {
                return absl::DataLossError(
                    absl::StrCat("registration ", row.Int(2),
                                 ": stored registration unreadable"));
              }
              reminder.set_recipient_name(r.name());
              reminder.set_email(r.email());
            }
            out.push_back(std::move(reminder));
          }
        }
        std::stable_sort(out.begin(), out.end(),
                         [](const v1::Reminder& a, const v1::Reminder& b) {
                           return Micros(a.due_time()) < Micros(b.due_time());
                         });
        return out;
      });
}

absl::StatusOr<audit::v1::ListChangesResponse> EventsStore::ListChanges(
    const audit::v1::ListChangesRequest& request) {
  static const auto* const kEntities =
      new AuditedEntities{{"event", Event::descriptor()},
                          {"registration", Registration::descriptor()}};
  return smz::ListChanges(*database_, *kEntities, request);
}

}  // namespace smz::events
