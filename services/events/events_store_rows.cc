#include "services/events/events_store_rows.h"

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
#include "services/events/event_mail.h"

namespace smz::events {

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
  if (!row.IsNull(11)) *r.mutable_hold_until() = FromMicros(row.Int(11));
  return r;
}

absl::StatusOr<Registration> LoadRegistration(Session& session, int64_t id) {
  SMZ_ASSIGN_OR_RETURN(
      std::vector<Row> rows,
      session.Query(absl::StrCat("SELECT ", kRegistrationColumns,
                                 " FROM registrations r WHERE r.id = ?"),
                    {SqlInt(id)}));
  if (rows.empty()) {
    return absl::NotFoundError(absl::StrCat("registration ", id, " not found"));
  }
  return ReadRegistration(rows.front());
}

absl::StatusOr<LockedEvent> LockEvent(Session& session, int64_t id) {
  SMZ_ASSIGN_OR_RETURN(
      std::vector<Row> rows,
      session.Query(
          absl::StrCat(
              "SELECT ", kEventColumns,
              ", e.next_arrival FROM events e WHERE e.id = ? FOR UPDATE"),
          {SqlInt(id)}));
  if (rows.empty()) {
    return absl::NotFoundError(absl::StrCat("event ", id, " not found"));
  }
  absl::StatusOr<Event> event = ReadEvent(rows.front());
  if (!event.ok()) return event.status();
  return LockedEvent{*std::move(event), rows.front().Int(10)};
}

