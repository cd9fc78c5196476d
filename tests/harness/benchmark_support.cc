#include "tests/harness/benchmark_support.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"

namespace smz::testing {

void Check(const absl::Status& status, const char* what) {
  if (!status.ok()) {
    std::fprintf(stderr, "%s: %s\n", what, status.ToString().c_str());
    std::exit(1);
  }
}

void CheckGrpc(const grpc::Status& status, const char* what) {
  if (!status.ok()) {
    std::fprintf(stderr, "%s: %s\n", what, status.error_message().c_str());
    std::exit(1);
  }
}

Latency Percentiles(std::vector<double> samples_ms) {
  if (samples_ms.empty()) return {};
  std::sort(samples_ms.begin(), samples_ms.end());
  auto at = [&](double q) {
    size_t i = static_cast<size_t>(q * (samples_ms.size() - 1) + 0.5);
    return samples_ms[std::min(i, samples_ms.size() - 1)];
  };
  return {at(0.50), at(0.99)};
}

double MillisecondsSince(absl::Time start) {
  return absl::ToDoubleMilliseconds(absl::Now() - start);
}

Throughput MeasureCalls(int callers, int runs, int warmup,
                        const std::function<void(int)>& call) {
  const int warmups = callers * warmup;
  RunParallel(warmups, callers, call);
  std::vector<double> samples(static_cast<size_t>(callers) * runs);
  const double seconds = RunParallel(callers * runs, callers, [&](int i) {
    const absl::Time start = absl::Now();
    call(warmups + i);
    samples[i] = MillisecondsSince(start);
  });
  return Throughput{samples.size() / seconds, Percentiles(std::move(samples))};
}

double RunParallel(int n, int threads, const std::function<void(int)>& work) {
  std::atomic<int> next{0};
  const absl::Time start = absl::Now();
  std::vector<std::thread> pool;
  for (int t = 0; t < threads; ++t) {
    pool.emplace_back([&] {
      for (int i = next++; i < n; i = next++) work(i);
    });
  }
  for (std::thread& t : pool) t.join();
  return absl::ToDoubleSeconds(absl::Now() - start);
}

std::unique_ptr<MariaDbServer> StartBenchmarkMariaDb(int buffer_pool_mb) {
  absl::StatusOr<std::unique_ptr<MariaDbServer>> mariadb =
      MariaDbServer::Start();
  Check(mariadb.status(), "MariaDB");
  Check((*mariadb)->ExecuteAsRoot(
            absl::StrCat("SET GLOBAL innodb_buffer_pool_size = ",
                         int64_t{buffer_pool_mb} << 20)),
        "buffer pool");
  return *std::move(mariadb);
}

}  // namespace smz::testing
