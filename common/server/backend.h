// The plumbing every smz service with a database shares (registry, stats,
// events, programme): its connection pool with migrations applied (waiting
// for a database that is still starting), authentication of callers (through
// the registry, or for the registry itself from its own tables), the RPC
// runner for its service, and serving it with health, reflection, metrics
// and its data's stamp (FreshnessService). A service's server adds only its
// own parts.
//
//   SMZ_ASSIGN_OR_RETURN(
//       std::unique_ptr<Backend> backend,
//       Backend::Open(BackendOptionsOf(options), EventsMigrations(),
//                     v1::EventsService::service_full_name()));
//   store = std::make_unique<EventsStore>(&backend->database(), clock);
//   ... the service's logic and its gRPC adapter on &backend->runner() ...
//   SMZ_RETURN_IF_ERROR(backend->Serve(service.get(), options.server));
//   ...
//   backend->Shutdown();  // stop serving, then close the pool
#ifndef SMZ_COMMON_SERVER_BACKEND_H_
#define SMZ_COMMON_SERVER_BACKEND_H_

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "absl/types/span.h"
#include "common/auth/authenticator.h"
#include "common/auth/remote_principal_lookup.h"
#include "common/clock.h"
#include "common/mysql/database.h"
#include "common/mysql/migrations.h"
#include "common/mysql/replica_reads.h"
#include "common/server/freshness_service.h"
#include "common/server/metrics.h"
#include "common/server/rpc_runner.h"
#include "common/server/service_runtime.h"
#include "common/tls/tls_options.h"
#include "grpcpp/channel.h"
#include "grpcpp/impl/codegen/service_type.h"

namespace smz {

// Resolves callers from the service's own database (the registry's tokens).
using LocalPrincipalLookup =
    std::function<std::unique_ptr<PrincipalLookup>(Database&)>;

struct BackendOptions {
  DatabaseOptions database;
  // Where callers are resolved: the registry's address, or (for the
  // registry itself) `local_lookup`. Exactly one is required.
  std::string registry_target;
  absl::Duration startup_timeout = absl::Seconds(60);
  absl::Duration token_cache_ttl = absl::Seconds(10);
  const Clock* clock = &SystemClock::Get();
  LocalPrincipalLookup local_lookup = nullptr;  // see registry_target
  // For the channel to the registry (the service's own certificate, when
  // the registry asks for one).
  TlsOptions tls;
};

// The shared fields of a service's own options struct.
template <typename ServerOptionsT>
BackendOptions BackendOptionsOf(const ServerOptionsT& options) {
  BackendOptions backend{options.database, options.registry_target,
                         options.startup_timeout, options.token_cache_ttl,
                         options.clock};
  backend.tls = options.server.tls;
  return backend;
}

class Backend {
 public:
  static absl::StatusOr<std::unique_ptr<Backend>> Open(
      const BackendOptions& options, absl::Span<const Migration> migrations,
      absl::string_view service_full_name);
  ~Backend();

  Database& database() { return *database_; }
  // Reads that tolerate a bounded lag, when the database has a replica
  // (DatabaseOptions::replica_host); null otherwise.
  ReplicaReads* replica_reads() { return replica_reads_.get(); }
  // The registry, for a service's own calls (e.g. its partner directory);
  // null with a local lookup.
  const std::shared_ptr<grpc::Channel>& registry_channel() const {
    return registry_channel_;
  }
  Authenticator& authenticator() { return *authenticator_; }
  RpcRunner& runner() { return *runner_; }
  RpcMetrics& metrics() { return metrics_; }

  // Serves `service` (health reports it by its full name) until Shutdown.
  absl::Status Serve(grpc::Service* service, ServerOptions server);
  // The same with more services in the same process (the registry's
  // AccountService): each with a runner of its own (MakeRunner), their
  // names in server.health_service_names.
  absl::Status Serve(const std::vector<grpc::Service*>& services,
                     ServerOptions server);
  // A runner for another service of this process, sharing the
  // authenticator and the metrics.
  std::unique_ptr<RpcRunner> MakeRunner(absl::string_view service_full_name);

  // The stamp the backend's FreshnessService answers with (served beside
  // the service by Serve; without a fence, or with null — reads from a
  // replica — it answers empty stamps). Call before Serve; `fence` must
  // outlive Shutdown.
  // `settings`: see FreshnessGrpcService.
  void set_freshness_fence(FreshnessFence* fence, std::string settings = "") {
    freshness_fence_ = fence;
    freshness_settings_ = std::move(settings);
  }
  // For a service whose migrations create data_version (common/mysql/
  // write_stamps.h): every write transaction moves it, and the
  // FreshnessService answers it. Call before Serve. It moves the stamp once
  // now: what migrations or an operator changed before this start counts
  // as a change.
  absl::Status StampEveryWrite();

  int port() const { return runtime_->port(); }
  int metrics_port() const { return runtime_->metrics_port(); }

  // Stops accepting, finishes in-flight RPCs, closes the pool. Idempotent.
  void Shutdown();

 private:
  Backend() = default;

  BackendOptions options_;
  std::string service_full_name_;
  RpcMetrics metrics_;
  std::unique_ptr<Database> database_;
  std::unique_ptr<ReplicaReads> replica_reads_;
  std::shared_ptr<grpc::Channel> registry_channel_;
  std::unique_ptr<PrincipalLookup> principal_lookup_;
  std::unique_ptr<Authenticator> authenticator_;
  std::unique_ptr<RpcRunner> runner_;
  FreshnessFence* freshness_fence_ = nullptr;
  std::string freshness_settings_;
  std::unique_ptr<FreshnessFence> data_version_fence_;  // StampEveryWrite
  std::unique_ptr<FreshnessGrpcService> freshness_service_;
  std::unique_ptr<ServiceRuntime> runtime_;
};

}  // namespace smz

#endif  // SMZ_COMMON_SERVER_BACKEND_H_
