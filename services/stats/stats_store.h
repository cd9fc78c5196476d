// The statistics service's storage: reports and their cells, the rollups
// (kept current through count deltas, count_deltas.h), lock exceptions,
// plausibility warnings, idempotency keys and the audit trail, all in the
// service's own MySQL database. Every method is one transaction (or one read),
// except that concurrent Submit callers share one (group commit), and that the
// readers of the rollups and report counters first fold the count deltas
// (FoldCountDeltas: transactions of their own, on the primary). The store
// owns one thread, the folder.
//
//   StatsStore store(&database, &clock, StoreOptions{.deadline_days = 10});
//   absl::StatusOr<std::vector<v1::SubmitReportResponse>> done =
//       store.Submit({submission}, /*dry_run=*/false);
//   absl::StatusOr<AggregateResult> rows = store.Aggregate(query);
#ifndef SMZ_SERVICES_STATS_STATS_STORE_H_
#define SMZ_SERVICES_STATS_STATS_STORE_H_

#include <atomic>
#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <tuple>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/civil_time.h"
#include "absl/types/span.h"
#include "common/aip/request_key.h"
#include "common/clock.h"
#include "common/mail/outbox.h"
#include "common/mysql/database.h"
#include "common/mysql/freshness_fence.h"
#include "common/mysql/group_committer.h"
#include "common/mysql/replica_reads.h"
#include "services/stats/report_rules.h"
#include "smz/stats/v1/stats.pb.h"

