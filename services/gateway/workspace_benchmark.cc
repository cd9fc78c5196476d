// The web workspace's data calls as a hospital's pages make them, at 16
// concurrent users, each through the gateway's HTTP edge beside the
// backend gRPC call it wraps, in the same run (PERFORMANCE.md):
//   home page (/hospital):            WhoAmI, then GetReportingCalendar;
//   report form (/hospital/report):   WhoAmI, then GetReport, the calendar
//                                     and ListWarnings.
// Every user is a hospital's clerk signed in with an account (the session
// as the credential, as a browser's cookie carries it), and every hospital
// has a year of reports of --nationalities x --departments visit cells, so
// the form reads a month of about a thousand cells.
//
//   build/services/gateway/workspace_benchmark --users=16 --runs=200
#include <cstdio>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "common/clients/bearer_context.h"
#include "common/clock.h"
#include "common/departments.h"
#include "common/logging.h"
#include "common/server/service_runtime.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/security/credentials.h"
#include "httplib.h"
#include "services/gateway/gateway_server.h"
#include "smz/registry/v1/accounts.grpc.pb.h"
#include "smz/registry/v1/registry.grpc.pb.h"
#include "smz/stats/v1/stats.grpc.pb.h"
#include "tests/harness/benchmark_support.h"
#include "tests/harness/local_stack.h"

ABSL_FLAG(int, users, 16, "concurrent users, each a hospital's clerk");
ABSL_FLAG(int, runs, 200, "calls per user and measured call");
ABSL_FLAG(int, warmup, 20, "calls per user before measuring");
ABSL_FLAG(int, nationalities, 40, "nationalities in each month's report");
ABSL_FLAG(int, departments, 24, "departments per nationality (at most 24)");
ABSL_FLAG(std::string, only, "",
          "measure only the calls whose name contains this (for perf)");

