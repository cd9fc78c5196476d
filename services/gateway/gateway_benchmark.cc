// gateway_benchmark: the council's two heaviest reads through the gateway,
// against the slowest single backend call each of them makes, measured in
// the same run. The gateway fans its calls out concurrently, so its latency
// should stay close to its slowest call (goal: p99 at most 1.3x), not grow
// to the sum of its calls.
//
//   build/services/gateway/gateway_benchmark --partners=3000 --months=60
//
// It starts its own MariaDB, the four backends and the gateway on loopback:
//  - registry: `--partners` hospitals created and designated over gRPC;
//  - stats: the national-scale history of stats_benchmark (`--months` months
//    of reports per hospital, ending 2022-12) bulk-loaded, rollups built;
//  - events and programme: the demo loaders (deploy/demo: the activities
//    2018-2022, the programme 2018-2022 with its indicators and the 2022
//    division budget), run as processes against the servers.
// Then, as COUNCIL:
//  1. the backend calls each gateway request makes are captured once, with
//     their exact request bytes, by a client interceptor on a second
//     gateway's channels;
//  2. in each round, the gateway request over gRPC, then every captured call
//     replayed alone, one after the other, straight to its backend;
//  3. per request: the gateway's p50/p99, each backend call's p50/p99, the
//     ratio of the gateway's p99 to the slowest call's p99, the same calls
//     fired all at once by the benchmark itself (the floor for any fan-out
//     on this machine: the calls share its cores), and the sum of the
//     calls' p50s (what a gateway calling one at a time would cost);
//  4. throughput: each request at --throughput_callers at once against a
//     bare gRPC echo of the same run, with how many answers came from the
//     gateway's memory (--council_cache_mb=0: every answer computed).
// Client, gateway, backends and MariaDB share the machine's cores.
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "common/logging.h"
#include "common/server/service_runtime.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/impl/client_unary_call.h"
#include "grpcpp/security/credentials.h"
#include "grpcpp/support/client_interceptor.h"
#include "services/events/events_server.h"
#include "services/gateway/gateway.h"
#include "services/gateway/gateway_server.h"
#include "services/programme/programme_server.h"
#include "services/stats/stats_server.h"
#include "services/stats/synthetic_history.h"
#include "smz/gateway/v1/gateway.grpc.pb.h"
#include "smz/registry/v1/registry.grpc.pb.h"
#include "tests/harness/benchmark_support.h"
#include "tests/harness/local_registry.h"
#include "tests/harness/mariadb_server.h"

ABSL_FLAG(int, partners, 3000, "reporting hospitals");
ABSL_FLAG(int, months, 60, "months of reports per hospital, ending 2022-12");
ABSL_FLAG(int, nationalities, 8, "nationalities per report (x3 cells)");
ABSL_FLAG(int, runs, 200, "rounds per request");
ABSL_FLAG(int, warmup, 20, "rounds before measuring");
ABSL_FLAG(int, year, 2022, "the year asked for");
ABSL_FLAG(std::string, programme_code, "smz-2018", "the programme's code");
ABSL_FLAG(int, buffer_pool_mb, 1024, "InnoDB buffer pool for the run");
ABSL_FLAG(std::string, demo_dir, SMZ_DEMO_DIR, "folder of the demo CSVs");
ABSL_FLAG(int, council_cache_mb, 16,
          "the gateway's council tables in memory (0: computed every call)");
ABSL_FLAG(std::string, throughput_callers, "16,64",
          "caller counts for the throughput against the echo (empty: none)");
ABSL_FLAG(int, throughput_runs, 100, "calls per caller in each of those");

namespace {

using ::smz::testing::Check;
using ::smz::testing::CheckGrpc;
using ::smz::testing::Latency;
using ::smz::testing::Percentiles;
using ::smz::testing::RunParallel;
namespace gv1 = ::smz::gateway::v1;

std::string Target(int port) { return absl::StrCat("127.0.0.1:", port); }

std::shared_ptr<grpc::Channel> Local(int port) {
  return grpc::CreateChannel(Target(port), grpc::InsecureChannelCredentials());
}

// One backend call as the gateway made it.
struct CapturedCall {
  std::string backend;  // index into the channels map
  std::string method;   // "/smz.stats.v1.StatsService/QueryAggregate"
  std::string request;  // serialized request
  // What the backend answered the gateway (e.g. NOT_FOUND: no budget yet
  // for next year); a replay must answer the same.
  grpc::StatusCode code = grpc::StatusCode::OK;
};

class CallLog {
 public:
  size_t Add(CapturedCall call) {
    absl::MutexLock lock(&mu_);
    calls_.push_back(std::move(call));
    return calls_.size() - 1;
  }
  void SetCode(size_t index, grpc::StatusCode code) {
    absl::MutexLock lock(&mu_);
    calls_.at(index).code = code;
  }
  std::vector<CapturedCall> Take() {
    absl::MutexLock lock(&mu_);
    return std::exchange(calls_, {});
  }

