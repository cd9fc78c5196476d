// The mail outbox against a private MariaDB: messages written with their
// change or not at all, one per key, sent once per lease, retried with
// growing waits, failed for good, sent again on request, erased when old.
#include "common/mail/outbox.h"

#include <functional>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "common/aip/status_macros.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/harness/shared_mariadb_test.h"

namespace smz {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::SizeIs;

// Keeps what it is given and answers what the test says: a stand-in for
// the relay (smtp_sender_test and the events service's tests use a real
// SMTP server).
class RecordingSender : public MailSender {
 public:
  absl::Status Send(const MailMessage& mail) override {
    std::function<void()> during;
    {
      absl::MutexLock lock(&mu_);
      sent_.push_back(mail);
      during = during_send_;
    }
    if (during) during();
    absl::MutexLock lock(&mu_);
    return answer_;
  }
  std::vector<MailMessage> sent() {
    absl::MutexLock lock(&mu_);
    return sent_;
  }
  void Answer(absl::Status status) {
    absl::MutexLock lock(&mu_);
    answer_ = std::move(status);
  }
  void During(std::function<void()> f) {
    absl::MutexLock lock(&mu_);
    during_send_ = std::move(f);
  }

 private:
  absl::Mutex mu_;
  std::vector<MailMessage> sent_;
  absl::Status answer_;
  std::function<void()> during_send_;
};

class OutboxTest : public testing::SharedMariaDbTest {
 protected:
  void SetUp() override {
    database_ = MigratedDatabase(
        "smz_outbox", {{1, "mail outbox", {kMailOutboxTableDdl}},
                       {2, "erased once sent", {kMailOutboxEraseDdl}},
                       {3, "a QR image", {kMailOutboxQrDdl}}});
    ASSERT_NE(database_, nullptr);
  }

  OutboxOptions Options(const std::string& worker) {
    OutboxOptions options;
    options.service = "events";
    options.from = "smz@yeongdeungpo.example";
    options.from_name = "영등포 스마트메디컬특구";
    options.worker_id = worker;
    options.lease = absl::Minutes(2);
    options.first_backoff = absl::Seconds(30);
    options.max_backoff = absl::Minutes(10);
    options.max_attempts = 4;
    return options;
  }

  static OutgoingMail Mail(const std::string& key,
                           const std::string& to = "agency@example.mn") {
    OutgoingMail mail;
    mail.dedupe_key = key;
    mail.topic = "registration.confirmed";
    mail.recipient = to;
    mail.recipient_name = "Батбаяр";
    mail.language = "mn";
    mail.subject = "Бүртгэл баталгаажлаа";
    mail.text = "Сайн байна уу.";
    mail.html = "<p>Сайн байна уу.</p>";
    return mail;
  }

  absl::StatusOr<bool> Enqueue(const OutgoingMail& mail) {
    bool queued = false;
    SMZ_RETURN_IF_ERROR(database_->Transact([&](Session& session) {
      SMZ_ASSIGN_OR_RETURN(queued, EnqueueMail(session, mail, clock_.Now()));
      return absl::OkStatus();
    }));
    return queued;
  }

  std::vector<OutboxMessage> All(Outbox& outbox) {
    absl::StatusOr<std::vector<OutboxMessage>> all = outbox.List({});
    EXPECT_TRUE(all.ok()) << all.status();
    return all.ok() ? *all : std::vector<OutboxMessage>{};
  }

