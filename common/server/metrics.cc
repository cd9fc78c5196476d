#include "common/server/metrics.h"

#include <exception>

#include "absl/strings/str_cat.h"
#include "common/version.h"
#include "prometheus/exposer.h"
#include "prometheus/gauge.h"
#include "prometheus/text_serializer.h"

namespace smz {
namespace {

// Seconds; loopback RPCs take ~0.1-5 ms, database trouble seconds.
const prometheus::Histogram::BucketBoundaries& LatencyBuckets() {
  static const auto* const kBuckets =
      new prometheus::Histogram::BucketBoundaries{
          0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
          0.1,    0.25,  0.5,    1,     2.5,  5,     10};
  return *kBuckets;
}

}  // namespace

RpcMetrics::RpcMetrics()
    : registry_(std::make_shared<prometheus::Registry>()),
      requests_(prometheus::BuildCounter()
                    .Name("smz_rpc_requests_total")
                    .Help("RPCs handled, by method and status code")
                    .Register(*registry_)),
      latency_(prometheus::BuildHistogram()
                   .Name("smz_rpc_duration_seconds")
                   .Help("RPC handling time, by method and status code")
                   .Register(*registry_)),
      ready_(prometheus::BuildGauge()
                 .Name("smz_ready")
                 .Help("1 while the service takes calls (its database "
                       "answers), else 0")
                 .Register(*registry_)
                 .Add({})),
      certificate_expiry_(
          prometheus::BuildGauge()
              .Name("smz_tls_certificate_expiry_timestamp_seconds")
              .Help("When a certificate in use ends (Unix seconds)")
              .Register(*registry_)),
      backend_calls_(prometheus::BuildCounter()
                         .Name("smz_backend_calls_total")
                         .Help("Calls this process made to another service, "
                               "by backend, method and status code")
                         .Register(*registry_)),
      backend_latency_(prometheus::BuildHistogram()
                           .Name("smz_backend_call_duration_seconds")
                           .Help("Time of the calls this process made to "
                                 "another service, by backend and method")
                           .Register(*registry_)),
      pool_connections_(prometheus::BuildGauge()
                            .Name("smz_db_pool_connections")
                            .Help("Database connections in use and idle")
                            .Register(*registry_)),
      pool_size_(prometheus::BuildGauge()
                     .Name("smz_db_pool_size")
                     .Help("The most database connections the pool opens")
                     .Register(*registry_)),
      pool_exhausted_(prometheus::BuildCounter()
                          .Name("smz_db_pool_exhausted_total")
                          .Help("Callers refused because every database "
                                "connection stayed busy")
                          .Register(*registry_)),
      replica_lag_(prometheus::BuildGauge()
                       .Name("smz_db_replica_lag_seconds")
                       .Help("How far the database replica is behind the "
                             "primary; -1 when it does not answer")
                       .Register(*registry_)),
      replica_in_use_(prometheus::BuildGauge()
                          .Name("smz_db_replica_in_use")
                          .Help("1 while reads that tolerate a lag go to the "
                                "replica, 0 while they go to the primary")
                          .Register(*registry_)) {
  // 1, labelled with what runs: a rolling upgrade shows host by host.
  prometheus::BuildGauge()
      .Name("smz_build_info")
      .Help("The smz release and commit of this process")
      .Register(*registry_)
      .Add({{"release", Release()}, {"commit", Commit()}})
      .Set(1);
}

void RpcMetrics::Record(absl::string_view method, absl::StatusCode code,
                        absl::Duration latency) {
  const prometheus::Labels labels = {{"method", std::string(method)},
                                     {"code", absl::StatusCodeToString(code)}};
  requests_.Add(labels).Increment();
  latency_.Add(labels, LatencyBuckets())
      .Observe(absl::ToDoubleSeconds(latency));
}

void RpcMetrics::SetReady(bool ready) { ready_.Set(ready ? 1 : 0); }

void RpcMetrics::SetCertificateExpiry(absl::string_view which,
                                      absl::Time not_after) {
  certificate_expiry_.Add({{"certificate", std::string(which)}})
      .Set(static_cast<double>(absl::ToUnixSeconds(not_after)));
}

void RpcMetrics::RecordBackendCall(absl::string_view backend,
                                   absl::string_view method,
                                   absl::StatusCode code,
                                   absl::Duration latency) {
  backend_calls_
      .Add({{"backend", std::string(backend)},
            {"method", std::string(method)},
            {"code", absl::StatusCodeToString(code)}})
      .Increment();
  backend_latency_
      .Add({{"backend", std::string(backend)}, {"method", std::string(method)}},
           LatencyBuckets())
      .Observe(absl::ToDoubleSeconds(latency));
}

void RpcMetrics::SetDatabasePool(int open, int idle, int size,
                                 int64_t exhausted) {
  pool_connections_.Add({{"state", "in_use"}}).Set(open - idle);
  pool_connections_.Add({{"state", "idle"}}).Set(idle);
  pool_size_.Add({}).Set(size);
  // Added (at 0) with the first sample, so that the alert's increase() sees
  // the first refusals too.
  prometheus::Counter& exhausted_total = pool_exhausted_.Add({});
  const int64_t seen = pool_exhausted_seen_.exchange(exhausted);
  if (exhausted > seen) {
    exhausted_total.Increment(static_cast<double>(exhausted - seen));
  }
}

void RpcMetrics::SetReplica(std::optional<absl::Duration> lag, bool in_use) {
  // Families, not plain gauges: a service without a replica shows neither.
  replica_lag_.Add({}).Set(lag.has_value() ? absl::ToDoubleSeconds(*lag)
                                           : -1.0);
  replica_in_use_.Add({}).Set(in_use ? 1 : 0);
}

std::string RpcMetrics::Text() const {
  return prometheus::TextSerializer().Serialize(registry_->Collect());
}

MetricsEndpoint::MetricsEndpoint() = default;
MetricsEndpoint::~MetricsEndpoint() = default;

absl::Status MetricsEndpoint::Start(const std::string& address,
                                    const RpcMetrics& metrics) {
  try {
    exposer_ = std::make_unique<prometheus::Exposer>(address, 1);
  } catch (const std::exception& e) {
    return absl::UnavailableError(
        absl::StrCat("cannot serve metrics on ", address, ": ", e.what()));
  }
  exposer_->RegisterCollectable(metrics.registry());
  return absl::OkStatus();
}

int MetricsEndpoint::port() const {
  if (exposer_ == nullptr) return 0;
  const std::vector<int> ports = exposer_->GetListeningPorts();
  return ports.empty() ? 0 : ports.front();
}

void MetricsEndpoint::Stop() { exposer_.reset(); }

}  // namespace smz
