// SmtpSender against a real SMTP server: tests/tools/smtp_capture.py
// (python3-aiosmtpd) on a loopback port, which keeps each mail as Python's
// email parser reads it.
#include "common/mail/smtp_sender.h"

#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/clock.h"
#include "gmock/gmock.h"
#include "google/protobuf/struct.pb.h"
#include "google/protobuf/util/json_util.h"
#include "gtest/gtest.h"

namespace smz {
namespace {

using ::testing::HasSubstr;

class SmtpSenderTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new std::string(
        absl::StrCat(SMZ_TEST_ARTIFACT_DIR, "/smtp_sender_test-mail"));
    std::filesystem::remove_all(*dir_);
    const std::string command = absl::StrCat(
        "exec /usr/bin/python3 '", SMZ_SMTP_CAPTURE, "' --dir '", *dir_, "'");
    capture_ = popen(command.c_str(), "r");
    ASSERT_NE(capture_, nullptr);
    char line[64] = {};
    ASSERT_NE(fgets(line, sizeof(line), capture_), nullptr)
        << "the capture server did not start (python3-aiosmtpd?)";
    ASSERT_EQ(sscanf(line, "PORT %d PID %d", &port_, &pid_), 2) << line;
  }
  static void TearDownTestSuite() {
    if (pid_ > 0) kill(pid_, SIGTERM);
    pclose(capture_);
  }

  SmtpOptions Options(int port) {
    SmtpOptions options;
    options.url = absl::StrCat("smtp://127.0.0.1:", port);
    options.require_tls = false;  // the capture server offers no STARTTLS
    options.timeout = absl::Seconds(10);
    return options;
  }

  // The mails the capture server kept, in the order it got them.
  std::vector<google::protobuf::Struct> Received() {
    std::vector<std::filesystem::path> files;
    for (const auto& entry : std::filesystem::directory_iterator(*dir_)) {
      if (entry.path().extension() == ".json") files.push_back(entry.path());
    }
    std::sort(files.begin(), files.end());
    std::vector<google::protobuf::Struct> out;
    for (const auto& file : files) {
      std::ifstream in(file);
      std::stringstream text;
      text << in.rdbuf();
      google::protobuf::Struct mail;
      EXPECT_TRUE(
          google::protobuf::util::JsonStringToMessage(text.str(), &mail).ok());
      out.push_back(mail);
    }
    return out;
  }

  static MailMessage Mail(const std::string& to, const std::string& id) {
    MailMessage mail;
    mail.from = "smz@yeongdeungpo.example";
    mail.from_name = "영등포 스마트메디컬특구";
    mail.to = to;
    mail.subject = "Бүртгэл баталгаажлаа — 등록 확인";
    mail.text = "Сайн байна уу.\n.a line that starts with a dot\n한국어 줄\n";
    mail.html = "<p>Сайн байна уу.</p>";
    mail.message_id = id;
    mail.language = "mn";
    return mail;
  }

  static inline std::string* dir_ = nullptr;
  static inline FILE* capture_ = nullptr;
  static inline int port_ = 0;
  static inline int pid_ = 0;
  SystemClock clock_;
};

TEST_F(SmtpSenderTest, AMailArrivesAsAMailProgramReadsIt) {
  SmtpSender sender(Options(port_), &clock_);
  const size_t before = Received().size();
  const absl::Status sent =
      sender.Send(Mail("agency@example.mn", "first.test@smz.example"));
  ASSERT_TRUE(sent.ok()) << sent;
  const std::vector<google::protobuf::Struct> received = Received();
  ASSERT_EQ(received.size(), before + 1);
  const auto& f = received.back().fields();
  EXPECT_EQ(f.at("mail_from").string_value(), "smz@yeongdeungpo.example");
  EXPECT_EQ(f.at("rcpt_tos").list_value().values(0).string_value(),
            "agency@example.mn");
  EXPECT_EQ(f.at("subject").string_value(), "Бүртгэл баталгаажлаа — 등록 확인");
  EXPECT_THAT(f.at("from").string_value(),
              HasSubstr("영등포 스마트메디컬특구"));
  EXPECT_EQ(f.at("message_id").string_value(), "<first.test@smz.example>");
  EXPECT_EQ(f.at("content_language").string_value(), "mn");
  // Text travels with CRLF line ends, as MIME wants.
  EXPECT_EQ(
      f.at("text").string_value(),
      "Сайн байна уу.\r\n.a line that starts with a dot\r\n한국어 줄\r\n");
  EXPECT_EQ(f.at("html").string_value(), "<p>Сайн байна уу.</p>");
  EXPECT_EQ(f.at("defects").list_value().values_size(), 0);
  EXPECT_FALSE(f.at("eight_bit").bool_value());
  EXPECT_LE(f.at("longest_line").number_value(), 78);
}

TEST_F(SmtpSenderTest, ARefusalSaysWhetherToTryAgain) {
  SmtpSender sender(Options(port_), &clock_);
  // 550: refused for good; 451: later.
  EXPECT_EQ(sender.Send(Mail("nobody@reject.example", "r1@smz.example")).code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(sender.Send(Mail("busy@later.example", "r2@smz.example")).code(),
            absl::StatusCode::kUnavailable);
  // A malformed mail never reaches the relay.
  MailMessage bad = Mail("agency@example.mn", "r3@smz.example");
  bad.subject = "x\r\nBcc: all@example.com";
  EXPECT_EQ(sender.Send(bad).code(), absl::StatusCode::kInvalidArgument);
}

// Without TLS nothing is sent unless plain SMTP was chosen, and never a
// password: the capture server offers no STARTTLS.
TEST_F(SmtpSenderTest, NothingGoesInTheClearUnlessChosen) {
  const size_t before = Received().size();
  SmtpOptions options = Options(port_);
  options.require_tls = true;
  SmtpSender strict(options, &clock_);
  EXPECT_EQ(strict.Send(Mail("agency@example.mn", "t1@smz.example")).code(),
            absl::StatusCode::kFailedPrecondition);
  options.require_tls = false;
  options.username = "smz";
  options.password = "relay secret";
  SmtpSender login(options, &clock_);
  EXPECT_EQ(login.Send(Mail("agency@example.mn", "t2@smz.example")).code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(Received().size(), before);
}

TEST_F(SmtpSenderTest, ARelayThatIsDownIsUnavailable) {
  // A port nobody listens on: bound, then closed.
  const int probe = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(bind(probe, reinterpret_cast<sockaddr*>(&address), sizeof(address)),
            0);
  socklen_t length = sizeof(address);
  getsockname(probe, reinterpret_cast<sockaddr*>(&address), &length);
  close(probe);
  SmtpSender sender(Options(ntohs(address.sin_port)), &clock_);
  EXPECT_EQ(sender.Send(Mail("agency@example.mn", "d1@smz.example")).code(),
            absl::StatusCode::kUnavailable);
}

}  // namespace
}  // namespace smz
