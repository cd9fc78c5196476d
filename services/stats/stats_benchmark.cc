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
//     rollups, warnings against 24 months of history, audit, a durable
//     commit shared by the submissions that arrive together: group commit,
//     --max_group_cells=0 for one commit each) against inserting the same
//     cells straight into a table of the same shape through Connector/C++,
//     one transaction per report, at the same concurrency
//     (--submit_in_process calls the service's Stats::SubmitReport directly
//     instead, with the caller looked up once: the RPC layer's share;
//     --history_months=0 turns the plausibility check off: its share);
//  3. read latency: the council's typical aggregates through QueryAggregate
//     over gRPC (as COUNCIL, with suppression) against the same aggregate as
//     a plain GROUP BY over the same cells as rows (history_cells), and
//     the reads that still go to the cells (by hospital) over those rows
//     and over the report rows' cells_json, as the service reads them;
//  4. throughput: the council's year by nationality at --throughput_callers
//     callers at once against a bare gRPC echo server in the same run
//     (answers from memory, AggregateCache, once the rollups' stamp says
//     they are current; --aggregate_cache_mb=0 computes every one).
// --perf_command runs a command (perf record) over phase 2's service
// submissions or phase 4's first caller count (--perf_phase).
// Client and servers share the machine's cores.
#include <algorithm>
#include <atomic>
#include <cstdio>
#include <string>
#include <thread>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "common/aip/status_macros.h"
#include "common/departments.h"
#include "common/logging.h"
#include "common/server/service_runtime.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/security/credentials.h"
#include "services/stats/stats_server.h"
#include "services/stats/stats_store_rows.h"
#include "services/stats/synthetic_history.h"
#include "smz/registry/v1/registry.grpc.pb.h"
#include "smz/stats/v1/stats.grpc.pb.h"
#include "tests/harness/benchmark_support.h"
#include "tests/harness/local_registry.h"
#include "tests/harness/mariadb_server.h"

ABSL_FLAG(int, partners, 3000, "reporting partners");
ABSL_FLAG(int, months, 60, "months of history (ending 2025-12)");
ABSL_FLAG(int, nationalities, 8, "nationalities per report (x3 cells)");
ABSL_FLAG(int, concurrency, 16, "concurrent submitters");
ABSL_FLAG(int, query_runs, 200, "runs per aggregate through the service");
ABSL_FLAG(int, raw_runs, 10, "runs per raw GROUP BY");
ABSL_FLAG(int, history_months, 24,
          "months the plausibility check compares against (0: off)");
ABSL_FLAG(int, max_group_cells, 4096,
          "group commit: cells in one transaction at most (0: every "
          "submission in its own transaction, no grouping)");
ABSL_FLAG(
    int, fold_after_groups, 256,
    "groups of submissions committed before the store's folder adds "
    "their count deltas to the rollups (0: no folder thread; the server's "
    "worker and readers still fold)");
ABSL_FLAG(int, concurrent_submission_groups, 4,
          "group commit: transactions of grouped submissions at once");
ABSL_FLAG(bool, time_cells_json_repair, false,
          "after loading, empty every report's cells_json and time "
          "StatsStore::RepairCellsJson: the first start of release 0.23 on "
          "a database that 0.22 filled");
ABSL_FLAG(bool, verify_rollups, false,
          "after the submissions, compare every rollup row with a "
          "recomputation from the cells (slow at national scale)");
ABSL_FLAG(int, buffer_pool_mb, 1024, "InnoDB buffer pool for the run");
ABSL_FLAG(std::string, throughput_callers, "16,64",
          "caller counts for the aggregate throughput against the echo");
ABSL_FLAG(int, throughput_runs, 300, "calls per caller in each of those");
ABSL_FLAG(int, aggregate_cache_mb, 8,
          "aggregate answers kept in memory (0: every read computed)");
