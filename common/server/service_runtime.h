// Everything a smz service process needs around its gRPC services: the
// server itself, the standard grpc.health.v1 service, server reflection
// (grpc.reflection.v1alpha), the Prometheus endpoint, and graceful shutdown
// on SIGTERM/SIGINT.
//
// Health names: "readiness", "" and each service's full name follow the
// database's reachability (take calls, or not: a load balancer's and
// Kubernetes' readinessProbe); "liveness" is SERVING while the process
// serves at all, whatever the database does (livenessProbe: a database
// outage must not restart every replica). Both go NOT_SERVING at shutdown.
//
// Database services reach it through smz::Backend (common/server/backend.h)
// and their mains through smz::ServiceMain (service_main.h); the gateway,
// with no database, uses it directly:
//
//   smz::ServiceRuntime runtime(options, [] { return true; }, &metrics);
//   SMZ_RETURN_IF_ERROR(runtime.Start({&gateway_service}));
//   ...
//   runtime.Shutdown();  // stop accepting, finish in-flight RPCs
#ifndef SMZ_COMMON_SERVER_SERVICE_RUNTIME_H_
#define SMZ_COMMON_SERVER_SERVICE_RUNTIME_H_

#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "absl/time/time.h"
#include "common/mysql/database.h"
#include "common/server/metrics.h"
#include "common/tls/tls_options.h"
#include "grpcpp/generic/async_generic_service.h"
#include "grpcpp/server.h"

namespace smz {

inline constexpr char kLivenessHealthName[] = "liveness";
inline constexpr char kReadinessHealthName[] = "readiness";

struct ServerOptions {
  std::string listen = "127.0.0.1:0";
  std::string metrics_listen;  // empty: no metrics endpoint
  // A second port, plaintext, serving grpc.health.v1 alone with the same
  // statuses: Kubernetes' native gRPC probes speak no TLS. Empty: none.
  std::string health_listen;
  // Health names besides "" (usually the fully qualified service names).
  std::vector<std::string> health_service_names;
  absl::Duration health_interval = absl::Seconds(1);
  absl::Duration shutdown_grace = absl::Seconds(10);
  // Handler threads kept ready (blocking database calls run on them).
  int worker_threads = 32;
  // The most threads gRPC may run for this server (pollers and handlers);
  // beyond it a call is refused with RESOURCE_EXHAUSTED instead of starting
  // one more thread.
  int max_threads = 256;
  // The largest request message accepted (gRPC's default is 4 MiB; stats
  // raises it for ImportReports' 16 MiB CSV).
  int max_receive_message_bytes = 4 << 20;
  // The most request metadata (headers) accepted per call.
  int max_metadata_bytes = 8 << 10;
  // Memory gRPC may use for buffers of this server's connections.
  int64_t max_buffer_bytes = int64_t{256} << 20;
  // TLS (and client certificates) for the gRPC port; none: plaintext.
  TlsOptions tls;
  // A client's connection is closed (gracefully: GOAWAY, then calls under
  // way get `max_connection_age_grace`) after this long, so that clients
  // spread over replicas added since (gRPC adds its own jitter of ±10%).
  absl::Duration max_connection_age = absl::Minutes(5);
  // As long as the longest deadline a caller gives (the demo loaders' bulk
  // imports: 120 s), so that no call is cut.
  absl::Duration max_connection_age_grace = absl::Seconds(120);
};

class ServiceRuntime {
 public:
  // Health probes use a connection of their own, so that a busy pool never
  // makes a healthy database look down.
  ServiceRuntime(ServerOptions options, const DatabaseOptions& database,
                 RpcMetrics* metrics);
  // For a stateless service: health follows `probe` (true: SERVING), asked
  // every health_interval.
  ServiceRuntime(ServerOptions options, std::function<bool()> probe,
                 RpcMetrics* metrics);
  ~ServiceRuntime();

  // Runs `sample` after each health probe (every health_interval), e.g. to
  // record the database pool in the metrics. Call before Start.
  void SampleEachProbe(std::function<void()> sample) {
    sample_ = std::move(sample);
  }

  absl::Status Start(const std::vector<grpc::Service*>& services);
  int port() const { return port_; }
  int metrics_port() const { return metrics_.port(); }
  int health_port() const { return health_port_; }
  bool serving() const;

  // Idempotent: reports NOT_SERVING, stops accepting, waits up to the grace
  // period for in-flight RPCs, then cancels what is left.
  void Shutdown();

 private:
  void ProbeLoop();
  void SetServing(bool serving);
  // The smz_tls_certificate_expiry_timestamp_seconds of the gRPC side.
  void RecordCertificateExpiry();

  const ServerOptions options_;
  std::unique_ptr<Database> probe_database_;  // null for stateless services
  std::function<bool()> probe_;
  std::function<void()> sample_;
  RpcMetrics* const metrics_rpc_;
  MetricsEndpoint metrics_;
  std::unique_ptr<grpc::Server> server_;
  std::unique_ptr<grpc::Server> health_server_;  // health_listen's
  grpc::CallbackGenericService health_only_;
  int port_ = 0;
  int health_port_ = 0;
  std::thread probe_thread_;
  absl::Notification stop_probe_;
  mutable absl::Mutex mu_;
  bool serving_ ABSL_GUARDED_BY(mu_) = false;
  bool shut_down_ ABSL_GUARDED_BY(mu_) = false;
};

// Process-wide settings for service binaries (not tests): call first in main.
void ConfigureServiceProcess();

// Blocks SIGTERM and SIGINT in the calling thread and every thread it starts
// later, so that WaitForTerminationSignal() receives them.
void BlockTerminationSignals();

// Waits for SIGTERM or SIGINT and returns its number.
int WaitForTerminationSignal();

// The shared ends of a service's main() (ServiceMain calls them):
//   if (bad) return ExitForBadConfiguration("--registry_target is required");
//   if (!server.ok()) return ExitForStartFailure(server.status());
//   return ServeUntilTerminated([&] { (*server)->Shutdown(); });
// Logs "bad configuration" with the error; returns the exit code 2.
int ExitForBadConfiguration(absl::string_view error);
// Logs "cannot start" with the error; returns the exit code 2 when the
// configuration was refused (INVALID_ARGUMENT), else 1.
int ExitForStartFailure(const absl::Status& status);
// Waits for SIGTERM or SIGINT, logs it, runs `shutdown`, logs "stopped";
// returns the exit code 0.
int ServeUntilTerminated(absl::FunctionRef<void()> shutdown);

}  // namespace smz

#endif  // SMZ_COMMON_SERVER_SERVICE_RUNTIME_H_