absl::StatusOr<LockedRegistration> LockRegistration(Session& session,
                                                    int64_t id) {
  SMZ_ASSIGN_OR_RETURN(
      std::vector<Row> owner,
      session.Query("SELECT event_id FROM registrations WHERE id = ?",
                    {SqlInt(id)}));
  if (owner.empty()) {
    return absl::NotFoundError(absl::StrCat("registration ", id, " not found"));
  }
  absl::StatusOr<LockedEvent> event = LockEvent(session, owner.front().Int(0));
  if (!event.ok()) return event.status();
  absl::StatusOr<std::vector<Row>> row = session.Query(
      "SELECT state, attendance, event_id FROM registrations WHERE id = ? "
      "FOR UPDATE",
      {SqlInt(id)});
  if (!row.ok()) return row.status();
  if (row->empty()) {
    return absl::NotFoundError(absl::StrCat("registration ", id, " not found"));
  }
  // Moved to another event (MoveRegistration) between the first read and
  // the lock: the event locked is no longer its own.
  if (row->front().Int(2) != owner.front().Int(0)) {
    return RetryableAbort(absl::StrCat(
        "registration ", id, " moved to another event meanwhile; try again"));
  }
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
absl::Status PromoteWaitlisted(Session& session, Event* event, absl::Time now,
                               RandomSource& random) {
  if (event->waitlisted_count() == 0) return absl::OkStatus();
  int64_t seats = event->capacity() == 0
                      ? event->waitlisted_count()
                      : event->capacity() - event->confirmed_count();
  if (seats <= 0) return absl::OkStatus();
  SMZ_ASSIGN_OR_RETURN(
      std::vector<Row> next,
      session.Query("SELECT id FROM registrations WHERE event_id = ? AND state "
                    "= " WAITLISTED_SQL " ORDER BY arrival LIMIT ? FOR UPDATE",
                    {SqlInt(event->id()), SqlInt(seats)}));
  for (const Row& row : next) {
    absl::StatusOr<int64_t> changed =
        session.Execute("UPDATE registrations SET state = " CONFIRMED_SQL
                        ", confirm_us = ? WHERE id = ?",
                        {SqlInt(absl::ToUnixMicros(now)), SqlInt(row.Int(0))});
    if (!changed.ok()) return changed.status();
    event->set_confirmed_count(event->confirmed_count() + 1);
    event->set_waitlisted_count(event->waitlisted_count() - 1);
    // The person learns of the seat with the change that gave it.
    SMZ_ASSIGN_OR_RETURN(Registration promoted,
                         LoadRegistration(session, row.Int(0)));
    SMZ_RETURN_IF_ERROR(QueueRegistrationMail(session, *event, promoted,
                                              RegistrationMail::kPromoted, now,
                                              random)
                            .status());
  }
  return absl::OkStatus();
}

absl::StatusOr<std::vector<Registration>> LiveRegistrations(Session& session,
                                                            int64_t event_id) {
  // Without kRegistrationColumns' waiting position: a count per row would
  // make a large event's cancellation quadratic under its lock.
  SMZ_ASSIGN_OR_RETURN(
      std::vector<Row> rows,
      session.Query("SELECT r.id, r.event_id, r.arrival, r.state, "
                    "r.attendance, r.create_us, r.confirm_us, r.check_in_us, "
                    "r.cancel_us, r.body, 0, r.hold_until_us FROM "
                    "registrations r WHERE "
                    "r.event_id = ? AND r.state IN " LIVE_REGISTRATION_SQL
                    " ORDER BY r.arrival",
                    {SqlInt(event_id)}));
  std::vector<Registration> out;
  out.reserve(rows.size());
  for (const Row& row : rows) {
    SMZ_ASSIGN_OR_RETURN(Registration r, ReadRegistration(row));
    out.push_back(std::move(r));
  }
  return out;
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
// Long by design: locks and rewrites slots, hosts and room bookings in the one
// order that cannot deadlock; the order is the point.
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
    SMZ_RETURN_IF_ERROR(
        (session.Execute(
             "INSERT INTO event_hosts (partner_id, event_id) VALUES (?, ?)",
             {SqlInt(partner), SqlInt(id)}))
            .status());
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
    SMZ_RETURN_IF_ERROR(
        (session.Execute("INSERT INTO venue_locks (venue_key) VALUES (?) "
                         "ON DUPLICATE KEY UPDATE venue_key = venue_key",
                         {room}))
            .status());
  }
  std::vector<std::string> conflicts;
  for (const Slot& slot : slots) {
    const int64_t start = absl::ToUnixMicros(slot.start);
    const int64_t end = absl::ToUnixMicros(slot.end);
    if (!slot.venue_key.empty()) {
      // The room is locked and, as the function comment requires, this
      // is the transaction's first plain read: its snapshot is taken now
      // and holds every booking committed before the lock was granted.
      SMZ_ASSIGN_OR_RETURN(
          std::vector<Row> taken,
          session.Query(
              "SELECT s.event_id, s.field, s.start_us, s.end_us, s.time_zone "
              "FROM event_slots s "
              "WHERE s.venue_key = ? AND s.start_us < ? AND s.end_us > ? "
              "AND s.event_id <> ? ORDER BY s.start_us LIMIT 1",
              {slot.venue_key, SqlInt(end), SqlInt(start), SqlInt(id)}));
      if (!taken.empty()) {
        conflicts.push_back(absl::StrCat(slot.field, ": room '",
                                         slot.venue_label, "' is booked by ",
                                         DescribeOther(taken.front())));
      }
    }
    if (slot.host_partner_id > 0) {
      SMZ_ASSIGN_OR_RETURN(
          std::vector<Row> busy,
          session.Query(
              "SELECT s.event_id, s.field, s.start_us, s.end_us, s.time_zone "
              "FROM event_slots s "
              "WHERE s.host_partner_id = ? AND s.start_us < ? AND s.end_us > ? "
              "AND s.event_id <> ? ORDER BY s.start_us LIMIT 1",
              {SqlInt(slot.host_partner_id), SqlInt(end), SqlInt(start),
               SqlInt(id)}));
      if (!busy.empty()) {
        v1::Warning warning;
        warning.set_kind(v1::PARTNER_DOUBLE_BOOKED);
        warning.set_field(slot.field);
        warning.set_other_event_id(busy.front().Int(0));
        warning.set_message(absl::StrCat("partner ", slot.host_partner_id,
                                         " also hosts ",
                                         DescribeOther(busy.front())));
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
    SMZ_RETURN_IF_ERROR(
        (session.Execute(
             "INSERT INTO event_slots (event_id, slot_no, venue_key, "
             "venue_label, "
             "host_partner_id, start_us, end_us, field, time_zone) VALUES (?, "
             "?, "
             "?, ?, ?, ?, ?, ?, ?)",
             {SqlInt(id), SqlInt(static_cast<int64_t>(i)), slot.venue_key,
              slot.venue_label.substr(0, 420), SqlInt(slot.host_partner_id),
              SqlInt(absl::ToUnixMicros(slot.start)),
              SqlInt(absl::ToUnixMicros(slot.end)), slot.field.substr(0, 100),
              event.time_zone()}))
            .status());
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
          SqlInt(event.open_to_public() ? 1 : 0),
          Body(event)};
}

absl::StatusOr<Event> LoadEvent(Session& session, int64_t id) {
  SMZ_ASSIGN_OR_RETURN(
      std::vector<Row> rows,
      session.Query(absl::StrCat("SELECT ", kEventColumns,
                                 " FROM events e WHERE e.id = ?"),
                    {SqlInt(id)}));
  if (rows.empty()) {
    return absl::NotFoundError(absl::StrCat("event ", id, " not found"));
  }
  return ReadEvent(rows.front());
}

absl::StatusOr<std::vector<Event>> QueryEventsByStart(
    Session& session, absl::string_view where,
    const std::vector<SqlValue>& params) {
  SMZ_ASSIGN_OR_RETURN(
      std::vector<Row> rows,
      session.Query(absl::StrCat("SELECT ", kEventColumns, " FROM events e ",
                                 where, " ORDER BY e.start_us, e.id LIMIT ?"),
                    params));
  std::vector<Event> events;
  events.reserve(rows.size());
  for (const Row& row : rows) {
    SMZ_ASSIGN_OR_RETURN(Event event, ReadEvent(row));
    events.push_back(std::move(event));
  }
  return events;
}

std::string StateName(v1::EventState state) {
  return v1::EventState_Name(state);
}

}  // namespace smz::events
