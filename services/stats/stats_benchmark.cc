// stats_benchmark: the statistics service at national scale, against plain
// MariaDB measured in the same run.
//
//   build/services/stats/stats_benchmark --partners=3000 --months=60
//
// It starts its own MariaDB, registry and stats server on loopback, then
//  1. bulk-loads a synthetic history (partners x months reports, a few dozen
//     non-zero cells each) straight into the stats database and builds the
//     rollups from it (RebuildRollups);
//  2. write throughput: every partner submits the next month's report
//     through SubmitReport over gRPC (validation, registry check, cells,
//     rollups, warnings against 24 months of history, audit, one durable
//     commit each) against inserting the same cells straight into a table
//     of the same shape through Connector/C++, one transaction per report,
//     at the same concurrency;
//  3. read latency: the council's typical aggregates through QueryAggregate
//     over gRPC (as COUNCIL, with suppression) against the same aggregate as
//     a plain GROUP BY over the raw cells.
// Client and servers share the machine's cores.
#include <algorithm>
#include <atomic>
#include <cstdio>
#include <random>
#include <thread>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "common/departments.h"
#include "common/logging.h"
#include "common/server/service_runtime.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/security/credentials.h"
#include "services/registry/registry_server.h"
#include "services/stats/stats_server.h"
#include "smz/registry/v1/registry.grpc.pb.h"
#include "smz/stats/v1/stats.grpc.pb.h"
#include "tests/harness/mariadb_server.h"

ABSL_FLAG(int, partners, 3000, "reporting partners");
ABSL_FLAG(int, months, 60, "months of history (ending 2025-12)");
ABSL_FLAG(int, nationalities, 8, "nationalities per report (x3 cells)");
ABSL_FLAG(int, concurrency, 16, "concurrent submitters");
ABSL_FLAG(int, query_runs, 200, "runs per aggregate through the service");
ABSL_FLAG(int, raw_runs, 10, "runs per raw GROUP BY");
ABSL_FLAG(int, history_months, 24,
          "months the plausibility check compares against (0: off)");
ABSL_FLAG(bool, verify_rollups, false,
          "after the submissions, compare every rollup row with a "
          "recomputation from the cells (slow at national scale)");
ABSL_FLAG(int, buffer_pool_mb, 1024, "InnoDB buffer pool for the run");

namespace {

namespace reg = ::smz::registry::v1;
namespace v1 = ::smz::stats::v1;
using ::smz::Database;
using ::smz::Session;
using ::smz::SqlInt;
using ::smz::SqlValue;

constexpr const char* kNationalities[] = {"CN", "MN", "RU", "VN", "US", "KZ",
                                          "UZ", "JP", "PH", "CA", "TH", "ID",
                                          "AE", "SA", "DE", "FR"};
constexpr const char* kDepartments[] = {
    "internal_medicine", "dermatology",    "plastic_surgery", "ophthalmology",
    "rehabilitation",    "checkup_center", "orthopedics",     "dentistry"};

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

std::unique_ptr<grpc::ClientContext> As(const std::string& token) {
  auto context = std::make_unique<grpc::ClientContext>();
  context->AddMetadata("authorization", absl::StrCat("Bearer ", token));
  context->set_deadline(std::chrono::system_clock::now() +
                        std::chrono::seconds(120));
  return context;
}

// A partner's report for one month: deterministic from (partner, period).
v1::Report MakeReport(int64_t partner_id, int period, int nationalities) {
  std::mt19937 random(static_cast<uint32_t>(partner_id * 7919 + period));
  v1::Report report;
  report.set_partner_id(partner_id);
  report.set_period(absl::StrFormat("%04d-%02d", period / 100, period % 100));
  std::vector<int> order(std::size(kNationalities));
  for (size_t i = 0; i < order.size(); ++i) order[i] = static_cast<int>(i);
  std::shuffle(order.begin(), order.end(), random);
  const int first_department = static_cast<int>(partner_id % 8);
  for (int n = 0; n < nationalities; ++n) {
    const char* nationality = kNationalities[order[n]];
    const int64_t patients = 1 + random() % 30;
    v1::NewPatientCell* cell = report.add_new_patients();
    cell->set_nationality(nationality);
    cell->set_count(patients);
    for (int d = 0; d < 2; ++d) {
      v1::VisitCell* visit = report.add_visits();
      visit->set_nationality(nationality);
      visit->set_department(kDepartments[(first_department + d * 3) % 8]);
      visit->set_care_type(d == 0 ? v1::OUTPATIENT : v1::INPATIENT);
      visit->set_count(d == 0 ? patients + random() % 10 : 1 + random() % 5);
    }
  }
  return report;
}

struct Latency {
  double p50_ms = 0;
  double p99_ms = 0;
};

Latency Percentiles(std::vector<double> samples) {
  std::sort(samples.begin(), samples.end());
  auto at = [&](double q) {
    size_t i = static_cast<size_t>(q * (samples.size() - 1) + 0.5);
    return samples[std::min(i, samples.size() - 1)];
  };
  return {at(0.50), at(0.99)};
}

// Runs `work(i)` for i in [0, n) on `threads` threads; returns seconds.
double Parallel(int n, int threads, const std::function<void(int)>& work) {
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

}  // namespace

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  std::setvbuf(stdout, nullptr, _IOLBF, 0);  // progress shows as it happens
  smz::ConfigureServiceProcess();            // measure the service as deployed
  const int partners = absl::GetFlag(FLAGS_partners);
  const int months = absl::GetFlag(FLAGS_months);
  const int nationalities = absl::GetFlag(FLAGS_nationalities);
  const int concurrency = absl::GetFlag(FLAGS_concurrency);
  const std::string log_path = "/tmp/stats_benchmark.log";
  std::FILE* log = std::fopen(log_path.c_str(), "w");
  smz::SetLogSink(log);