namespace {

using smz::testing::Check;
using smz::testing::CheckGrpc;
using smz::testing::Latency;
namespace reg = smz::registry::v1;
namespace sv1 = smz::stats::v1;

absl::Time Seoul(int y, int m, int d, int hh) {
  return absl::FromCivil(absl::CivilSecond(y, m, d, hh, 0, 0),
                         smz::SeoulTimeZone());
}

const char* const kNationalities[] = {
    "MN", "VN", "CN", "RU", "KZ", "UZ", "US", "JP", "PH", "TH", "ID", "MY",
    "IN", "KG", "TJ", "TM", "AZ", "UA", "BY", "GE", "AM", "TR", "AE", "SA",
    "QA", "KW", "OM", "EG", "DE", "FR", "GB", "CA", "AU", "NZ", "SG", "HK",
    "TW", "MO", "LA", "KH", "MM", "NP", "BD", "LK", "PK", "IR"};

sv1::Report MonthReport(int64_t partner_id, const std::string& period,
                        int nationalities, int departments, int seed) {
  sv1::Report report;
  report.set_partner_id(partner_id);
  report.set_period(period);
  const auto all = smz::Departments();
  for (int n = 0; n < nationalities; ++n) {
    sv1::NewPatientCell* fresh = report.add_new_patients();
    fresh->set_nationality(kNationalities[n]);
    fresh->set_count(1 + (n + seed) % 5);
    for (int d = 0; d < departments && d < static_cast<int>(all.size()); ++d) {
      sv1::VisitCell* visit = report.add_visits();
      visit->set_nationality(kNationalities[n]);
      visit->set_department(std::string(all[d].code));
      visit->set_care_type(sv1::OUTPATIENT);
      visit->set_count(5 + (n * 7 + d * 3 + seed) % 20);
    }
  }
  report.set_revenue_krw(1'000'000 + seed * 1000);
  return report;
}

struct User {
  int64_t partner_id = 0;
  std::string session;
};

// One HTTP/1.1 keep-alive client per worker thread, as a browser keeps its
// connections.
httplib::Client& ThreadClient(int port) {
  thread_local std::unique_ptr<httplib::Client> client;
  thread_local int client_port = 0;
  if (client == nullptr || client_port != port) {
    client = std::make_unique<httplib::Client>("127.0.0.1", port);
    client->set_keep_alive(true);
    client_port = port;
  }
  return *client;
}

void HttpGet(int port, const std::string& path, const std::string& session) {
  auto answer = ThreadClient(port).Get(
      path, {{"Authorization", absl::StrCat("Bearer ", session)}});
  if (!answer || answer->status != 200) {
    std::fprintf(stderr, "GET %s: %d %s\n", path.c_str(),
                 answer ? answer->status : 0,
                 answer ? answer->body.substr(0, 300).c_str() : "no answer");
    std::exit(1);
  }
}

}  // namespace

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  std::setvbuf(stdout, nullptr, _IOLBF, 0);
  smz::ConfigureServiceProcess();
  std::FILE* log = std::fopen("/tmp/workspace_benchmark.log", "w");
  smz::SetLogSink(log);
  const int users = absl::GetFlag(FLAGS_users);
  const int runs = absl::GetFlag(FLAGS_runs);
  const int warmup = absl::GetFlag(FLAGS_warmup);
  const int nationalities =
      std::min<int>(absl::GetFlag(FLAGS_nationalities),
                    sizeof(kNationalities) / sizeof(kNationalities[0]));
  const int departments = absl::GetFlag(FLAGS_departments);

  // A clock that the loading walks month by month (each month is filed
  // before its deadline), then stops early in November 2026: October due.
  smz::FakeClock clock(Seoul(2025, 12, 1, 9));
  auto stack = smz::testing::LocalStack::Start(&clock);
  Check(stack.status(), "stack");
  auto stats = (*stack)->StartStats();
  Check(stats.status(), "stats");
  smz::gateway::GatewayServerOptions gateway_options;
  gateway_options.server.listen = "127.0.0.1:0";
  gateway_options.http_listen = "127.0.0.1:0";
  gateway_options.registry_target = (*stack)->registry().target();
  gateway_options.stats_target = absl::StrCat("127.0.0.1:", (*stats)->port());
  // The hospital's pages call neither.
  gateway_options.events_target = "127.0.0.1:1";
  gateway_options.programme_target = "127.0.0.1:1";
  gateway_options.clock = &clock;
  auto gateway = smz::gateway::GatewayServer::Start(gateway_options);
  Check(gateway.status(), "gateway");
  const int http_port = (*gateway)->http_port();

  auto registry_channel = grpc::CreateChannel(
      (*stack)->registry().target(), grpc::InsecureChannelCredentials());
  auto accounts = reg::AccountService::NewStub(registry_channel);
  auto registry = reg::RegistryService::NewStub(registry_channel);
  auto stats_stub = sv1::StatsService::NewStub(
      smz::testing::LoopbackChannel((*stats)->port()));

  std::vector<User> clerks(users);
  const std::string password = "benchmark password";
  for (int u = 0; u < users; ++u) {
    auto partner = (*stack)->AddPartner(
        smz::testing::TestHospital(absl::StrCat("병원", u + 1)), "2025-01-15",
        "2028-12-31");
    Check(partner.status(), "partner");
    const std::string login = absl::StrCat("clerk", u + 1);
    Check((*stack)
              ->AddPerson(login, smz::auth::v1::PARTNER, *partner, password)
              .status(),
          "account");
    clerks[u].partner_id = *partner;
  }
  std::printf("filing 12 months of %d cells for %d hospitals...\n",
              nationalities * (departments + 1), users);
  for (int m = 0; m < 12; ++m) {
    const absl::CivilMonth month = absl::CivilMonth(2025, 11) + m;
    const absl::CivilMonth next = month + 1;
    clock.Set(Seoul(next.year(), next.month(), 1, 9));
    for (int u = 0; u < users; ++u) {
      sv1::SubmitReportRequest submit;
      *submit.mutable_report() =
          MonthReport(clerks[u].partner_id,
                      absl::StrFormat("%04d-%02d", month.year(), month.month()),
                      nationalities, departments, m + u);
      sv1::SubmitReportResponse done;
      CheckGrpc(
          stats_stub->SubmitReport(smz::BearerContext((*stack)->admin_token(),
                                                      smz::kBulkCallDeadline)
                                       .get(),
                                   submit, &done),
          "SubmitReport");
    }
  }
  clock.Set(Seoul(2026, 11, 3, 9));
  for (User& clerk : clerks) {
    reg::SignInRequest sign_in;
    sign_in.set_login(absl::StrCat("clerk", &clerk - clerks.data() + 1));
    sign_in.set_password(password);
    reg::SignInResponse session;
    CheckGrpc(accounts->SignIn(smz::BearerContext("", absl::Seconds(30)).get(),
                               sign_in, &session),
              "SignIn");
    clerk.session = session.session_id();
  }

  const std::string period = "2026-10";
  auto context = [](const User& user) {
    return smz::BearerContext(user.session, absl::Seconds(30));
  };
  struct Pair {
    std::string name;
    std::function<void(int)> backend;
    std::function<void(int)> edge;
  };
  auto whoami_backend = [&](int u) {
    smz::auth::v1::Principal me;
    CheckGrpc(
        registry->WhoAmI(context(clerks[u]).get(), reg::WhoAmIRequest(), &me),
        "WhoAmI");
  };
  auto whoami_edge = [&](int u) {
    HttpGet(http_port, "/v1/whoami", clerks[u].session);
  };
  auto calendar_backend = [&](int u) {
    sv1::GetReportingCalendarRequest request;
    request.set_partner_id(clerks[u].partner_id);
    sv1::ReportingCalendar calendar;
    CheckGrpc(stats_stub->GetReportingCalendar(context(clerks[u]).get(),
                                               request, &calendar),
              "GetReportingCalendar");
  };
  auto calendar_edge = [&](int u) {
    HttpGet(http_port,
            absl::StrCat("/v1/partners/", clerks[u].partner_id,
                         "/reportingCalendars/0"),
            clerks[u].session);
  };
  auto report_backend = [&](int u) {
    sv1::GetReportRequest request;
    request.set_partner_id(clerks[u].partner_id);
    request.set_period(period);
    sv1::Report report;
    CheckGrpc(stats_stub->GetReport(context(clerks[u]).get(), request, &report),
              "GetReport");
  };
  auto report_edge = [&](int u) {
    HttpGet(http_port,
            absl::StrCat("/v1/partners/", clerks[u].partner_id, "/reports/",
                         period),
            clerks[u].session);
  };
  auto warnings_backend = [&](int u) {
    sv1::ListWarningsRequest request;
    request.set_partner_id(clerks[u].partner_id);
    request.set_start_period(period);
    request.set_end_period(period);
    request.set_page_size(200);
    sv1::ListWarningsResponse warnings;
    CheckGrpc(
        stats_stub->ListWarnings(context(clerks[u]).get(), request, &warnings),
        "ListWarnings");
  };
  auto warnings_edge = [&](int u) {
    HttpGet(http_port,
            absl::StrCat("/v1/warnings?partner_id=", clerks[u].partner_id,
                         "&start_period=", period, "&end_period=", period,
                         "&page_size=200"),
            clerks[u].session);
  };
  const std::vector<Pair> pairs = {
      {"WhoAmI", whoami_backend, whoami_edge},
      {"GetReportingCalendar", calendar_backend, calendar_edge},
      {"GetReport (one month)", report_backend, report_edge},
      {"ListWarnings", warnings_backend, warnings_edge},
      {"home page: WhoAmI + calendar",
       [&](int u) {
         whoami_backend(u);
         calendar_backend(u);
       },
       [&](int u) {
         whoami_edge(u);
         calendar_edge(u);
       }},
      {"report form: WhoAmI + report + calendar + warnings",
       [&](int u) {
         whoami_backend(u);
         report_backend(u);
         calendar_backend(u);
         warnings_backend(u);
       },
       [&](int u) {
         whoami_edge(u);
         report_edge(u);
         calendar_edge(u);
         warnings_edge(u);
       }},
  };
  // The size of what the form reads.
  {
    auto answer = ThreadClient(http_port).Get(
        absl::StrCat("/v1/partners/", clerks[0].partner_id, "/reports/",
                     period),
        {{"Authorization", absl::StrCat("Bearer ", clerks[0].session)}});
    std::printf("one month's report as JSON: %zu bytes\n",
                answer ? answer->body.size() : 0);
  }
  std::printf(
      "\n%d users at once, %d calls each (p50 · p99 ms)\n\n"
      "| call | backend gRPC calls/s | backend p50 · p99 | HTTP edge calls/s "
      "| edge p50 · p99 | edge ÷ backend throughput | edge p99 ÷ backend p99 "
      "|\n|---|---:|---:|---:|---:|---:|---:|\n",
      users, runs);
  for (const Pair& pair : pairs) {
    if (pair.name.find(absl::GetFlag(FLAGS_only)) == std::string::npos) {
      continue;
    }
    const smz::testing::Throughput backend = smz::testing::MeasureCalls(
        users, runs, warmup, [&](int n) { pair.backend(n % users); });
    const smz::testing::Throughput edge = smz::testing::MeasureCalls(
        users, runs, warmup, [&](int n) { pair.edge(n % users); });
    std::printf(
        "| %s | %.0f | %.2f · %.2f | %.0f | %.2f · %.2f | %.2fx | %.2fx |\n",
        pair.name.c_str(), backend.calls_per_second, backend.latency.p50_ms,
        backend.latency.p99_ms, edge.calls_per_second, edge.latency.p50_ms,
        edge.latency.p99_ms, edge.calls_per_second / backend.calls_per_second,
        edge.latency.p99_ms / backend.latency.p99_ms);
  }
  return 0;
}