namespace smz::stats {

struct StoreOptions {
  // Submissions close this many days after month end (Asia/Seoul).
  int deadline_days = 10;
  // How many earlier months the plausibility check compares against.
  int history_months = 24;
  // A cell must also differ from the median by at least this much to be
  // flagged, so that 1 -> 3 patients in a small clinic is not a warning.
  int64_t min_warning_difference = 5;
  // Group commit of concurrent submissions: at most this many cells in one
  // transaction (a report without cells counts as one), and this many such
  // transactions at once. A call with more cells runs in its own
  // transaction beside them; 0 turns grouping off (every call in its own
  // transaction, all at once).
  int max_group_cells = 4096;
  // Groups whose transactions may run at once. One group at a time leaves
  // MariaDB idle while the group's caller prepares and answers; four
  // measured best with 16 callers on two cores (PERFORMANCE.md, "Group
  // commit"); groups wait on each other only for the rollups' stamp rows
  // (since 0.24; before, on the month's shared rows).
  int concurrent_submission_groups = 4;
  // New rows (warnings, audit entries, request keys) a call queues
  // before it writes them in its own part of the transaction: a large
  // import does not hold all of them in memory until its end.
  int max_queued_rows = 4096;
  // Group-commit transactions of submissions (SubmitGroup) committed by this
  // store, i.e. this replica, before its folder thread adds their count
  // deltas to the shared rows (FoldCountDeltas): many groups' changes are
  // written at once, each shared row once. The server's worker passes and
  // every reader of those rows fold what is left. 0: no folder thread (as
  // when the thread cannot be started, which is logged).
  int fold_after_groups = 256;
  // Bytes of count deltas (serialized) one fold transaction reads at most;
  // it takes one row at least, so 0 folds a row per transaction. A large
  // import's rows hold up to 1 MiB each: without this a fold would hold up
  // to 256 of them (256 MiB) in memory at once.
  int64_t fold_max_bytes = 8 << 20;
};

// Registry facts recorded with a report.
struct PartnerFacts {
  int64_t id = 0;
  int kind = 0;    // smz.registry.v1.PartnerKind
  int region = 0;  // smz.registry.v1.ZoneRegion
  std::string name_ko;
  std::string name_en;
};

// A validated submission.
struct Submission {
  Report report;            // partner_id, period, no_activity
  std::vector<Cell> cells;  // canonical (CanonicalCells)
  bool draft = false;
  std::string etag;
  // False for CSV imports: the file is the partner's authoritative copy, so
  // it may replace an existing report without its etag.
  bool require_etag = true;
  std::string method;          // "SubmitReport" or "ImportReports"
  std::string request_id;      // empty: none
  std::string request_digest;  // of the whole request, for request_id reuse
  PartnerFacts partner;
  std::string actor;  // principal label
};

// Reporting partners per (period YYYYMM, partner kind, region); groups
// without any are absent.
struct GroupReporters {
  std::map<std::tuple<int, int, int>, int> active;        // with activity
  std::map<std::tuple<int, int, int>, int> with_revenue;  // with revenue
};

// YYYYMM <-> CivilMonth.
int PeriodNumber(absl::CivilMonth month);
absl::CivilMonth PeriodMonth(int period_number);

// One group of an aggregate: dimension values and, per measure, the sum and
// the contributor statistics suppression needs.
struct GroupFigures {
  int64_t value = 0;
  int64_t contributors = 0;
  __int128 partner_sum = 0;
  __int128 partner_square_sum = 0;
  bool present = false;
  // Set when a sum went past int64_t; the figure is then not to be shown.
  bool overflow = false;
  // True when every contributing cell comes from one partner.
  bool SinglePartner() const {
    return contributors > 0 &&
           partner_square_sum * contributors == partner_sum * partner_sum;
  }
  void Add(const GroupFigures& other);
};

struct AggregateGroup {
  int bucket = 0;  // YYYYMM, YYYYQ (20203), YYYY or 0, by the query's bucket
  std::string nationality;
  std::string department;
  int care_type = 0;
  int64_t partner_id = 0;
  int partner_kind = 0;
  int region = 0;
  int sex = 0;
  int age_band = 0;
  GroupFigures new_patients;
  GroupFigures visits;
  GroupFigures revenue;
  // Kind x region groups pooled for restricted readers (stats_aggregates.cc).
  bool pooled = false;
};

struct AggregateQuery {
  int start_period = 0;  // YYYYMM
  int end_period = 0;
  v1::Bucket bucket = v1::MONTH;
  std::vector<v1::Dimension> group_by;
  v1::AggregateFilter filter;
  // Which measures to read (Measure values); empty: all.
  std::vector<int> measures;
};

struct AggregateResult {
  std::vector<AggregateGroup> groups;
  std::string source;  // the table that answered
  // Months (YYYYMM) left out for a restricted reader (Stats::AggregateFor).
  std::set<int> withheld_periods;
};

struct ReportingRow {
  int64_t partner_id = 0;
  int period = 0;
  int status = 0;
  bool no_activity = false;
  bool late = false;
  int64_t first_submit_time_us = 0;
  int revision = 0;
  int64_t update_time_us = 0;
};

// A partner's reports of one year and the lock exceptions open for it.
struct PartnerCalendarRows {
  std::vector<ReportingRow> reports;
  // Period (YYYYMM) -> the latest expiry (unix micros) of an exception open
  // now for this partner or for every partner.
  std::map<int, int64_t> exception_expire_us;
};

// A report as listed, with its row id (the page position).
struct ListedReport {
  int64_t id = 0;
  Report report;
};

class StatsStore {
 public:
  StatsStore(Database* database, const Clock* clock, StoreOptions options);
  // Stops the folder thread (a fold under way ends first).
  ~StatsStore();
  StatsStore(const StatsStore&) = delete;
  StatsStore& operator=(const StatsStore&) = delete;
  // Aggregates (the council's and analysts' figures) read from `replica`
  // while it keeps up; null: the primary.
  void UseReplicaForAggregates(ReplicaReads* replica) { replica_ = replica; }

  // Applies this call's submissions all or nothing; with dry_run, computes
  // the same answers and rolls back. With a batch key, a batch request_id
  // reused for a different batch is INVALID_ARGUMENT. Concurrent callers
  // share a transaction (group commit, up to StoreOptions::max_group_cells;
  // SubmitGroup), and each returns once its submissions are committed. A
  // caller's own error (stale etag, locked month) fails that caller alone.
  absl::StatusOr<std::vector<v1::SubmitReportResponse>> Submit(
      const std::vector<Submission>& submissions, bool dry_run,
      const std::optional<RequestKey>& batch = std::nullopt);