  auto mariadb = smz::testing::MariaDbServer::Start();
  Check(mariadb.status(), "MariaDB");
  Check((*mariadb)->ExecuteAsRoot(
            absl::StrCat("SET GLOBAL innodb_buffer_pool_size = ",
                         int64_t{absl::GetFlag(FLAGS_buffer_pool_mb)} << 20)),
        "buffer pool");
  // 2026-02-05: January 2026 is open for reports.
  smz::FakeClock clock(absl::FromCivil(absl::CivilSecond(2026, 2, 5, 9, 0, 0),
                                       smz::SeoulTimeZone()));

  auto registry_db = (*mariadb)->CreateServiceDatabase("smz_registry");
  Check(registry_db.status(), "registry database");
  smz::registry::RegistryServerOptions registry_options;
  registry_options.database = *registry_db;
  registry_options.server.listen = "127.0.0.1:0";
  registry_options.clock = &clock;
  auto registry = smz::registry::RegistryServer::Start(registry_options);
  Check(registry.status(), "registry");
  std::string admin;
  Check((*registry)
            ->registry()
            .EnsureBootstrapAdminToken([&](const std::string& t) {
              admin = t;
              return absl::OkStatus();
            })
            .status(),
        "admin token");
  auto registry_stub = reg::RegistryService::NewStub(
      grpc::CreateChannel(absl::StrCat("127.0.0.1:", (*registry)->port()),
                          grpc::InsecureChannelCredentials()));

  std::printf("# %d partners x %d months, %d cells per report\n", partners,
              months, nationalities * 3);
  std::vector<int64_t> partner_ids(partners);
  const double registry_seconds = Parallel(partners, 8, [&](int i) {
    reg::CreatePartnerRequest create;
    reg::Partner& p = *create.mutable_partner();
    p.set_kind(i % 4 == 0 ? reg::SPECIALIZED_OPERATOR
                          : reg::COOPERATING_INSTITUTION);
    (*p.mutable_name())["ko"] = absl::StrCat("병원 ", i + 1);
    p.set_representative("대표");
    p.set_address("주소");
    p.set_region(static_cast<reg::ZoneRegion>(1 + i % 3));
    p.set_floor_area_m2(1000);
    create.set_request_id(absl::StrCat("bench-", i));
    reg::Partner created;
    CheckGrpc(registry_stub->CreatePartner(As(admin).get(), create, &created),
              "CreatePartner");
    reg::DesignationRequest designate;
    designate.set_id(created.id());
    designate.set_effective_on("2020-01-01");
    designate.set_term_ends_on("2030-12-31");
    CheckGrpc(
        registry_stub->DesignatePartner(As(admin).get(), designate, &created),
        "DesignatePartner");
    partner_ids[i] = created.id();
  });
  auto issue = [&](smz::auth::v1::Role role) {
    reg::IssueTokenRequest request;
    request.set_role(role);
    request.set_display_name("benchmark");
    reg::IssueTokenResponse response;
    CheckGrpc(registry_stub->IssueToken(As(admin).get(), request, &response),
              "IssueToken");
    return response.token();
  };
  const std::string service_token = issue(smz::auth::v1::ANALYST);
  const std::string council_token = issue(smz::auth::v1::COUNCIL);
  std::printf("registry: %d partners created and designated in %.1f s\n",
              partners, registry_seconds);

