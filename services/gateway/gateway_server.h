// A complete gateway server in one object: authentication through the
// registry, channels to the four backends, and the gRPC service with health,
// reflection and metrics. It keeps no state of its own.
//
//   GatewayServerOptions options;
//   options.registry_target = "127.0.0.1:50051";   // also authenticates
//   options.stats_target = "127.0.0.1:50052";
//   options.events_target = "127.0.0.1:50053";
//   options.programme_target = "127.0.0.1:50054";
//   options.server.listen = "127.0.0.1:0";
//   auto server = GatewayServer::Start(options);
#ifndef SMZ_SERVICES_GATEWAY_GATEWAY_SERVER_H_
#define SMZ_SERVICES_GATEWAY_GATEWAY_SERVER_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "common/auth/authenticator.h"
#include "common/auth/remote_principal_lookup.h"
#include "common/clock.h"
#include "common/server/metrics.h"
#include "common/server/rpc_runner.h"
#include "common/server/service_runtime.h"
#include "services/gateway/council_cache.h"
#include "services/gateway/gateway.h"
#include "services/gateway/gateway_grpc_service.h"
#include "services/gateway/http_json.h"

namespace smz::gateway {

struct GatewayServerOptions {
  ServerOptions server;
  std::string registry_target;
  std::string stats_target;
  std::string events_target;
  std::string programme_target;
  // HTTP/JSON for browsers and scripts ("host:port", port 0: any); empty:
  // gRPC only.
  std::string http_listen;
  HttpFrontOptions http;
  GatewayOptions gateway;
  // The council's tables in memory, exact (max_bytes 0: every answer
  // computed, no stamps asked).
  CouncilCacheOptions council_cache;
  absl::Duration token_cache_ttl = absl::Seconds(10);
  const Clock* clock = &SystemClock::Get();
};

class GatewayServer {
 public:
  static absl::StatusOr<std::unique_ptr<GatewayServer>> Start(
      GatewayServerOptions options);
  ~GatewayServer();

  int port() const { return runtime_->port(); }
  int metrics_port() const { return runtime_->metrics_port(); }
  int http_port() const { return http_ == nullptr ? 0 : http_->port(); }
  // Null when options.council_cache.max_bytes is 0 (for tests, benchmarks).
  CouncilCache* council_cache() { return council_cache_.get(); }
  void Shutdown();

 private:
  explicit GatewayServer(GatewayServerOptions options);

  GatewayServerOptions options_;
  RpcMetrics metrics_;
  std::unique_ptr<RemotePrincipalLookup> principal_lookup_;
  std::unique_ptr<Authenticator> authenticator_;
  std::unique_ptr<Gateway> gateway_;
  // Before the runner and the service: in use until both are gone.
  std::unique_ptr<CouncilCache> council_cache_;
  std::unique_ptr<RpcRunner> runner_;
  std::unique_ptr<GatewayGrpcService> service_;
  std::unique_ptr<ServiceRuntime> runtime_;
  std::unique_ptr<HttpJsonFront> http_;
};

}  // namespace smz::gateway

#endif  // SMZ_SERVICES_GATEWAY_GATEWAY_SERVER_H_