  // One caller's Submit, as the group commit carries it. The pointers are
  // the caller's, who waits until the group has set `result`.
  struct SubmitJob {
    const std::vector<Submission>* submissions;
    const std::optional<RequestKey>* batch;
    // When the caller arrived: deadlines are judged then, not when its
    // group happens to run.
    absl::Time now;
    // Set by SubmitGroup; the default only shows if a group forgot a job.
    absl::StatusOr<std::vector<v1::SubmitReportResponse>> result =
        absl::UnknownError("submission not run");
  };
  // Runs these callers' submissions as one group, in one transaction, and
  // sets each job's result: what Submit does with callers that arrive
  // while a group runs (public so that tests can form a group). Callers run
  // in report order (partner, month). The rows they insert that none of
  // them reads back (warnings, audit entries, request keys) go
  // in a few multi-row statements for the whole group, after the last
  // caller. A caller that fails is undone alone (its
  // row locks stay until the commit: InnoDB keeps them); one whose lock
  // wait timed out or whose first insert of its report raced a twin runs
  // again alone after the commit; if the group cannot commit (a twin
  // elsewhere recorded or holds one of its request keys, say), each caller
  // runs again alone (unless the database is unavailable: then every caller
  // gets that), and a twin's retry replays the twin's answer.
  void SubmitGroup(absl::Span<SubmitJob* const> jobs);
  // Groups the queue has started, committed or not; calls too large to
  // group, or made with grouping off, are not counted (for benchmarks and
  // tests).
  int64_t submit_groups_run() const { return submit_groups_.groups_run(); }
  // Groups that could not commit and ran again caller by caller (for
  // benchmarks and tests).
  int64_t submit_groups_split() const {
    return submit_groups_split_.load(std::memory_order_relaxed);
  }

  // NOT_FOUND when there is no report.
  absl::StatusOr<Report> GetReport(int64_t partner_id, int period);
  // Reports in id order after `after_id`, at most `limit`.
  absl::StatusOr<std::vector<ListedReport>> ListReports(
      int64_t partner_id, int start_period, int end_period, int status,
      int64_t after_id, int limit);

  absl::StatusOr<Report> AcceptReport(int64_t partner_id, int period,
                                      const std::string& etag,
                                      const std::string& actor);

  absl::StatusOr<v1::LockException> GrantLockException(
      const v1::GrantLockExceptionRequest& request, const RequestKey& key);
  // Newest first: at most `limit` exceptions with id < `before_id` (0: from
  // the newest). `period` 0 means every period.
  absl::StatusOr<std::vector<v1::LockException>> ListLockExceptions(
      int period, bool active_only, int64_t before_id, int limit);

  // The audit trail of one report after audit id `after_id`.
  // `*cut`: the page ended early, its values having filled it (ReadAudit).
  absl::StatusOr<std::vector<v1::ReportChange>> ListReportChanges(
      int64_t partner_id, int period, int64_t after_id, int limit, bool* cut);

  absl::StatusOr<std::vector<v1::Warning>> ListWarnings(
      int64_t partner_id, int start_period, int end_period, int64_t after_id,
      int limit, std::vector<int64_t>* ids);

  absl::StatusOr<AggregateResult> Aggregate(const AggregateQuery& query);

  // Per (period YYYYMM, partner kind, region) of the range, the partners
  // with a counted report with activity, and with revenue (kept in
  // group_reporters through the count deltas, so this reads a few rows per
  // month, after a fold).
  absl::StatusOr<GroupReporters> ReportersByGroup(int start_period,
                                                  int end_period);

  // Queues `mail` in the outbox in one transaction (common/mail/outbox.h);
  // one a mail cannot carry (an address kept from before addresses were
  // checked) is logged and left out. The number newly queued (a key queued
  // before adds none).
  absl::StatusOr<int> QueueMail(const std::vector<OutgoingMail>& mail);

  // Reports of a period range (any status), for completeness.
  absl::StatusOr<std::vector<ReportingRow>> ListReporting(int start_period,
                                                          int end_period);

