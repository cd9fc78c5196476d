#include "common/mail/outbox.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "common/aip/status_macros.h"
#include "common/logging.h"
#include "common/mail/mail_message.h"
#include "common/text_checks.h"

namespace smz {
namespace {

constexpr int kMaxErrorBytes = 1000;
// A page of smz.mail.v1 (at most 200) and the row that says more follow.
constexpr int kMaxListLimit = 201;

int64_t Micros(absl::Time t) {
  if (t == absl::InfinitePast()) return 0;
  return absl::ToUnixMicros(t);
}

// The relay's text, cut at a character boundary to fit the column; bytes
// that are not UTF-8 (a relay's own) become '?', as the column needs.
std::string ErrorText(const absl::Status& status) {
  std::string text = absl::StrCat(absl::StatusCodeToString(status.code()), ": ",
                                  status.message());
  if (!IsValidUtf8(text)) {
    for (char& c : text) {
      if (static_cast<unsigned char>(c) >= 0x80) c = '?';
    }
  }
  if (text.size() <= kMaxErrorBytes) return text;
  size_t cut = kMaxErrorBytes;
  while (cut > 0 && (static_cast<unsigned char>(text[cut]) & 0xC0) == 0x80) {
    --cut;
  }
  text.resize(cut);
  return text;
}

std::string Placeholders(size_t n) {
  std::string out = "(";
  for (size_t i = 0; i < n; ++i) absl::StrAppend(&out, i == 0 ? "?" : ", ?");
  out += ")";
  return out;
}

}  // namespace

// Column erase_when_sent holds a MailSecret.
constexpr int kKeep = static_cast<int>(MailSecret::kNone);
constexpr int kEraseOnFailure =
    static_cast<int>(MailSecret::kErasedWhenSentOrFailed);

absl::StatusOr<bool> EnqueueMail(Session& session, const OutgoingMail& mail,
                                 absl::Time now) {
  // The worker adds the sender and Message-ID; what the change supplies
  // must already be sendable.
  MailMessage probe;
  probe.from = "outbox@smz.example";
  probe.to = mail.recipient;
  probe.subject = mail.subject;
  probe.text = mail.text;
  probe.html = mail.html;
  probe.qr_code = mail.qr_code;
  probe.message_id = "0.outbox@smz.example";
  probe.language = mail.language;
  SMZ_RETURN_IF_ERROR(ValidateMail(probe));
  if (mail.dedupe_key.empty() || mail.dedupe_key.size() > 190 ||
      mail.topic.empty() || mail.topic.size() > 60 ||
      mail.recipient_name.size() > 200) {
    return absl::InternalError(
        absl::StrCat("outbox: bad key, topic or name for ", mail.topic));
  }
  // A second message under one key is no error: the first one stands.
  SMZ_ASSIGN_OR_RETURN(
      const int64_t inserted,
      session.Execute(
          "INSERT INTO mail_outbox (dedupe_key, topic, recipient, "
          "recipient_name, language, subject, text_body, html_body, state, "
          "next_attempt_us, create_us, erase_when_sent, qr_code) VALUES (?, ?, "
          "?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON DUPLICATE KEY UPDATE id = id",
          {mail.dedupe_key, mail.topic, mail.recipient, mail.recipient_name,
           mail.language, mail.subject, mail.text, mail.html,
           SqlInt(static_cast<int>(OutboxState::kPending)),
           SqlInt(Micros(std::max(mail.not_before, now))), SqlInt(Micros(now)),
           SqlInt(static_cast<int>(mail.secret)), mail.qr_code}));
  return inserted == 1;
}

absl::StatusOr<int> EnqueueAll(Database& database,
                               const std::vector<OutgoingMail>& mail,
                               absl::Time now) {
  return database.TransactFor<int>(
      [&](Session& session) -> absl::StatusOr<int> {
        int queued = 0;
        for (const OutgoingMail& one : mail) {
          absl::StatusOr<bool> added = EnqueueMail(session, one, now);
          if (absl::IsInvalidArgument(added.status())) {
            Log(LogLevel::kWarning, "mail not written",
                {{"topic", one.topic}, {"error", added.status().message()}});
            continue;
          }
          if (!added.ok()) return added.status();
          if (*added) ++queued;
        }
        return queued;
      });
}

Outbox::Outbox(Database* database, MailSender* sender, const Clock* clock,
               OutboxOptions options)
    : database_(database),
      sender_(sender),
      clock_(clock),
      options_(std::move(options)) {}

std::string Outbox::MessageIdOf(int64_t id) const {
  return absl::StrCat(id, ".", options_.service, "@", options_.message_domain);
}

absl::Duration Outbox::BackoffAfter(int attempts) const {
  absl::Duration wait = options_.first_backoff;
  for (int i = 1; i < attempts && wait < options_.max_backoff; ++i) wait *= 2;
  return std::min(wait, options_.max_backoff);
}

// Long by design: claim, send each, record each; the three steps share the
// claimed rows.
absl::StatusOr<DeliveryPass> Outbox::DeliverDue() {
  DeliveryPass pass;
  if (sender_ == nullptr) return pass;
  const absl::Time now = clock_->Now();
  // Claim: a short transaction of its own, so the lease is visible to every
  // other worker before anything is sent. SKIP LOCKED lets two workers
  // claim different messages instead of queueing behind each other.
  std::vector<Row> claimed;
  SMZ_RETURN_IF_ERROR(database_->Transact([&](Session& session) {
    claimed.clear();
    SMZ_ASSIGN_OR_RETURN(
        std::vector<Row> due,
        session.Query(
            "SELECT id FROM mail_outbox WHERE state = ? AND "
            "next_attempt_us <= ? ORDER BY next_attempt_us, id LIMIT ? "
            "FOR UPDATE SKIP LOCKED",
            {SqlInt(static_cast<int>(OutboxState::kPending)),
             SqlInt(Micros(now)), SqlInt(options_.batch)}));
    if (due.empty()) return absl::OkStatus();
    std::vector<SqlValue> params = {SqlInt(Micros(now + options_.lease)),
                                    options_.worker_id};
    for (const Row& row : due) params.push_back(SqlInt(row.Int(0)));
    const std::string in = Placeholders(due.size());
    SMZ_RETURN_IF_ERROR(
        session
            .Execute(absl::StrCat("UPDATE mail_outbox SET next_attempt_us = ?, "
                                  "lease_owner = ?, attempts = attempts + 1 "
                                  "WHERE id IN ",
                                  in),
                     params)
            .status());
    params.erase(params.begin(), params.begin() + 2);
    SMZ_ASSIGN_OR_RETURN(
        claimed,
        session.Query(
            absl::StrCat(
                "SELECT id, recipient, recipient_name, language, "
                "subject, text_body, html_body, attempts, qr_code FROM "
                "mail_outbox WHERE id IN ",
                in, " ORDER BY id"),
            params));
    return absl::OkStatus();
  }));

  for (const Row& row : claimed) {
    const int64_t id = row.Int(0);
    MailMessage mail;
    mail.from = options_.from;
    mail.from_name = options_.from_name;
    mail.to = row.Text(1);
    mail.language = row.Text(3);
    mail.subject = row.Text(4);
    mail.text = row.Text(5);
    mail.html = row.Text(6);
    mail.qr_code = row.Text(8);
    mail.message_id = MessageIdOf(id);
    const int attempts = static_cast<int>(row.Int(7));
    // The lease was taken for the whole batch: renewed for this message
    // before it goes, so one sent late in a slow batch is still this
    // worker's (and one another worker took meanwhile is left to it).
    // (Read under a lock, not judged by an UPDATE's count, which counts
    // only rows whose values changed.)
    bool still_mine = false;
    SMZ_RETURN_IF_ERROR(database_->Transact([&](Session& session) {
      SMZ_ASSIGN_OR_RETURN(
          std::vector<Row> lease,
          session.Query("SELECT state, lease_owner FROM mail_outbox WHERE "
                        "id = ? FOR UPDATE",
                        {SqlInt(id)}));
      still_mine = !lease.empty() &&
                   static_cast<OutboxState>(lease.front().Int(0)) ==
                       OutboxState::kPending &&
                   lease.front().Text(1) == options_.worker_id;
      if (!still_mine) return absl::OkStatus();
      return session
          .Execute("UPDATE mail_outbox SET next_attempt_us = ? WHERE id = ?",
                   {SqlInt(Micros(clock_->Now() + options_.lease)), SqlInt(id)})
          .status();
    }));
    if (!still_mine) {
      ++pass.lost_lease;
      continue;
    }
    const absl::Status sent = sender_->Send(mail);
    const absl::Time after = clock_->Now();
    absl::StatusOr<int64_t> recorded;
    if (sent.ok()) {
      recorded = database_->RunFor<int64_t>([&](Session& session) {
        return session.Execute(
            "UPDATE mail_outbox SET state = ?, sent_us = ?, lease_owner = '', "
            "last_error = '', "
            "text_body = IF(erase_when_sent <> ?, '', text_body), "
            "html_body = IF(erase_when_sent <> ?, '', html_body), "
            "qr_code = IF(erase_when_sent <> ?, '', qr_code) "
            "WHERE id = ? AND state = ? AND lease_owner = ?",
            {SqlInt(static_cast<int>(OutboxState::kSent)),
             SqlInt(Micros(after)), SqlInt(kKeep), SqlInt(kKeep), SqlInt(kKeep),
             SqlInt(id), SqlInt(static_cast<int>(OutboxState::kPending)),
             options_.worker_id});
      });
      if (recorded.ok() && *recorded == 1) {
        ++pass.sent;
      } else if (recorded.ok()) {
        ++pass.lost_lease;
      }
    } else {
      const bool later =
          absl::IsUnavailable(sent) && attempts < options_.max_attempts;
      const OutboxState state =
          later ? OutboxState::kPending : OutboxState::kFailed;
      recorded = database_->RunFor<int64_t>([&](Session& session) {
        return session.Execute(
            "UPDATE mail_outbox SET state = ?, next_attempt_us = ?, "
            "lease_owner = '', last_error = ?, "
            // A secret is not kept for a mail that failed for good either.
            "text_body = IF(erase_when_sent = ? AND ? = 1, '', text_body), "
            "html_body = IF(erase_when_sent = ? AND ? = 1, '', html_body), "
            "qr_code = IF(erase_when_sent = ? AND ? = 1, '', qr_code) "
            "WHERE id = ? AND state = ? AND lease_owner = ?",
            {SqlInt(static_cast<int>(state)),
             SqlInt(Micros(after + BackoffAfter(attempts))), ErrorText(sent),
             SqlInt(kEraseOnFailure), SqlInt(later ? 0 : 1),
             SqlInt(kEraseOnFailure), SqlInt(later ? 0 : 1),
             SqlInt(kEraseOnFailure), SqlInt(later ? 0 : 1), SqlInt(id),
             SqlInt(static_cast<int>(OutboxState::kPending)),
             options_.worker_id});
      });
      if (recorded.ok() && *recorded == 1) {
        ++(later ? pass.retry_later : pass.failed);
      } else if (recorded.ok()) {
        ++pass.lost_lease;
      }
      Log(later ? LogLevel::kWarning : LogLevel::kError,
          later ? "mail not sent yet" : "mail failed",
          {{"outbox_id", absl::StrCat(id)},
           {"attempts", absl::StrCat(attempts)},
           {"error", sent.message()}});
    }
    // The database went away after the relay answered: the lease runs out
    // and the message is sent again under its Message-ID.
    if (!recorded.ok()) return recorded.status();
  }
  return pass;
}

absl::StatusOr<std::vector<OutboxMessage>> Outbox::List(
    const OutboxQuery& query) {
  std::string sql =
      "SELECT id, topic, recipient, language, subject, state, attempts, "
      "next_attempt_us, last_error, create_us, sent_us FROM mail_outbox "
      "WHERE id < ?";
  std::vector<SqlValue> params = {
      SqlInt(query.before_id > 0 ? query.before_id : INT64_MAX)};
  if (!query.states.empty()) {
    absl::StrAppend(&sql, " AND state IN ", Placeholders(query.states.size()));
    for (OutboxState s : query.states) {
      params.push_back(SqlInt(static_cast<int>(s)));
    }
  }
  sql += " ORDER BY id DESC LIMIT ?";
  params.push_back(SqlInt(std::clamp(query.limit, 1, kMaxListLimit)));
  return database_->RunFor<std::vector<OutboxMessage>>(
      [&](Session& session) -> absl::StatusOr<std::vector<OutboxMessage>> {
        SMZ_ASSIGN_OR_RETURN(std::vector<Row> rows, session.Query(sql, params));
        std::vector<OutboxMessage> out;
        out.reserve(rows.size());
        for (const Row& row : rows) {
          OutboxMessage m;
          m.id = row.Int(0);
          m.topic = row.Text(1);
          m.recipient = row.Text(2);
          m.language = row.Text(3);
          m.subject = row.Text(4);
          m.state = static_cast<OutboxState>(row.Int(5));
          m.attempts = static_cast<int>(row.Int(6));
          m.next_attempt = absl::FromUnixMicros(row.Int(7));
          m.last_error = row.Text(8);
          m.create_time = absl::FromUnixMicros(row.Int(9));
          m.sent_time = row.IsNull(10) ? absl::InfinitePast()
                                       : absl::FromUnixMicros(row.Int(10));
          m.message_id = MessageIdOf(m.id);
          out.push_back(std::move(m));
        }
        return out;
      });
}

absl::StatusOr<OutboxCounts> Outbox::Count() {
  return database_->RunFor<OutboxCounts>(
      [&](Session& session) -> absl::StatusOr<OutboxCounts> {
        SMZ_ASSIGN_OR_RETURN(
            std::vector<Row> rows,
            session.Query("SELECT state, COUNT(*), MIN(create_us) FROM "
                          "mail_outbox GROUP BY state",
                          {}));
        OutboxCounts counts;
        for (const Row& row : rows) {
          switch (static_cast<OutboxState>(row.Int(0))) {
            case OutboxState::kPending:
              counts.pending = row.Int(1);
              counts.oldest_pending = absl::FromUnixMicros(row.Int(2));
              break;
            case OutboxState::kSent:
              counts.sent = row.Int(1);
              break;
            case OutboxState::kFailed:
              counts.failed = row.Int(1);
              break;
          }
        }
        return counts;
      });
}

absl::StatusOr<OutboxMessage> Outbox::Retry(int64_t id) {
  const absl::Time now = clock_->Now();
  SMZ_RETURN_IF_ERROR(database_->Transact([&](Session& session) {
    SMZ_ASSIGN_OR_RETURN(
        std::vector<Row> rows,
        session.Query("SELECT state, text_body = '' OR recipient = '' FROM "
                      "mail_outbox WHERE id = ? FOR UPDATE",
                      {SqlInt(id)}));
    if (rows.empty()) {
      return absl::NotFoundError(absl::StrCat("mail ", id, " not found"));
    }
    const auto state = static_cast<OutboxState>(rows.front().Int(0));
    // Already on its way (or a retried call): nothing to change.
    if (state == OutboxState::kPending) return absl::OkStatus();
    if (state == OutboxState::kSent) {
      return absl::FailedPreconditionError(absl::StrCat(
          "mail ", id, " was sent; only failed mail is sent again"));
    }
    // Every mail is queued with a text: an empty one was erased (a secret
    // that does not outlive a failure, or a person's data erased since).
    if (rows.front().Int(1) == 1) {
      return absl::FailedPreconditionError(absl::StrCat(
          "mail ", id,
          " carried a secret or a person's data, erased since it failed; "
          "whatever it was about has to be asked for again"));
    }
    return session
        .Execute(
            "UPDATE mail_outbox SET state = ?, attempts = 0, "
            "next_attempt_us = ?, last_error = '' WHERE id = ?",
            {SqlInt(static_cast<int>(OutboxState::kPending)),
             SqlInt(Micros(now)), SqlInt(id)})
        .status();
  }));
  // Read back as List reads it: the one row below id + 1.
  if (id == INT64_MAX) {
    return absl::NotFoundError(absl::StrCat("mail ", id, " not found"));
  }
  OutboxQuery query;
  query.before_id = id + 1;
  query.limit = 1;
  SMZ_ASSIGN_OR_RETURN(std::vector<OutboxMessage> found, List(query));
  if (found.empty() || found.front().id != id) {
    return absl::NotFoundError(absl::StrCat("mail ", id, " not found"));
  }
  return found.front();
}

absl::StatusOr<int64_t> Outbox::Purge() {
  const absl::Time cutoff = clock_->Now() - options_.keep_for;
  return database_->RunFor<int64_t>([&](Session& session) {
    return session.Execute(
        "DELETE FROM mail_outbox WHERE state IN (?, ?) AND create_us < ?",
        {SqlInt(static_cast<int>(OutboxState::kSent)),
         SqlInt(static_cast<int>(OutboxState::kFailed)),
         SqlInt(Micros(cutoff))});
  });
}

OutboxWorker::OutboxWorker(Outbox* outbox, OutboxWorkerOptions options)
    : outbox_(outbox), options_(std::move(options)) {
  thread_ = std::thread([this] { Run(); });
}

OutboxWorker::~OutboxWorker() {
  stop_.Notify();
  thread_.join();
}

void OutboxWorker::Run() {
  // Pacing only: what is due is decided by the outbox's clock.
  absl::Time next_purge = absl::Now();
  while (!stop_.HasBeenNotified()) {
    if (options_.before_pass) {
      const absl::Status prepared = options_.before_pass();
      if (!prepared.ok()) {
        Log(LogLevel::kWarning, "mail preparation failed",
            {{"error", prepared.message()}});
      }
    }
    absl::StatusOr<DeliveryPass> pass = outbox_->DeliverDue();
    if (!pass.ok()) {
      Log(LogLevel::kWarning, "mail delivery pass failed",
          {{"error", pass.status().message()}});
    }
    if (absl::Now() >= next_purge) {
      absl::StatusOr<int64_t> purged = outbox_->Purge();
      if (purged.ok() && *purged > 0) {
        Log(LogLevel::kInfo, "old mail erased",
            {{"messages", absl::StrCat(*purged)}});
      }
      next_purge = absl::Now() + options_.purge_every;
    }
    const bool busy = pass.ok() && pass->sent + pass->retry_later +
                                           pass->failed + pass->lost_lease >=
                                       outbox_->options().batch;
    if (!busy) stop_.WaitForNotificationWithTimeout(options_.poll);
  }
}

}  // namespace smz
