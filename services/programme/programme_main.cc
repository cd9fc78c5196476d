// programme: the zone programme's projects, budgets and pledge indicators.
//
//   programme --listen=127.0.0.1:50054 --metrics_listen=127.0.0.1:9467
//     --mysql_dsn=mysql://smz_programme@127.0.0.1:3306/smz_programme
//     --mysql_credentials_file=/path/programme.mysql
//     --registry_target=127.0.0.1:50051
//
// Every flag also reads an SMZ_* environment variable (common/config.h).
#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/strings/str_cat.h"
#include "common/config.h"
#include "common/logging.h"
#include "common/server/service_runtime.h"
#include "services/programme/programme_server.h"

ABSL_FLAG(std::string, registry_target, "",
          "the registry's gRPC address, which resolves callers' tokens (env "
          "SMZ_REGISTRY_TARGET)");

int main(int argc, char** argv) {
  smz::ConfigureServiceProcess();
  smz::BlockTerminationSignals();
  absl::ParseCommandLine(argc, argv);
  absl::StatusOr<smz::ServiceConfig> config =
      smz::LoadServiceConfig("127.0.0.1:50054");
  if (!config.ok()) {
    return smz::ExitForBadConfiguration(config.status().message());
  }
  smz::programme::ProgrammeServerOptions options;
  options.server.listen = config->listen;
  options.server.metrics_listen = config->metrics_listen;
  options.database = config->database;
  options.registry_target = smz::FlagOrEnv(absl::GetFlag(FLAGS_registry_target),
                                           "SMZ_REGISTRY_TARGET", "");
  if (options.registry_target.empty()) {
    return smz::ExitForBadConfiguration("--registry_target is required");
  }
  absl::StatusOr<std::unique_ptr<smz::programme::ProgrammeServer>> server =
      smz::programme::ProgrammeServer::Start(options);
  if (!server.ok()) {
    return smz::ExitForStartFailure(server.status());
  }
  smz::Log(smz::LogLevel::kInfo, "programme serving",
           {{"listen", config->listen},
            {"grpc_port", absl::StrCat((*server)->port())},
            {"metrics_port", absl::StrCat((*server)->metrics_port())},
            {"database", config->database.database},
            {"registry", options.registry_target}});
  return smz::ServeUntilTerminated([&] { (*server)->Shutdown(); });
}
