#include <algorithm>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/aip/status_macros.h"
#include "common/auth/token.h"
#include "common/logging.h"
#include "common/mysql/audit.h"
#include "services/events/event_mail.h"
#include "services/events/events_store.h"
#include "services/events/events_store_rows.h"

// The public's side of the events store: events open to the public, the
// sign-up limits, and sign-ups confirmed, cancelled, erased or lapsed by
// the token of the link the person was mailed. Sign-ups themselves are
// registrations (Register, with a SignUpHold).
namespace smz::events {
namespace {

constexpr absl::Duration kQuotaWindow = absl::Hours(1);

struct LockedSignUp {
  int64_t id = 0;
  LockedRegistration row;
  bool held = false;  // not confirmed yet
  absl::Time hold_until = absl::InfinitePast();
};

// Whether registration `id` is still held, read under its lock: the
// transaction's snapshot was fixed before the lock was granted, so a plain
// read could miss a confirmation committed meanwhile.
absl::StatusOr<std::optional<absl::Time>> HeldUnderLock(Session& session,
                                                        int64_t id) {
  SMZ_ASSIGN_OR_RETURN(
      std::vector<Row> rows,
      session.Query(
          "SELECT hold_until_us FROM registrations WHERE id = ? FOR UPDATE",
          {SqlInt(id)}));
  if (rows.empty() || rows.front().IsNull(0)) return std::nullopt;
  return absl::FromUnixMicros(rows.front().Int(0));
}

// The registration with this token hash, locked after its event (the order
// Register locks them in).
absl::StatusOr<LockedSignUp> LockSignUp(Session& session,
                                        absl::string_view token_hash) {
  SMZ_ASSIGN_OR_RETURN(
      std::vector<Row> rows,
      session.Query("SELECT id FROM registrations WHERE visitor_token_hash = ?",
                    {std::string(token_hash)}));
  if (rows.empty()) {
    return absl::NotFoundError(
        "token: no sign-up has this link (it was erased, or the link is "
        "incomplete)");
  }
  const int64_t id = rows.front().Int(0);
  SMZ_ASSIGN_OR_RETURN(LockedRegistration row, LockRegistration(session, id));
  SMZ_ASSIGN_OR_RETURN(const std::optional<absl::Time> held,
                       HeldUnderLock(session, id));
  return LockedSignUp{id, std::move(row), held.has_value(),
                      held.value_or(absl::InfinitePast())};
}

// The registration as it is after a change, audited as `action` by `actor`.
absl::StatusOr<Registration> AuditedSignUp(Session& session, int64_t id,
                                           absl::string_view action,
                                           absl::Time now,
                                           absl::string_view actor = "public") {
  SMZ_ASSIGN_OR_RETURN(Registration after, LoadRegistration(session, id));
  SMZ_RETURN_IF_ERROR(AppendAudit(session, AuditEntry{"registration",
                                                      id,
                                                      std::string(action),
                                                      std::string(actor),
                                                      now,
                                                      "",
                                                      after.SerializeAsString(),
                                                      {}}));
  return after;
}

// Erases what identifies the person of registration `id` (the row stays, so
// the event's counts and arrival order stay true; country and languages
// stay for the statistics), from its audit entries too, and forgets its
// link.
absl::Status ErasePersonalData(Session& session, int64_t id, absl::Time now) {
  SMZ_ASSIGN_OR_RETURN(Registration body, LoadRegistration(session, id));
  // The person's mail: what waits is not sent, what was sent keeps no
  // address, name or text.
  const std::string mail_keys =
      absl::StrCat("registration.", body.event_id(), ".", body.arrival(), ".%");
  SMZ_RETURN_IF_ERROR(
      session
          .Execute("DELETE FROM mail_outbox WHERE dedupe_key LIKE ? AND "
                   "state = ?",
                   {mail_keys, SqlInt(static_cast<int>(OutboxState::kPending))})
          .status());
  SMZ_RETURN_IF_ERROR(
      session
          .Execute("UPDATE mail_outbox SET recipient = '', recipient_name = "
                   "'', subject = '', text_body = '', html_body = '', qr_code "
                   "= '' WHERE dedupe_key LIKE ?",
                   {mail_keys})
          .status());
  // Its check-in codes check nobody in any more.
  SMZ_RETURN_IF_ERROR(
      session
          .Execute("DELETE FROM check_in_codes WHERE event_id = ? AND "
                   "arrival = ?",
                   {SqlInt(body.event_id()), SqlInt(body.arrival())})
          .status());
  Registration kept;
  kept.set_event_id(body.event_id());
  kept.set_partner_id(body.partner_id());
  kept.set_country(body.country());
  *kept.mutable_languages() = body.languages();
  *kept.mutable_session_ids() = body.session_ids();
  kept.set_public_sign_up(body.public_sign_up());
  SMZ_RETURN_IF_ERROR(
      session
          .Execute("UPDATE registrations SET body = ?, person_key = ?, "
                   "active_person_key = IF(active_person_key IS NULL, NULL, "
                   "?), visitor_token_hash = NULL, erased_us = ? WHERE id = ?",
                   {kept.SerializeAsString(),
                    HashToken(absl::StrCat("erased\n", id)),
                    HashToken(absl::StrCat("erased\n", id)),
                    SqlInt(absl::ToUnixMicros(now)), SqlInt(id)})
          .status());
  return session
      .Execute(
          "UPDATE audit_events SET before_value = NULL, after_value = "
          "NULL WHERE entity = 'registration' AND entity_id = ?",
          {SqlInt(id)})
      .status();
}

// Ends a live registration as `state_sql` (CANCELLED_BY_REGISTRANT or
// LAPSED): the person key freed, the counts and the waiting list moved.
absl::Status EndLive(Session& session, LockedRegistration& locked, int64_t id,
                     const char* state_sql, absl::Time now,
                     RandomSource& random) {
  SMZ_RETURN_IF_ERROR(
      session
          .Execute(absl::StrCat("UPDATE registrations SET state = ", state_sql,
                                ", active_person_key = NULL, cancel_us = ?, "
                                "hold_until_us = NULL WHERE id = ?"),
                   {SqlInt(absl::ToUnixMicros(now)), SqlInt(id)})
          .status());
  Event& event = locked.event;
  if (locked.state == kConfirmed) {
    event.set_confirmed_count(event.confirmed_count() - 1);
  } else {
    event.set_waitlisted_count(event.waitlisted_count() - 1);
  }
  // Once the event has begun a freed seat would reach nobody in time.
  if (now >= ToTime(event.start_time())) return absl::OkStatus();
  return PromoteWaitlisted(session, &event, now, random);
}

}  // namespace

absl::StatusOr<std::vector<Event>> EventsStore::ListPublicEvents(
    absl::Time now, PageCursor after, int limit) {
  std::string where =
      "WHERE e.open_to_public = 1 AND e.state IN " UPCOMING_EVENT_SQL
      " AND e.end_us > ?";
  std::vector<SqlValue> params = {SqlInt(absl::ToUnixMicros(now))};
  if (after.has_position) {
    int64_t start_us = 0;
    if (!absl::SimpleAtoi(after.last_key, &start_us)) {
      return InvalidField("page_token", "is not a token this service issued");
    }
    absl::StrAppend(&where,
                    " AND (e.start_us > ? OR (e.start_us = ? AND e.id > ?))");
    params.push_back(SqlInt(start_us));
    params.push_back(SqlInt(start_us));
    params.push_back(SqlInt(after.last_id));
  }
  params.push_back(SqlInt(limit));
  return database_->RunFor<std::vector<Event>>(
      [&](Session& session) -> absl::StatusOr<std::vector<Event>> {
        SMZ_ASSIGN_OR_RETURN(std::vector<Event> events,
                             QueryEventsByStart(session, where, params));
        for (Event& event : events) Derive(&event);
        return events;
      });
}

absl::Status EventsStore::ChargeSignUp(
    const std::vector<SignUpCharge>& charges) {
  const absl::Time now = clock_->Now();
  const int64_t window_us = absl::ToUnixMicros(absl::FromUnixSeconds(
      absl::ToUnixSeconds(now) -
      absl::ToUnixSeconds(now) % absl::ToInt64Seconds(kQuotaWindow)));
  // In one order, so that two sign-ups charging the same rows cannot
  // deadlock.
  std::vector<std::pair<std::string, const SignUpCharge*>> rows;
  for (const SignUpCharge& charge : charges) {
    rows.push_back({HashToken(charge.subject), &charge});
  }
  std::sort(rows.begin(), rows.end());
  return database_->Transact([&](Session& session) -> absl::Status {
    for (const auto& [subject, charge] : rows) {
      SMZ_RETURN_IF_ERROR(
          session
              .Execute("INSERT INTO signup_quota (subject, window_us, count) "
                       "VALUES (?, ?, 1) ON DUPLICATE KEY UPDATE count = "
                       "count + 1",
                       {subject, SqlInt(window_us)})
              .status());
      SMZ_ASSIGN_OR_RETURN(
          std::vector<Row> count,
          session.Query("SELECT count FROM signup_quota WHERE subject = ? AND "
                        "window_us = ?",
                        {subject, SqlInt(window_us)}));
      if (!count.empty() && count.front().Int(0) > charge->limit) {
        const absl::Time next = absl::FromUnixMicros(window_us) + kQuotaWindow;
        return absl::ResourceExhaustedError(absl::StrCat(
            "too many sign-ups ", charge->what, " this hour; try again in ",
            std::max<int64_t>(
                1, absl::ToInt64Minutes(next - now + absl::Seconds(59))),
            " minutes"));
      }
    }
    return absl::OkStatus();
  });
}

absl::StatusOr<Registration> EventsStore::SignUpByToken(
    absl::string_view token_hash) {
  return database_->RunFor<Registration>(
      [&](Session& session) -> absl::StatusOr<Registration> {
        SMZ_ASSIGN_OR_RETURN(
            std::vector<Row> rows,
            session.Query(
                "SELECT id FROM registrations WHERE visitor_token_hash = ?",
                {std::string(token_hash)}));
        if (rows.empty()) {
          return absl::NotFoundError(
              "token: no sign-up has this link (it was erased, or the link "
              "is incomplete)");
        }
        return LoadRegistration(session, rows.front().Int(0));
      });
}

absl::StatusOr<Registration> EventsStore::ConfirmSignUp(
    absl::string_view token_hash, absl::string_view link) {
  const absl::Time now = clock_->Now();
  return database_->TransactFor<Registration>(
      [&](Session& session) -> absl::StatusOr<Registration> {
        SMZ_ASSIGN_OR_RETURN(LockedSignUp locked,
                             LockSignUp(session, token_hash));
        SMZ_ASSIGN_OR_RETURN(Registration current,
                             LoadRegistration(session, locked.id));
        if (locked.row.state != kConfirmed && locked.row.state != kWaitlisted) {
          return absl::FailedPreconditionError(
              current.state() == v1::LAPSED
                  ? "token: this sign-up was not confirmed in time and its "
                    "place went to others; sign up again"
                  : "token: this sign-up was cancelled");
        }
        if (!locked.held) return current;  // confirmed before
        // Past its time, the place is the next person's (the sweep gives it
        // within a minute).
        if (now > locked.hold_until) {
          return absl::FailedPreconditionError(
              "token: this sign-up was not confirmed in time and its place "
              "goes to others; sign up again");
        }
        SMZ_RETURN_IF_ERROR(
            session
                .Execute("UPDATE registrations SET hold_until_us = NULL WHERE "
                         "id = ?",
                         {SqlInt(locked.id)})
                .status());
        SMZ_ASSIGN_OR_RETURN(Registration confirmed,
                             AuditedSignUp(session, locked.id, "CONFIRM", now));
        SMZ_RETURN_IF_ERROR(
            QueueRegistrationMail(session, locked.row.event, confirmed,
                                  RegistrationMail::kReceived, now, *random_,
                                  absl::InfinitePast(), link)
                .status());
        return confirmed;
      });
}

absl::StatusOr<Registration> EventsStore::CancelSignUp(
    absl::string_view token_hash, bool erase) {
  const absl::Time now = clock_->Now();
  return database_->TransactFor<Registration>(
      [&](Session& session) -> absl::StatusOr<Registration> {
        SMZ_ASSIGN_OR_RETURN(LockedSignUp locked,
                             LockSignUp(session, token_hash));
        const bool live =
            locked.row.state == kConfirmed || locked.row.state == kWaitlisted;
        const bool begun = now >= ToTime(locked.row.event.start_time());
        if (live && begun && !erase) {
          return absl::FailedPreconditionError(
              "the event has begun; a sign-up can no longer be cancelled "
              "(its data can still be erased)");
        }
        // Once the event has begun the place stays as it was (its seat
        // would reach nobody in time); erasing is always possible.
        if (live && !begun) {
          SMZ_RETURN_IF_ERROR(EndLive(session, locked.row, locked.id,
                                      CANCELLED_BY_REGISTRANT_SQL, now,
                                      *random_));
          if (!erase && !locked.held) {
            SMZ_ASSIGN_OR_RETURN(Registration cancelled,
                                 LoadRegistration(session, locked.id));
            SMZ_RETURN_IF_ERROR(QueueRegistrationMail(
                                    session, locked.row.event, cancelled,
                                    RegistrationMail::kCancelled, now, *random_)
                                    .status());
          }
          SMZ_RETURN_IF_ERROR(
              SaveCounts(session, locked.row.event, locked.row.next_arrival));
        } else if (!live && !erase) {
          return absl::FailedPreconditionError(
              "token: this sign-up is no longer live (cancelled or not "
              "confirmed in time)");
        }
        if (erase) {
          SMZ_RETURN_IF_ERROR(ErasePersonalData(session, locked.id, now));
        }
        return AuditedSignUp(session, locked.id, erase ? "ERASE" : "CANCEL",
                             now);
      });
}

absl::StatusOr<int> EventsStore::LapseUnconfirmedSignUps() {
  const absl::Time now = clock_->Now();
  const int64_t now_us = absl::ToUnixMicros(now);
  SMZ_ASSIGN_OR_RETURN(
      std::vector<Row> due,
      database_->RunFor<std::vector<Row>>([&](Session& session) {
        return session.Query(
            "SELECT id FROM registrations WHERE hold_until_us < ? AND state "
            "IN " LIVE_REGISTRATION_SQL " ORDER BY hold_until_us LIMIT 500",
            {SqlInt(now_us)});
      }));
  int lapsed = 0;
  // One transaction each, under its event's lock; one confirmed meanwhile
  // is left alone.
  for (const Row& row : due) {
    const int64_t id = row.Int(0);
    absl::Status one = database_->Transact([&](Session& session) {
      SMZ_ASSIGN_OR_RETURN(LockedRegistration locked,
                           LockRegistration(session, id));
      SMZ_ASSIGN_OR_RETURN(
          std::vector<Row> hold,
          session.Query("SELECT hold_until_us FROM registrations WHERE id = ? "
                        "FOR UPDATE",
                        {SqlInt(id)}));
      if (hold.empty() || hold.front().IsNull(0) ||
          hold.front().Int(0) >= now_us ||
          (locked.state != kConfirmed && locked.state != kWaitlisted)) {
        return absl::OkStatus();
      }
      SMZ_RETURN_IF_ERROR(
          EndLive(session, locked, id, LAPSED_SQL, now, *random_));
      SMZ_RETURN_IF_ERROR(
          SaveCounts(session, locked.event, locked.next_arrival));
      SMZ_RETURN_IF_ERROR(AuditedSignUp(session, id, "LAPSE", now).status());
      ++lapsed;
      return absl::OkStatus();
    });
    if (!one.ok()) {
      Log(LogLevel::kWarning, "sign-up not lapsed",
          {{"registration_id", absl::StrCat(id)}, {"error", one.message()}});
      if (absl::IsUnavailable(one)) return one;
    }
  }
  SMZ_RETURN_IF_ERROR(database_->Run([&](Session& session) {
    return session
        .Execute("DELETE FROM signup_quota WHERE window_us < ?",
                 {SqlInt(now_us - absl::ToInt64Microseconds(absl::Hours(24)))})
        .status();
  }));
  return lapsed;
}

absl::StatusOr<int> EventsStore::EraseExpiredRegistrations(
    absl::Time ended_before) {
  const absl::Time now = clock_->Now();
  SMZ_ASSIGN_OR_RETURN(
      std::vector<Row> due,
      database_->RunFor<std::vector<Row>>([&](Session& session) {
        return session.Query(
            "SELECT r.id FROM registrations r JOIN events e ON e.id = "
            "r.event_id WHERE r.erased_us IS NULL AND r.partner_id = 0 AND "
            "e.end_us < ? ORDER BY r.id LIMIT 500",
            {SqlInt(absl::ToUnixMicros(ended_before))});
      }));
  int erased = 0;
  for (const Row& row : due) {
    const int64_t id = row.Int(0);
    const absl::Status one = database_->Transact([&](Session& session) {
      SMZ_RETURN_IF_ERROR(ErasePersonalData(session, id, now));
      return AuditedSignUp(session, id, "ERASE", now, "retention").status();
    });
    // One that cannot be erased (logged) holds up none of the others; an
    // outage ends the pass.
    if (!one.ok()) {
      Log(LogLevel::kWarning, "registration not erased",
          {{"registration_id", absl::StrCat(id)}, {"error", one.message()}});
      if (absl::IsUnavailable(one)) return one;
      continue;
    }
    ++erased;
  }
  return erased;
}

}  // namespace smz::events
