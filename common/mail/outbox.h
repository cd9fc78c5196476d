// A transactional outbox for mail: a service writes the message into its own
// database in the same transaction as the change that caused it, so a
// change is never committed without its message nor a message sent for a
// change that rolled back. A delivery pass then hands due messages to a
// MailSender, retries what the relay could not take now with growing waits,
// and records what was sent and what failed for good.
//
// Delivery is at least once, with a key for the mailbox to drop copies: a
// message is claimed under a lease before it is sent, so two workers (two
// replicas, or a restart) never send it at the same time; only when a worker
// dies between the relay's acceptance and its own record does the next
// worker send it again, with the same Message-ID (<id>.<service>@<domain>),
// which mail stores use to keep one copy.
//
//   // In the service's migrations (all three, in this order):
//   {4, "mail outbox", {smz::kMailOutboxTableDdl}},
//   {5, "mail with links erased once sent", {smz::kMailOutboxEraseDdl}},
//   {6, "mail with a QR image", {smz::kMailOutboxQrDdl}},
//
//   // Inside the transaction that confirms registration 17:
//   smz::OutgoingMail mail;
//   mail.dedupe_key = "registration-confirmed:17";
//   mail.topic = "registration.confirmed";
//   mail.recipient = "agency@example.mn"; ...
//   absl::StatusOr<bool> queued = smz::EnqueueMail(session, mail, now);
//
//   // In the service's process:
//   smz::Outbox outbox(&database, &smtp_sender, &clock, options);
//   smz::OutboxWorker worker(&outbox, {});  // a thread: passes until stopped
#ifndef SMZ_COMMON_MAIL_OUTBOX_H_
#define SMZ_COMMON_MAIL_OUTBOX_H_

#include <cstdint>
#include <functional>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/synchronization/notification.h"
#include "absl/time/time.h"
#include "common/clock.h"
#include "common/mail/smtp_sender.h"
#include "common/mysql/database.h"

namespace smz {

// The table every service that sends mail includes in its migrations,
// followed by kMailOutboxEraseDdl and kMailOutboxQrDdl (EnqueueMail writes
// those columns too).
// next_attempt_us is also the lease: a PENDING message whose time has not
// come is either waiting to be retried or being sent by lease_owner.
inline constexpr char kMailOutboxTableDdl[] =
    "CREATE TABLE IF NOT EXISTS mail_outbox ("
    " id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,"
    " dedupe_key VARCHAR(190) NOT NULL,"
    " topic VARCHAR(60) NOT NULL,"
    " recipient VARCHAR(254) NOT NULL,"
    " recipient_name VARCHAR(200) NOT NULL,"
    " language VARCHAR(16) NOT NULL,"
    " subject VARCHAR(400) NOT NULL,"
    " text_body MEDIUMTEXT NOT NULL,"
    " html_body MEDIUMTEXT NOT NULL,"
    " state TINYINT NOT NULL,"
    " attempts INT NOT NULL DEFAULT 0,"
    " next_attempt_us BIGINT NOT NULL,"
    " lease_owner VARCHAR(100) NOT NULL DEFAULT '',"
    " last_error VARCHAR(1000) NOT NULL DEFAULT '',"
    " create_us BIGINT NOT NULL,"
    " sent_us BIGINT NULL,"
    " UNIQUE KEY mail_outbox_dedupe (dedupe_key),"
    " KEY mail_outbox_due (state, next_attempt_us, id),"
    " KEY mail_outbox_recent (create_us, id)"
    ") ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin";

// A mail that carries a secret keeps its bodies only until it is sent (a
// check-in code) or until it is sent or fails for good (a link that acts
// for the person; then it cannot be sent again): the database holds the
// secret only as the hash its owner checks against. The column holds a
// MailSecret. Its own ALTER, after kMailOutboxTableDdl (whose text an
// applied migration fixed).
inline constexpr char kMailOutboxEraseDdl[] =
    "ALTER TABLE mail_outbox ADD COLUMN erase_when_sent TINYINT NOT NULL "
    "DEFAULT 0";

// The code a mail shows as a QR image (MailMessage::qr_code); its own
// ALTER, after kMailOutboxEraseDdl.
inline constexpr char kMailOutboxQrDdl[] =
    "ALTER TABLE mail_outbox ADD COLUMN qr_code VARCHAR(256) NOT NULL "
    "DEFAULT ''";

enum class OutboxState { kPending = 1, kSent = 2, kFailed = 3 };

// A secret a mail carries, and when the outbox stops keeping it (the value
// of column erase_when_sent).
enum class MailSecret {
  kNone = 0,
  // A link that acts for the person (erases their data): erased once sent
  // or failed for good; such a failed mail cannot be retried.
  kErasedWhenSentOrFailed = 1,
  // A check-in code: erased once sent; a failed one is kept, so that the
  // district can send it again.
  kErasedWhenSent = 2,
};

// One message as the changing transaction writes it: already in the
// recipient's language, since the change knows it and the worker does not.
struct OutgoingMail {
  // The same key never queues a second message (a retried request, a
  // reminder sweep run twice): EnqueueMail then returns false.
  std::string dedupe_key;
  std::string topic;  // what it is about, for the ADMIN view
  std::string recipient;
  std::string recipient_name;
  std::string language;
  std::string subject;
  std::string text;
  std::string html;
  // Not before this time (a reminder written ahead); InfinitePast: at once.
  absl::Time not_before = absl::InfinitePast();
  // What becomes of a secret in its bodies (kMailOutboxEraseDdl).
  MailSecret secret = MailSecret::kNone;
  // Optional, with `html`: drawn as a QR image (MailMessage::qr_code);
  // erased with the bodies.
  std::string qr_code;
};

// Validates `mail` as a MailMessage (INVALID_ARGUMENT naming its bad fields:
// the caller decides whether that refuses its change) and inserts it;
// INTERNAL for a key, topic or name longer than its column (190, 60, 200
// bytes), which is the caller's bug. Returns false when its dedupe_key was
// already queued.
absl::StatusOr<bool> EnqueueMail(Session& session, const OutgoingMail& mail,
                                 absl::Time now);

// EnqueueMail for each of `mail` in one transaction of its own (a sweep's
// mail, not a change's): one a mail cannot carry (INVALID_ARGUMENT: an
// address kept from before addresses were checked) is logged and left out.
// The number newly queued.
absl::StatusOr<int> EnqueueAll(Database& database,
                               const std::vector<OutgoingMail>& mail,
                               absl::Time now);

struct OutboxOptions {
  std::string service;  // "events": part of every Message-ID
  std::string from;     // envelope and From: address
  std::string from_name;
  // Message-IDs are <outbox id>.<service>@message_domain.
  std::string message_domain = "smz.yeongdeungpo.example";
  // Who is sending: a lease names it, so a worker never records another's.
  std::string worker_id;
  // How long a claimed message is left to its worker before another may
  // send it (longer than the relay's timeout).
  absl::Duration lease = absl::Minutes(2);
  int batch = 20;
  // The wait after the first failed attempt, doubled for each further one
  // up to max_backoff; after max_attempts the message is FAILED.
  absl::Duration first_backoff = absl::Seconds(30);
  absl::Duration max_backoff = absl::Hours(1);
  int max_attempts = 12;
  // Sent and failed messages hold people's addresses and names: they are
  // erased this long after they were written.
  absl::Duration keep_for = absl::Hours(24 * 90);
};

struct DeliveryPass {
  int sent = 0;
  int retry_later = 0;
  int failed = 0;
  // Another worker had taken the message (before it was sent, or before
  // its outcome could be recorded): that worker's to finish.
  int lost_lease = 0;
};

struct OutboxMessage {
  int64_t id = 0;
  std::string topic;
  std::string recipient;
  std::string language;
  std::string subject;
  OutboxState state = OutboxState::kPending;
  int attempts = 0;
  absl::Time next_attempt;
  std::string last_error;
  absl::Time create_time;
  absl::Time sent_time;  // InfinitePast unless SENT
  std::string message_id;
};

struct OutboxQuery {
  std::vector<OutboxState> states;  // empty: all
  int64_t before_id = 0;            // 0: from the newest
  int limit = 50;
};

struct OutboxCounts {
  int64_t pending = 0;
  int64_t sent = 0;
  int64_t failed = 0;
  absl::Time oldest_pending = absl::InfinitePast();  // InfinitePast: none
};

class Outbox {
 public:
  // `sender` may be null: no relay is configured, messages stay PENDING.
  Outbox(Database* database, MailSender* sender, const Clock* clock,
         OutboxOptions options);