 private:
  absl::Mutex mu_;
  std::vector<CapturedCall> calls_;
};

// Records each outgoing request before it is serialized for the wire.
class CaptureInterceptor final : public grpc::experimental::Interceptor {
 public:
  CaptureInterceptor(std::string backend, std::string method, CallLog* log)
      : backend_(std::move(backend)), method_(std::move(method)), log_(log) {}

  void Intercept(
      grpc::experimental::InterceptorBatchMethods* methods) override {
    if (methods->QueryInterceptionHookPoint(
            grpc::experimental::InterceptionHookPoints::PRE_SEND_MESSAGE)) {
      // Generated stubs send protobuf messages.
      const auto* message = static_cast<const google::protobuf::Message*>(
          methods->GetSendMessage());
      if (message != nullptr) {
        index_ = log_->Add({backend_, method_, message->SerializeAsString()});
      }
    }
    if (methods->QueryInterceptionHookPoint(
            grpc::experimental::InterceptionHookPoints::POST_RECV_STATUS) &&
        index_.has_value()) {
      log_->SetCode(*index_, methods->GetRecvStatus()->error_code());
    }
    methods->Proceed();
  }

 private:
  const std::string backend_;
  const std::string method_;
  CallLog* const log_;
  std::optional<size_t> index_;
};

class CaptureFactory final
    : public grpc::experimental::ClientInterceptorFactoryInterface {
 public:
  CaptureFactory(std::string backend, CallLog* log)
      : backend_(std::move(backend)), log_(log) {}
  grpc::experimental::Interceptor* CreateClientInterceptor(
      grpc::experimental::ClientRpcInfo* info) override {
    return new CaptureInterceptor(backend_, info->method(), log_);
  }

 private:
  const std::string backend_;
  CallLog* const log_;
};

std::shared_ptr<grpc::Channel> Capturing(int port, const std::string& backend,
                                         CallLog* log) {
  std::vector<
      std::unique_ptr<grpc::experimental::ClientInterceptorFactoryInterface>>
      factories;
  factories.push_back(std::make_unique<CaptureFactory>(backend, log));
  return grpc::experimental::CreateCustomChannelWithInterceptors(
      Target(port), grpc::InsecureChannelCredentials(),
      grpc::ChannelArguments(), std::move(factories));
}

// Replays a captured call through the same blocking path generated stubs
// use, with raw bytes in and out.
grpc::Status Replay(grpc::Channel* channel, const CapturedCall& call,
                    const std::string& token) {
  grpc::Slice slice(call.request);
  grpc::ByteBuffer request(&slice, 1);
  grpc::ByteBuffer response;
  auto context = smz::BearerContext(token, smz::kBulkCallDeadline);
  return grpc::internal::BlockingUnaryCall<grpc::ByteBuffer, grpc::ByteBuffer>(
      channel,
      grpc::internal::RpcMethod(call.method.c_str(),
                                grpc::internal::RpcMethod::NORMAL_RPC),
      context.get(), request, &response);
}

// "/smz.stats.v1.StatsService/QueryAggregate" -> "stats QueryAggregate".
std::string ShortName(const CapturedCall& call) {
  std::vector<std::string> parts = absl::StrSplit(call.method, '/');
  return absl::StrCat(call.backend, " ", parts.back());
}

// Runs the gateway request and its captured calls `runs` times, interleaved,
// and prints the table.
void Measure(const char* title, const std::function<grpc::Status()>& request,
             const std::vector<CapturedCall>& calls,
             std::map<std::string, std::shared_ptr<grpc::Channel>>& channels,
             const std::string& token, int runs, int warmup) {
  std::vector<double> gateway, together;
  std::vector<std::vector<double>> direct(calls.size());
  for (int run = -warmup; run < runs; ++run) {
    const absl::Time start = absl::Now();
    CheckGrpc(request(), title);
    if (run >= 0) gateway.push_back(smz::testing::MillisecondsSince(start));
    // The same calls all at once, a thread each, as the gateway's fan-out
    // would fire them with no work of its own and no dependencies.
    const absl::Time together_start = absl::Now();
    std::vector<std::thread> threads;
    std::vector<grpc::Status> statuses(calls.size());
    for (size_t i = 0; i < calls.size(); ++i) {
      threads.emplace_back([&, i] {
        statuses[i] =
            Replay(channels.at(calls[i].backend).get(), calls[i], token);
      });
    }
    for (std::thread& t : threads) t.join();
    if (run >= 0)
      together.push_back(smz::testing::MillisecondsSince(together_start));
    for (size_t i = 0; i < calls.size(); ++i) {
      if (statuses[i].error_code() != calls[i].code) {
        CheckGrpc(statuses[i], calls[i].method.c_str());
      }
    }
    for (size_t i = 0; i < calls.size(); ++i) {
      const absl::Time call_start = absl::Now();
      const grpc::Status status =
          Replay(channels.at(calls[i].backend).get(), calls[i], token);
      if (status.error_code() != calls[i].code) {
        CheckGrpc(status.ok() ? grpc::Status(grpc::StatusCode::UNKNOWN,
                                             "answered OK this time")
                              : status,
                  calls[i].method.c_str());
      }
      if (run >= 0)
        direct[i].push_back(smz::testing::MillisecondsSince(call_start));
    }
  }
  std::printf("\n## %s: %zu backend calls, %d rounds\n", title, calls.size(),
              runs);
  std::printf("%-44s %9s %9s\n", "", "p50 ms", "p99 ms");
  double slowest_p99 = 0, sum_p50 = 0;
  std::string slowest;
  for (size_t i = 0; i < calls.size(); ++i) {
    const Latency l = Percentiles(direct[i]);
    std::printf("%-44s %9.2f %9.2f\n",
                absl::StrCat("  ", i + 1, ". ", ShortName(calls[i])).c_str(),
                l.p50_ms, l.p99_ms);
    sum_p50 += l.p50_ms;
    if (l.p99_ms > slowest_p99) {
      slowest_p99 = l.p99_ms;
      slowest = ShortName(calls[i]);
    }
  }
  const Latency t = Percentiles(together);
  std::printf("%-44s %9.2f %9.2f\n", "all calls at once, no gateway", t.p50_ms,
              t.p99_ms);
  const Latency g = Percentiles(gateway);
  std::printf("%-44s %9.2f %9.2f\n", "gateway over gRPC", g.p50_ms, g.p99_ms);
  std::printf("slowest single call (p99): %s, %.2f ms\n", slowest.c_str(),
              slowest_p99);
  std::printf("gateway p99 / slowest call p99: %.2fx (goal <= 1.3x)\n",
              g.p99_ms / slowest_p99);
  std::printf(
      "gateway p99 / all calls at once p99: %.2fx (the gateway's own cost)\n",
      g.p99_ms / t.p99_ms);
  std::printf(
      "sum of the calls' p50s (one at a time): %.2f ms; gateway p50 "
      "is %.2fx of it\n",
      sum_p50, g.p50_ms / sum_p50);
}

// The three council requests at each of --throughput_callers at once,
// against a bare gRPC echo measured just before: calls/s and p99, and how
// many came from the gateway's memory.
void MeasureThroughput(smz::gateway::GatewayServer& gateway,
                       const std::string& council,
                       const gv1::GetZoneOverviewRequest& overview_request,
                       const gv1::GetKpiTableRequest& kpi_request,
                       const gv1::GetCouncilReportRequest& report_request) {
  constexpr int kWarmupRuns = 10;
  int echo_port = 0;
  std::unique_ptr<grpc::Server> echo_server =
      smz::testing::StartEchoServer(&echo_port);
  std::printf("\n## council tables: throughput against a bare gRPC echo\n");
  std::printf("%-34s %8s %10s %8s %8s %8s %8s\n", "", "callers", "calls/s",
              "p50 ms", "p99 ms", "ratio", "p99 x");
  const int runs = absl::GetFlag(FLAGS_throughput_runs);
  smz::gateway::CouncilCache* cache = gateway.council_cache();
  for (absl::string_view text :
       absl::StrSplit(absl::GetFlag(FLAGS_throughput_callers), ',')) {
    int callers = 0;
    if (!absl::SimpleAtoi(text, &callers) || callers <= 0) continue;
    std::vector<std::unique_ptr<gv1::GatewayService::Stub>> stubs;
    for (int c = 0; c < std::min(callers, 4); ++c) {
      grpc::ChannelArguments args;
      args.SetInt("grpc.channel_id", c);  // distinct connections
      stubs.push_back(gv1::GatewayService::NewStub(grpc::CreateCustomChannel(
          Target(gateway.port()), grpc::InsecureChannelCredentials(), args)));
    }
    const smz::testing::Throughput echo =
        smz::testing::MeasureEcho(echo_port, callers, runs, kWarmupRuns);
    std::printf("%-34s %8d %10.0f %8.2f %8.2f %8s %8s\n", "echo (bare gRPC)",
                callers, echo.calls_per_second, echo.latency.p50_ms,
                echo.latency.p99_ms, "1.00", "1.0");
    auto measure = [&](const char* name,
                       const std::function<grpc::Status(
                           gv1::GatewayService::Stub&, grpc::ClientContext*)>&
                           call) {
      const int64_t hits = cache != nullptr ? cache->hits() : 0;
      const int64_t rounds = cache != nullptr ? cache->stamp_rounds() : 0;
      const smz::testing::Throughput t =
          smz::testing::MeasureCalls(callers, runs, kWarmupRuns, [&](int n) {
            CheckGrpc(
                call(*stubs[n % stubs.size()],
                     smz::BearerContext(council, smz::kBulkCallDeadline).get()),
                name);
          });
      std::printf("%-34s %8d %10.0f %8.2f %8.2f %8.2f %8.1f\n", name, callers,
                  t.calls_per_second, t.latency.p50_ms, t.latency.p99_ms,
                  t.calls_per_second / echo.calls_per_second,
                  t.latency.p99_ms / echo.latency.p99_ms);
      if (cache != nullptr) {
        std::printf(
            "  (%lld of %lld calls from memory, %lld stamp rounds)\n",
            static_cast<long long>(cache->hits() - hits),
            static_cast<long long>(int64_t{callers} * (runs + kWarmupRuns)),
            static_cast<long long>(cache->stamp_rounds() - rounds));
      }
    };
    measure("zone overview",
            [&](gv1::GatewayService::Stub& stub, grpc::ClientContext* context) {
              gv1::ZoneOverview out;
              return stub.GetZoneOverview(context, overview_request, &out);
            });
    measure("KPI table",
            [&](gv1::GatewayService::Stub& stub, grpc::ClientContext* context) {
              gv1::KpiTable out;
              return stub.GetKpiTable(context, kpi_request, &out);
            });
    measure("council report (HTML, ko)",
            [&](gv1::GatewayService::Stub& stub, grpc::ClientContext* context) {
              gv1::Document out;
              return stub.GetCouncilReport(context, report_request, &out);
            });
  }
  echo_server->Shutdown();
}

int RunLoader(const std::string& command) {
  std::printf("$ %s\n", command.c_str());
  return std::system(command.c_str());
}

}  // namespace