  auto stats_db = (*mariadb)->CreateServiceDatabase("smz_stats");
  Check(stats_db.status(), "stats database");
  smz::stats::StatsServerOptions options;
  options.database = *stats_db;
  options.database.pool_size = concurrency + 8;
  options.server.listen = "127.0.0.1:0";
  options.registry_target = absl::StrCat("127.0.0.1:", (*registry)->port());
  options.registry_token = service_token;
  options.clock = &clock;
  options.store.history_months = absl::GetFlag(FLAGS_history_months);
  auto stats = smz::stats::StatsServer::Start(options);
  Check(stats.status(), "stats");
  // Bulk loading and the raw GROUP BYs take longer than a service's
  // statement timeout.
  smz::DatabaseOptions bulk_options = options.database;
  bulk_options.io_timeout = absl::Minutes(10);
  Database bulk(bulk_options);

  // 1. The history, straight into the tables, then the rollups.
  const absl::CivilMonth last_month(2025, 12);
  const absl::CivilMonth first_month = last_month - (months - 1);
  int64_t cells_loaded = 0;
  const absl::Time load_start = absl::Now();
  Check(bulk.Run([&](Session& session) -> absl::Status {
    std::vector<std::vector<SqlValue>> rows;
    for (int i = 0; i < partners; ++i) {
      rows.push_back({SqlInt(partner_ids[i]), SqlInt(i % 4 == 0 ? 1 : 2),
                      SqlInt(1 + i % 3), absl::StrCat("병원 ", i + 1)});
    }
    for (const auto& row : rows) {
      absl::StatusOr<int64_t> s = session.Execute(
          "INSERT INTO partners (id, kind, region, name_ko, name_en, "
          "refresh_time_us) VALUES (?, ?, ?, ?, '', 0)",
          row);
      if (!s.ok()) return s.status();
    }
    return absl::OkStatus();
  }),
        "partners");
  std::atomic<int64_t> cell_counter{0};
  const double load_seconds = Parallel(partners, 2, [&](int i) {
    Check(bulk.Transact([&](Session& session) -> absl::Status {
      std::string report_sql =
          "INSERT INTO reports (id, partner_id, period, status, "
          "no_activity, revision, digest, partner_kind, region, "
          "first_submit_time_us, update_time_us, submitted_by, late, "
          "cells) VALUES ";
      std::vector<SqlValue> report_params;
      std::string cell_sql =
          "INSERT INTO report_cells (report_id, partner_id, period, "
          "measure, nationality, department, care_type, sex, age_band, "
          "value) VALUES ";
      std::vector<SqlValue> cell_params;
      int cell_rows = 0;
      for (int m = 0; m < months; ++m) {
        const absl::CivilMonth month = first_month + m;
        const int period = month.year() * 100 + month.month();
        const int64_t report_id = int64_t{i} * months + m + 1;
        absl::StrAppend(&report_sql, m ? "," : "",
                        "(?,?,?,2,0,1,'',?,?,0,0,'bulk',0,?)");
        const v1::Report report =
            MakeReport(partner_ids[i], period, nationalities);
        v1::Report cells_only = report;
        cells_only.clear_partner_id();
        cells_only.clear_period();
        for (SqlValue v :
             {SqlInt(report_id), SqlInt(partner_ids[i]), SqlInt(period),
              SqlInt(i % 4 == 0 ? 1 : 2), SqlInt(1 + i % 3),
              SqlValue(cells_only.SerializeAsString())}) {
          report_params.push_back(v);
        }
        auto add_cell = [&](int measure, const std::string& nationality,
                            const std::string& department, int care,
                            int64_t value) {
          absl::StrAppend(&cell_sql, cell_rows++ ? "," : "",
                          "(?,?,?,?,?,?,?,0,0,?)");
          for (SqlValue v :
               {SqlInt(report_id), SqlInt(partner_ids[i]), SqlInt(period),
                SqlInt(measure), SqlValue(nationality), SqlValue(department),
                SqlInt(care), SqlInt(value)}) {
            cell_params.push_back(v);
          }
        };
        for (const v1::NewPatientCell& c : report.new_patients()) {
          add_cell(1, c.nationality(), "", 0, c.count());
        }
        for (const v1::VisitCell& c : report.visits()) {
          add_cell(2, c.nationality(), c.department(), c.care_type(),
                   c.count());
        }
      }
      absl::StatusOr<int64_t> s = session.Execute(report_sql, report_params);
      if (!s.ok()) return s.status();
      s = session.Execute(cell_sql, cell_params);
      if (!s.ok()) return s.status();
      cell_counter += cell_rows;
      return absl::OkStatus();
    }),
          "bulk load");
  });
  cells_loaded = cell_counter.load();
  const absl::Time rollup_start = absl::Now();
  Check((*stats)->store().RebuildRollups(), "RebuildRollups");
  std::printf(
      "history: %d reports, %lld cells loaded in %.1f s; rollups built in "
      "%.1f s\n",
      partners * months, static_cast<long long>(cells_loaded), load_seconds,
      absl::ToDoubleSeconds(absl::Now() - rollup_start));
  (void)load_start;