  bool can_send() const { return sender_ != nullptr; }
  const OutboxOptions& options() const { return options_; }

  // Claims up to `batch` due messages, sends them one by one and records
  // each outcome. UNAVAILABLE only when the database is; a relay's refusal
  // is the message's, counted in the answer.
  absl::StatusOr<DeliveryPass> DeliverDue();

  // Newest first.
  absl::StatusOr<std::vector<OutboxMessage>> List(const OutboxQuery& query);
  absl::StatusOr<OutboxCounts> Count();
  // A FAILED message is sent again at once (its attempts start afresh); a
  // PENDING one is left as it is; NOT_FOUND, or FAILED_PRECONDITION for one
  // that was sent.
  absl::StatusOr<OutboxMessage> Retry(int64_t id);
  // Erases SENT and FAILED messages older than keep_for; the number erased.
  absl::StatusOr<int64_t> Purge();

  std::string MessageIdOf(int64_t id) const;

 private:
  absl::Duration BackoffAfter(int attempts) const;

  Database* const database_;
  MailSender* const sender_;
  const Clock* const clock_;
  const OutboxOptions options_;
};

struct OutboxWorkerOptions {
  absl::Duration poll = absl::Seconds(2);
  absl::Duration purge_every = absl::Hours(1);
  // Run before each pass (a service queues its due reminders here); its
  // error is logged and the pass goes on.
  std::function<absl::Status()> before_pass;
};

// Passes on a thread of its own until destroyed: delivery as soon as a pass
// found work, otherwise after `poll`.
class OutboxWorker {
 public:
  OutboxWorker(Outbox* outbox, OutboxWorkerOptions options);
  ~OutboxWorker();  // stops after the message being sent
  OutboxWorker(const OutboxWorker&) = delete;
  OutboxWorker& operator=(const OutboxWorker&) = delete;

 private:
  void Run();

  Outbox* const outbox_;
  const OutboxWorkerOptions options_;
  absl::Notification stop_;
  std::thread thread_;
};

}  // namespace smz

#endif  // SMZ_COMMON_MAIL_OUTBOX_H_
