// events: the events, fam tours and registrations service.
//
//   events --listen=127.0.0.1:50053 --metrics_listen=127.0.0.1:9466
//     --mysql_dsn=mysql://smz_events@127.0.0.1:3306/smz_events
//     --mysql_credentials_file=/path/events.mysql
//     --registry_target=127.0.0.1:50051
//     --registry_token_file=/path/events.registry-token
//
// Every flag also reads an SMZ_* environment variable (common/config.h).

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "common/config.h"
#include "common/logging.h"
#include "common/server/service_runtime.h"
#include "services/events/events_server.h"

ABSL_FLAG(std::string, registry_target, "",
          "the registry's gRPC address (env SMZ_REGISTRY_TARGET)");
ABSL_FLAG(std::string, registry_token_file, "",
          "file holding this service's registry token, a read-only ANALYST "
          "token (env SMZ_REGISTRY_TOKEN_FILE)");
int main(int argc, char** argv) {
  smz::ConfigureServiceProcess();
  smz::BlockTerminationSignals();
  absl::ParseCommandLine(argc, argv);
  absl::StatusOr<smz::ServiceConfig> config =
      smz::LoadServiceConfig("127.0.0.1:50053");
  if (!config.ok()) {
    return smz::ExitForBadConfiguration(config.status().message());
  }
  smz::events::EventsServerOptions options;
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
  absl::StatusOr<std::unique_ptr<smz::events::EventsServer>> server =
      smz::events::EventsServer::Start(options);
  if (!server.ok()) {
    return smz::ExitForStartFailure(server.status());
  }
  smz::Log(smz::LogLevel::kInfo, "events serving",
           {{"listen", config->listen},
            {"grpc_port", absl::StrCat((*server)->port())},
            {"metrics_port", absl::StrCat((*server)->metrics_port())},
            {"database", config->database.database},
            {"registry", options.registry_target}});
  return smz::ServeUntilTerminated([&] { (*server)->Shutdown(); });
}