  // 2. Write throughput, January 2026: raw inserts, then the service.
  const int january = 202601;
  std::vector<v1::Report> reports;
  int64_t submitted_cells = 0;
  for (int i = 0; i < partners; ++i) {
    reports.push_back(MakeReport(partner_ids[i], january, nationalities));
    submitted_cells +=
        reports.back().new_patients_size() + reports.back().visits_size();
  }
  Check(bulk.Run([](Session& session) {
    return session.Execute("CREATE TABLE raw_cells LIKE report_cells", {})
        .status();
  }),
        "raw table");
  Database raw_pool(options.database);
  const double raw_seconds = Parallel(partners, concurrency, [&](int i) {
    const v1::Report& r = reports[i];
    Check(raw_pool.Transact([&](Session& session) -> absl::Status {
      auto insert = [&](int measure, const std::string& nationality,
                        const std::string& department, int care,
                        int64_t value) {
        return session
            .Execute(
                "INSERT INTO raw_cells (report_id, partner_id, period, "
                "measure, nationality, department, care_type, sex, "
                "age_band, value) VALUES (?,?,?,?,?,?,?,0,0,?)",
                {SqlInt(i + 1), SqlInt(r.partner_id()), SqlInt(january),
                 SqlInt(measure), nationality, department, SqlInt(care),
                 SqlInt(value)})
            .status();
      };
      for (const v1::NewPatientCell& c : r.new_patients()) {
        if (absl::Status s = insert(1, c.nationality(), "", 0, c.count());
            !s.ok()) {
          return s;
        }
      }
      for (const v1::VisitCell& c : r.visits()) {
        if (absl::Status s = insert(2, c.nationality(), c.department(),
                                    c.care_type(), c.count());
            !s.ok()) {
          return s;
        }
      }
      return absl::OkStatus();
    }),
          "raw insert");
  });

  auto channel =
      grpc::CreateChannel(absl::StrCat("127.0.0.1:", (*stats)->port()),
                          grpc::InsecureChannelCredentials());
  auto stub = v1::StatsService::NewStub(channel);
  std::atomic<int> warnings{0};
  const double service_seconds = Parallel(partners, concurrency, [&](int i) {
    v1::SubmitReportRequest request;
    *request.mutable_report() = reports[i];
    request.set_request_id(absl::StrCat("bench-", reports[i].partner_id()));
    v1::SubmitReportResponse response;
    CheckGrpc(stub->SubmitReport(As(admin).get(), request, &response),
              "SubmitReport");
    warnings += response.summary().warnings_size();
  });
  const double raw_rate = partners / raw_seconds;
  const double service_rate = partners / service_seconds;
  std::printf("\n## durable report submissions, %d concurrent callers\n",
              concurrency);
  std::printf("%-44s %10s %12s %8s\n", "", "reports/s", "cells/s", "ratio");
  std::printf("%-44s %10.0f %12.0f %8s\n",
              "raw INSERTs, one transaction per report", raw_rate,
              submitted_cells / raw_seconds, "1.00");
  std::printf("%-44s %10.0f %12.0f %8.2f\n", "SubmitReport over gRPC",
              service_rate, submitted_cells / service_seconds,
              service_rate / raw_rate);
  std::printf("(%d plausibility warnings raised)\n", warnings.load());
  if (absl::GetFlag(FLAGS_verify_rollups)) {
    absl::StatusOr<int64_t> mismatches =
        (*stats)->store().CountRollupMismatches();
    Check(mismatches.status(), "rollup check");
    std::printf("rollup rows differing from a recomputation: %lld\n",
                static_cast<long long>(*mismatches));
  }