  // One partner's reports of a period range (GetReportingCalendar), and
  // the exceptions open for them at `now`.
  absl::StatusOr<PartnerCalendarRows> PartnerCalendar(int64_t partner_id,
                                                      int start_period,
                                                      int end_period,
                                                      absl::Time now);

  // Reports that count (submitted or accepted) per period (yyyymm) of a
  // range, from the counters the submissions keep (after a fold); periods
  // without any are absent.
  absl::StatusOr<std::map<int, int>> CountCountedReports(int start_period,
                                                         int end_period);

  // Every report of a partner in a year, with cells, for the annual file.
  absl::StatusOr<std::vector<Report>> PartnerYear(int64_t partner_id, int year);

  // Partner names the service has seen (id -> name_ko), for outputs.
  absl::StatusOr<std::vector<PartnerFacts>> KnownPartners();

  // Writes reports.cells_json (the cells that SQL aggregates, see
  // CellsJson) from the row's own cells wherever it is missing or was
  // written for other cells: rows saved by a replica of a release before
  // 0.23, which knew only report_cells. Returns how many it wrote. Run at
  // start-up (before the service answers), hourly (rows that replicas of
  // 0.22 save while a rollout runs) and by RebuildRollups.
  absl::StatusOr<int64_t> RepairCellsJson();

  // Adds every count delta committed before the call (what groups of
  // submissions left in count_deltas, count_deltas.h) to report_counts,
  // group_reporters and the rollups, and deletes them, a few hundred per
  // transaction (256 rows, and StoreOptions::fold_max_bytes). Every reader of
  // those rows runs it first, so that a report acknowledged before the read is
  // in its answer. DATA_LOSS names a row that cannot be read (RebuildRollups
  // then recomputes everything).
  absl::Status FoldCountDeltas();
  // FoldCountDeltas; when a delta cannot be folded (DATA_LOSS), the
  // rollups recomputed from the reports instead (RebuildRollups, which
  // drops every delta): true then. What the server's worker runs on each
  // pass, so that a damaged row stops the council's reads for one pass at
  // most, not until an operator steps in.
  absl::StatusOr<bool> FoldCountDeltasOrRebuild();
  // Fold transactions that found deltas (for tests and benchmarks).
  int64_t count_delta_folds() const {
    return count_delta_folds_.load(std::memory_order_relaxed);
  }

  // Recomputes every rollup from the counted cells, replacing their
  // contents and dropping the count deltas not yet folded: for repair, and
  // after the benchmark's bulk load.
  absl::Status RebuildRollups();

  // Rollup rows and report counters that differ from a recomputation over
  // the counted reports (0 when the incremental maintenance is exact, as tests
  // check).
  absl::StatusOr<int64_t> CountRollupMismatches();

  const StoreOptions& options() const { return options_; }

  // The rollups' stamp as of a moment after the call (rollup_version, moved
  // by every transaction that changes a rollup: groups of submissions,
  // folds of their count deltas and RebuildRollups): what aggregates kept
  // in memory are checked against (AggregateCache).
  FreshnessFence& rollups_fence() { return rollups_fence_; }
  // Whether aggregates are read from a replica: they may then be older than
  // the stamp, and are not kept.
  bool ReadsAggregatesFromReplica() const { return replica_ != nullptr; }

 private:
  Database* const database_;
  ReplicaReads* replica_ = nullptr;
  const Clock* const clock_;
  const StoreOptions options_;
  FreshnessFence rollups_fence_;
  GroupCommitter<SubmitJob> submit_groups_;
  std::atomic<int64_t> submit_groups_split_{0};

  // The folder thread's loop: folds once fold_after_groups groups committed
  // here.
  void FoldWhenDue();
  // Counts a committed group for the folder.
  void NoteGroupCommitted();

  absl::Mutex fold_mu_;
  int groups_since_fold_ ABSL_GUARDED_BY(fold_mu_) = 0;
  bool stopping_ ABSL_GUARDED_BY(fold_mu_) = false;
  std::atomic<int64_t> count_delta_folds_{0};
  // Last: started once everything it uses is.
  std::thread folder_;
};

}  // namespace smz::stats

#endif  // SMZ_SERVICES_STATS_STATS_STORE_H_
