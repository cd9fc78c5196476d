// A complete programme server in one object: database pool, migrations,
// authentication through the registry, and the gRPC service with health,
// reflection and metrics. The binary, the tests and the demo loader's tests
// start it the same way.
//
//   ProgrammeServerOptions options;
//   options.database = ...;                 // the service's own database
//   options.registry_target = "127.0.0.1:50051";
//   options.server.listen = "127.0.0.1:0";
//   auto server = ProgrammeServer::Start(options);
//   int port = (*server)->port();
#ifndef SMZ_SERVICES_PROGRAMME_PROGRAMME_SERVER_H_
#define SMZ_SERVICES_PROGRAMME_PROGRAMME_SERVER_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "common/auth/authenticator.h"
#include "common/auth/remote_principal_lookup.h"
#include "common/clock.h"
#include "common/mysql/database.h"
#include "common/server/backend.h"
#include "common/server/metrics.h"
#include "common/server/rpc_runner.h"
#include "common/server/service_runtime.h"
#include "services/programme/programme.h"
#include "services/programme/programme_grpc_service.h"
#include "services/programme/programme_store.h"

namespace smz::programme {

struct ProgrammeServerOptions {
  ServerOptions server;
  DatabaseOptions database;
  // The registry resolves callers' tokens.
  std::string registry_target;
  absl::Duration startup_timeout = absl::Seconds(60);
  absl::Duration token_cache_ttl = absl::Seconds(10);
  const Clock* clock = &SystemClock::Get();
};

class ProgrammeServer {
 public:
  static absl::StatusOr<std::unique_ptr<ProgrammeServer>> Start(
      ProgrammeServerOptions options);
  ~ProgrammeServer();

  int port() const { return backend_->port(); }
  int metrics_port() const { return backend_->metrics_port(); }
  // Stops accepting, finishes in-flight RPCs, closes the pool. Idempotent.
  void Shutdown();

 private:
  explicit ProgrammeServer(ProgrammeServerOptions options);

  ProgrammeServerOptions options_;
  // Pool, migrations, authentication, runner and serving.
  std::unique_ptr<Backend> backend_;
  std::unique_ptr<ProgrammeStore> store_;
  std::unique_ptr<Programme> programme_;
  std::unique_ptr<ProgrammeGrpcService> service_;
};

}  // namespace smz::programme

#endif  // SMZ_SERVICES_PROGRAMME_PROGRAMME_SERVER_H_