  // 3. Read latency.
  struct Aggregate {
    const char* name;
    v1::AggregateRequest request;
    std::string raw_sql;
  };
  std::vector<Aggregate> aggregates(3);
  aggregates[0].name = "year by nationality (2025)";
  aggregates[0].request.set_start_period("2025-01");
  aggregates[0].request.set_end_period("2025-12");
  aggregates[0].request.set_bucket(v1::YEAR);
  aggregates[0].request.add_group_by(v1::NATIONALITY);
  aggregates[0].raw_sql =
      "SELECT c.period DIV 100, c.nationality, c.measure, SUM(c.value) "
      "FROM report_cells c JOIN reports r ON r.id = c.report_id AND "
      "r.status IN (2, 3) WHERE c.period BETWEEN 202501 AND 202512 "
      "GROUP BY 1, 2, 3";
  aggregates[1].name = "month series (all months)";
  aggregates[1].request.set_start_period(
      absl::StrFormat("%04d-%02d", first_month.year(), first_month.month()));
  aggregates[1].request.set_end_period("2025-12");
  aggregates[1].request.set_bucket(v1::MONTH);
  aggregates[1].raw_sql = absl::StrCat(
      "SELECT c.period, c.measure, SUM(c.value) FROM report_cells c JOIN "
      "reports r ON r.id = c.report_id AND r.status IN (2, 3) WHERE "
      "c.period BETWEEN ",
      first_month.year() * 100 + first_month.month(),
      " AND 202512 GROUP BY 1, 2");
  aggregates[2].name = "top-10 departments (2025)";
  aggregates[2].request.set_start_period("2025-01");
  aggregates[2].request.set_end_period("2025-12");
  aggregates[2].request.set_bucket(v1::YEAR);
  aggregates[2].request.add_group_by(v1::DEPARTMENT);
  aggregates[2].request.set_top_n(10);
  aggregates[2].request.set_order_by(v1::VISITS);
  aggregates[2].raw_sql =
      "SELECT c.department, SUM(c.value) AS visits FROM report_cells c JOIN "
      "reports r ON r.id = c.report_id AND r.status IN (2, 3) WHERE "
      "c.period BETWEEN 202501 AND 202512 AND c.measure = 2 GROUP BY "
      "c.department ORDER BY visits DESC LIMIT 10";

  std::printf("\n## council aggregates (one caller; service as COUNCIL)\n");
  std::printf("%-30s %10s %10s %12s %12s %8s\n", "", "p50 ms", "p99 ms",
              "raw p50 ms", "raw p99 ms", "speedup");
  for (Aggregate& a : aggregates) {
    std::vector<double> service;
    v1::AggregateResponse response;
    for (int run = 0; run < absl::GetFlag(FLAGS_query_runs); ++run) {
      const absl::Time start = absl::Now();
      CheckGrpc(
          stub->QueryAggregate(As(council_token).get(), a.request, &response),
          "QueryAggregate");
      service.push_back(absl::ToDoubleMilliseconds(absl::Now() - start));
    }
    std::vector<double> raw;
    for (int run = 0; run < absl::GetFlag(FLAGS_raw_runs); ++run) {
      const absl::Time start = absl::Now();
      Check(bulk.Run([&](Session& session) {
        return session.Query(a.raw_sql, {}).status();
      }),
            "raw GROUP BY");
      raw.push_back(absl::ToDoubleMilliseconds(absl::Now() - start));
    }
    const Latency ours = Percentiles(service);
    const Latency theirs = Percentiles(raw);
    std::printf("%-30s %10.2f %10.2f %12.1f %12.1f %7.0fx\n", a.name,
                ours.p50_ms, ours.p99_ms, theirs.p50_ms, theirs.p99_ms,
                theirs.p50_ms / ours.p50_ms);
    std::printf("  (%s, %d rows, total visits %lld)\n",
                response.source().c_str(), response.rows_size(),
                static_cast<long long>(response.total().visits().value()));
  }
  (*stats)->Shutdown();
  (*registry)->Shutdown();
  std::fclose(log);
  return 0;
}
