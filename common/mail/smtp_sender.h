// Sending mail through an SMTP relay (libcurl): TLS (STARTTLS or smtps)
// unless plain SMTP is chosen explicitly, and always with a login, so a
// password or a registrant's details never cross the network in the clear;
// bounded waits. A refusal says whether trying again later can help:
//   UNAVAILABLE          the relay is unreachable, slow, or answered 4xx —
//                        also after the message was sent but before the
//                        relay said so: the retry is the same mail (same
//                        Message-ID) for the mailbox to drop;
//   FAILED_PRECONDITION  it refused for good (5xx), or the set-up is wrong
//                        (login refused, TLS required but not offered, a
//                        bad URL): the relay's reply is in the message;
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
  // smtp://host:port (with STARTTLS) or smtps://host:port.
  std::string url;
  // False only for a relay on loopback or a trusted network (the local
  // stack's capture server): mail then goes in the clear when the relay
  // offers no STARTTLS. Never without TLS when a login is configured.
  bool require_tls = true;
  // The name this host gives in EHLO; relays check it is a host name.
  std::string ehlo_name = "localhost.localdomain";
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
