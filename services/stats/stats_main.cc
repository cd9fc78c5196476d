// stats: the patient-attraction statistics service.
//
//   stats --listen=127.0.0.1:50052 --metrics_listen=127.0.0.1:9465
//     --mysql_dsn=mysql://smz_stats@127.0.0.1:3306/smz_stats
//     --mysql_credentials_file=/path/stats.mysql
//     --registry_target=127.0.0.1:50051
//     --registry_token_file=/path/stats.registry-token
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
#include "services/stats/stats_schema.h"
#include "services/stats/stats_server.h"

ABSL_FLAG(int, submission_deadline_days, 10,
          "days after month end that a month's reports stay open "
          "(env SMZ_SUBMISSION_DEADLINE_DAYS)");
ABSL_FLAG(std::string, public_url, "",
          "where hospitals reach their pages (the gateway), e.g. "
          "https://smz.example.org: the report reminders link to the form "
          "under it (SMZ_PUBLIC_URL; default http://127.0.0.1:8055)");
ABSL_FLAG(int, suppression_threshold, 5,
          "single-partner cells below this are suppressed for non-ADMIN "
          "readers (env SMZ_SUPPRESSION_THRESHOLD)");

namespace {

int IntFlagOrEnv(int flag_value, int flag_default, const char* env) {
  if (flag_value != flag_default) return flag_value;
  const std::string text = smz::FlagOrEnv("", env, "");
  int value = 0;
  return !text.empty() && absl::SimpleAtoi(text, &value) ? value : flag_value;
}

}  // namespace

int main(int argc, char** argv) {
  const smz::ServiceMainSpec spec{"stats", "127.0.0.1:50052",
                                  smz::RegistryUse::kCallersAndPartners,
                                  &smz::stats::StatsMigrations};
  absl::StatusOr<smz::MainConfig> config =
      smz::BeginServiceMain(argc, argv, spec);
  if (!config.ok()) {
    return smz::ExitForBadConfiguration(config.status().message());
  }
  smz::stats::StatsServerOptions options;
  smz::ApplyMainConfig(*config, &options);
  options.registry_target = config->registry_target;
  options.registry_token = config->registry_token;
  options.store.deadline_days =
      IntFlagOrEnv(absl::GetFlag(FLAGS_submission_deadline_days), 10,
                   "SMZ_SUBMISSION_DEADLINE_DAYS");
  options.stats.suppression_threshold =
      IntFlagOrEnv(absl::GetFlag(FLAGS_suppression_threshold), 5,
                   "SMZ_SUPPRESSION_THRESHOLD");
  absl::StatusOr<smz::MailConfig> mail = smz::LoadMailConfig("stats");
  if (!mail.ok()) return smz::ExitForBadConfiguration(mail.status().message());
  options.outbox = mail->outbox;
  options.smtp = mail->smtp;
  options.public_url = smz::FlagOrEnv(absl::GetFlag(FLAGS_public_url),
                                      "SMZ_PUBLIC_URL", options.public_url);
  return smz::ServeStarted(spec, *config,
                           smz::stats::StatsServer::Start(options));
}
