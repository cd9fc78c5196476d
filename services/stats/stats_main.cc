// stats: the patient-attraction statistics service.
//
//   stats --listen=127.0.0.1:50052 --metrics_listen=127.0.0.1:9465
//     --mysql_dsn=mysql://smz_stats@127.0.0.1:3306/smz_stats
//     --mysql_credentials_file=/path/stats.mysql
//     --registry_target=127.0.0.1:50051
//     --registry_token_file=/path/stats.registry-token
//
// Every flag also reads an SMZ_* environment variable (common/config.h).

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "common/config.h"
#include "common/logging.h"
#include "common/server/service_runtime.h"
#include "services/stats/stats_server.h"

ABSL_FLAG(std::string, registry_target, "",
          "the registry's gRPC address (env SMZ_REGISTRY_TARGET)");
ABSL_FLAG(std::string, registry_token_file, "",
          "file holding this service's registry token, a read-only ANALYST "
          "token (env SMZ_REGISTRY_TOKEN_FILE)");
ABSL_FLAG(int, submission_deadline_days, 10,
          "days after month end that a month's reports stay open "
          "(env SMZ_SUBMISSION_DEADLINE_DAYS)");
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
  smz::ConfigureServiceProcess();
  smz::BlockTerminationSignals();
  absl::ParseCommandLine(argc, argv);
  absl::StatusOr<smz::ServiceConfig> config =
      smz::LoadServiceConfig("127.0.0.1:50052");
  if (!config.ok()) {
    return smz::ExitForBadConfiguration(config.status().message());
  }
  smz::stats::StatsServerOptions options;
  options.server.listen = config->listen;
  options.server.metrics_listen = config->metrics_listen;
  options.database = config->database;
  options.registry_target = smz::FlagOrEnv(absl::GetFlag(FLAGS_registry_target),
                                           "SMZ_REGISTRY_TARGET", "");
  const std::string token_file = smz::FlagOrEnv(
      absl::GetFlag(FLAGS_registry_token_file), "SMZ_REGISTRY_TOKEN_FILE", "");
  if (options.registry_target.empty() || token_file.empty()) {
    return smz::ExitForBadConfiguration(
        "--registry_target and --registry_token_file are "
        "required");
  }
  absl::StatusOr<std::string> token = smz::ReadTokenFile(token_file);
  if (!token.ok()) {
    return smz::ExitForBadConfiguration(token.status().message());
  }
  options.registry_token = *token;
  options.store.deadline_days =
      IntFlagOrEnv(absl::GetFlag(FLAGS_submission_deadline_days), 10,
                   "SMZ_SUBMISSION_DEADLINE_DAYS");
  options.stats.suppression_threshold =
      IntFlagOrEnv(absl::GetFlag(FLAGS_suppression_threshold), 5,
                   "SMZ_SUPPRESSION_THRESHOLD");
  absl::StatusOr<std::unique_ptr<smz::stats::StatsServer>> server =
      smz::stats::StatsServer::Start(options);
  if (!server.ok()) {
    return smz::ExitForStartFailure(server.status());
  }
  smz::Log(smz::LogLevel::kInfo, "stats serving",
           {{"listen", config->listen},
            {"grpc_port", absl::StrCat((*server)->port())},
            {"metrics_port", absl::StrCat((*server)->metrics_port())},
            {"database", config->database.database},
            {"registry", options.registry_target}});
  return smz::ServeUntilTerminated([&] { (*server)->Shutdown(); });
}
