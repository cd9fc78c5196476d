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
#include "services/events/events_store.h"
#include "services/events/events_store_rows.h"

// Registrations: seats, the waiting list, cancellations and attendance,
// each under the event's row lock.
namespace smz::events {
namespace {

// A change to one registration in one transaction: its row and its event's
// locked, `change` checks and writes the row (and the event's counts in
// `locked.event`), then the counts are saved and the registration is read
// back and audited as `action`.
absl::StatusOr<Registration> ChangeRegistration(
    Database& database, int64_t id, absl::string_view action,
    const std::string& actor, absl::Time now,
    absl::FunctionRef<absl::Status(Session&, LockedRegistration&)> change) {
  return database.TransactFor<Registration>(
      [&](Session& session) -> absl::StatusOr<Registration> {
        SMZ_ASSIGN_OR_RETURN(LockedRegistration locked,
                             LockRegistration(session, id));
        SMZ_RETURN_IF_ERROR(change(session, locked));
        SMZ_RETURN_IF_ERROR(
            SaveCounts(session, locked.event, locked.next_arrival));
        SMZ_ASSIGN_OR_RETURN(Registration after, LoadRegistration(session, id));
        // No "before": LockRegistration's first read fixed the snapshot
        // before its locks, so a plain read of it could be stale; the action
        // says what changed.
        SMZ_RETURN_IF_ERROR(
            AppendAudit(session, AuditEntry{"registration",
                                            id,
                                            std::string(action),
                                            actor,
                                            now,
                                            "",
                                            after.SerializeAsString(),
                                            {}}));
        return after;
      });
}

}  // namespace

// Long by design: one transaction under the event's row lock (checks, seat or
// waiting place, counts, request key), then the reads that need the committed
// row; the steps share the lock and the answer.
absl::StatusOr<StoredRegistration> EventsStore::Register(
    const Registration& input, const RequestKey& key,
    int64_t visible_partner_id, const SignUpHold* hold) {
  const absl::Time now = clock_->Now();
  bool new_registration = false;
  int64_t event_start_us = 0;
  int64_t event_end_us = 0;
  absl::StatusOr<StoredRegistration> registered = database_->TransactFor<
      StoredRegistration>([&](Session& session)
                              -> absl::StatusOr<StoredRegistration> {
    new_registration = false;  // a retried transaction starts afresh
    // The event row lock queues concurrent registrations: each sees the
    // counts its predecessors left, in the order they got the lock.
    absl::StatusOr<LockedEvent> locked = LockEvent(session, input.event_id());
    if (!locked.ok() && !absl::IsNotFound(locked.status())) {
      return locked.status();
    }
    // The public signs up only where an organizer let it.
    if (hold != nullptr && (!locked.ok() || !locked->event.open_to_public() ||
                            locked->event.state() == v1::DRAFT)) {
      return absl::NotFoundError(
          absl::StrCat("event_id: no public event ", input.event_id()));
    }
    // Drafts do not exist for partners (as GetEvent says).
    if (!locked.ok() ||
        (visible_partner_id > 0 && locked->event.state() == v1::DRAFT)) {
      return InvalidField(
          "registration.event_id",
          absl::StrCat("event ", input.event_id(), " not found"));
    }
    Event& event = locked->event;
    StoredRegistration response;
    // After the event's lock, which serializes this request's twins.
    SMZ_ASSIGN_OR_RETURN(std::optional<FirstAnswer> replay,
                         LookUpRequest(session, key));
    if (replay.has_value()) {
      // The key remembers the arrival (see below).
      SMZ_ASSIGN_OR_RETURN(
          std::vector<Row> first_id,
          session.Query("SELECT id FROM registrations WHERE event_id = ? AND "
                        "arrival = ?",
                        {SqlInt(event.id()), SqlInt(replay->result_id)}));
      if (first_id.empty()) {
        // Moved since to another event (MoveRegistration): the arrival it
        // had here names nothing now.
        return absl::FailedPreconditionError(
            "request_id: the registration this request made has since been "
            "moved to another event by an organizer");
      }
      absl::StatusOr<Registration> first =
          LoadRegistration(session, first_id.front().Int(0));
      if (!first.ok()) return first.status();
      response.registration = *std::move(first);
      return response;
    }
    SMZ_RETURN_IF_ERROR(CheckRegistrationWindow(event, now));
    if (hold != nullptr) {
      SMZ_ASSIGN_OR_RETURN(
          std::vector<Row> held,
          // Only live places are held (every way out clears the hold);
          // counted no further than the cap.
          session.Query("SELECT COUNT(*) FROM (SELECT 1 FROM registrations "
                        "WHERE event_id = ? AND hold_until_us IS NOT NULL "
                        "LIMIT ?) held",
                        {SqlInt(event.id()), SqlInt(hold->max_unconfirmed)}));
      if (!held.empty() && held.front().Int(0) >= hold->max_unconfirmed) {
        return absl::ResourceExhaustedError(
            "event_id: too many sign-ups for this event wait for their "
            "confirmation; try again in an hour");
      }
    }
    FieldViolations violations;
    ValidateRegistration(input, event, &violations);
    SMZ_RETURN_IF_ERROR(violations.ToStatus());

    const std::string person = PersonKey(input);
    const bool seat =
        event.capacity() == 0 || event.confirmed_count() < event.capacity();
    const int64_t arrival = locked->next_arrival;
    Registration stored = input;
    stored.clear_id();
    const int64_t now_us = absl::ToUnixMicros(now);
    absl::StatusOr<int64_t> inserted = session.Execute(
        "INSERT INTO registrations (event_id, arrival, partner_id, "
        "person_key, active_person_key, state, attendance, create_us, "
        "confirm_us, body, hold_until_us, visitor_token_hash) VALUES (?, ?, "
        "?, ?, ?, ?, 0, ?, ?, ?, ?, ?)",
        {SqlInt(event.id()), SqlInt(arrival), SqlInt(input.partner_id()),
         person, person, SqlInt(seat ? kConfirmed : kWaitlisted),
         SqlInt(now_us), seat ? SqlValue(SqlInt(now_us)) : nullptr,
         stored.SerializeAsString(),
         hold != nullptr
             ? SqlValue(SqlInt(absl::ToUnixMicros(hold->hold_until)))
             : nullptr,
         hold != nullptr ? SqlValue(hold->token_hash) : nullptr});
    if (absl::IsAlreadyExists(inserted.status())) {
      // The unique key on (event, live person) refused a second
      // registration of this person; say which one exists.
      SMZ_ASSIGN_OR_RETURN(
          std::vector<Row> twin,
          session.Query("SELECT id, state, partner_id FROM registrations "
                        "WHERE event_id = ? AND active_person_key = ?",
                        {SqlInt(event.id()), person}));
      if (twin.empty()) return inserted.status();
      if (visible_partner_id > 0 && twin.front().Int(2) != visible_partner_id) {
        // Another partner's registration: confirm only that the
        // person is taken, not by whom.
        return absl::AlreadyExistsError(absl::StrCat(
            input.email().empty() ? "registration.name" : "registration.email",
            ": this person is already registered for event ", event.id()));
      }
      return absl::AlreadyExistsError(absl::StrCat(
          input.email().empty() ? "registration.name" : "registration.email",
          ": this person is already registered for event ", event.id(),
          " (registration ", twin.front().Int(0), ", ",
          v1::RegistrationState_Name(
              static_cast<v1::RegistrationState>(twin.front().Int(1))),
          ")"));
    }
    if (!inserted.ok()) return inserted.status();
    if (seat) {
      event.set_confirmed_count(event.confirmed_count() + 1);
    } else {
      event.set_waitlisted_count(event.waitlisted_count() + 1);
    }
    SMZ_RETURN_IF_ERROR(SaveCounts(session, event, arrival + 1));
    // The arrival, not the id: (event, arrival) is unique, and
    // asking for LAST_INSERT_ID() would hold the event's lock one
    // more round trip.
    SMZ_RETURN_IF_ERROR(
        RecordRequest(session, key, arrival, /*response=*/"", now));

    // Answered from what this transaction knows: the waiting position
    // of the newest registration is the length of the line.
    Registration* out = &response.registration;
    *out = stored;
    out->set_arrival(arrival);
    out->set_state(seat ? v1::CONFIRMED : v1::WAITLISTED);
    *out->mutable_create_time() = FromMicros(now_us);
    if (seat) {
      *out->mutable_confirm_time() = FromMicros(now_us);
    } else {
      out->set_waitlist_position(event.waitlisted_count());
    }
    if (hold != nullptr) {
      // Held: the mail asks the address's owner to confirm.
      *out->mutable_hold_until() = ToTimestamp(hold->hold_until);
      SMZ_RETURN_IF_ERROR(
          QueueRegistrationMail(session, event, *out,
                                RegistrationMail::kConfirmSignUp, now, *random_,
                                absl::InfinitePast(), hold->link)
              .status());
    } else {
      SMZ_RETURN_IF_ERROR(QueueRegistrationMail(session, event, *out,
                                                RegistrationMail::kReceived,
                                                now, *random_)
                              .status());
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
    SMZ_ASSIGN_OR_RETURN(
        std::vector<Row> id,
        session.Query(
            "SELECT id FROM registrations WHERE event_id = ? AND arrival = ?",
            {SqlInt(input.event_id()),
             SqlInt(registered->registration.arrival())}));
    if (id.empty()) return absl::DataLossError("registration missing");
    registered->registration.set_id(id.front().Int(0));
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
      v1::Warning* w = &registered->warnings.emplace_back();
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
        SMZ_ASSIGN_OR_RETURN(
            std::vector<Row> rows,
            session.Query(
                absl::StrCat("SELECT ", kRegistrationColumns,
                             " FROM registrations r ", where,
                             " ORDER BY r.event_id, r.arrival LIMIT ?"),
                params));
        std::vector<Registration> out;
        for (const Row& row : rows) {
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
  return ChangeRegistration(
      *database_, id, "CANCEL", actor, now,
      [&](Session& session, LockedRegistration& locked) -> absl::Status {
        Event& event = locked.event;
        const int state = locked.state;
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
        if (locked.attendance != v1::ATTENDANCE_UNSPECIFIED) {
          return absl::FailedPreconditionError(absl::StrCat(
              "registration ", id, " already has its attendance recorded (",
              v1::Attendance_Name(
                  static_cast<v1::Attendance>(locked.attendance)),
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
            ", active_person_key = NULL, hold_until_us = NULL, cancel_us = ? "
            "WHERE id = ?",
            {SqlInt(absl::ToUnixMicros(now)), SqlInt(id)});
        if (!changed.ok()) return changed.status();
        if (state == kConfirmed) {
          event.set_confirmed_count(event.confirmed_count() - 1);
        } else {
          event.set_waitlisted_count(event.waitlisted_count() - 1);
        }
        SMZ_ASSIGN_OR_RETURN(Registration cancelled,
                             LoadRegistration(session, id));
        SMZ_RETURN_IF_ERROR(QueueRegistrationMail(session, event, cancelled,
                                                  RegistrationMail::kCancelled,
                                                  now, *random_)
                                .status());
        return PromoteWaitlisted(session, &event, now, *random_);
      });
}

// Long by design: one transaction under both events' row locks (the
// checks on each side, the row moved, both events' counts, the waiting list
// moved up, the mail, the audit entry).
absl::StatusOr<Registration> EventsStore::MoveRegistration(
    int64_t id, int64_t to_event_id, const std::string& actor) {
  const absl::Time now = clock_->Now();
  return database_->TransactFor<
      Registration>([&](Session& session) -> absl::StatusOr<Registration> {
    SMZ_ASSIGN_OR_RETURN(
        std::vector<Row> owner,
        session.Query("SELECT event_id FROM registrations WHERE id = ?",
                      {SqlInt(id)}));
    if (owner.empty()) {
      return absl::NotFoundError(
          absl::StrCat("id: registration ", id, " not found"));
    }
    const int64_t from_event_id = owner.front().Int(0);
    // Already there: a retry of a move that was answered (or lost).
    if (from_event_id == to_event_id) return LoadRegistration(session, id);
    // In id order, so two moves in opposite directions cannot deadlock;
    // each before the registration's row, as Register and
    // LockRegistration lock them.
    absl::StatusOr<LockedEvent> from;
    absl::StatusOr<LockedEvent> to;
    for (const int64_t event_id : {std::min(from_event_id, to_event_id),
                                   std::max(from_event_id, to_event_id)}) {
      absl::StatusOr<LockedEvent> locked = LockEvent(session, event_id);
      if (!locked.ok() && !absl::IsNotFound(locked.status())) {
        return locked.status();
      }
      (event_id == from_event_id ? from : to) = std::move(locked);
    }
    if (absl::IsNotFound(to.status())) {
      return absl::NotFoundError(
          absl::StrCat("event_id: no event ", to_event_id));
    }
    if (!from.ok()) return from.status();
    SMZ_ASSIGN_OR_RETURN(
        std::vector<Row> row,
        session.Query("SELECT event_id, state, attendance, hold_until_us, "
                      "arrival, body FROM registrations WHERE id = ? FOR "
                      "UPDATE",
                      {SqlInt(id)}));
    if (row.empty() || row.front().Int(0) != from_event_id) {
      // Moved by someone else between the first read and the lock: the
      // transaction runs again from a fresh read.
      return RetryableAbort(absl::StrCat(
          "registration ", id, " moved to another event meanwhile; try again"));
    }
    const int state = static_cast<int>(row.front().Int(1));
    const int attendance = static_cast<int>(row.front().Int(2));
    const bool held = !row.front().IsNull(3);
    const int64_t old_arrival = row.front().Int(4);
    Event& source = from->event;
    Event& target = to->event;
    if (state != kConfirmed && state != kWaitlisted) {
      return absl::FailedPreconditionError(absl::StrCat(
          "registration ", id, " is ",
          v1::RegistrationState_Name(static_cast<v1::RegistrationState>(state)),
          "; only CONFIRMED and WAITLISTED registrations move"));
    }
    if (held) {
      return absl::FailedPreconditionError(absl::StrCat(
          "registration ", id,
          " is a public sign-up its owner has not confirmed yet; it moves "
          "once confirmed"));
    }
    if (attendance != v1::ATTENDANCE_UNSPECIFIED) {
      return absl::FailedPreconditionError(absl::StrCat(
          "registration ", id, " already has its attendance recorded at event ",
          source.id()));
    }
    if (now >= ToTime(source.start_time())) {
      return absl::FailedPreconditionError(absl::StrCat(
          "event ", source.id(), " has started (", source.local_start(), " ",
          source.time_zone(), "); its registrations stay"));
    }
    if (target.state() != v1::PUBLISHED && target.state() != v1::POSTPONED) {
      return absl::FailedPreconditionError(absl::StrCat(
          "event_id: event ", target.id(), " is ", StateName(target.state()),
          "; people move only to a PUBLISHED or POSTPONED event"));
    }
    if (now >= ToTime(target.start_time())) {
      return absl::FailedPreconditionError(
          absl::StrCat("event_id: event ", target.id(), " has started (",
                       target.local_start(), " ", target.time_zone(), ")"));
    }
    if (target.capacity() > 0 &&
        target.confirmed_count() >= target.capacity()) {
      return absl::FailedPreconditionError(absl::StrCat(
          "event_id: event ", target.id(), " is full (",
          target.confirmed_count(), " of ", target.capacity(), " seats taken, ",
          target.waitlisted_count(), " waiting)"));
    }
    // The definition as stored, with the sessions of the old event dropped.
    Registration body;
    if (!body.ParseFromString(row.front().Text(5))) {
      return absl::DataLossError(absl::StrCat(
          "registration ", id, ": stored registration unreadable"));
    }
    // Audited from the locked row: a plain read would see the snapshot the
    // first read fixed, before the locks.
    Registration before = body;
    before.set_id(id);
    before.set_event_id(source.id());
    before.set_arrival(old_arrival);
    before.set_state(static_cast<v1::RegistrationState>(state));
    body.clear_session_ids();
    body.set_event_id(target.id());
    const int64_t now_us = absl::ToUnixMicros(now);
    const int64_t arrival = to->next_arrival;
    absl::StatusOr<int64_t> moved = session.Execute(
        "UPDATE registrations SET event_id = ?, arrival = ?, state "
        "= " CONFIRMED_SQL ", confirm_us = ?, body = ? WHERE id = ?",
        {SqlInt(target.id()), SqlInt(arrival), SqlInt(now_us),
         body.SerializeAsString(), SqlInt(id)});
    if (absl::IsAlreadyExists(moved.status())) {
      SMZ_ASSIGN_OR_RETURN(
          std::vector<Row> twin,
          session.Query("SELECT id, state FROM registrations WHERE event_id "
                        "= ? AND active_person_key = (SELECT "
                        "active_person_key FROM registrations WHERE id = ?)",
                        {SqlInt(target.id()), SqlInt(id)}));
      return absl::AlreadyExistsError(absl::StrCat(
          "event_id: this person is already registered for event ", target.id(),
          twin.empty()
              ? ""
              : absl::StrCat(" (registration ", twin.front().Int(0), ", ",
                             v1::RegistrationState_Name(
                                 static_cast<v1::RegistrationState>(
                                     twin.front().Int(1))),
                             ")")));
    }
    if (!moved.ok()) return moved.status();
    // The old event's code opens no door any more.
    SMZ_RETURN_IF_ERROR(
        session
            .Execute("DELETE FROM check_in_codes WHERE event_id = ? AND "
                     "arrival = ?",
                     {SqlInt(source.id()), SqlInt(old_arrival)})
            .status());
    // The person's mail is keyed by (event, arrival) (event_mail.h): what
    // still waits about the old event is not sent (a reminder of it would
    // be wrong now), and what was sent follows the registration under the
    // new key's prefix, where erasing the person's data finds it
    // (ErasePersonalData); by its row id, so that no key of the new
    // event's mail can collide with it.
    const std::string old_keys =
        absl::StrCat("registration.", source.id(), ".", old_arrival, ".%");
    SMZ_RETURN_IF_ERROR(
        session
            .Execute(
                "DELETE FROM mail_outbox WHERE dedupe_key LIKE ? AND state = ?",
                {old_keys, SqlInt(static_cast<int>(OutboxState::kPending))})
            .status());
    SMZ_RETURN_IF_ERROR(
        session
            .Execute("UPDATE mail_outbox SET dedupe_key = CONCAT(?, id) WHERE "
                     "dedupe_key LIKE ?",
                     {absl::StrCat("registration.", target.id(), ".", arrival,
                                   ".was."),
                      old_keys})
            .status());
    if (state == kConfirmed) {
      source.set_confirmed_count(source.confirmed_count() - 1);
    } else {
      source.set_waitlisted_count(source.waitlisted_count() - 1);
    }
    target.set_confirmed_count(target.confirmed_count() + 1);
    SMZ_RETURN_IF_ERROR(PromoteWaitlisted(session, &source, now, *random_));
    SMZ_RETURN_IF_ERROR(SaveCounts(session, source, from->next_arrival));
    SMZ_RETURN_IF_ERROR(SaveCounts(session, target, arrival + 1));
    SMZ_ASSIGN_OR_RETURN(Registration after, LoadRegistration(session, id));
    SMZ_RETURN_IF_ERROR(
        QueueRegistrationMail(session, target, after,
                              RegistrationMail::kMovedToOtherEvent, now,
                              *random_, absl::InfinitePast(), "", &source)
            .status());
    SMZ_RETURN_IF_ERROR(AppendAudit(
        session, AuditEntry{"registration",
                            id,
                            "MOVE",
                            actor,
                            now,
                            before.SerializeAsString(),
                            after.SerializeAsString(),
                            {"event_id", "arrival", "state", "session_ids"}}));
    return after;
  });
}

absl::StatusOr<Registration> EventsStore::RecordAttendance(
    int64_t id, v1::Attendance attendance, const std::string& actor,
    v1::Attendance* previous_out, int64_t at_event_id) {
  const absl::Time now = clock_->Now();
  return ChangeRegistration(
      *database_, id, v1::Attendance_Name(attendance), actor, now,
      [&](Session& session, LockedRegistration& locked) -> absl::Status {
        Event& event = locked.event;
        // Moved to another event since its code was looked up: that code
        // was deleted with the move.
        if (at_event_id > 0 && event.id() != at_event_id) {
          return absl::NotFoundError(
              "code: no registration has this check-in code; check it was "
              "typed as the mail shows it");
        }
        const int state = locked.state;
        const int previous = locked.attendance;
        if (previous_out != nullptr) {
          *previous_out = static_cast<v1::Attendance>(previous);
        }
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
        return absl::OkStatus();
      });
}

absl::StatusOr<v1::CheckInResponse> EventsStore::CheckIn(
    int64_t event_id, const std::string& code_key, const std::string& actor) {
  // The door's own event first: a wrong one is said as such, before
  // anything about the code.
  absl::StatusOr<Event> door = GetEvent(event_id);
  if (absl::IsNotFound(door.status())) {
    return absl::NotFoundError(absl::StrCat("event_id: no event ", event_id));
  }
  if (!door.ok()) return door.status();
  // A code is for the day: once the event is well over it checks nobody
  // in (attendance is corrected by hand, RecordAttendance).
  if (clock_->Now() > ToTime(door->end_time()) + kCheckInAfterEnd) {
    return absl::FailedPreconditionError(absl::StrCat(
        "event ", event_id,
        " ended more than 12 hours ago: check-in codes no longer work; "
        "record attendance by hand"));
  }
  SMZ_ASSIGN_OR_RETURN(
      std::vector<Row> found,
      database_->RunFor<std::vector<Row>>([&](Session& session) {
        return session.Query(
            "SELECT c.event_id, r.id FROM check_in_codes c JOIN "
            "registrations r ON r.event_id = c.event_id AND r.arrival = "
            "c.arrival WHERE c.code_hash = ?",
            {code_key});
      }));
  if (found.empty()) {
    return absl::NotFoundError(
        "code: no registration has this check-in code; check it was typed "
        "as the mail shows it");
  }
  const int64_t code_event = found.front().Int(0);
  if (code_event != event_id) {
    // Said plainly: the person may be at the wrong door.
    absl::StatusOr<Event> other = GetEvent(code_event);
    return absl::FailedPreconditionError(absl::StrCat(
        "code: this code is for another event (", code_event,
        other.ok() ? absl::StrCat(": ", PrimaryText(other->title()), ", ",
                                  absl::FormatTime("%Y-%m-%d %H:%M",
                                                   ToTime(other->start_time()),
                                                   absl::UTCTimeZone()),
                                  " UTC")
                   : "",
        ")"));
  }
  v1::Attendance previous = v1::ATTENDANCE_UNSPECIFIED;
  SMZ_ASSIGN_OR_RETURN(Registration registration,
                       RecordAttendance(found.front().Int(1), v1::ATTENDED,
                                        actor, &previous, event_id));
  v1::CheckInResponse response;
  *response.mutable_registration() = std::move(registration);
  response.set_already_checked_in(previous == v1::ATTENDED);
  return response;
}

}  // namespace smz::events
