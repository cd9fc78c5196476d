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
#include "common/logging.h"
#include "common/mysql/audit.h"
#include "common/request_fields.h"
#include "common/status_util.h"
#include "google/protobuf/io/coded_stream.h"
#include "google/protobuf/io/zero_copy_stream_impl_lite.h"
#include "services/events/event_mail.h"
#include "services/events/events_store_rows.h"

namespace smz::events {
namespace {

// What the database must enforce after `change` edited an event, and the
// consequences: capacity not below confirmed registrations, sessions with
// registrations kept, rooms free; seats freed by a larger capacity go to the
// waiting list, cancelling cancels registrations, completing marks
// confirmed registrants who never checked in NO_SHOW. `event` holds the
// change and receives the counts.
// Long by design: the consequences of an event change, in the order they must
// be applied under the event's lock.
absl::Status ApplyEventChange(Session& session, const Event& before,
                              absl::Time now, RandomSource& random,
                              int64_t next_arrival, Event* event_out,
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
    SMZ_RETURN_IF_ERROR(
        ReplaceDerivedRows(session, event, /*is_new=*/false, warnings));
  }
  // Sessions that registrations chose must stay.
  absl::flat_hash_set<int64_t> kept;
  for (const v1::Session& s : event.sessions()) kept.insert(s.id());
  std::vector<int64_t> removed;
  for (const v1::Session& s : before.sessions()) {
    if (!kept.contains(s.id())) removed.push_back(s.id());
  }
  if (!removed.empty() && event.state() != v1::CANCELLED) {
    SMZ_ASSIGN_OR_RETURN(
        std::vector<Row> live,
        session.Query(
            "SELECT id, body FROM registrations WHERE event_id = ? AND "
            "state IN " LIVE_REGISTRATION_SQL,
            {SqlInt(id)}));
    for (const Row& row : live) {
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
  // Everyone registered hears of a cancellation or new dates with the
  // change itself, whether the dates moved by PostponeEvent or by an
  // UpdateEvent of a published event (a draft has no registrations).
  const bool cancelled =
      event.state() == v1::CANCELLED && before.state() != v1::CANCELLED;
  const bool moved = event.state() != v1::CANCELLED &&
                     Micros(event.start_time()) != Micros(before.start_time());
  if (cancelled || moved) {
    SMZ_ASSIGN_OR_RETURN(std::vector<Registration> live,
                         LiveRegistrations(session, id));
    for (const Registration& registration : live) {
      SMZ_RETURN_IF_ERROR(
          QueueRegistrationMail(session, event, registration,
                                cancelled ? RegistrationMail::kEventCancelled
                                          : RegistrationMail::kEventPostponed,
                                now, random, ToTime(before.start_time()))
              .status());
    }
  }
  if (cancelled) {
    SMZ_RETURN_IF_ERROR(
        (session.Execute(
             "UPDATE registrations SET state = " CANCELLED_WITH_EVENT_SQL
             ", active_person_key = NULL, hold_until_us = NULL, cancel_us = ? "
             "WHERE event_id = ? AND "
             "state IN " LIVE_REGISTRATION_SQL,
             {SqlInt(now_us), SqlInt(id)}))
            .status());
    event.set_confirmed_count(0);
    event.set_waitlisted_count(0);
  }
  if (event.state() == v1::COMPLETED && before.state() != v1::COMPLETED) {
    SMZ_ASSIGN_OR_RETURN(
        int64_t no_shows,
        session.Execute("UPDATE registrations SET attendance = " NO_SHOW_SQL
                        " WHERE event_id = ? AND state = " CONFIRMED_SQL
                        " AND attendance = " ATTENDANCE_UNSPECIFIED_SQL,
                        {SqlInt(id)}));
    event.set_no_show_count(event.no_show_count() +
                            static_cast<int32_t>(no_shows));
  }
  if (event.state() != v1::CANCELLED && event.state() != v1::COMPLETED) {
    SMZ_RETURN_IF_ERROR(PromoteWaitlisted(session, &event, now, random));
  }
  SMZ_RETURN_IF_ERROR(SaveCounts(session, event, next_arrival));

  return absl::OkStatus();
}

// Events on the shared versioned-row path. A locking read records the
// event's next waiting-list arrival in `next_arrival`; inserting an event
// writes its derived rows (rooms, dates) and reports their `warnings`.
VersionedTable<Event> EventTable(int64_t* next_arrival,
                                 std::vector<v1::Warning>* warnings) {
  VersionedTable<Event> table;
  table.entity = "event";
  table.read = [next_arrival](Session& session, int64_t id,
                              bool lock) -> absl::StatusOr<Event> {
    if (!lock) return LoadEvent(session, id);
    SMZ_ASSIGN_OR_RETURN(LockedEvent locked, LockEvent(session, id));
    *next_arrival = locked.next_arrival;
    return std::move(locked.event);
  };
  table.etag = [](const Event& event) { return event.etag(); };
  // Occurrences are the recurrence expanded (up to 400 copies of its
  // texts): the trail keeps the recurrence they are derived from.
  table.audit_value = [](const Event& event) {
    Event kept = event;
    kept.clear_occurrences();
    return kept.SerializeAsString();
  };
  table.insert = [warnings](Session& session, const Event& input,
                            absl::Time now) -> absl::StatusOr<int64_t> {
    std::vector<SqlValue> params = EventColumns(input);
    params.push_back(SqlInt(absl::ToUnixMicros(now)));
    params.push_back(SqlInt(absl::ToUnixMicros(now)));
    SMZ_RETURN_IF_ERROR(
        (session.Execute(
             "INSERT INTO events (type, state, time_zone, start_us, end_us, "
             "local_start_date, local_end_date, span_days, country, capacity, "
             "outcome_attendees, outcome_mous, open_to_public, body, "
             "revision, create_us, update_us) VALUES (?, ?, ?, ?, ?, ?, ?, ?, "
             "?, ?, ?, ?, ?, ?, 1, ?, ?)",
             params))
            .status());
    SMZ_ASSIGN_OR_RETURN(const int64_t id, session.LastInsertId());
    Event event = input;
    event.set_id(id);
    SMZ_RETURN_IF_ERROR(
        ReplaceDerivedRows(session, event, /*is_new=*/true, warnings));
    return id;
  };
  table.write = [](Session& session, const Event&, const Event& event,
                   absl::Time now) {
    std::vector<SqlValue> params = EventColumns(event);
    params.push_back(SqlInt(absl::ToUnixMicros(now)));
    params.push_back(SqlInt(event.id()));
    return session
        .Execute(
            "UPDATE events SET type = ?, state = ?, time_zone = ?, "
            "start_us = ?, end_us = ?, local_start_date = ?, "
            "local_end_date = ?, span_days = ?, country = ?, "
            "capacity = ?, outcome_attendees = ?, outcome_mous = ?, "
            "open_to_public = ?, body = ?, revision = revision + 1, "
            "update_us = ? "
            "WHERE id = ?",
            params)
        .status();
  };
  return table;
}

}  // namespace

EventsStore::EventsStore(Database* database, const Clock* clock,
                         RandomSource* random)
    : database_(database), clock_(clock), random_(random) {}

absl::StatusOr<StoredEvent> EventsStore::CreateEvent(const Event& input,
                                                     const RequestKey& key) {
  const WriteContext write{key.caller, clock_->Now()};
  int64_t next_arrival = 0;
  std::vector<v1::Warning> warnings;
  const VersionedTable<Event> events = EventTable(&next_arrival, &warnings);
  Event event = input;
  event.set_state(v1::DRAFT);
  Derive(&event);
  return database_->TransactFor<StoredEvent>(
      [&](Session& session) -> absl::StatusOr<StoredEvent> {
        warnings.clear();  // a retried transaction starts afresh
        // The key is claimed before any read: nothing may be read before
        // ReplaceDerivedRows locks.
        SMZ_ASSIGN_OR_RETURN(
            Event stored,
            CreateVersioned<Event>(session, events, key, write, event));
        return StoredEvent{std::move(stored), std::move(warnings)};
      });
}

absl::StatusOr<Event> EventsStore::GetEvent(int64_t id) {
  return database_->RunFor<Event>(
      [&](Session& session) { return LoadEvent(session, id); });
}

absl::StatusOr<StoredEvent> EventsStore::ModifyEvent(
    int64_t id, absl::string_view etag, absl::string_view action,
    const std::string& actor, absl::FunctionRef<absl::Status(Event&)> change) {
  const WriteContext write{actor, clock_->Now()};
  int64_t next_arrival = 0;  // of the locked event
  std::vector<v1::Warning> warnings;
  const VersionedTable<Event> events = EventTable(&next_arrival, &warnings);
  return database_->TransactFor<StoredEvent>(
      [&](Session& session) -> absl::StatusOr<StoredEvent> {
        warnings.clear();  // a retried transaction starts afresh
        SMZ_ASSIGN_OR_RETURN(
            Event stored,
            ModifyVersioned<Event>(
                session, events, id, etag, action, write,
                [&](Session& session, Event& event) -> absl::Status {
                  const Event before = event;
                  SMZ_RETURN_IF_ERROR(change(event));
                  return ApplyEventChange(session, before, write.now, *random_,
                                          next_arrival, &event, &warnings);
                }));
        return StoredEvent{std::move(stored), std::move(warnings)};
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
          SMZ_ASSIGN_OR_RETURN(
              std::vector<Row> rows,
              session.Query("SELECT COALESCE(MAX(span_days), 0) FROM events",
                            {}));
          return rows.front().Int(0);
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
        return QueryEventsByStart(session, where, params);
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
        SMZ_ASSIGN_OR_RETURN(
            std::vector<Row> rows,
            session.Query(
                absl::StrCat(
                    "SELECT YEAR(local_start_date) AS y, type, ", country,
                    " AS c, COUNT(*), SUM(CASE WHEN outcome_attendees > 0 THEN "
                    "outcome_attendees ELSE attended END), SUM(outcome_mous) "
                    "FROM events ",
                    where,
                    " AND state = " COMPLETED_SQL
                    " GROUP BY y, type, c ORDER BY y, type, c"),
                params));
        for (const Row& row : rows) {
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
          SMZ_ASSIGN_OR_RETURN(std::vector<Row> rows,
                               session.Query(sql, {SqlInt(low), SqlInt(high)}));
          for (const Row& row : rows) {
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

// Long by design: two kinds of reminder, each in its own transaction under
// the event's lock, read as it is now.
absl::StatusOr<int> EventsStore::QueueDueReminders(
    absl::Time at, absl::Duration lookback,
    absl::FunctionRef<absl::StatusOr<HostContacts>(int64_t partner_id)>
        host_contacts) {
  SMZ_ASSIGN_OR_RETURN(std::vector<v1::Reminder> due,
                       DueReminders(at, lookback));
  int queued = 0;
  const absl::Time now = clock_->Now();
  // An outage (registry or database) is reported after the others were
  // tried, so that one partner's lookup never holds up the rest; the next
  // sweep covers this one's time again.
  absl::Status unavailable;
  for (const v1::Reminder& reminder : due) {
    if (reminder.registration_id() == 0) {
      absl::StatusOr<HostContacts> host = host_contacts(reminder.partner_id());
      absl::Status one = host.status();
      if (host.ok()) {
        one = database_->Transact([&](Session& session) {
          SMZ_ASSIGN_OR_RETURN(LockedEvent locked,
                               LockEvent(session, reminder.event_id()));
          const v1::EventState state = locked.event.state();
          if ((state != v1::PUBLISHED && state != v1::POSTPONED) ||
              Micros(locked.event.start_time()) !=
                  Micros(reminder.event_start_time())) {
            return absl::OkStatus();
          }
          SMZ_ASSIGN_OR_RETURN(
              const int added,
              QueueHostReminders(session, locked.event, reminder.partner_id(),
                                 host->name, host->contacts, now));
          queued += added;
          return absl::OkStatus();
        });
      }
      if (!one.ok()) {
        Log(LogLevel::kWarning, "host reminder not queued",
            {{"partner_id", absl::StrCat(reminder.partner_id())},
             {"error", one.message()}});
        if (absl::IsUnavailable(one) && unavailable.ok()) unavailable = one;
      }
      continue;
    }
    if (reminder.email().empty()) continue;
    // One transaction per reminder: a registration cancelled or moved to
    // another event (MoveRegistration) meanwhile is read as it is now, under
    // the event's lock. One that cannot be queued does not hold up the
    // others.
    const absl::Status one = database_->Transact([&](Session& session) {
      SMZ_ASSIGN_OR_RETURN(LockedEvent locked,
                           LockEvent(session, reminder.event_id()));
      SMZ_ASSIGN_OR_RETURN(
          Registration registration,
          LoadRegistration(session, reminder.registration_id()));
      if (registration.state() != v1::CONFIRMED ||
          registration.event_id() != reminder.event_id() ||
          Micros(locked.event.start_time()) !=
              Micros(reminder.event_start_time())) {
        return absl::OkStatus();
      }
      SMZ_ASSIGN_OR_RETURN(
          const bool added,
          QueueRegistrationMail(session, locked.event, registration,
                                reminder.kind() == v1::REGISTRANT_WEEK_BEFORE
                                    ? RegistrationMail::kWeekBefore
                                    : RegistrationMail::kDayBefore,
                                now, *random_));
      if (added) ++queued;
      return absl::OkStatus();
    });
    if (!one.ok()) {
      Log(LogLevel::kWarning, "reminder not queued",
          {{"registration_id", absl::StrCat(reminder.registration_id())},
           {"error", one.message()}});
      if (absl::IsUnavailable(one) && unavailable.ok()) unavailable = one;
    }
  }
  if (!unavailable.ok()) return unavailable;
  return queued;
}

absl::StatusOr<audit::v1::ListChangesResponse> EventsStore::ListChanges(
    const audit::v1::ListChangesRequest& request) {
  static const auto* const kEntities =
      new AuditedEntities{{"event", Event::descriptor()},
                          {"registration", Registration::descriptor()}};
  return smz::ListChanges(*database_, *kEntities, request);
}

}  // namespace smz::events
