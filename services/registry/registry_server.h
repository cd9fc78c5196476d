// A complete registry server in one object: the shared Backend (database
// pool, migrations, health, reflection, metrics) with callers resolved from
// the registry's own token table, the bootstrap admin token, and the gRPC
// service. The binary (registry_main.cc), the tests and the benchmark all
// start it the same way.
//
//   RegistryServerOptions options;
//   options.database = ...;               // the registry's own database
//   options.server.listen = "127.0.0.1:0";
//   auto server = RegistryServer::Start(options);
//   int port = (*server)->port();
//   (*server)->Shutdown();
#ifndef SMZ_SERVICES_REGISTRY_REGISTRY_SERVER_H_
#define SMZ_SERVICES_REGISTRY_REGISTRY_SERVER_H_

#include <functional>
#include <memory>
#include <string>

#include "absl/functional/function_ref.h"
#include "absl/status/statusor.h"
#include "common/auth/authenticator.h"
#include "common/auth/token.h"
#include "common/clock.h"
#include "common/mysql/database.h"
#include "common/server/backend.h"
#include "common/server/metrics.h"
#include "common/server/service_runtime.h"
#include "services/registry/registry.h"
#include "services/registry/registry_grpc_service.h"
#include "services/registry/registry_store.h"

namespace smz::registry {

struct RegistryServerOptions {
  ServerOptions server;
  DatabaseOptions database;
  // How long start-up waits for the database to apply migrations.
  absl::Duration startup_timeout = absl::Seconds(60);
  absl::Duration token_cache_ttl = absl::Seconds(10);
  const Clock* clock = &SystemClock::Get();
  RandomSource* random = nullptr;  // null: SecureRandom
  // When set, on a deployment's first start (no active ADMIN token) a new
  // admin token is handed to this function (e.g. to write a 0600 file)
  // before the server starts serving, so "SERVING" implies it exists.
  std::function<absl::Status(const std::string& token)>
      deliver_bootstrap_admin_token;
};

class RegistryServer {
 public:
  // Break-glass, without serving: applies the migrations, then issues a new
  // ADMIN token (Registry::IssueBreakGlassAdminToken) delivered to
  // `deliver`, audited as by `actor`.
  static absl::StatusOr<v1::TokenInfo> IssueBreakGlassAdminToken(
      const RegistryServerOptions& options, absl::string_view actor,
      absl::FunctionRef<absl::Status(const std::string& token)> deliver);

  static absl::StatusOr<std::unique_ptr<RegistryServer>> Start(
      RegistryServerOptions options);
  ~RegistryServer();

  int port() const { return backend_->port(); }
  int metrics_port() const { return backend_->metrics_port(); }
  Registry& registry() { return *registry_; }
  RpcMetrics& metrics() { return backend_->metrics(); }
  // Stops accepting, finishes in-flight RPCs, closes the pool. Idempotent.
  void Shutdown();

 private:
  explicit RegistryServer(RegistryServerOptions options);

  RegistryServerOptions options_;
  SecureRandom secure_random_;
  std::unique_ptr<Backend> backend_;
  std::unique_ptr<RegistryStore> store_;
  std::unique_ptr<Registry> registry_;
  std::unique_ptr<RegistryGrpcService> service_;
};

}  // namespace smz::registry

#endif  // SMZ_SERVICES_REGISTRY_REGISTRY_SERVER_H_
