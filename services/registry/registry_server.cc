#include "services/registry/registry_server.h"

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/aip/status_macros.h"
#include "common/logging.h"
#include "common/mysql/migrations.h"
#include "services/registry/registry_schema.h"

namespace smz::registry {

RegistryServer::RegistryServer(RegistryServerOptions options)
    : options_(std::move(options)) {}

RegistryServer::~RegistryServer() { Shutdown(); }

absl::StatusOr<std::unique_ptr<RegistryServer>> RegistryServer::Start(
    RegistryServerOptions options) {
  std::unique_ptr<RegistryServer> server(
      new RegistryServer(std::move(options)));
  RegistryServerOptions& o = server->options_;
  RandomSource* random =
      o.random != nullptr ? o.random : &server->secure_random_;
  server->database_ = std::make_unique<Database>(o.database);

  // The database may still be starting (or restarting).
  SMZ_RETURN_IF_ERROR(ApplyMigrationsWhenReady(
      *server->database_, RegistryMigrations(), *o.clock, o.startup_timeout));

  server->store_ =
      std::make_unique<RegistryStore>(server->database_.get(), o.clock);
  server->authenticator_ = std::make_unique<Authenticator>(
      server->store_.get(), o.clock, o.token_cache_ttl);
  server->registry_ = std::make_unique<Registry>(
      server->store_.get(), server->authenticator_.get(), o.clock, random);
  if (o.deliver_bootstrap_admin_token) {
    SMZ_ASSIGN_OR_RETURN(bool created,
                         server->registry_->EnsureBootstrapAdminToken(
                             o.deliver_bootstrap_admin_token));
    if (created) Log(LogLevel::kInfo, "bootstrap admin token created");
  }
  server->runner_ = std::make_unique<RpcRunner>(
      v1::RegistryService::service_full_name(), server->authenticator_.get(),
      &server->metrics_);
  server->service_ = std::make_unique<RegistryGrpcService>(
      server->registry_.get(), server->runner_.get());
  ServerOptions server_options = o.server;
  server_options.health_service_names.push_back(
      v1::RegistryService::service_full_name());
  server->runtime_ = std::make_unique<ServiceRuntime>(
      server_options, o.database, &server->metrics_);
  SMZ_RETURN_IF_ERROR(server->runtime_->Start({server->service_.get()}));
  return server;
}

absl::StatusOr<v1::TokenInfo> RegistryServer::IssueBreakGlassAdminToken(
    const RegistryServerOptions& options, absl::string_view actor,
    absl::FunctionRef<absl::Status(const std::string& token)> deliver) {
  Database database(options.database);
  SMZ_RETURN_IF_ERROR(ApplyMigrationsWhenReady(
      database, RegistryMigrations(), *options.clock, options.startup_timeout));
  SecureRandom secure_random;
  RandomSource* random =
      options.random != nullptr ? options.random : &secure_random;
  RegistryStore store(&database, options.clock);
  Registry registry(&store, /*authenticator=*/nullptr, options.clock, random);
  absl::StatusOr<v1::TokenInfo> issued =
      registry.IssueBreakGlassAdminToken(actor, deliver);
  database.Close();
  return issued;
}

void RegistryServer::Shutdown() {
  if (runtime_ != nullptr) runtime_->Shutdown();
  if (database_ != nullptr) database_->Close();
}

}  // namespace smz::registry
