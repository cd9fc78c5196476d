// The `events` binary as deployed, killed while it sends mail: the relay
// (tests/tools/smtp_capture.py) has kept a mail and not yet answered when
// the process dies (SIGKILL); a new process sends what is left once the
// dead one's leases run out. Each mail reaches the mailbox exactly once:
// the one copy sent twice carries the same Message-ID, which the mailbox
// keeps once, and nothing acknowledged is lost.
//
// Usage (from CTest): events_mail_process_test <path of the events binary>
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "services/events/event_rules.h"
#include "smz/events/v1/events.grpc.pb.h"
#include "tests/harness/local_stack.h"
#include "tests/harness/mail_capture.h"

namespace smz::events {
namespace {

using ::smz::testing::As;
using ::testing::SizeIs;

std::string g_events_binary;

class EventsMailProcessTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_FALSE(g_events_binary.empty()) << "pass the events binary path";
    auto capture = testing::MailCapture::Start(
        absl::StrCat(SMZ_TEST_ARTIFACT_DIR, "/events_mail_process_test"),
        /*hold=*/absl::Seconds(2));
    ASSERT_TRUE(capture.ok()) << capture.status();
    capture_ = *std::move(capture);
    auto stack = testing::LocalStack::Start(&clock_);
    ASSERT_TRUE(stack.ok()) << stack.status();
    stack_ = *std::move(stack);
    auto database = stack_->mariadb().CreateServiceDatabase("smz_events");
    ASSERT_TRUE(database.ok()) << database.status();
    database_ = *database;
    dir_ = absl::StrCat(SMZ_TEST_ARTIFACT_DIR, "/events_mail_process_test-run");
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
    auto service_token = stack_->IssueToken(auth::v1::ANALYST, "events");
    ASSERT_TRUE(service_token.ok());
    std::ofstream(dir_ + "/events.mysql")
        << "password=" << database_.password << "\n";
    std::ofstream(dir_ + "/events.token") << *service_token << "\n";
    auto organizer = stack_->IssueToken(auth::v1::ORGANIZER, "organizer");
    ASSERT_TRUE(organizer.ok());
    organizer_ = *organizer;
    port_ = testing::PickUnusedPort();
  }

  void TearDown() override { Kill(); }

  void StartEvents() {
    std::vector<std::string> env = {
        absl::StrCat("SMZ_LISTEN=127.0.0.1:", port_),
        "SMZ_METRICS_LISTEN=off",
        absl::StrCat("SMZ_MYSQL_DSN=mysql://", database_.user,
                     "@127.0.0.1:", database_.port, "/", database_.database),
        absl::StrCat("SMZ_MYSQL_CREDENTIALS_FILE=", dir_, "/events.mysql"),
        absl::StrCat("SMZ_REGISTRY_TARGET=", stack_->registry().target()),
        absl::StrCat("SMZ_REGISTRY_TOKEN_FILE=", dir_, "/events.token"),
        absl::StrCat("SMZ_SMTP_URL=", capture_->Url()),
        "SMZ_SMTP_PLAINTEXT=yes",
        "SMZ_MAIL_LEASE_SECONDS=8",
        "PATH=/usr/bin:/bin"};
    std::vector<char*> envp;
    for (std::string& e : env) envp.push_back(e.data());
    envp.push_back(nullptr);
    const std::string log = dir_ + "/events.log";
    pid_ = fork();
    if (pid_ == 0) {
      const int fd = open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
      dup2(fd, STDOUT_FILENO);
      dup2(fd, STDERR_FILENO);
      char* argv[] = {g_events_binary.data(), nullptr};
      execve(argv[0], argv, envp.data());
      _exit(127);
    }
    stub_ = v1::EventsService::NewStub(testing::LoopbackChannel(port_));
    // Serving once GetEvent answers at all (NOT_FOUND is an answer).
    const absl::Time deadline = absl::Now() + absl::Seconds(30);
    while (absl::Now() < deadline) {
      v1::GetEventRequest probe;
      probe.set_id(1'000'000);
      Event ignored;
      const grpc::StatusCode code =
          stub_
              ->GetEvent(As(organizer_, absl::Seconds(1)).get(), probe,
                         &ignored)
              .error_code();
      if (code != grpc::StatusCode::UNAVAILABLE &&
          code != grpc::StatusCode::DEADLINE_EXCEEDED) {
        return;
      }
      absl::SleepFor(absl::Milliseconds(100));
    }
    ADD_FAILURE() << "events did not start";
  }

  void Kill() {
    if (pid_ <= 0) return;
    kill(pid_, SIGKILL);
    waitpid(pid_, nullptr, 0);
    pid_ = -1;
  }