  FakeClock clock_{absl::FromUnixSeconds(1'790'000'000)};
  std::unique_ptr<Database> database_;
  RecordingSender sender_;
};

TEST_F(OutboxTest, AMessageIsWrittenWithItsChangeOrNotAtAll) {
  Outbox outbox(database_.get(), &sender_, &clock_, Options("w1"));
  // The change fails after queuing: its message goes with it.
  const absl::Status rolled_back = database_->Transact([&](Session& session) {
    SMZ_RETURN_IF_ERROR(
        EnqueueMail(session, Mail("k1"), clock_.Now()).status());
    return absl::AbortedError("the change was refused");
  });
  EXPECT_EQ(rolled_back.code(), absl::StatusCode::kAborted);
  EXPECT_THAT(All(outbox), SizeIs(0));

  absl::StatusOr<bool> queued = Enqueue(Mail("k1"));
  ASSERT_TRUE(queued.ok()) << queued.status();
  EXPECT_TRUE(*queued);
  // The same key again (a retried request): no second message.
  queued = Enqueue(Mail("k1", "other@example.mn"));
  ASSERT_TRUE(queued.ok()) << queued.status();
  EXPECT_FALSE(*queued);
  const std::vector<OutboxMessage> all = All(outbox);
  ASSERT_THAT(all, SizeIs(1));
  EXPECT_EQ(all[0].recipient, "agency@example.mn");
  EXPECT_EQ(all[0].state, OutboxState::kPending);
}

TEST_F(OutboxTest, AMalformedMessageRefusesTheChange) {
  OutgoingMail bad = Mail("k1", "not an address");
  bad.subject = "line\r\nBcc: all@example.com";
  const absl::StatusOr<bool> queued = Enqueue(bad);
  EXPECT_EQ(queued.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(queued.status().message(), HasSubstr("to"));
  EXPECT_THAT(queued.status().message(), HasSubstr("subject"));
}

TEST_F(OutboxTest, DueMessagesAreSentOnceWithAStableMessageId) {
  Outbox outbox(database_.get(), &sender_, &clock_, Options("w1"));
  ASSERT_TRUE(Enqueue(Mail("k1")).ok());
  OutgoingMail later = Mail("k2");
  later.not_before = clock_.Now() + absl::Hours(1);
  ASSERT_TRUE(Enqueue(later).ok());

  absl::StatusOr<DeliveryPass> pass = outbox.DeliverDue();
  ASSERT_TRUE(pass.ok()) << pass.status();
  EXPECT_EQ(pass->sent, 1);
  ASSERT_THAT(sender_.sent(), SizeIs(1));
  const MailMessage sent = sender_.sent()[0];
  EXPECT_EQ(sent.to, "agency@example.mn");
  EXPECT_EQ(sent.from, "smz@yeongdeungpo.example");
  EXPECT_EQ(sent.language, "mn");
  const std::vector<OutboxMessage> all = All(outbox);
  ASSERT_THAT(all, SizeIs(2));
  const OutboxMessage& first = all[1];  // newest first
  EXPECT_EQ(sent.message_id,
            absl::StrCat(first.id, ".events@smz.yeongdeungpo.example"));
  EXPECT_EQ(first.state, OutboxState::kSent);
  EXPECT_EQ(first.sent_time, clock_.Now());

  // Nothing more is due until the hour has passed.
  pass = outbox.DeliverDue();
  ASSERT_TRUE(pass.ok());
  EXPECT_EQ(pass->sent, 0);
  clock_.Advance(absl::Hours(1));
  pass = outbox.DeliverDue();
  ASSERT_TRUE(pass.ok());
  EXPECT_EQ(pass->sent, 1);
  EXPECT_THAT(sender_.sent(), SizeIs(2));
}

// A link that confirms a sign-up is a secret: once the mail is sent the
// database keeps no copy of it; other mail keeps its bodies.
TEST_F(OutboxTest, AMailWithASecretKeepsNoBodyOnceSent) {
  Outbox outbox(database_.get(), &sender_, &clock_, Options("w1"));
  OutgoingMail secret = Mail("link");
  secret.text = "https://smz.example/public/signup#t=smzv_secret";
  secret.html = "<a href=\"https://smz.example/public/signup#t=smzv_secret\">";
  secret.qr_code = "QR-SECRET";
  secret.secret = MailSecret::kErasedWhenSentOrFailed;
  ASSERT_TRUE(Enqueue(secret).ok());
  ASSERT_TRUE(Enqueue(Mail("plain")).ok());
  auto bodies = [&] {
    std::vector<std::string> out;
    EXPECT_TRUE(database_
                    ->Run([&](Session& session) -> absl::Status {
                      SMZ_ASSIGN_OR_RETURN(
                          std::vector<Row> rows,
                          session.Query("SELECT CONCAT(text_body, html_body, "
                                        "qr_code) FROM mail_outbox ORDER BY id",
                                        {}));
                      for (const Row& row : rows) out.push_back(row.Text(0));
                      return absl::OkStatus();
                    })
                    .ok());
    return out;
  };
  EXPECT_THAT(bodies()[0], HasSubstr("smzv_secret"));  // until it is sent
  ASSERT_TRUE(outbox.DeliverDue().ok());
  ASSERT_THAT(sender_.sent(), SizeIs(2));
  EXPECT_THAT(sender_.sent()[0].text, HasSubstr("smzv_secret"));
  EXPECT_EQ(sender_.sent()[0].qr_code, "QR-SECRET");
  const std::vector<std::string> after = bodies();
  ASSERT_THAT(after, SizeIs(2));
  EXPECT_EQ(after[0], "");
  EXPECT_THAT(after[1], HasSubstr("Сайн байна уу."));

  // Refused for good: erased too, and it cannot be sent again (empty).
  OutgoingMail refused = secret;
  refused.dedupe_key = "link-refused";
  ASSERT_TRUE(Enqueue(refused).ok());
  sender_.Answer(absl::FailedPreconditionError("550 5.1.1 no such mailbox"));
  ASSERT_EQ(outbox.DeliverDue()->failed, 1);
  EXPECT_EQ(bodies()[2], "");
  const absl::Status again = outbox.Retry(All(outbox)[0].id).status();
  EXPECT_EQ(again.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(again.message(), HasSubstr("secret"));
}

// A check-in code is kept until its mail is sent: a mail refused for good
// can be sent again, and once sent nothing of it is left.
TEST_F(OutboxTest, ACheckInCodeIsKeptUntilSentSoAFailedMailCanBeRetried) {
  Outbox outbox(database_.get(), &sender_, &clock_, Options("w1"));
  OutgoingMail ticket = Mail("ticket");
  ticket.text = "Check-in code: K7Q2-M9XD-4T1P-ZR8B";
  ticket.html = "<img alt=\"K7Q2-M9XD-4T1P-ZR8B\">";
  ticket.qr_code = "K7Q2-M9XD-4T1P-ZR8B";
  ticket.secret = MailSecret::kErasedWhenSent;
  ASSERT_TRUE(Enqueue(ticket).ok());
  sender_.Answer(absl::FailedPreconditionError("550 5.1.1 no such mailbox"));
  ASSERT_EQ(outbox.DeliverDue()->failed, 1);
  const int64_t id = All(outbox)[0].id;
  sender_.Answer(absl::OkStatus());
  absl::StatusOr<OutboxMessage> retried = outbox.Retry(id);
  ASSERT_TRUE(retried.ok()) << retried.status();
  ASSERT_EQ(outbox.DeliverDue()->sent, 1);
  ASSERT_THAT(sender_.sent(), SizeIs(2));
  EXPECT_EQ(sender_.sent()[1].qr_code, "K7Q2-M9XD-4T1P-ZR8B");
  EXPECT_THAT(sender_.sent()[1].text, HasSubstr("K7Q2-M9XD-4T1P-ZR8B"));
  std::string left;
  ASSERT_TRUE(database_
                  ->Run([&](Session& session) -> absl::Status {
                    SMZ_ASSIGN_OR_RETURN(
                        std::vector<Row> rows,
                        session.Query("SELECT CONCAT(text_body, html_body, "
                                      "qr_code) FROM mail_outbox WHERE id = ?",
                                      {SqlInt(id)}));
                    left = rows.at(0).Text(0);
                    return absl::OkStatus();
                  })
                  .ok());
  EXPECT_EQ(left, "");
}

TEST_F(OutboxTest, ARelayThatCannotTakeItNowIsTriedAgainLater) {
  Outbox outbox(database_.get(), &sender_, &clock_, Options("w1"));
  ASSERT_TRUE(Enqueue(Mail("k1")).ok());
  sender_.Answer(absl::UnavailableError("451 4.3.0 try again later"));
  // Waits of 30 s, 60 s, 120 s; the fourth attempt is the last.
  const absl::Duration waits[] = {absl::Seconds(30), absl::Seconds(60),
                                  absl::Seconds(120)};
  for (absl::Duration wait : waits) {
    absl::StatusOr<DeliveryPass> pass = outbox.DeliverDue();
    ASSERT_TRUE(pass.ok());
    EXPECT_EQ(pass->retry_later, 1);
    const OutboxMessage m = All(outbox)[0];
    EXPECT_EQ(m.state, OutboxState::kPending);
    EXPECT_EQ(m.next_attempt, clock_.Now() + wait);
    EXPECT_THAT(m.last_error, HasSubstr("451"));
    clock_.Advance(wait - absl::Seconds(1));
    EXPECT_EQ(outbox.DeliverDue()->retry_later, 0);  // not yet
    clock_.Advance(absl::Seconds(1));
  }
  absl::StatusOr<DeliveryPass> pass = outbox.DeliverDue();
  ASSERT_TRUE(pass.ok());
  EXPECT_EQ(pass->failed, 1);
  const OutboxMessage m = All(outbox)[0];
  EXPECT_EQ(m.state, OutboxState::kFailed);
  EXPECT_EQ(m.attempts, 4);
  EXPECT_THAT(sender_.sent(), SizeIs(4));

  // Sent again on request, with a fresh count of attempts.
  sender_.Answer(absl::OkStatus());
  absl::StatusOr<OutboxMessage> retried = outbox.Retry(m.id);
  ASSERT_TRUE(retried.ok()) << retried.status();
  EXPECT_EQ(retried->state, OutboxState::kPending);
  EXPECT_EQ(retried->attempts, 0);
  EXPECT_EQ(outbox.DeliverDue()->sent, 1);
  EXPECT_EQ(All(outbox)[0].state, OutboxState::kSent);
  // Same Message-ID on every attempt: one mail for the mailbox.
  for (const MailMessage& mail : sender_.sent()) {
    EXPECT_EQ(mail.message_id, sender_.sent()[0].message_id);
  }
}

TEST_F(OutboxTest, ARefusalForGoodFailsAtOnceAndOnlyFailuresAreRetried) {
  Outbox outbox(database_.get(), &sender_, &clock_, Options("w1"));
  ASSERT_TRUE(Enqueue(Mail("k1")).ok());
  sender_.Answer(absl::FailedPreconditionError("550 5.1.1 no such mailbox"));
  EXPECT_EQ(outbox.DeliverDue()->failed, 1);
  OutboxMessage m = All(outbox)[0];
  EXPECT_EQ(m.state, OutboxState::kFailed);
  EXPECT_EQ(m.attempts, 1);
  EXPECT_THAT(m.last_error, HasSubstr("550 5.1.1"));
  sender_.Answer(absl::OkStatus());
  ASSERT_TRUE(outbox.Retry(m.id).ok());
  // A second call (a lost answer retried) changes nothing.
  absl::StatusOr<OutboxMessage> again = outbox.Retry(m.id);
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_EQ(again->state, OutboxState::kPending);
  ASSERT_EQ(outbox.DeliverDue()->sent, 1);
  // A sent message is not sent again; an unknown one is not found.
  EXPECT_EQ(outbox.Retry(m.id).status().code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(outbox.Retry(m.id + 1000).status().code(),
            absl::StatusCode::kNotFound);
}

TEST_F(OutboxTest, ALeasedMessageIsNotSentByAnotherWorkerUntilTheLeaseEnds) {
  Outbox first(database_.get(), &sender_, &clock_, Options("w1"));
  RecordingSender second_sender;
  Outbox second(database_.get(), &second_sender, &clock_, Options("w2"));
  ASSERT_TRUE(Enqueue(Mail("k1")).ok());

  // While the first worker is sending, the second finds nothing to do.
  int during_lease = -1;
  sender_.During([&] { during_lease = second.DeliverDue()->sent; });
  EXPECT_EQ(first.DeliverDue()->sent, 1);
  EXPECT_EQ(during_lease, 0);
  EXPECT_THAT(second_sender.sent(), SizeIs(0));

  // The first worker stalls past its lease after the relay took the mail
  // (as one that died would): the second sends it again under the same
  // Message-ID and records it; the first one's late record changes nothing.
  ASSERT_TRUE(Enqueue(Mail("k2")).ok());
  sender_.During([&] {
    clock_.Advance(absl::Minutes(2));
    EXPECT_EQ(second.DeliverDue()->sent, 1);
  });
  const absl::StatusOr<DeliveryPass> late = first.DeliverDue();
  ASSERT_TRUE(late.ok());
  EXPECT_EQ(late->sent, 0);
  EXPECT_EQ(late->lost_lease, 1);
  ASSERT_THAT(second_sender.sent(), SizeIs(1));
  EXPECT_EQ(second_sender.sent()[0].message_id, sender_.sent()[1].message_id);
  EXPECT_EQ(All(first)[0].state, OutboxState::kSent);
}

// A slow batch: while the first message is with the relay, the others'
// leases run out and another worker sends them. The first worker renews
// each lease before it sends, so it leaves those to the other one.
TEST_F(OutboxTest, ASlowBatchLeavesWhatAnotherWorkerTookMeanwhile) {
  for (const char* key : {"k1", "k2", "k3"})
    ASSERT_TRUE(Enqueue(Mail(key)).ok());
  Outbox first(database_.get(), &sender_, &clock_, Options("w1"));
  RecordingSender second_sender;
  Outbox second(database_.get(), &second_sender, &clock_, Options("w2"));
  bool once = false;
  sender_.During([&] {
    if (once) return;
    once = true;
    clock_.Advance(absl::Minutes(3));
    EXPECT_EQ(second.DeliverDue()->sent, 3);
  });
  const absl::StatusOr<DeliveryPass> pass = first.DeliverDue();
  ASSERT_TRUE(pass.ok()) << pass.status();
  EXPECT_EQ(pass->lost_lease, 3);  // k1 recorded by the other; k2, k3 left
  ASSERT_THAT(sender_.sent(), SizeIs(1));
  ASSERT_THAT(second_sender.sent(), SizeIs(3));
}

TEST_F(OutboxTest, TwoWorkersAtOnceSendEachMessageOnce) {
  constexpr int kMessages = 120;
  for (int i = 0; i < kMessages; ++i) {
    ASSERT_TRUE(Enqueue(Mail(absl::StrCat("k", i))).ok());
  }
  RecordingSender second_sender;
  Outbox first(database_.get(), &sender_, &clock_, Options("w1"));
  Outbox second(database_.get(), &second_sender, &clock_, Options("w2"));
  auto drain = [](Outbox* outbox) {
    for (int pass = 0; pass < 100; ++pass) {
      absl::StatusOr<DeliveryPass> done = outbox->DeliverDue();
      ASSERT_TRUE(done.ok()) << done.status();
      if (done->sent == 0) return;
    }
  };
  std::thread a(drain, &first);
  std::thread b(drain, &second);
  a.join();
  b.join();
  std::set<std::string> ids;
  for (const MailMessage& m : sender_.sent()) ids.insert(m.message_id);
  for (const MailMessage& m : second_sender.sent()) ids.insert(m.message_id);
  EXPECT_EQ(sender_.sent().size() + second_sender.sent().size(), kMessages);
  EXPECT_EQ(ids.size(), kMessages);
  const absl::StatusOr<OutboxCounts> counts = first.Count();
  ASSERT_TRUE(counts.ok());
  EXPECT_EQ(counts->sent, kMessages);
  EXPECT_EQ(counts->pending, 0);
}

TEST_F(OutboxTest, WithoutARelayMessagesWait) {
  Outbox outbox(database_.get(), nullptr, &clock_, Options("w1"));
  ASSERT_TRUE(Enqueue(Mail("k1")).ok());
  EXPECT_FALSE(outbox.can_send());
  EXPECT_EQ(outbox.DeliverDue()->sent, 0);
  const absl::StatusOr<OutboxCounts> counts = outbox.Count();
  ASSERT_TRUE(counts.ok());
  EXPECT_EQ(counts->pending, 1);
  EXPECT_EQ(counts->oldest_pending, clock_.Now());
}

TEST_F(OutboxTest, OldSentAndFailedMailIsErasedAndPendingMailKept) {
  OutboxOptions options = Options("w1");
  options.keep_for = absl::Hours(24 * 90);
  Outbox outbox(database_.get(), &sender_, &clock_, options);
  ASSERT_TRUE(Enqueue(Mail("sent")).ok());
  ASSERT_EQ(outbox.DeliverDue()->sent, 1);
  ASSERT_TRUE(Enqueue(Mail("failed")).ok());
  sender_.Answer(absl::FailedPreconditionError("550"));
  ASSERT_EQ(outbox.DeliverDue()->failed, 1);
  OutgoingMail waiting = Mail("waiting");
  waiting.not_before = clock_.Now() + absl::Hours(24 * 200);
  ASSERT_TRUE(Enqueue(waiting).ok());
  clock_.Advance(absl::Hours(24 * 90) - absl::Seconds(1));
  EXPECT_EQ(*outbox.Purge(), 0);
  clock_.Advance(absl::Seconds(2));
  EXPECT_EQ(*outbox.Purge(), 2);
  const std::vector<OutboxMessage> left = All(outbox);
  ASSERT_THAT(left, SizeIs(1));
  EXPECT_EQ(left[0].state, OutboxState::kPending);
}

TEST_F(OutboxTest, ListingFiltersByStateAndPagesBackwards) {
  Outbox outbox(database_.get(), &sender_, &clock_, Options("w1"));
  for (int i = 0; i < 5; ++i) {
    ASSERT_TRUE(Enqueue(Mail(absl::StrCat("k", i))).ok());
  }
  sender_.Answer(absl::FailedPreconditionError("550"));
  OutboxOptions one = Options("w1");
  one.batch = 1;
  Outbox single(database_.get(), &sender_, &clock_, one);
  ASSERT_EQ(single.DeliverDue()->failed, 1);  // the oldest fails
  OutboxQuery failed;
  failed.states = {OutboxState::kFailed};
  const std::vector<OutboxMessage> failures = *outbox.List(failed);
  ASSERT_THAT(failures, SizeIs(1));
  OutboxQuery page;
  page.limit = 2;
  const std::vector<OutboxMessage> newest = *outbox.List(page);
  ASSERT_THAT(newest, SizeIs(2));
  page.before_id = newest[1].id;
  const std::vector<OutboxMessage> next = *outbox.List(page);
  ASSERT_THAT(next, SizeIs(2));
  EXPECT_EQ(next[0].id, newest[1].id - 1);
  EXPECT_EQ(next[1].id, failures[0].id + 1);
}

}  // namespace
}  // namespace smz
