// Sending mail through an SMTP relay (libcurl): STARTTLS whenever the relay
// offers it (or required), a login when configured, bounded waits. A
// refusal says whether trying again later can help:
//   UNAVAILABLE          the relay is unreachable, slow, or answered 4xx;
//   FAILED_PRECONDITION  it refused for good (5xx, a failed login);
//   INVALID_ARGUMENT     the mail itself is malformed (ValidateMail).
//
//   smz::SmtpOptions options;
//   options.url = "smtp://127.0.0.1:2525";
//   smz::SmtpSender sender(options, &clock);
//   absl::Status sent = sender.Send(mail);
#ifndef SMZ_COMMON_MAIL_SMTP_SENDER_H_
#define SMZ_COMMON_MAIL_SMTP_SENDER_H_

#include <string>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "common/clock.h"
#include "common/mail/mail_message.h"

namespace smz {

// Where mail goes. Implementations: SmtpSender; tests may capture instead.
class MailSender {
 public:
  virtual ~MailSender() = default;
  virtual absl::Status Send(const MailMessage& mail) = 0;
};

struct SmtpOptions {
  // smtp://host:port (STARTTLS when offered) or smtps://host:port.
  std::string url;
  // Refuse to send in the clear when the relay offers no STARTTLS.
  bool require_tls = false;
  // Optional login; the password is never logged.
  std::string username;
  std::string password;
  // The relay's certificate is checked against the system's CAs, or this
  // PEM file's.
  std::string ca_file;
  absl::Duration timeout = absl::Seconds(30);
};

class SmtpSender : public MailSender {
 public:
  SmtpSender(SmtpOptions options, const Clock* clock);
  absl::Status Send(const MailMessage& mail) override;

 private:
  const SmtpOptions options_;
  const Clock* const clock_;
};

}  // namespace smz

#endif  // SMZ_COMMON_MAIL_SMTP_SENDER_H_