ABSL_FLAG(std::string, perf_command, "",
          "a command run during one phase only (--perf_phase), e.g. "
          "\"perf record -F 999 -a -g -o /tmp/submit.data\"");
ABSL_FLAG(std::string, perf_phase, "submit",
          "the phase --perf_command records: submit (the service's "
          "submissions) or throughput (the aggregates at the first caller "
          "count of --throughput_callers)");
ABSL_FLAG(bool, submit_in_process, false,
          "submission phase: call Stats::SubmitReport directly instead of "
          "over gRPC, to measure the RPC layer's share (transport, per-call "
          "authentication, log line, metrics)");

namespace {

// Calls per caller before each throughput measurement (connections, caches).
constexpr int kWarmupRuns = 20;

using ::smz::testing::Check;
using ::smz::testing::CheckGrpc;
using ::smz::testing::Latency;
using ::smz::testing::Percentiles;
using ::smz::testing::RunParallel;
namespace v1 = ::smz::stats::v1;
using ::smz::Database;
using ::smz::Session;
using ::smz::SqlInt;
using ::smz::SqlValue;

}  // namespace

// Long by design: a benchmark's script, set-up then each measurement in the
// order the report prints them, read top to bottom.
int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  std::setvbuf(stdout, nullptr, _IOLBF, 0);  // progress shows as it happens
  smz::ConfigureServiceProcess();            // measure the service as deployed
  const int partners = absl::GetFlag(FLAGS_partners);
  const int months = absl::GetFlag(FLAGS_months);
  const int nationalities = absl::GetFlag(FLAGS_nationalities);
  const int concurrency = absl::GetFlag(FLAGS_concurrency);
  const std::string perf_phase = absl::GetFlag(FLAGS_perf_phase);
  if (perf_phase != "submit" && perf_phase != "throughput") {
    std::fprintf(stderr, "--perf_phase: submit or throughput, not %s\n",
                 perf_phase.c_str());
    return 2;
  }
  const bool record_submissions = perf_phase == "submit";
  const std::string log_path = "/tmp/stats_benchmark.log";
  std::FILE* log = std::fopen(log_path.c_str(), "w");
  smz::SetLogSink(log);

  std::unique_ptr<smz::testing::MariaDbServer> mariadb =
      smz::testing::StartBenchmarkMariaDb(absl::GetFlag(FLAGS_buffer_pool_mb));
  // 2026-02-05: January 2026 is open for reports.
  smz::FakeClock clock(absl::FromCivil(absl::CivilSecond(2026, 2, 5, 9, 0, 0),
                                       smz::SeoulTimeZone()));

  absl::StatusOr<std::unique_ptr<smz::testing::LocalRegistry>> registry =
      smz::testing::LocalRegistry::Start(*mariadb, &clock);
  Check(registry.status(), "registry");
  const std::string admin = (*registry)->admin_token();

  std::printf("# %d partners x %d months, %d cells per report\n", partners,
              months, nationalities * 3);
  const absl::Time registry_start = absl::Now();
  absl::StatusOr<std::vector<smz::stats::SyntheticPartner>> synthetic =
      smz::stats::CreateSyntheticPartners((*registry)->stub(), admin, partners);
  Check(synthetic.status(), "partners");
  const double registry_seconds =
      absl::ToDoubleSeconds(absl::Now() - registry_start);
  auto issue = [&](smz::auth::v1::Role role) {
    absl::StatusOr<std::string> token =
        (*registry)->IssueToken(role, "benchmark");
    Check(token.status(), "IssueToken");
    return *token;
  };
  const std::string service_token = issue(smz::auth::v1::ANALYST);
  const std::string council_token = issue(smz::auth::v1::COUNCIL);
  std::printf("registry: %d partners created and designated in %.1f s\n",
              partners, registry_seconds);

  auto stats_db = mariadb->CreateServiceDatabase("smz_stats");
  Check(stats_db.status(), "stats database");
  smz::stats::StatsServerOptions options;
  options.database = *stats_db;
  options.database.pool_size = concurrency + 8;
  options.server.listen = "127.0.0.1:0";
  options.registry_target =
      absl::StrCat("127.0.0.1:", (*registry)->server().port());
  options.registry_token = service_token;
  options.clock = &clock;
  options.store.history_months = absl::GetFlag(FLAGS_history_months);
  options.store.max_group_cells = absl::GetFlag(FLAGS_max_group_cells);
  options.store.concurrent_submission_groups =
      absl::GetFlag(FLAGS_concurrent_submission_groups);
  options.store.fold_after_groups = absl::GetFlag(FLAGS_fold_after_groups);
  options.stats.aggregate_cache_bytes =
      static_cast<size_t>(std::max(0, absl::GetFlag(FLAGS_aggregate_cache_mb)))
      << 20;
  auto stats = smz::stats::StatsServer::Start(options);
  Check(stats.status(), "stats");
  // Bulk loading and the raw GROUP BYs take longer than a service's
  // statement timeout.
  smz::DatabaseOptions bulk_options = options.database;
  bulk_options.io_timeout = absl::Minutes(10);
  Database bulk(bulk_options);

  // 1. The history, straight into the tables, then the rollups. The same
  // cells also as rows of history_cells, for the raw GROUP BYs (the shape of
  // the table the service wrote them to before release 0.23, report_cells,
  // with its indexes), and an empty twin, raw_cells, for the raw inserts.
  Check(bulk.Run([](Session& session) -> absl::Status {
    for (const char* table : {"history_cells", "raw_cells"}) {
      SMZ_RETURN_IF_ERROR(
          session
              .Execute(absl::StrCat(
                           "CREATE TABLE ", table,
                           " (report_id BIGINT NOT NULL, partner_id BIGINT "
                           "NOT NULL, period INT NOT NULL, measure TINYINT "
                           "NOT NULL, nationality CHAR(2) NOT NULL, "
                           "department VARCHAR(40) NOT NULL, care_type "
                           "TINYINT NOT NULL, sex TINYINT NOT NULL, age_band "
                           "TINYINT NOT NULL, value BIGINT NOT NULL, PRIMARY "
                           "KEY (report_id, measure, nationality, "
                           "department, care_type, sex, age_band), KEY ",
                           table, "_period (period, measure), KEY ", table,
                           "_partner (partner_id, period)) ENGINE=InnoDB "
                           "DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin"),
                       {})
              .status());
    }
    return absl::OkStatus();
  }),
        "cell tables");
  const absl::CivilMonth last_month(2025, 12);
  const absl::CivilMonth first_month = last_month - (months - 1);
  const absl::Time load_start = absl::Now();
  absl::StatusOr<int64_t> cells_loaded = smz::stats::LoadSyntheticHistory(
      bulk, *synthetic, last_month, months, nationalities, /*threads=*/2,
      "history_cells");
  Check(cells_loaded.status(), "bulk load");
  const double load_seconds = absl::ToDoubleSeconds(absl::Now() - load_start);
  const absl::Time rollup_start = absl::Now();
  Check((*stats)->store().RebuildRollups(), "RebuildRollups");
  std::printf(
      "history: %d reports, %lld cells loaded in %.1f s; rollups built in "
      "%.1f s\n",
      partners * months, static_cast<long long>(*cells_loaded), load_seconds,
      absl::ToDoubleSeconds(absl::Now() - rollup_start));
  if (absl::GetFlag(FLAGS_time_cells_json_repair)) {
    Check(bulk.Run([](Session& session) {
      return session.Execute("UPDATE reports SET cells_json = NULL", {})
          .status();
    }),
          "emptying cells_json");
    const absl::Time repair_start = absl::Now();
    absl::StatusOr<int64_t> repaired = (*stats)->store().RepairCellsJson();
    Check(repaired.status(), "RepairCellsJson");
    const double repair_seconds =
        absl::ToDoubleSeconds(absl::Now() - repair_start);
    // Every later start, and the hourly sweep: nothing to write.
    const absl::Time check_start = absl::Now();
    Check((*stats)->store().RepairCellsJson().status(), "RepairCellsJson");
    std::printf(
        "cells_json written for %lld reports in %.1f s (the first start of "
        "0.23 on a database of 0.22); a pass with nothing to write %.2f s\n",
        static_cast<long long>(*repaired), repair_seconds,
        absl::ToDoubleSeconds(absl::Now() - check_start));
  }

  // 2. Write throughput, January 2026: raw inserts, then the service.
  const int january = 202601;
  std::vector<v1::Report> reports;
  int64_t submitted_cells = 0;
  for (int i = 0; i < partners; ++i) {
    reports.push_back(smz::stats::SyntheticReport((*synthetic)[i].id, january,
                                                  nationalities));
    submitted_cells +=
        reports.back().new_patients_size() + reports.back().visits_size();
  }
  // Statements and commits the server received per report, in each phase
  // (every client: the service's registry lookups too), and the time
  // transactions spent waiting for each other's row locks. Empty when a
  // counter cannot be read.
  using ServerWork = std::vector<int64_t>;
  const std::vector<const char*> kCounters = {
      "Questions", "Com_commit", "Com_stmt_prepare", "Innodb_row_lock_waits",
      "Innodb_row_lock_time"};
  auto server_work = [&] {
    ServerWork work;
    for (const char* name : kCounters) {
      absl::StatusOr<int64_t> value = mariadb->GlobalStatus(name);
      if (!value.ok()) return ServerWork();
      work.push_back(*value);
    }
    return work;
  };
  auto per_report = [&](const ServerWork& before) -> std::string {
    const ServerWork after = server_work();
    if (before.empty() || after.empty()) return "server counters unknown";
    auto delta = [&](size_t i) { return after[i] - before[i]; };
    return absl::StrFormat(
        "%.1f statements, %.2f commits per report, %d prepared; %d row lock "
        "waits, %d ms waited",
        static_cast<double>(delta(0)) / partners,
        static_cast<double>(delta(1)) / partners, delta(2), delta(3), delta(4));
  };
  Database raw_pool(options.database);
  const ServerWork raw_before = server_work();
  // Each call's milliseconds, by report (each index written by one thread).
  std::vector<double> raw_ms(partners);
  std::vector<double> service_ms(partners);
  const double raw_seconds = RunParallel(partners, concurrency, [&](int i) {
    const v1::Report& r = reports[i];
    const absl::Time start = absl::Now();
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
    raw_ms[i] = smz::testing::MillisecondsSince(start);
  });
  const std::string raw_work = per_report(raw_before);

  auto channel =
      grpc::CreateChannel(absl::StrCat("127.0.0.1:", (*stats)->port()),
                          grpc::InsecureChannelCredentials());
  auto stub = v1::StatsService::NewStub(channel);
  const bool in_process = absl::GetFlag(FLAGS_submit_in_process);
  smz::auth::v1::Principal admin_principal;  // for in_process
  if (in_process) {
    CheckGrpc((*registry)->stub().WhoAmI(
                  smz::BearerContext(admin, smz::kBulkCallDeadline).get(),
                  smz::registry::v1::WhoAmIRequest(), &admin_principal),
              "WhoAmI");
  }
  std::atomic<int> warnings{0};
  smz::testing::PhaseRecorder submit_recorder(
      record_submissions ? absl::GetFlag(FLAGS_perf_command) : "");
  const int64_t deadlocks_before = smz::testing::InnodbDeadlocks(*mariadb);
  const int64_t groups_before = (*stats)->store().submit_groups_run();
  const int64_t splits_before = (*stats)->store().submit_groups_split();
  const int64_t folds_before = (*stats)->store().count_delta_folds();
  const ServerWork service_before = server_work();
  const double submit_seconds = RunParallel(partners, concurrency, [&](int i) {
    v1::SubmitReportRequest request;
    *request.mutable_report() = reports[i];
    request.set_request_id(absl::StrCat("bench-", reports[i].partner_id()));
    v1::SubmitReportResponse response;
    const absl::Time start = absl::Now();
    if (in_process) {
      absl::StatusOr<v1::SubmitReportResponse> submitted =
          (*stats)->stats().SubmitReport(admin_principal, request);
      Check(submitted.status(), "Stats::SubmitReport");
      response = *std::move(submitted);
    } else {
      CheckGrpc(stub->SubmitReport(
                    smz::BearerContext(admin, smz::kBulkCallDeadline).get(),
                    request, &response),
                "SubmitReport");
    }
    service_ms[i] = smz::testing::MillisecondsSince(start);
    warnings += response.summary().warnings_size();
  });
  // What the groups left for the folder is part of the phase's work: the
  // rest is folded now and timed with it (a reader would fold it first).
  const int64_t folds_during =
      (*stats)->store().count_delta_folds() - folds_before;
  const absl::Time fold_start = absl::Now();
  Check((*stats)->store().FoldCountDeltas(), "FoldCountDeltas");
  const double fold_seconds = absl::ToDoubleSeconds(absl::Now() - fold_start);
  const double service_seconds = submit_seconds + fold_seconds;
  submit_recorder.Stop();
  const std::string service_work = per_report(service_before);
  const double raw_rate = partners / raw_seconds;
  const double service_rate = partners / service_seconds;
  std::printf("\n## durable report submissions, %d concurrent callers\n",
              concurrency);
  const smz::testing::Latency raw_latency = smz::testing::Percentiles(raw_ms);
  const smz::testing::Latency service_latency =
      smz::testing::Percentiles(service_ms);
  std::printf("%-44s %10s %12s %8s %8s %8s\n", "", "reports/s", "cells/s",
              "ratio", "p50 ms", "p99 ms");
  std::printf("%-44s %10.0f %12.0f %8s %8.2f %8.2f\n",
              "raw INSERTs, one transaction per report", raw_rate,
              submitted_cells / raw_seconds, "1.00", raw_latency.p50_ms,
              raw_latency.p99_ms);
  std::printf("%-44s %10.0f %12.0f %8.2f %8.2f %8.2f\n",
              in_process ? "Stats::SubmitReport in process (no RPC)"
                         : "SubmitReport over gRPC",
              service_rate, submitted_cells / service_seconds,
              service_rate / raw_rate, service_latency.p50_ms,
              service_latency.p99_ms);
  const int64_t groups = (*stats)->store().submit_groups_run() - groups_before;
  // Grouping off (0), the queue runs no group: every call is its own
  // transaction.
  std::printf(
      "(%d plausibility warnings raised; %s, retried; %lld groups of "
      "submissions, %.1f reports each, %lld split to run caller by caller; "
      "--max_group_cells=%d --concurrent_submission_groups=%d)\n",
      warnings.load(),
      smz::testing::DeadlocksSince(*mariadb, deadlocks_before).c_str(),
      static_cast<long long>(groups),
      groups > 0 ? static_cast<double>(partners) / groups : 1.0,
      static_cast<long long>((*stats)->store().submit_groups_split() -
                             splits_before),
      absl::GetFlag(FLAGS_max_group_cells),
      absl::GetFlag(FLAGS_concurrent_submission_groups));
  std::printf("(server: raw INSERTs %s; SubmitReport %s)\n", raw_work.c_str(),
              service_work.c_str());
  std::printf(
      "(count deltas: %lld folds while submitting, --fold_after_groups=%d; "
      "the rest folded in %.1f ms after the last reply, counted in the "
      "rate above)\n",
      static_cast<long long>(folds_during),
      absl::GetFlag(FLAGS_fold_after_groups), fold_seconds * 1000);
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
      "FROM history_cells c JOIN reports r ON r.id = c.report_id AND "
      "r.status IN (2, 3) WHERE c.period BETWEEN 202501 AND 202512 "
      "GROUP BY 1, 2, 3";
  aggregates[1].name = "month series (all months)";
  aggregates[1].request.set_start_period(
      absl::StrFormat("%04d-%02d", first_month.year(), first_month.month()));
  aggregates[1].request.set_end_period("2025-12");
  aggregates[1].request.set_bucket(v1::MONTH);
  aggregates[1].raw_sql = absl::StrCat(
      "SELECT c.period, c.measure, SUM(c.value) FROM history_cells c JOIN "
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
      "SELECT c.department, SUM(c.value) AS visits FROM history_cells c JOIN "
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
          stub->QueryAggregate(
              smz::BearerContext(council_token, smz::kBulkCallDeadline).get(),
              a.request, &response),
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
  // 3b. What keeping the cells in the report row (cells_json, since 0.23)
  // costs the reads that still go to the cells (a hospital's own figures,
  // CompareWithZone's months by hospital): the same GROUP BY over the cells
  // as rows (history_cells) and over the documents, through the pool.
  struct CellRead {
    const char* name;
    std::string as_rows;
    std::string as_documents;
  };
  const std::string one_partner = absl::StrCat((*synthetic)[partners / 2].id);
  const CellRead cell_reads[] = {
      {"one hospital, every month by nationality",
       absl::StrCat("SELECT c.period, c.nationality, c.measure, SUM(c.value) "
                    "FROM history_cells c JOIN reports r ON r.id = "
                    "c.report_id AND r.status IN (2, 3) WHERE c.partner_id = ",
                    one_partner, " GROUP BY 1, 2, 3"),
       absl::StrCat("SELECT r.period, c.nationality, c.measure, SUM(c.value) "
                    "FROM reports r CROSS JOIN ",
                    REPORT_CELLS_OF_R("c"),
                    " WHERE r.status IN (2, 3) AND r.partner_id = ",
                    one_partner, " GROUP BY 1, 2, 3")},
      {"every hospital, 2025 by month",
       "SELECT c.period, c.partner_id, c.measure, SUM(c.value) FROM "
       "history_cells c JOIN reports r ON r.id = c.report_id AND r.status IN "
       "(2, 3) WHERE c.period BETWEEN 202501 AND 202512 GROUP BY 1, 2, 3",
       "SELECT r.period, r.partner_id, c.measure, SUM(c.value) FROM reports r "
       "CROSS JOIN " REPORT_CELLS_OF_R(
           "c") " WHERE r.status IN (2, 3) AND r.period BETWEEN 202501 AND "
                "202512 GROUP BY 1, 2, 3"}};
  std::printf(
      "\n## cells read by hospital: as rows (before 0.23) and from the "
      "report rows\n");
  std::printf("%-42s %12s %12s %14s %14s %7s\n", "", "rows p50 ms",
              "rows p99 ms", "in-row p50 ms", "in-row p99 ms", "ratio");
  for (const CellRead& read : cell_reads) {
    auto time = [&](const std::string& sql) {
      std::vector<double> ms;
      for (int run = 0; run < absl::GetFlag(FLAGS_raw_runs); ++run) {
        const absl::Time start = absl::Now();
        Check(bulk.Run([&](Session& session) {
          return session.Query(sql, {}).status();
        }),
              read.name);
        ms.push_back(absl::ToDoubleMilliseconds(absl::Now() - start));
      }
      return Percentiles(ms);
    };
    const Latency rows = time(read.as_rows);
    const Latency documents = time(read.as_documents);
    std::printf("%-42s %12.2f %12.2f %14.2f %14.2f %6.2fx\n", read.name,
                rows.p50_ms, rows.p99_ms, documents.p50_ms, documents.p99_ms,
                documents.p50_ms / rows.p50_ms);
  }

  // 4. Throughput: the year by nationality, as the council asks it, with
  // many callers at once against a bare gRPC echo server in the same run.
  // The rollups do not change meanwhile, so after its first call each
  // caller's answer comes from memory (AggregateCache) once the rollups'
  // stamp (one query shared by the callers waiting) says it is current.
  int echo_port = 0;
  std::unique_ptr<grpc::Server> echo_server =
      smz::testing::StartEchoServer(&echo_port);
  std::printf("\n## aggregate throughput against a bare gRPC echo\n");
  std::printf("%-46s %8s %10s %8s %8s\n", "", "callers", "calls/s", "p99 ms",
              "ratio");
  const int runs = absl::GetFlag(FLAGS_throughput_runs);
  bool first_caller_count = true;
  for (absl::string_view text :
       absl::StrSplit(absl::GetFlag(FLAGS_throughput_callers), ',')) {
    int callers = 0;
    if (!absl::SimpleAtoi(text, &callers) || callers <= 0) continue;
    std::vector<std::unique_ptr<v1::StatsService::Stub>> stubs;
    for (int c = 0; c < std::min(callers, 4); ++c) {
      grpc::ChannelArguments args;
      args.SetInt("grpc.channel_id", c);  // distinct connections
      stubs.push_back(v1::StatsService::NewStub(grpc::CreateCustomChannel(
          absl::StrCat("127.0.0.1:", (*stats)->port()),
          grpc::InsecureChannelCredentials(), args)));
    }
    const smz::testing::Throughput echo =
        smz::testing::MeasureEcho(echo_port, callers, runs, kWarmupRuns);
    const int64_t hits_before = (*stats)->stats().aggregate_cache().hits();
    const int64_t stamps_before = (*stats)->stats().rollups_fence().queries();
    smz::testing::PhaseRecorder throughput_recorder(
        !record_submissions && first_caller_count
            ? absl::GetFlag(FLAGS_perf_command)
            : "");
    first_caller_count = false;
    const smz::testing::Throughput aggregate =
        smz::testing::MeasureCalls(callers, runs, kWarmupRuns, [&](int n) {
          v1::AggregateResponse response;
          CheckGrpc(
              stubs[n % stubs.size()]->QueryAggregate(
                  smz::BearerContext(council_token, smz::kBulkCallDeadline)
                      .get(),
                  aggregates[0].request, &response),
              "QueryAggregate");
        });
    throughput_recorder.Stop();
    const int64_t calls = int64_t{callers} * (runs + kWarmupRuns);
    std::printf("%-46s %8d %10.0f %8.2f %8s\n",
                "echo (bare gRPC, callback API)", callers,
                echo.calls_per_second, echo.latency.p99_ms, "1.00");
    std::printf("%-46s %8d %10.0f %8.2f %8.2f\n",
                "QueryAggregate, year by nationality (COUNCIL)", callers,
                aggregate.calls_per_second, aggregate.latency.p99_ms,
                aggregate.calls_per_second / echo.calls_per_second);
    std::printf(
        "  (%lld of %lld calls from memory, %lld stamp queries; p99 %.1fx "
        "the echo's)\n",
        static_cast<long long>((*stats)->stats().aggregate_cache().hits() -
                               hits_before),
        static_cast<long long>(calls),
        static_cast<long long>((*stats)->stats().rollups_fence().queries() -
                               stamps_before),
        aggregate.latency.p99_ms / echo.latency.p99_ms);
  }
  echo_server->Shutdown();
  std::printf(
      "\npeak resident set of this process (services and clients): "
      "%s\n",
      smz::testing::PeakResidentSet().c_str());

  (*stats)->Shutdown();
  (*registry)->server().Shutdown();
  smz::SetLogSink(nullptr);  // before the close: lines may still be buffered
  std::fclose(log);
  return 0;
}
