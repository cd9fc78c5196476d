#include "services/stats/stats_server.h"

#include "absl/time/clock.h"
#include "common/logging.h"
#include "common/mysql/migrations.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/security/credentials.h"
#include "services/stats/stats_schema.h"

namespace smz::stats {

StatsServer::StatsServer(StatsServerOptions options)
    : options_(std::move(options)) {}

StatsServer::~StatsServer() { Shutdown(); }

absl::StatusOr<std::unique_ptr<StatsServer>> StatsServer::Start(
    StatsServerOptions options) {
  if (options.registry_target.empty()) {
    return absl::InvalidArgumentError("the registry's address is required");
  }
  if (options.registry_token.empty()) {
    return absl::InvalidArgumentError(
        "a registry token for the statistics service is required");
  }
  std::unique_ptr<StatsServer> server(new StatsServer(std::move(options)));
  StatsServerOptions& o = server->options_;
  server->database_ = std::make_unique<Database>(o.database);

  // The database may still be starting (or restarting).
  if (absl::Status migrated = ApplyMigrationsWhenReady(
          *server->database_, StatsMigrations(), *o.clock, o.startup_timeout);
      !migrated.ok()) {
    return migrated;
  }

  std::shared_ptr<grpc::Channel> registry = grpc::CreateChannel(
      o.registry_target, grpc::InsecureChannelCredentials());
  server->store_ =
      std::make_unique<StatsStore>(server->database_.get(), o.clock, o.store);
  server->principal_lookup_ = std::make_unique<RemotePrincipalLookup>(registry);
  server->authenticator_ = std::make_unique<Authenticator>(
      server->principal_lookup_.get(), o.clock, o.token_cache_ttl);
  server->partners_ = std::make_unique<RegistryPartnerDirectory>(
      registry, o.registry_token, o.clock, o.partner_cache_ttl);
  server->stats_ = std::make_unique<Stats>(
      server->store_.get(), server->partners_.get(), o.clock, o.stats);
  server->runner_ = std::make_unique<RpcRunner>(
      v1::StatsService::service_full_name(), server->authenticator_.get(),
      &server->metrics_);
  server->service_ = std::make_unique<StatsGrpcService>(server->stats_.get(),
                                                        server->runner_.get());
  ServerOptions server_options = o.server;
  server_options.health_service_names.push_back(
      v1::StatsService::service_full_name());
  // ImportReports takes a CSV of up to 16 MiB; the request around it is
  // small.
  server_options.max_receive_message_bytes =
      static_cast<int>(kMaxImportCsvBytes) + (1 << 20);
  server->runtime_ = std::make_unique<ServiceRuntime>(
      server_options, o.database, &server->metrics_);
  if (absl::Status s = server->runtime_->Start({server->service_.get()});
      !s.ok()) {
    return s;
  }
  return server;
}

void StatsServer::Shutdown() {
  if (runtime_ != nullptr) runtime_->Shutdown();
  if (database_ != nullptr) database_->Close();
}

}  // namespace smz::stats
