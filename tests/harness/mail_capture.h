// A real SMTP server for tests (tests/tools/smtp_capture.py, on Debian's
// python3-aiosmtpd) on a loopback port, and what it kept: each mail as
// Python's email parser reads it, one per Message-ID, and the copies that
// crossed the wire again.
//
//   absl::StatusOr<std::unique_ptr<MailCapture>> capture =
//       MailCapture::Start("build/test-artifacts/events-mail");
//   options.smtp = (*capture)->SmtpOptions();
//   std::vector<google::protobuf::Struct> mail = (*capture)->WaitFor(3);
//   mail[0].fields().at("subject").string_value();
#ifndef SMZ_TESTS_HARNESS_MAIL_CAPTURE_H_
#define SMZ_TESTS_HARNESS_MAIL_CAPTURE_H_

#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "common/mail/smtp_sender.h"
#include "google/protobuf/struct.pb.h"

namespace smz::testing {

class MailCapture {
 public:
  // Empties `dir` and starts the server there; mail to hold.example is
  // answered `hold` after it was kept.
  static absl::StatusOr<std::unique_ptr<MailCapture>> Start(
      const std::string& dir, absl::Duration hold = absl::Seconds(5));
  ~MailCapture();  // stops the server

  int port() const { return port_; }
  const std::string& dir() const { return dir_; }
  // Plain SMTP to this server (it offers no STARTTLS).
  smz::SmtpOptions SmtpOptions() const;
  std::string Url() const;

  // The mail kept, in the order it arrived.
  std::vector<google::protobuf::Struct> Received() const;
  // Waits up to `timeout` for at least `count` mails; returns what there is.
  std::vector<google::protobuf::Struct> WaitFor(
      size_t count, absl::Duration timeout = absl::Seconds(20)) const;
  // The mail to `address` (its first recipient), in the order it arrived;
  // waits up to `timeout` for at least `count` of them.
  std::vector<google::protobuf::Struct> WaitForMailTo(
      const std::string& address, size_t count,
      absl::Duration timeout = absl::Seconds(20)) const;
  // Message-IDs that arrived again after a copy was kept, once per copy.
  std::vector<std::string> Duplicates() const;

  // What a QR reader (zbarimg) read from `mail`'s inline QR image (the
  // part whose Content-ID is a QrContentId, common/mail/mail_message.h);
  // "" without.
  static std::string QrCodeOf(const google::protobuf::Struct& mail);

 private:
  MailCapture() = default;
  std::string dir_;
  FILE* pipe_ = nullptr;
  int port_ = 0;
  int pid_ = 0;
};

}  // namespace smz::testing

#endif  // SMZ_TESTS_HARNESS_MAIL_CAPTURE_H_
