#include "services/programme/programme_server.h"

#include "common/mysql/migrations.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/security/credentials.h"
#include "services/programme/programme_schema.h"

namespace smz::programme {

ProgrammeServer::ProgrammeServer(ProgrammeServerOptions options)
    : options_(std::move(options)) {}

ProgrammeServer::~ProgrammeServer() { Shutdown(); }

absl::StatusOr<std::unique_ptr<ProgrammeServer>> ProgrammeServer::Start(
    ProgrammeServerOptions options) {
  if (options.registry_target.empty()) {
    return absl::InvalidArgumentError("the registry's address is required");
  }
  std::unique_ptr<ProgrammeServer> server(
      new ProgrammeServer(std::move(options)));
  ProgrammeServerOptions& o = server->options_;
  server->database_ = std::make_unique<Database>(o.database);
  if (absl::Status migrated =
          ApplyMigrationsWhenReady(*server->database_, ProgrammeMigrations(),
                                   *o.clock, o.startup_timeout);
      !migrated.ok()) {
    return migrated;
  }
  server->store_ =
      std::make_unique<ProgrammeStore>(server->database_.get(), o.clock);
  server->principal_lookup_ =
      std::make_unique<RemotePrincipalLookup>(grpc::CreateChannel(
          o.registry_target, grpc::InsecureChannelCredentials()));
  server->authenticator_ = std::make_unique<Authenticator>(
      server->principal_lookup_.get(), o.clock, o.token_cache_ttl);
  server->programme_ = std::make_unique<Programme>(server->store_.get());
  server->runner_ = std::make_unique<RpcRunner>(
      v1::ProgrammeService::service_full_name(), server->authenticator_.get(),
      &server->metrics_);
  server->service_ = std::make_unique<ProgrammeGrpcService>(
      server->programme_.get(), server->runner_.get());
  ServerOptions server_options = o.server;
  server_options.health_service_names.push_back(
      v1::ProgrammeService::service_full_name());
  server->runtime_ = std::make_unique<ServiceRuntime>(
      server_options, o.database, &server->metrics_);
  if (absl::Status s = server->runtime_->Start({server->service_.get()});
      !s.ok()) {
    return s;
  }
  return server;
}

void ProgrammeServer::Shutdown() {
  if (runtime_ != nullptr) runtime_->Shutdown();
  if (database_ != nullptr) database_->Close();
}

}  // namespace smz::programme
