#include "tests/harness/benchmark_support.h"

#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/security/credentials.h"
#include "grpcpp/security/server_credentials.h"
#include "grpcpp/server_builder.h"
#include "smz/bench/v1/echo.grpc.pb.h"

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

namespace {

// The recorder running now: stopped too when a Check() exits the benchmark
// (its process group would not get a terminal's Ctrl-C).
std::atomic<pid_t> running_recorder{-1};

void StopRunningRecorder() {
  const pid_t pid = running_recorder.exchange(-1);
  if (pid > 0) {
    kill(-pid, SIGINT);
    waitpid(pid, nullptr, 0);
  }
}

}  // namespace

PhaseRecorder::PhaseRecorder(const std::string& command) {
  if (command.empty()) return;
  static const bool registered = std::atexit(StopRunningRecorder) == 0;
  (void)registered;
  posix_spawnattr_t attributes;
  posix_spawnattr_init(&attributes);
  // Its own process group: the interrupt reaches the command, not the shell.
  posix_spawnattr_setflags(&attributes, POSIX_SPAWN_SETPGROUP);
  posix_spawnattr_setpgroup(&attributes, 0);
  // exec: the command is the process waited for, not a shell around it.
  const std::string line = "exec " + command;
  const char* argv[] = {"/bin/sh", "-c", line.c_str(), nullptr};
  pid_t pid = -1;
  const int error = posix_spawn(&pid, "/bin/sh", nullptr, &attributes,
                                const_cast<char* const*>(argv), environ);
  posix_spawnattr_destroy(&attributes);
  if (error != 0) {
    std::fprintf(stderr, "could not start %s: error %d\n", command.c_str(),
                 error);
    std::exit(1);
  }
  pid_ = pid;
  running_recorder = pid;
  std::this_thread::sleep_for(std::chrono::seconds(1));
}

void PhaseRecorder::Stop() {
  if (pid_ <= 0) return;
  pid_t expected = pid_;  // compare_exchange overwrites it on a mismatch
  running_recorder.compare_exchange_strong(expected, -1);
  kill(-pid_, SIGINT);
  while (waitpid(pid_, nullptr, 0) < 0 && errno == EINTR) {
  }
  pid_ = -1;
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

std::string PeakResidentSet() {
  std::FILE* status = std::fopen("/proc/self/status", "r");
  if (status == nullptr) return "unknown";
  char line[256];
  long long kib = -1;
  while (std::fgets(line, sizeof(line), status) != nullptr) {
    if (std::sscanf(line, "VmHWM: %lld kB", &kib) == 1) break;
  }
  std::fclose(status);
  if (kib < 0) return "unknown";
  return absl::StrFormat("%.1f MiB", kib / 1024.0);
}

int64_t InnodbDeadlocks(MariaDbServer& mariadb) {
  absl::StatusOr<int64_t> count = mariadb.InnodbDeadlocks();
  return count.ok() ? *count : -1;
}

std::string DeadlocksSince(MariaDbServer& mariadb, int64_t before) {
  const int64_t now = InnodbDeadlocks(mariadb);
  if (before < 0 || now < 0) return "InnoDB deadlocks unknown";
  return absl::StrCat(now - before, " InnoDB deadlocks");
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

namespace {

class EchoService final : public bench::v1::EchoService::CallbackService {
  grpc::ServerUnaryReactor* Echo(grpc::CallbackServerContext* context,
                                 const bench::v1::EchoRequest* request,
                                 bench::v1::EchoResponse* response) override {
    response->set_message(request->message());
    grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
    reactor->Finish(grpc::Status::OK);
    return reactor;
  }
};

}  // namespace

std::unique_ptr<grpc::Server> StartEchoServer(int* port) {
  static EchoService* const service = new EchoService();  // outlives servers
  grpc::ServerBuilder builder;
  builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(),
                           port);
  builder.RegisterService(service);
  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  if (server == nullptr || *port == 0) {
    std::fprintf(stderr, "echo server: could not start\n");
    std::exit(1);
  }
  return server;
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

Throughput MeasureEcho(int echo_port, int callers, int runs, int warmup) {
  std::vector<std::unique_ptr<bench::v1::EchoService::Stub>> echoes;
  for (int c = 0; c < std::min(callers, 4); ++c) {
    grpc::ChannelArguments args;
    args.SetInt("grpc.channel_id", c);  // distinct connections
    echoes.push_back(bench::v1::EchoService::NewStub(
        grpc::CreateCustomChannel(absl::StrCat("127.0.0.1:", echo_port),
                                  grpc::InsecureChannelCredentials(), args)));
  }
  return MeasureCalls(callers, runs, warmup, [&](int n) {
    bench::v1::EchoRequest request;
    request.set_message("ping");
    bench::v1::EchoResponse response;
    grpc::ClientContext context;
    CheckGrpc(echoes[n % echoes.size()]->Echo(&context, request, &response),
              "Echo");
  });
}

}  // namespace smz::testing
