// registry_benchmark: calls per second and latency of GetPartner and
// ListPartners (and a whole SignIn) at N concurrent callers, beside a bare
// gRPC echo server measured in the same run (the ceiling of this machine's
// gRPC stack). `pageecho` is a bare server answering ListPartners with the
// by-name page's bytes: the ceiling for an answer of that size, the
// client's parse of it included.
//
//   build/services/registry/registry_benchmark --seconds=5 --concurrency=16
//
// It starts its own MariaDB and registry (with per-RPC logging to a file, as
// in production) on loopback; client and servers share the machine's cores.
#include <sys/resource.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <functional>
#include <memory>
#include <random>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "common/aip/etag.h"
#include "common/departments.h"
#include "common/logging.h"
#include "common/server/raw_messages.h"
#include "common/server/service_runtime.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/security/credentials.h"
#include "grpcpp/security/server_credentials.h"
#include "grpcpp/server_builder.h"
#include "services/registry/registry_server.h"
#include "smz/bench/v1/echo.grpc.pb.h"
#include "smz/registry/v1/accounts.grpc.pb.h"
#include "smz/registry/v1/registry.grpc.pb.h"
#include "tests/harness/benchmark_support.h"
#include "tests/harness/mariadb_server.h"

ABSL_FLAG(int, seconds, 5, "measurement time per workload");
ABSL_FLAG(int, concurrency, 16, "concurrent callers");
ABSL_FLAG(int, partners, 300, "partners in the data set");
ABSL_FLAG(int, channels, 4, "client channels (connections)");
ABSL_FLAG(std::string, sql, "",
          "override the query of the 'sql' workload (one ? for a partner id)");
ABSL_FLAG(std::string, workloads,
          "echo,whoami,sql,get,list,filter,update,signin",
          "which workloads to run (the first listed is the baseline; "
          "pageecho: a bare server answering ListPartners with the by-name "
          "page's bytes, the ceiling for a page of this size)");

