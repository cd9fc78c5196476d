#include "common/server/service_main.h"

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/strings/str_cat.h"
#include "common/logging.h"

ABSL_FLAG(std::string, registry_target, "",
          "the registry's gRPC address, which resolves callers' tokens (env "
          "SMZ_REGISTRY_TARGET)");
ABSL_FLAG(std::string, registry_token_file, "",
          "file holding this service's own registry token, a read-only "
          "ANALYST token for its partner directory (env "
          "SMZ_REGISTRY_TOKEN_FILE)");

namespace smz {

std::string RegistryTargetFlag() {
  return FlagOrEnv(absl::GetFlag(FLAGS_registry_target), "SMZ_REGISTRY_TARGET",
                   "");
}

absl::StatusOr<MainConfig> BeginServiceMain(int argc, char** argv,
                                            const ServiceMainSpec& spec) {
  ConfigureServiceProcess();
  BlockTerminationSignals();  // before any thread starts
  absl::ParseCommandLine(argc, argv);
  MainConfig config;
  absl::StatusOr<ServiceConfig> service =
      LoadServiceConfig(spec.default_listen);
  if (!service.ok()) return service.status();
  config.service = *std::move(service);
  const std::string target = RegistryTargetFlag();
  const std::string token_file = FlagOrEnv(
      absl::GetFlag(FLAGS_registry_token_file), "SMZ_REGISTRY_TOKEN_FILE", "");
  switch (spec.registry) {
    case RegistryUse::kIsRegistry:
      if (!target.empty() || !token_file.empty()) {
        return absl::InvalidArgumentError(
            "--registry_target and --registry_token_file are for the "
            "services that call the registry, not for the registry");
      }
      break;
    case RegistryUse::kCallers:
      if (target.empty()) {
        return absl::InvalidArgumentError("--registry_target is required");
      }
      config.registry_target = target;
      break;
    case RegistryUse::kCallersAndPartners: {
      if (target.empty() || token_file.empty()) {
        return absl::InvalidArgumentError(
            "--registry_target and --registry_token_file are required");
      }
      absl::StatusOr<std::string> token = ReadTokenFile(token_file);
      if (!token.ok()) return token.status();
      config.registry_target = target;
      config.registry_token = *std::move(token);
      break;
    }
  }
  return config;
}

void LogServing(const ServiceMainSpec& spec, const MainConfig& config,
                int grpc_port, int metrics_port) {
  Log(LogLevel::kInfo, absl::StrCat(spec.name, " serving"),
      {{"listen", config.service.listen},
       {"grpc_port", absl::StrCat(grpc_port)},
       {"metrics_port", absl::StrCat(metrics_port)},
       {"database", config.service.database.database},
       {"registry", config.registry_target}});
}

}  // namespace smz