  FakeClock clock_{absl::Now()};
  std::unique_ptr<testing::MailCapture> capture_;
  std::unique_ptr<testing::LocalStack> stack_;
  DatabaseOptions database_;
  std::string dir_;
  std::string organizer_;
  int port_ = 0;
  pid_t pid_ = -1;
  std::unique_ptr<v1::EventsService::Stub> stub_;
};

TEST_F(EventsMailProcessTest, KilledWhileSendingEachMailArrivesOnce) {
  StartEvents();
  v1::CreateEventRequest create;
  Event* event = create.mutable_event();
  event->set_type(v1::BRIEFING_SESSION);
  (*event->mutable_title())["en"] = "Briefing in Hanoi";
  event->set_venue("Hanoi Daewoo Hotel");
  event->set_country("VN");
  event->set_time_zone("Asia/Ho_Chi_Minh");
  const absl::Time start = absl::Now() + absl::Hours(24 * 60);
  *event->mutable_start_time() = ToTimestamp(start);
  *event->mutable_end_time() = ToTimestamp(start + absl::Hours(2));
  v1::EventResponse created;
  grpc::Status s = stub_->CreateEvent(As(organizer_).get(), create, &created);
  ASSERT_TRUE(s.ok()) << s.error_message();
  v1::TransitionRequest publish;
  publish.set_id(created.event().id());
  v1::EventResponse published;
  ASSERT_TRUE(
      stub_->PublishEvent(As(organizer_).get(), publish, &published).ok());

  // The first registrant's relay keeps the mail and answers late; the
  // others queue behind it.
  const std::vector<std::string> people = {"first@hold.example", "b@example.vn",
                                           "c@example.vn", "d@example.vn",
                                           "e@example.vn"};
  for (const std::string& email : people) {
    v1::CreateRegistrationRequest request;
    Registration* r = request.mutable_registration();
    r->set_event_id(created.event().id());
    r->set_name(email);
    r->set_country("VN");
    r->set_email(email);
    r->set_language("vi");
    v1::RegistrationResponse response;
    s = stub_->CreateRegistration(As(organizer_).get(), request, &response);
    ASSERT_TRUE(s.ok()) << s.error_message();
  }
  // The relay has the first mail; the process dies before its answer.
  ASSERT_THAT(capture_->WaitFor(1), SizeIs(1));
  Kill();
  const std::vector<google::protobuf::Struct> before_restart =
      capture_->Received();

  StartEvents();
  const std::vector<google::protobuf::Struct> kept =
      capture_->WaitFor(people.size(), absl::Seconds(40));
  ASSERT_THAT(kept, SizeIs(people.size()));
  // Let any further copy arrive before counting.
  absl::SleepFor(absl::Seconds(4));
  std::set<std::string> recipients;
  std::set<std::string> ids;
  for (const auto& mail : capture_->Received()) {
    recipients.insert(
        mail.fields().at("rcpt_tos").list_value().values(0).string_value());
    ids.insert(mail.fields().at("message_id").string_value());
  }
  EXPECT_EQ(recipients, std::set<std::string>(people.begin(), people.end()));
  EXPECT_EQ(ids.size(), people.size());
  // On the wire: the held mail went twice (the dead process's and its
  // successor's), under one Message-ID.
  const std::vector<std::string> duplicates = capture_->Duplicates();
  ASSERT_THAT(duplicates, SizeIs(1));
  EXPECT_EQ(duplicates[0],
            before_restart[0].fields().at("message_id").string_value());

  // The outbox agrees: all sent.
  auto admin = stack_->admin_token();
  mail::v1::ListMailResponse listed;
  const absl::Time deadline = absl::Now() + absl::Seconds(20);
  do {
    s = stub_->ListEventMail(As(admin).get(), {}, &listed);
    ASSERT_TRUE(s.ok()) << s.error_message();
    if (listed.sent_count() == static_cast<int64_t>(people.size())) break;
    absl::SleepFor(absl::Milliseconds(100));
  } while (absl::Now() < deadline);
  EXPECT_EQ(listed.sent_count(), static_cast<int64_t>(people.size()));
  EXPECT_EQ(listed.pending_count(), 0);
  // Every mail was claimed twice (the dead process had claimed them all).
  for (const mail::v1::Mail& m : listed.mail()) {
    EXPECT_EQ(m.attempts(), 2) << m.recipient();
  }
}

}  // namespace
}  // namespace smz::events

int main(int argc, char** argv) {
  ::testing::InitGoogleTest(&argc, argv);
  if (argc > 1) smz::events::g_events_binary = argv[1];
  return RUN_ALL_TESTS();
}
