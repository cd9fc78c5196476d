#include "common/server/service_main.h"

#include <cstdlib>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/strings/str_cat.h"
#include "common/clock.h"
#include "common/logging.h"
#include "common/mysql/database.h"
#include "common/version.h"

ABSL_FLAG(std::string, registry_target, "",
          "the registry's gRPC address, which resolves callers' tokens (env "
          "SMZ_REGISTRY_TARGET)");
ABSL_FLAG(std::string, registry_token_file, "",
          "file holding this service's own registry token, a read-only "
          "ANALYST token for its partner directory (env "
          "SMZ_REGISTRY_TOKEN_FILE)");
ABSL_FLAG(std::string, migrate_only, "",
          "\"true\": apply the service's schema migrations and exit, serving "
          "nothing (env SMZ_MIGRATE_ONLY; default false)");

namespace smz {
namespace {

// --migrate_only: migrations applied, the process ends here.
[[noreturn]] void MigrateAndExit(const ServiceMainSpec& spec,
                                 const ServiceConfig& service) {
  Database database(service.database);
  absl::Status migrated = ApplyMigrationsWhenReady(
      database, spec.migrations(), SystemClock::Get(), absl::Seconds(60));
  int code = 0;
  if (migrated.ok()) {
    absl::StatusOr<int> version = CurrentSchemaVersion(database);
    Log(LogLevel::kInfo, absl::StrCat(spec.name, " schema current"),
        {{"database", service.database.database},
         {"schema_version",
          version.ok() ? absl::StrCat(*version) : std::string("?")},
         {"version", Version()}});
  } else {
    code = ExitForStartFailure(migrated);
  }
  database.Close();
  std::exit(code);
}

}  // namespace

std::string RegistryTargetFlag() {
  return FlagOrEnv(absl::GetFlag(FLAGS_registry_target), "SMZ_REGISTRY_TARGET",
                   "");
}

absl::StatusOr<bool> MigrateOnlyFlag() {
  const std::string migrate_only =
      FlagOrEnv(absl::GetFlag(FLAGS_migrate_only), "SMZ_MIGRATE_ONLY", "false");
  if (migrate_only != "true" && migrate_only != "false") {
    return absl::InvalidArgumentError("migrate_only: true or false");
  }
  return migrate_only == "true";
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
  absl::StatusOr<bool> migrate_only = MigrateOnlyFlag();
  if (!migrate_only.ok()) return migrate_only.status();
  if (*migrate_only) {
    if (spec.migrations == nullptr) {
      return absl::InvalidArgumentError(
          absl::StrCat("migrate_only: ", spec.name, " has no schema"));
    }
    MigrateAndExit(spec, config.service);
  }
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
       {"registry", config.registry_target},
       {"version", Version()}});
}

}  // namespace smz
