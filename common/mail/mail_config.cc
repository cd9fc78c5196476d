#include "common/mail/mail_config.h"

#include <unistd.h>

#include <algorithm>

#include "absl/flags/flag.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "common/config.h"
#include "common/mail/mail_message.h"

ABSL_FLAG(std::string, smtp_url, "",
          "the mail relay, smtp://host:port (STARTTLS) or smtps://host:port; "
          "empty: mail is queued and not sent (env SMZ_SMTP_URL)");
ABSL_FLAG(std::string, smtp_username, "",
          "login at the relay, optional (env SMZ_SMTP_USERNAME)");
ABSL_FLAG(std::string, smtp_password_file, "",
          "file holding password=... for the relay login (env "
          "SMZ_SMTP_PASSWORD_FILE)");
ABSL_FLAG(std::string, smtp_plaintext, "",
          "\"yes\": a relay on loopback or a trusted network may take mail "
          "without TLS, never with a login (env SMZ_SMTP_PLAINTEXT)");
ABSL_FLAG(std::string, smtp_ca_file, "",
          "PEM file of the CAs the relay's certificate is checked against "
          "(default: the system's) (env SMZ_SMTP_CA_FILE)");
ABSL_FLAG(std::string, mail_from, "",
          "the sender address of the service's mail (env SMZ_MAIL_FROM)");
ABSL_FLAG(std::string, mail_from_name, "",
          "the sender's display name (env SMZ_MAIL_FROM_NAME)");
ABSL_FLAG(std::string, mail_domain, "",
          "the domain of Message-IDs and the EHLO name (env SMZ_MAIL_DOMAIN)");
ABSL_FLAG(std::string, mail_lease_seconds, "",
          "how long a message being sent is left to its sender before "
          "another may send it (env SMZ_MAIL_LEASE_SECONDS; default 120)");

namespace smz {

absl::StatusOr<MailConfig> LoadMailConfig(absl::string_view service) {
  MailConfig config;
  OutboxOptions& outbox = config.outbox;
  outbox.service = std::string(service);
  outbox.from = FlagOrEnv(absl::GetFlag(FLAGS_mail_from), "SMZ_MAIL_FROM",
                          "smz@smz.yeongdeungpo.example");
  outbox.from_name =
      FlagOrEnv(absl::GetFlag(FLAGS_mail_from_name), "SMZ_MAIL_FROM_NAME",
                "영등포 스마트메디컬특구 (Yeongdeungpo Smart Medical Zone)");
  outbox.message_domain =
      FlagOrEnv(absl::GetFlag(FLAGS_mail_domain), "SMZ_MAIL_DOMAIN",
                "smz.yeongdeungpo.example");
  if (!IsMailAddress(outbox.from)) {
    return absl::InvalidArgumentError(
        absl::StrCat("--mail_from: '", outbox.from,
                     "' is not a plain ASCII e-mail address"));
  }
  if (!IsMailAddress(absl::StrCat("x@", outbox.message_domain))) {
    return absl::InvalidArgumentError(
        "--mail_domain: not a host name (example.org)");
  }
  // A setting no mail could carry would fail every mail, one by one: the
  // largest Message-ID and the sender are checked once, here.
  MailMessage sample;
  sample.from = outbox.from;
  sample.from_name = outbox.from_name;
  sample.to = "someone@example.org";
  sample.subject = "-";
  sample.text = "-";
  sample.message_id =
      absl::StrCat(INT64_MAX, ".", service, "@", outbox.message_domain);
  const absl::Status writable = ValidateMail(sample);
  if (!writable.ok()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "--mail_from, --mail_from_name or --mail_domain (the Message-ID "
        "domain must be short): ",
        writable.message()));
  }
  const std::string lease = FlagOrEnv(absl::GetFlag(FLAGS_mail_lease_seconds),
                                      "SMZ_MAIL_LEASE_SECONDS", "120");
  int lease_seconds = 0;
  if (!absl::SimpleAtoi(lease, &lease_seconds) || lease_seconds < 1 ||
      lease_seconds > 3600) {
    return absl::InvalidArgumentError(
        "--mail_lease_seconds: a whole number from 1 to 3600");
  }
  outbox.lease = absl::Seconds(lease_seconds);
  char host[256] = {};
  gethostname(host, sizeof(host) - 1);
  // Unique per process: a restarted worker does not take over its
  // predecessor's leases before they run out.
  outbox.worker_id =
      absl::StrCat(host, ":", getpid(), ":", absl::ToUnixMicros(absl::Now()));

  const std::string url =
      FlagOrEnv(absl::GetFlag(FLAGS_smtp_url), "SMZ_SMTP_URL", "");
  if (url.empty()) return config;
  SmtpOptions smtp;
  smtp.url = url;
  smtp.ehlo_name = outbox.message_domain;
  smtp.username =
      FlagOrEnv(absl::GetFlag(FLAGS_smtp_username), "SMZ_SMTP_USERNAME", "");
  const std::string password_file = FlagOrEnv(
      absl::GetFlag(FLAGS_smtp_password_file), "SMZ_SMTP_PASSWORD_FILE", "");
  if (!password_file.empty()) {
    absl::StatusOr<std::string> password = ReadPasswordFile(password_file);
    if (!password.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat("--smtp_password_file: ", password.status().message()));
    }
    smtp.password = *std::move(password);
  }
  const std::string plaintext =
      FlagOrEnv(absl::GetFlag(FLAGS_smtp_plaintext), "SMZ_SMTP_PLAINTEXT", "");
  if (!plaintext.empty() && plaintext != "yes" && plaintext != "no") {
    return absl::InvalidArgumentError("--smtp_plaintext: yes or no");
  }
  smtp.require_tls = plaintext != "yes";
  smtp.ca_file =
      FlagOrEnv(absl::GetFlag(FLAGS_smtp_ca_file), "SMZ_SMTP_CA_FILE", "");
  // The lease must outlast one attempt.
  smtp.timeout = std::min(absl::Seconds(30), outbox.lease / 2);
  config.smtp = std::move(smtp);
  return config;
}

}  // namespace smz