namespace {

namespace v1 = ::smz::registry::v1;

// A bare callback-API server that answers every ListPartners with the same
// page, already serialized: what gRPC and the client's parse of a page cost
// on this machine, without authentication, stamp or lookup.
class PageEchoService final
    : public v1::RegistryService::WithRawCallbackMethod_ListPartners<
          v1::RegistryService::Service> {
 public:
  explicit PageEchoService(std::shared_ptr<const std::string> page)
      : page_(std::move(page)) {}

  grpc::ServerUnaryReactor* ListPartners(grpc::CallbackServerContext* context,
                                         const grpc::ByteBuffer* /*request*/,
                                         grpc::ByteBuffer* response) override {
    smz::ShareAsResponse(page_, response);
    grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
    reactor->Finish(grpc::Status::OK);
    return reactor;
  }

 private:
  const std::shared_ptr<const std::string> page_;
};

struct Result {
  std::string name;
  double calls_per_second = 0;
  double p50_ms = 0;
  double p99_ms = 0;
  // CPU time of this whole process (servers and clients, every thread) per
  // call: less moved than calls/s by other tenants of a shared host (the
  // time they take is not counted as ours), though contention still moves
  // it somewhat.
  double cpu_us_per_call = 0;
  int64_t errors = 0;
};

double ProcessCpuSeconds() {
  struct rusage usage;
  ::getrusage(RUSAGE_SELF, &usage);
  return usage.ru_utime.tv_sec + usage.ru_stime.tv_sec +
         (usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6;
}

// Runs `call(thread_index, rng)` from `concurrency` threads for `duration`.
Result Measure(const std::string& name, int concurrency,
               absl::Duration duration,
               const std::function<bool(int, std::mt19937&)>& call,
               int warm_up_calls = 200) {
  // Warm-up: connections, prepared statements, caches.
  {
    std::mt19937 rng(1);
    for (int i = 0; i < warm_up_calls; ++i) call(0, rng);
  }
  std::vector<std::vector<double>> latencies(concurrency);
  std::atomic<int64_t> errors{0};
  const double cpu_start = ProcessCpuSeconds();
  const absl::Time start = absl::Now();
  const absl::Time end = start + duration;
  std::vector<std::thread> threads;
  for (int t = 0; t < concurrency; ++t) {
    threads.emplace_back([&, t] {
      std::mt19937 rng(t + 17);
      latencies[t].reserve(100000);
      while (absl::Now() < end) {
        const absl::Time before = absl::Now();
        if (!call(t, rng)) errors.fetch_add(1);
        latencies[t].push_back(
            absl::ToDoubleMilliseconds(absl::Now() - before));
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  const double elapsed = absl::ToDoubleSeconds(absl::Now() - start);
  const double cpu_seconds = ProcessCpuSeconds() - cpu_start;
  std::vector<double> all;
  for (const auto& v : latencies) all.insert(all.end(), v.begin(), v.end());
  std::sort(all.begin(), all.end());
  Result result;
  result.name = name;
  result.calls_per_second = all.size() / elapsed;
  result.p50_ms = all.empty() ? 0 : all[all.size() / 2];
  result.p99_ms =
      all.empty() ? 0 : all[std::min(all.size() - 1, all.size() * 99 / 100)];
  result.errors = errors.load();
  result.cpu_us_per_call = all.empty() ? 0 : cpu_seconds * 1e6 / all.size();
  return result;
}

}  // namespace

// Long by design: a benchmark's script, set-up then each measurement in the
// order the report prints them, read top to bottom.
int main(int argc, char** argv) {
  smz::ConfigureServiceProcess();  // measure the service as deployed
  absl::ParseCommandLine(argc, argv);
  const int concurrency = absl::GetFlag(FLAGS_concurrency);
  const absl::Duration duration = absl::Seconds(absl::GetFlag(FLAGS_seconds));

  auto mariadb = smz::testing::MariaDbServer::Start();
  if (!mariadb.ok()) {
    std::fprintf(stderr, "MariaDB: %s\n",
                 std::string(mariadb.status().message()).c_str());
    return 1;
  }
  auto database = (*mariadb)->CreateServiceDatabase("smz_registry");
  if (!database.ok()) return 1;
  const std::string log_path =
      absl::StrCat(::getenv("TMPDIR") ? ::getenv("TMPDIR") : "/tmp",
                   "/registry_benchmark.log");
  std::FILE* log = std::fopen(log_path.c_str(), "w");
  smz::SetLogSink(log);

  smz::registry::RegistryServerOptions options;
  options.database = *database;
  options.database.pool_size = 16;
  options.server.listen = "127.0.0.1:0";
  auto server = smz::registry::RegistryServer::Start(options);
  if (!server.ok()) {
    std::fprintf(stderr, "registry: %s\n",
                 std::string(server.status().message()).c_str());
    return 1;
  }
  std::string admin;
  (void)(*server)->registry().EnsureBootstrapAdminToken(
      [&](const std::string& t) {
        admin = t;
        return absl::OkStatus();
      });

  // The echo baseline, a callback-API server like gRPC's own benchmarks.
  int echo_port = 0;
  std::unique_ptr<grpc::Server> echo_server =
      smz::testing::StartEchoServer(&echo_port);

  std::vector<std::shared_ptr<grpc::Channel>> registry_channels;
  std::vector<std::shared_ptr<grpc::Channel>> echo_channels;
  for (int i = 0; i < absl::GetFlag(FLAGS_channels); ++i) {
    grpc::ChannelArguments args;
    args.SetInt("grpc.channel_id", i);  // distinct connections
    registry_channels.push_back(
        grpc::CreateCustomChannel(absl::StrCat("127.0.0.1:", (*server)->port()),
                                  grpc::InsecureChannelCredentials(), args));
    echo_channels.push_back(
        grpc::CreateCustomChannel(absl::StrCat("127.0.0.1:", echo_port),
                                  grpc::InsecureChannelCredentials(), args));
  }
  auto registry_stub = [&](int t) {
    return v1::RegistryService::NewStub(
        registry_channels[t % registry_channels.size()]);
  };

  // The data set: hospitals across regions, departments and languages.
  const auto departments = smz::Departments();
  const int partners = absl::GetFlag(FLAGS_partners);
  // Created by 8 callers at once (100,000 one by one would take minutes).
  std::vector<int64_t> ids(partners, 0);
  {
    std::atomic<int> failed{0};
    const int64_t deadlocks_before = smz::testing::InnodbDeadlocks(**mariadb);
    const double seconds = smz::testing::RunParallel(partners, 8, [&](int i) {
      auto stub = registry_stub(i);
      v1::CreatePartnerRequest request;
      v1::Partner* p = request.mutable_partner();
      p->set_kind(i % 4 == 0 ? v1::SPECIALIZED_OPERATOR
                             : v1::COOPERATING_INSTITUTION);
      (*p->mutable_name())["ko"] = absl::StrCat("병원 ", i);
      (*p->mutable_name())["en"] = absl::StrCat("Hospital ", i);
      p->set_region(static_cast<v1::ZoneRegion>(1 + i % 3));
      p->set_floor_area_m2(500 + i * 13.5);
      p->set_address(absl::StrCat("영등포로 ", i));
      p->add_departments(std::string(departments[i % departments.size()].code));
      p->add_departments(
          std::string(departments[(i + 7) % departments.size()].code));
      p->add_languages("en");
      if (i % 2 == 0) p->add_languages("zh");
      v1::Contact* c = p->add_contacts();
      c->set_name("국제진료센터");
      c->set_email("intl@example.org");
      grpc::ClientContext context;
      context.AddMetadata("authorization", absl::StrCat("Bearer ", admin));
      v1::Partner created;
      const grpc::Status status =
          stub->CreatePartner(&context, request, &created);
      if (!status.ok()) {
        if (failed.fetch_add(1) == 0) {
          std::fprintf(stderr, "CreatePartner: %d %s\n", status.error_code(),
                       status.error_message().c_str());
        }
        return;
      }
      ids[i] = created.id();
    });
    if (failed.load() > 0) {
      std::fprintf(stderr, "CreatePartner failed %d times\n", failed.load());
      return 1;
    }
    std::printf(
        "%d partners created in %.1f s (%s)\n", partners, seconds,
        smz::testing::DeadlocksSince(**mariadb, deadlocks_before).c_str());
  }

  std::vector<std::unique_ptr<v1::RegistryService::Stub>> stubs;
  std::vector<std::unique_ptr<smz::bench::v1::EchoService::Stub>> echo_stubs;
  for (int t = 0; t < concurrency; ++t) {
    stubs.push_back(registry_stub(t));
    echo_stubs.push_back(smz::bench::v1::EchoService::NewStub(
        echo_channels[t % echo_channels.size()]));
  }
  const std::string bearer = absl::StrCat("Bearer ", admin);

  const std::string wanted = absl::GetFlag(FLAGS_workloads);
  auto Wanted = [&](absl::string_view name) {
    return absl::StrContains(absl::StrCat(",", wanted, ","),
                             absl::StrCat(",", name, ","));
  };
  std::vector<Result> results;
  v1::ListPartnersRequest by_name;
  by_name.set_page_size(20);
  by_name.set_order_by("name");
  if (Wanted("echo"))
    results.push_back(
        Measure("echo (bare gRPC, callback API)", concurrency, duration,
                [&](int t, std::mt19937&) {
                  smz::bench::v1::EchoRequest request;
                  request.set_message("ping");
                  smz::bench::v1::EchoResponse response;
                  grpc::ClientContext context;
                  return echo_stubs[t]->Echo(&context, request, &response).ok();
                }));
  // Decomposition of GetPartner's cost: the RPC path without the database
  // (authentication, roles, logging, metrics since issue 18 through the
  // callback API, as GetPartner) ...
  if (Wanted("whoami"))
    results.push_back(
        Measure("WhoAmI (RPC path, no database)", concurrency, duration,
                [&](int t, std::mt19937&) {
                  v1::WhoAmIRequest request;
                  smz::auth::v1::Principal response;
                  grpc::ClientContext context;
                  context.AddMetadata("authorization", bearer);
                  return stubs[t]->WhoAmI(&context, request, &response).ok();
                }));
  // ... and GetPartner's query through the pool, without gRPC.
  smz::Database direct(*database);
  const std::string sql_query =
      !absl::GetFlag(FLAGS_sql).empty()
          ? absl::GetFlag(FLAGS_sql)
          : "SELECT p.id, p.status, p.profile, p.version, p.create_time_us, "
            "p.update_time_us, p.term_ends_on, p.name_ko, p.floor_area_m2, "
            "e.action, e.effective_on, e.term_ends_on, e.reason, "
            "e.decision_ref, e.recorded_by, e.record_time_us, e.id FROM "
            "partners p LEFT JOIN designation_events e ON e.partner_id = p.id "
            "WHERE p.id = ?";
  if (Wanted("sql"))
    results.push_back(Measure(
        "GetPartner's SELECT via the pool, no gRPC", concurrency, duration,
        [&](int, std::mt19937& rng) {
          const int64_t id = ids[rng() % ids.size()];
          return direct
              .Run([&](smz::Session& session) {
                return session.Query(sql_query, {smz::SqlInt(id)}).status();
              })
              .ok();
        }));
  if (Wanted("get"))
    results.push_back(Measure(
        "GetPartner", concurrency, duration, [&](int t, std::mt19937& rng) {
          v1::GetPartnerRequest request;
          request.set_id(ids[rng() % ids.size()]);
          v1::Partner response;
          grpc::ClientContext context;
          context.AddMetadata("authorization", bearer);
          return stubs[t]->GetPartner(&context, request, &response).ok();
        }));
  // Writes: each caller updates partners of its own (no etag conflicts),
  // alternating the address; every update is a transaction with a new
  // version, the directory's stamp and an audit entry (the department and
  // language rows stay: only the address changes).
  std::vector<std::vector<std::pair<int64_t, std::string>>> owned(concurrency);
  for (size_t i = 0; i < ids.size(); ++i) {
    owned[i % concurrency].push_back({ids[i], smz::EtagOf(1)});
  }
  std::vector<size_t> next_owned(concurrency, 0);
  // Fewer partners than callers: only the callers that own one update.
  if (Wanted("update"))
    results.push_back(Measure(
        "UpdatePartner (etag, audit entry)",
        std::min(concurrency, static_cast<int>(ids.size())), duration,
        [&](int t, std::mt19937& rng) {
          if (owned[t].empty()) return false;
          auto& [id, etag] = owned[t][next_owned[t]++ % owned[t].size()];
          v1::UpdatePartnerRequest request;
          request.mutable_partner()->set_id(id);
          request.mutable_partner()->set_address(
              absl::StrCat("영등포로 ", rng() % 1000));
          request.mutable_update_mask()->add_paths("address");
          request.set_etag(etag);
          v1::Partner response;
          grpc::ClientContext context;
          context.AddMetadata("authorization", bearer);
          if (!stubs[t]->UpdatePartner(&context, request, &response).ok()) {
            return false;
          }
          etag = response.etag();
          return true;
        }));
  if (Wanted("pageecho")) {
    v1::ListPartnersResponse page;
    grpc::ClientContext context;
    context.AddMetadata("authorization", bearer);
    smz::testing::CheckGrpc(stubs[0]->ListPartners(&context, by_name, &page),
                            "ListPartners");
    PageEchoService page_echo(
        std::make_shared<const std::string>(page.SerializeAsString()));
    int page_echo_port = 0;
    grpc::ServerBuilder builder;
    builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(),
                             &page_echo_port);
    builder.RegisterService(&page_echo);
    std::unique_ptr<grpc::Server> page_echo_server = builder.BuildAndStart();
    // Connections as for the echo: --channels of them, shared by the callers.
    std::vector<std::shared_ptr<grpc::Channel>> page_echo_channels;
    for (int i = 0; i < absl::GetFlag(FLAGS_channels); ++i) {
      grpc::ChannelArguments args;
      args.SetInt("grpc.channel_id", i);
      page_echo_channels.push_back(
          grpc::CreateCustomChannel(absl::StrCat("127.0.0.1:", page_echo_port),
                                    grpc::InsecureChannelCredentials(), args));
    }
    std::vector<std::unique_ptr<v1::RegistryService::Stub>> page_echo_stubs;
    for (int t = 0; t < concurrency; ++t) {
      page_echo_stubs.push_back(v1::RegistryService::NewStub(
          page_echo_channels[t % page_echo_channels.size()]));
    }
    results.push_back(
        Measure(absl::StrFormat("page echo (bare gRPC, %d-byte page)",
                                page.ByteSizeLong()),
                concurrency, duration, [&](int t, std::mt19937&) {
                  v1::ListPartnersResponse response;
                  grpc::ClientContext context;
                  return page_echo_stubs[t]
                      ->ListPartners(&context, by_name, &response)
                      .ok();
                }));
    page_echo_server->Shutdown();
  }
  if (Wanted("list"))
    results.push_back(Measure(
        "ListPartners (page of 20, by name)", concurrency, duration,
        [&](int t, std::mt19937&) {
          v1::ListPartnersResponse response;
          grpc::ClientContext context;
          context.AddMetadata("authorization", bearer);
          return stubs[t]->ListPartners(&context, by_name, &response).ok();
        }));
  if (Wanted("filter"))
    results.push_back(Measure(
        "ListPartners (department + region filter)", concurrency, duration,
        [&](int t, std::mt19937& rng) {
          v1::ListPartnersRequest request;
          request.set_page_size(20);
          request.set_department(
              std::string(departments[rng() % departments.size()].code));
          request.set_region(static_cast<v1::ZoneRegion>(1 + rng() % 3));
          v1::ListPartnersResponse response;
          grpc::ClientContext context;
          context.AddMetadata("authorization", bearer);
          return stubs[t]->ListPartners(&context, request, &response).ok();
        }));

  // A person's whole sign-in as the gateway forwards it: the throttle's
  // transaction, the account's row, Argon2id at the deployed cost (one check
  // per core at a time), the session's insert and the audit entry. Each
  // caller signs in as its own account. The goal (issue 14): p99 at most
  // 300 ms with 16 at once.
  if (Wanted("signin")) {
    auto accounts = v1::AccountService::NewStub(registry_channels[0]);
    for (int t = 0; t < concurrency; ++t) {
      v1::InviteAccountRequest invite;
      invite.set_login(absl::StrCat("bench.", t));
      invite.set_display_name(absl::StrCat("bench ", t));
      invite.set_role(smz::auth::v1::ANALYST);
      v1::AccountLinkResponse invited;
      grpc::ClientContext invite_context;
      invite_context.AddMetadata("authorization", bearer);
      smz::testing::CheckGrpc(
          accounts->InviteAccount(&invite_context, invite, &invited),
          "InviteAccount");
      v1::SetPasswordWithLinkRequest set;
      set.set_token(invited.link().token());
      set.set_new_password("benchmark password");
      v1::Account active;
      grpc::ClientContext set_context;
      smz::testing::CheckGrpc(
          accounts->SetPasswordWithLink(&set_context, set, &active),
          "SetPasswordWithLink");
    }
    std::vector<std::unique_ptr<v1::AccountService::Stub>> account_stubs;
    for (int t = 0; t < concurrency; ++t) {
      account_stubs.push_back(v1::AccountService::NewStub(
          registry_channels[t % registry_channels.size()]));
    }
    results.push_back(Measure(
        "SignIn (throttle, Argon2id, session)", concurrency, duration,
        [&](int t, std::mt19937&) {
          v1::SignInRequest request;
          request.set_login(absl::StrCat("bench.", t));
          request.set_password("benchmark password");
          v1::SignInResponse response;
          grpc::ClientContext context;
          return account_stubs[t]->SignIn(&context, request, &response).ok();
        },
        /*warm_up_calls=*/8));
  }

  echo_server->Shutdown();
  (*server)->Shutdown();
  smz::SetLogSink(nullptr);
  std::fclose(log);

  if (results.empty()) return 2;
  // The registry runs in this process: its directory in memory is in here.
  std::printf("peak resident set of this process (registry and clients): %s\n",
              smz::testing::PeakResidentSet().c_str());
  const double baseline = results[0].calls_per_second;
  std::printf(
      "registry benchmark: %d partners, %d concurrent callers, %s per "
      "workload, "
      "%d cores\n",
      partners, concurrency, absl::FormatDuration(duration).c_str(),
      static_cast<int>(std::thread::hardware_concurrency()));
  const double baseline_cpu = results[0].cpu_us_per_call;
  std::printf("%-44s %12s %9s %9s %10s %7s %12s %9s\n", "workload", "calls/s",
              "p50 ms", "p99 ms", "vs first", "errors", "cpu us/call",
              "vs first");
  for (const Result& r : results) {
    std::printf("%-44s %12.0f %9.2f %9.2f %9.2fx %7lld %12.1f %8.2fx\n",
                r.name.c_str(), r.calls_per_second, r.p50_ms, r.p99_ms,
                r.calls_per_second / baseline, static_cast<long long>(r.errors),
                r.cpu_us_per_call,
                baseline_cpu > 0 ? r.cpu_us_per_call / baseline_cpu : 0.0);
  }
  std::printf(
      "cpu us/call: this process (registry and clients), not MariaDB's: "
      "compare it between the workloads answered from memory\n");
  return 0;
}
