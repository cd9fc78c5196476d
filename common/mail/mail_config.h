// How a service reaches its mail relay, from flags or SMZ_* variables
// (--smtp_url / SMZ_SMTP_URL, ...). Without a relay the service still queues
// mail in its outbox, and sends it once one is configured.
//
//   absl::StatusOr<smz::MailConfig> mail = smz::LoadMailConfig("events");
//   std::unique_ptr<smz::MailSender> sender;
//   if (mail->smtp.has_value()) {
//     sender = std::make_unique<smz::SmtpSender>(*mail->smtp, &clock);
//   }
#ifndef SMZ_COMMON_MAIL_MAIL_CONFIG_H_
#define SMZ_COMMON_MAIL_MAIL_CONFIG_H_

#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "common/mail/outbox.h"
#include "common/mail/smtp_sender.h"

namespace smz {

struct MailConfig {
  std::optional<SmtpOptions> smtp;  // unset: no relay
  OutboxOptions outbox;             // service, sender, lease, worker id
};

// INVALID_ARGUMENT names what is wrong (a password file that cannot be
// read, a From address a mail cannot carry).
absl::StatusOr<MailConfig> LoadMailConfig(absl::string_view service);

}  // namespace smz

#endif  // SMZ_COMMON_MAIL_MAIL_CONFIG_H_
