#include "common/server/backend.h"

#include <utility>

#include "common/aip/status_macros.h"
#include "common/clients/service_channel.h"
#include "common/mysql/write_stamps.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/security/credentials.h"

namespace smz {

absl::StatusOr<std::unique_ptr<Backend>> Backend::Open(
    const BackendOptions& options, absl::Span<const Migration> migrations,
    absl::string_view service_full_name) {
  if (options.registry_target.empty() == (options.local_lookup == nullptr)) {
    return absl::InvalidArgumentError(
        "the registry's address is required (and only the registry itself "
        "resolves callers locally)");
  }
  std::unique_ptr<Backend> backend(new Backend());
  backend->options_ = options;
  backend->service_full_name_ = std::string(service_full_name);
  backend->database_ = std::make_unique<Database>(options.database);
  // The database may still be starting (or restarting).
  SMZ_RETURN_IF_ERROR(ApplyMigrationsWhenReady(*backend->database_, migrations,
                                               *options.clock,
                                               options.startup_timeout));
  if (!options.database.replica_host.empty()) {
    ReplicaReadsOptions replica;
    replica.max_lag = options.database.replica_max_lag;
    backend->replica_reads_ = std::make_unique<ReplicaReads>(
        backend->database_.get(), ReplicaOptionsOf(options.database), replica);
    SMZ_RETURN_IF_ERROR(backend->replica_reads_->Start());
  }
  if (options.local_lookup != nullptr) {
    backend->principal_lookup_ = options.local_lookup(*backend->database_);
  } else {
    backend->registry_channel_ = CreateServiceChannel(
        options.registry_target, options.tls, "registry", &backend->metrics_);
    backend->principal_lookup_ =
        std::make_unique<RemotePrincipalLookup>(backend->registry_channel_);
  }
  backend->authenticator_ = std::make_unique<Authenticator>(
      backend->principal_lookup_.get(), options.clock, options.token_cache_ttl);
  backend->runner_ = std::make_unique<RpcRunner>(
      service_full_name, backend->authenticator_.get(), &backend->metrics_,
      options.tls.trusted_edges);
  return backend;
}

Backend::~Backend() { Shutdown(); }

absl::Status Backend::Serve(grpc::Service* service, ServerOptions server) {
  return Serve(std::vector<grpc::Service*>{service}, std::move(server));
}

absl::Status Backend::Serve(const std::vector<grpc::Service*>& services,
                            ServerOptions server) {
  server.health_service_names.push_back(service_full_name_);
  freshness_service_ = std::make_unique<FreshnessGrpcService>(
      freshness_fence_, freshness_settings_,
      MakeRunner(freshness::v1::FreshnessService::service_full_name()));
  std::vector<grpc::Service*> served = services;
  served.push_back(freshness_service_.get());
  runtime_ =
      std::make_unique<ServiceRuntime>(server, options_.database, &metrics_);
  runtime_->SampleEachProbe([this] {
    const Database::PoolStats pool = database_->Stats();
    metrics_.SetDatabasePool(pool.open, pool.idle, pool.size, pool.exhausted);
    if (replica_reads_ != nullptr) {
      metrics_.SetReplica(replica_reads_->lag(),
                          replica_reads_->replica_in_use());
    }
  });
  return runtime_->Start(served);
}

absl::Status Backend::StampEveryWrite() {
  SMZ_RETURN_IF_ERROR(database_->Transact([](Session& session) {
    return session.Execute(kDataVersionRestampSql, {}).status();
  }));
  database_->StampWritesWith(kDataVersionStampSql);
  database_->WaitOutStampLeases(kStampLease);
  data_version_fence_ = std::make_unique<FreshnessFence>(
      database_.get(), kDataVersionReadSql, kStampLease);
  freshness_fence_ = data_version_fence_.get();
  return absl::OkStatus();
}

std::unique_ptr<RpcRunner> Backend::MakeRunner(
    absl::string_view service_full_name) {
  return std::make_unique<RpcRunner>(service_full_name, authenticator_.get(),
                                     &metrics_, options_.tls.trusted_edges);
}

void Backend::Shutdown() {
  if (runtime_ != nullptr) runtime_->Shutdown();
  if (replica_reads_ != nullptr) replica_reads_->Stop();
  if (database_ != nullptr) database_->Close();
}

}  // namespace smz
