// events: the events, fam tours and registrations service.
//
//   events --listen=127.0.0.1:50053 --metrics_listen=127.0.0.1:9466
//     --mysql_dsn=mysql://smz_events@127.0.0.1:3306/smz_events
//     --mysql_credentials_file=/path/events.mysql
//     --registry_target=127.0.0.1:50051
//     --registry_token_file=/path/events.registry-token
//     --smtp_url=smtp://relay.example:587 --mail_from=smz@example.org
//
// Every flag also reads an SMZ_* environment variable (common/config.h,
// common/server/service_main.h).

#include "common/mail/mail_config.h"
#include "common/server/service_main.h"
#include "services/events/events_server.h"

int main(int argc, char** argv) {
  return smz::ServiceMain(
      argc, argv,
      {"events", "127.0.0.1:50053", smz::RegistryUse::kCallersAndPartners},
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
        options.registry_target = config.registry_target;
        options.registry_token = config.registry_token;
        return smz::events::EventsServer::Start(options);
      });
}
