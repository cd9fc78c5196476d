// Prometheus metrics for a service: RPC counts and latency histograms by
// method and status code, readiness, the build, and when its certificates
// end, served as text on an HTTP /metrics endpoint (deploy/prometheus has
// the scrape configuration and the alert rules over them).
//
//   smz::RpcMetrics metrics;
//   metrics.Record("GetPartner", absl::StatusCode::kOk, absl::Milliseconds(3));
//   smz::MetricsEndpoint endpoint;
//   absl::Status s = endpoint.Start("127.0.0.1:9464", metrics);
//   // curl http://127.0.0.1:9464/metrics
#ifndef SMZ_COMMON_SERVER_METRICS_H_
#define SMZ_COMMON_SERVER_METRICS_H_

#include <atomic>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "prometheus/counter.h"
#include "prometheus/family.h"
#include "prometheus/gauge.h"
#include "prometheus/histogram.h"
#include "prometheus/registry.h"

namespace prometheus {
class Exposer;
}

namespace smz {

class RpcMetrics {
 public:
  RpcMetrics();
  void Record(absl::string_view method, absl::StatusCode code,
              absl::Duration latency);
  // smz_ready: 1 while the service takes calls (its database answers).
  void SetReady(bool ready);
  // smz_tls_certificate_expiry_timestamp_seconds{certificate=`which`}:
  // when a certificate in use ends ("grpc", "grpc_ca", "https").
  void SetCertificateExpiry(absl::string_view which, absl::Time not_after);
  // A call this process made to another service (common/clients/
  // call_interceptor.h): smz_backend_calls_total{backend,method,code} and
  // smz_backend_call_duration_seconds{backend,method}.
  void RecordBackendCall(absl::string_view backend, absl::string_view method,
                         absl::StatusCode code, absl::Duration latency);
  // The database connection pool, sampled (ServiceRuntime's probe):
  // smz_db_pool_connections{state="in_use"|"idle"}, smz_db_pool_size, and
  // smz_db_pool_exhausted_total (callers refused: every connection busy).
  // A process without a database (the gateway) shows none of them.
  void SetDatabasePool(int open, int idle, int size, int64_t exhausted);
  // The database replica (replica_reads.h): smz_db_replica_lag_seconds (-1
  // when unknown: the replica does not answer) and smz_db_replica_in_use
  // (1 while lag-tolerant reads go to it).
  void SetReplica(std::optional<absl::Duration> lag, bool in_use);
  // The exposition text, as /metrics serves it.
  std::string Text() const;
  std::shared_ptr<prometheus::Registry> registry() const { return registry_; }

 private:
  std::shared_ptr<prometheus::Registry> registry_;
  prometheus::Family<prometheus::Counter>& requests_;
  prometheus::Family<prometheus::Histogram>& latency_;
  prometheus::Gauge& ready_;
  prometheus::Family<prometheus::Gauge>& certificate_expiry_;
  prometheus::Family<prometheus::Counter>& backend_calls_;
  prometheus::Family<prometheus::Histogram>& backend_latency_;
  prometheus::Family<prometheus::Gauge>& pool_connections_;
  prometheus::Family<prometheus::Gauge>& pool_size_;
  prometheus::Family<prometheus::Counter>& pool_exhausted_;
  prometheus::Family<prometheus::Gauge>& replica_lag_;
  prometheus::Family<prometheus::Gauge>& replica_in_use_;
  // The pool's own count when last sampled: the counter grows by the
  // difference.
  std::atomic<int64_t> pool_exhausted_seen_{0};
};

class MetricsEndpoint {
 public:
  MetricsEndpoint();
  ~MetricsEndpoint();
  // Serves `metrics` at http://<address>/metrics ("host:0" picks a port).
  absl::Status Start(const std::string& address, const RpcMetrics& metrics);
  int port() const;
  void Stop();

 private:
  std::unique_ptr<prometheus::Exposer> exposer_;
};

}  // namespace smz

#endif  // SMZ_COMMON_SERVER_METRICS_H_
