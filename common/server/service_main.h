// The part of a service's main that is not the service: process set-up
// (signals, logs), flags, configuration from flags or SMZ_* variables (listen
// addresses, database, how to reach the registry), start-up failure codes,
// one "serving" log line and serving until SIGTERM. A main names its service
// and turns the configuration into its own server options.
//
//   int main(int argc, char** argv) {
//     return smz::ServiceMain(
//         argc, argv, {"programme", "127.0.0.1:50054",
//         smz::RegistryUse::kCallers, &smz::programme::ProgrammeMigrations},
//         [](const smz::MainConfig& config) {
//           smz::programme::ProgrammeServerOptions options;
//           smz::ApplyMainConfig(config, &options);
//           options.registry_target = config.registry_target;
//           return smz::programme::ProgrammeServer::Start(options);
//         });
//   }
//
// A main with more to do (the registry's break-glass path, the stats
// service's own flags) calls BeginServiceMain and ServeStarted itself.
#ifndef SMZ_COMMON_SERVER_SERVICE_MAIN_H_
#define SMZ_COMMON_SERVER_SERVICE_MAIN_H_

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "common/config.h"
#include "common/mysql/migrations.h"
#include "common/server/service_runtime.h"

namespace smz {

// What a service needs of the registry.
enum class RegistryUse {
  kIsRegistry,         // it is the registry: --registry_* flags are refused
  kCallers,            // resolves callers' tokens: --registry_target
  kCallersAndPartners  // also reads partners with its own token:
                       // --registry_target and --registry_token_file
};

struct ServiceMainSpec {
  const char* name;            // "events", in the serving log line
  const char* default_listen;  // "127.0.0.1:50053"
  RegistryUse registry;
  // The service's schema (its <service>_schema.h), for --migrate_only.
  const std::vector<Migration>& (*migrations)() = nullptr;
};

struct MainConfig {
  ServiceConfig service;
  std::string registry_target;  // empty for the registry itself
  std::string registry_token;   // kCallersAndPartners only
};

// The registry's address from --registry_target or SMZ_REGISTRY_TARGET
// (empty when neither is set), for mains without a database (the gateway).
std::string RegistryTargetFlag();

// Whether --migrate_only (SMZ_MIGRATE_ONLY) asks for migrations only; for
// the gateway, which has none and refuses it. INVALID_ARGUMENT unless
// "true" or "false".
absl::StatusOr<bool> MigrateOnlyFlag();

// Sets the process up, parses the flags and reads the configuration.
// INVALID_ARGUMENT names what is missing or wrong.
//
// With --migrate_only (SMZ_MIGRATE_ONLY=true) the process applies the
// service's migrations to its database, waiting for it as a start does, and
// exits (std::exit, before any thread of ours runs): 0 when the schema is
// current, else ExitForStartFailure's code (2 for a bad value). It needs the
// database settings only (no registry, no mail; TLS settings are still
// checked): a Kubernetes Job or the upgrade procedure's first step runs it
// before any new replica.
absl::StatusOr<MainConfig> BeginServiceMain(int argc, char** argv,
                                            const ServiceMainSpec& spec);

// Copies the listen addresses and the database into a server's options.
template <typename Options>
void ApplyMainConfig(const MainConfig& config, Options* options) {
  options->server.listen = config.service.listen;
  options->server.metrics_listen = config.service.metrics_listen;
  options->server.health_listen = config.service.health_listen;
  options->server.tls = config.service.tls;
  options->database = config.service.database;
}

void LogServing(const ServiceMainSpec& spec, const MainConfig& config,
                int grpc_port, int metrics_port);

// Serves a started server until SIGTERM; a server that did not start exits
// with ExitForStartFailure's code.
template <typename Server>
int ServeStarted(const ServiceMainSpec& spec, const MainConfig& config,
                 absl::StatusOr<std::unique_ptr<Server>> server) {
  if (!server.ok()) return ExitForStartFailure(server.status());
  LogServing(spec, config, (*server)->port(), (*server)->metrics_port());
  return ServeUntilTerminated([&] { (*server)->Shutdown(); });
}

// BeginServiceMain, `start(config)`, ServeStarted.
template <typename Start>
int ServiceMain(int argc, char** argv, const ServiceMainSpec& spec,
                Start start) {
  absl::StatusOr<MainConfig> config = BeginServiceMain(argc, argv, spec);
  if (!config.ok()) return ExitForBadConfiguration(config.status().message());
  return ServeStarted(spec, *config, start(*config));
}

}  // namespace smz

#endif  // SMZ_COMMON_SERVER_SERVICE_MAIN_H_