// Long by design: a benchmark's script, set-up then each measurement in the
// order the report prints them, read top to bottom.
int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  std::setvbuf(stdout, nullptr, _IOLBF, 0);
  smz::ConfigureServiceProcess();
  const int partners = absl::GetFlag(FLAGS_partners);
  const int months = absl::GetFlag(FLAGS_months);
  const int year = absl::GetFlag(FLAGS_year);
  std::FILE* log = std::fopen("/tmp/gateway_benchmark.log", "w");
  smz::SetLogSink(log);

  std::unique_ptr<smz::testing::MariaDbServer> mariadb =
      smz::testing::StartBenchmarkMariaDb(absl::GetFlag(FLAGS_buffer_pool_mb));
  // Early in the next year: the report year is complete.
  smz::FakeClock clock(absl::FromCivil(
      absl::CivilSecond(year + 1, 1, 20, 9, 0, 0), smz::SeoulTimeZone()));

  // Registry and the hospitals.
  absl::StatusOr<std::unique_ptr<smz::testing::LocalRegistry>> registry =
      smz::testing::LocalRegistry::Start(*mariadb, &clock);
  Check(registry.status(), "registry");
  const std::string admin = (*registry)->admin_token();
  const absl::Time registry_start = absl::Now();
  absl::StatusOr<std::vector<smz::stats::SyntheticPartner>> hospitals =
      smz::stats::CreateSyntheticPartners((*registry)->stub(), admin, partners);
  Check(hospitals.status(), "partners");
  std::printf("registry: %d hospitals created and designated in %.1f s\n",
              partners, absl::ToDoubleSeconds(absl::Now() - registry_start));
  auto issue = [&](smz::auth::v1::Role role) {
    absl::StatusOr<std::string> token =
        (*registry)->IssueToken(role, "gateway benchmark");
    Check(token.status(), "IssueToken");
    return *token;
  };
  const std::string service_token = issue(smz::auth::v1::ANALYST);
  const std::string council = issue(smz::auth::v1::COUNCIL);
  const std::string registry_target = Target((*registry)->server().port());

  // Stats with the national history.
  auto stats_db = mariadb->CreateServiceDatabase("smz_stats");
  Check(stats_db.status(), "stats database");
  smz::stats::StatsServerOptions stats_options;
  stats_options.database = *stats_db;
  stats_options.server.listen = "127.0.0.1:0";
  stats_options.registry_target = registry_target;
  stats_options.registry_token = service_token;
  stats_options.clock = &clock;
  // Rebuilding the rollups of 180,000 reports runs statements longer than a
  // service's usual 5 s; the timeout does not change the latencies measured.
  stats_options.database.io_timeout = absl::Minutes(10);
  auto stats = smz::stats::StatsServer::Start(stats_options);
  Check(stats.status(), "stats");
  smz::Database bulk(stats_options.database);
  const absl::Time load_start = absl::Now();
  absl::StatusOr<int64_t> cells = smz::stats::LoadSyntheticHistory(
      bulk, *hospitals, absl::CivilMonth(year, 12), months,
      absl::GetFlag(FLAGS_nationalities));
  Check(cells.status(), "history");
  Check((*stats)->store().RebuildRollups(), "rollups");
  std::printf("stats: %d reports, %lld cells loaded and rolled up in %.1f s\n",
              partners * months, static_cast<long long>(*cells),
              absl::ToDoubleSeconds(absl::Now() - load_start));

  // Events and programme with the demo data.
  auto events_db = mariadb->CreateServiceDatabase("smz_events");
  Check(events_db.status(), "events database");
  smz::events::EventsServerOptions events_options;
  events_options.database = *events_db;
  events_options.server.listen = "127.0.0.1:0";
  events_options.registry_target = registry_target;
  events_options.registry_token = service_token;
  events_options.clock = &clock;
  auto events = smz::events::EventsServer::Start(events_options);
  Check(events.status(), "events");
  auto programme_db = mariadb->CreateServiceDatabase("smz_programme");
  Check(programme_db.status(), "programme database");
  smz::programme::ProgrammeServerOptions programme_options;
  programme_options.database = *programme_db;
  programme_options.server.listen = "127.0.0.1:0";
  programme_options.registry_target = registry_target;
  programme_options.clock = &clock;
  auto programme = smz::programme::ProgrammeServer::Start(programme_options);
  Check(programme.status(), "programme");
  char token_path[] = "/tmp/gateway-benchmark-token-XXXXXX";
  const int token_fd = mkstemp(token_path);  // mode 0600
  if (token_fd < 0 || write(token_fd, admin.data(), admin.size()) !=
                          static_cast<ssize_t>(admin.size())) {
    std::fprintf(stderr, "cannot write the token file\n");
    return 1;
  }
  close(token_fd);
  const std::string demo = absl::GetFlag(FLAGS_demo_dir);
  const int events_loaded = RunLoader(absl::StrCat(
      SMZ_EVENTS_LOAD_DEMO, " --registry=", registry_target, " --events=",
      Target((*events)->port()), " --token_file=", token_path, " --csv=", demo,
      "/activities_2018_2022.csv > /tmp/gateway_benchmark_loaders.log"));
  const int programme_loaded = RunLoader(absl::StrCat(
      SMZ_PROGRAMME_LOAD_DEMO, " --programme=", Target((*programme)->port()),
      " --token_file=", token_path, " --dir=", demo,
      " >> /tmp/gateway_benchmark_loaders.log"));
  unlink(token_path);
  if (events_loaded != 0 || programme_loaded != 0) {
    std::fprintf(stderr,
                 "a demo loader failed: /tmp/gateway_benchmark_loaders.log\n");
    return 1;
  }

  // The gateway under test, and a twin whose channels capture its calls.
  smz::gateway::GatewayServerOptions gateway_options;
  gateway_options.server.listen = "127.0.0.1:0";
  gateway_options.registry_target = registry_target;
  gateway_options.stats_target = Target((*stats)->port());
  gateway_options.events_target = Target((*events)->port());
  gateway_options.programme_target = Target((*programme)->port());
  gateway_options.clock = &clock;
  gateway_options.council_cache.max_bytes =
      static_cast<size_t>(absl::GetFlag(FLAGS_council_cache_mb)) << 20;
  auto gateway = smz::gateway::GatewayServer::Start(gateway_options);
  Check(gateway.status(), "gateway");
  auto gateway_stub = gv1::GatewayService::NewStub(Local((*gateway)->port()));
  CallLog call_log;
  smz::gateway::BackendChannels capturing{
      Capturing((*registry)->server().port(), "registry", &call_log),
      Capturing((*stats)->port(), "stats", &call_log),
      Capturing((*events)->port(), "events", &call_log),
      Capturing((*programme)->port(), "programme", &call_log)};
  smz::gateway::Gateway twin(capturing, &clock, {});
  std::map<std::string, std::shared_ptr<grpc::Channel>> channels = {
      {"registry", Local((*registry)->server().port())},
      {"stats", Local((*stats)->port())},
      {"events", Local((*events)->port())},
      {"programme", Local((*programme)->port())}};
  const std::string bearer = absl::StrCat("Bearer ", council);

  gv1::GetZoneOverviewRequest overview_request;
  overview_request.set_year(year);
  absl::StatusOr<gv1::ZoneOverview> overview =
      twin.GetZoneOverview(bearer, overview_request);
  Check(overview.status(), "overview");
  const std::vector<CapturedCall> overview_calls = call_log.Take();
  for (const gv1::Section& s : overview->sections()) {
    if (!s.available()) {
      std::fprintf(stderr, "overview: %s unavailable: %s\n", s.name().c_str(),
                   s.reason().c_str());
      return 1;
    }
  }
  std::printf(
      "\noverview %d: %lld active partners by kind, %lld new patients, "
      "%.1f%% of the budget executed\n",
      year,
      static_cast<long long>(overview->partners_by_kind_size()
                                 ? overview->partners_by_kind(0).count()
                                 : 0),
      static_cast<long long>(overview->patients_ytd()),
      overview->execution_rate_percent());

  gv1::GetKpiTableRequest kpi_request;
  kpi_request.set_programme_code(absl::GetFlag(FLAGS_programme_code));
  kpi_request.set_as_of(absl::StrCat(year, "-12-31"));
  absl::StatusOr<gv1::KpiTable> kpi = twin.GetKpiTable(bearer, kpi_request);
  Check(kpi.status(), "KPI table");
  const std::vector<CapturedCall> kpi_calls = call_log.Take();

  gv1::GetCouncilReportRequest report_request;
  report_request.set_year(year);
  report_request.set_programme_code(absl::GetFlag(FLAGS_programme_code));
  absl::StatusOr<gv1::Document> report =
      twin.GetCouncilReport(bearer, report_request);
  Check(report.status(), "report");
  const std::vector<CapturedCall> report_calls = call_log.Take();
  std::ofstream("/tmp/gateway_benchmark_report.html") << report->content();
  std::printf(
      "council report %d: %zu bytes of HTML "
      "(/tmp/gateway_benchmark_report.html)\n",
      year, report->content().size());

  const int runs = absl::GetFlag(FLAGS_runs);
  const int warmup = absl::GetFlag(FLAGS_warmup);
  Measure(
      "zone overview",
      [&] {
        gv1::ZoneOverview out;
        return gateway_stub->GetZoneOverview(
            smz::BearerContext(council, smz::kBulkCallDeadline).get(),
            overview_request, &out);
      },
      overview_calls, channels, council, runs, warmup);
  Measure(
      "KPI table (part of the report)",
      [&] {
        gv1::KpiTable out;
        return gateway_stub->GetKpiTable(
            smz::BearerContext(council, smz::kBulkCallDeadline).get(),
            kpi_request, &out);
      },
      kpi_calls, channels, council, runs, warmup);
  Measure(
      "council report (HTML, ko)",
      [&] {
        gv1::Document out;
        return gateway_stub->GetCouncilReport(
            smz::BearerContext(council, smz::kBulkCallDeadline).get(),
            report_request, &out);
      },
      report_calls, channels, council, runs, warmup);

  MeasureThroughput(**gateway, council, overview_request, kpi_request,
                    report_request);
  std::printf(
      "\npeak resident set of this process (services and clients): "
      "%s\n",
      smz::testing::PeakResidentSet().c_str());

  (*gateway)->Shutdown();
  (*programme)->Shutdown();
  (*events)->Shutdown();
  (*stats)->Shutdown();
  (*registry)->server().Shutdown();
  smz::SetLogSink(nullptr);  // before the close: lines may still be buffered
  std::fclose(log);
  return 0;
}
