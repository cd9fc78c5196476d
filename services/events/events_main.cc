// events: the events, fam tours and registrations service.
//
//   events --listen=127.0.0.1:50053 --metrics_listen=127.0.0.1:9466
//     --mysql_dsn=mysql://smz_events@127.0.0.1:3306/smz_events
//     --mysql_credentials_file=/path/events.mysql
//     --registry_target=127.0.0.1:50051
//     --registry_token_file=/path/events.registry-token
//     --smtp_url=smtp://relay.example:587 --mail_from=smz@example.org
//     --public_url=https://smz.example.org
//
// Every flag also reads an SMZ_* environment variable (common/config.h,
// common/server/service_main.h).

#include "absl/flags/flag.h"
#include "absl/strings/numbers.h"
#include "common/config.h"
#include "common/mail/mail_config.h"
#include "common/server/service_main.h"
#include "services/events/events_schema.h"
#include "services/events/events_server.h"

ABSL_FLAG(std::string, public_url, "",
          "where people reach the public pages (the gateway), e.g. "
          "https://smz.example.org: the links mailed to people who sign up "
          "start with it (SMZ_PUBLIC_URL; default http://127.0.0.1:8055)");
ABSL_FLAG(std::string, registration_retention_days, "",
          "days after an event when the personal data of its registrations "
          "that are not a partner's staff are erased "
          "(SMZ_REGISTRATION_RETENTION_DAYS; default 365)");

int main(int argc, char** argv) {
  return smz::ServiceMain(
      argc, argv,
      {"events", "127.0.0.1:50053", smz::RegistryUse::kCallersAndPartners,
       &smz::events::EventsMigrations},
      [](const smz::MainConfig& config) {
        smz::events::EventsServerOptions options;
        smz::ApplyMainConfig(config, &options);
        absl::StatusOr<smz::MailConfig> mail = smz::LoadMailConfig("events");
        if (!mail.ok()) {
          return absl::StatusOr<std::unique_ptr<smz::events::EventsServer>>(
              mail.status());
        }
        options.outbox = mail->outbox;
        options.smtp = mail->smtp;
        options.public_side.public_url =
            smz::FlagOrEnv(absl::GetFlag(FLAGS_public_url), "SMZ_PUBLIC_URL",
                           options.public_side.public_url);
        const std::string retention =
            smz::FlagOrEnv(absl::GetFlag(FLAGS_registration_retention_days),
                           "SMZ_REGISTRATION_RETENTION_DAYS", "365");
        if (!absl::SimpleAtoi(retention, &options.public_side.retention_days) ||
            options.public_side.retention_days < 30 ||
            options.public_side.retention_days > 3650) {
          return absl::StatusOr<std::unique_ptr<smz::events::EventsServer>>(
              absl::InvalidArgumentError(
                  "registration_retention_days: a number of days from 30 to "
                  "3650"));
        }
        options.registry_target = config.registry_target;
        options.registry_token = config.registry_token;
        return smz::events::EventsServer::Start(options);
      });
}
