// What every benchmark program needs besides the services it measures:
// stop at the first failure with the reason, percentiles of latency samples,
// a worker pool over an index range, a bare gRPC echo server as the
// baseline, a command (perf record) run over one phase, a private MariaDB
// with a buffer pool sized for the data set, and what a run leaves behind:
// the process's peak resident set and the InnoDB deadlocks a phase met.
//
//   auto mariadb = smz::testing::StartBenchmarkMariaDb(1024);
//   auto context = smz::BearerContext(token, smz::kBulkCallDeadline);
//   smz::testing::CheckGrpc(stub->GetEvent(context.get(), r, &e), "GetEvent");
//   std::vector<double> ms = ...;
//   smz::testing::Latency l = smz::testing::Percentiles(ms);  // p50, p99
#ifndef SMZ_TESTS_HARNESS_BENCHMARK_SUPPORT_H_
#define SMZ_TESTS_HARNESS_BENCHMARK_SUPPORT_H_

#include <sys/types.h>

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "common/clients/bearer_context.h"
#include "grpcpp/client_context.h"
#include "grpcpp/server.h"
#include "grpcpp/support/status.h"
#include "tests/harness/mariadb_server.h"

namespace smz::testing {

// Print "<what>: <reason>" and exit(1) unless ok: a benchmark that cannot
// set up has nothing to measure.
void Check(const absl::Status& status, const char* what);
void CheckGrpc(const grpc::Status& status, const char* what);

struct Latency {
  double p50_ms = 0;
  double p99_ms = 0;
};
// Nearest-rank p50 and p99 of samples in milliseconds (0s when empty).
Latency Percentiles(std::vector<double> samples_ms);

double MillisecondsSince(absl::Time start);

// Runs `work(i)` for i in [0, n) on `threads` threads; returns seconds.
double RunParallel(int n, int threads, const std::function<void(int)>& work);

struct Throughput {
  double calls_per_second = 0;
  Latency latency;
};
// `call(n)` `callers * runs` times, `callers` at once, after `callers *
// warmup` calls not measured. n numbers every call from 0, warm-up
// included: n % callers picks a caller's own data, n alone makes each call
// unique.
Throughput MeasureCalls(int callers, int runs, int warmup,
                        const std::function<void(int)>& call);

// Runs a shell command (e.g. "perf record -F 999 -a -g -o /tmp/x.data")
// for the length of one phase of a benchmark: started by the constructor,
// given a second to start, and interrupted (SIGINT to its process group,
// which is what stops `perf record` cleanly) and waited for by Stop() or the
// destructor. An empty command does nothing; one that cannot start exits
// the benchmark.
//
//   {
//     PhaseRecorder perf(absl::GetFlag(FLAGS_perf_command));
//     RunParallel(...);  // only this is recorded
//   }
class PhaseRecorder {
 public:
  explicit PhaseRecorder(const std::string& command);
  PhaseRecorder(const PhaseRecorder&) = delete;
  PhaseRecorder& operator=(const PhaseRecorder&) = delete;
  ~PhaseRecorder() { Stop(); }
  void Stop();

 private:
  pid_t pid_ = -1;
};

// The baseline throughput ratios are taken against: a bare gRPC echo server
// (smz.bench.v1.EchoService) on the callback API, as gRPC's own benchmarks,
// on an ephemeral loopback port (`*port`); exits on failure.
std::unique_ptr<grpc::Server> StartEchoServer(int* port);

// MeasureCalls of Echo on the server at `echo_port` ("ping"), over up to
// four connections as the benchmarks spread their callers: the baseline of
// a throughput table.
Throughput MeasureEcho(int echo_port, int callers, int runs, int warmup);

// This process's peak resident set (VmHWM of /proc/self/status) as
// "123.4 MiB", or "unknown": the benchmarks run their services in-process,
// so it is what the services and the benchmark's clients held at most.
std::string PeakResidentSet();

// InnoDB's deadlock count on `mariadb` now, to pass to DeadlocksSince()
// after a phase (-1 when it cannot be read).
int64_t InnodbDeadlocks(MariaDbServer& mariadb);
// "N InnoDB deadlocks" met since `before` was read (retried transactions
// count), or "InnoDB deadlocks unknown".
std::string DeadlocksSince(MariaDbServer& mariadb, int64_t before);

// A private MariaDB (see mariadb_server.h) with an InnoDB buffer pool of
// `buffer_pool_mb`; exits on failure.
std::unique_ptr<MariaDbServer> StartBenchmarkMariaDb(int buffer_pool_mb);

}  // namespace smz::testing

#endif  // SMZ_TESTS_HARNESS_BENCHMARK_SUPPORT_H_
