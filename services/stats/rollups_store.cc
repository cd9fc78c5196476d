#include <algorithm>
#include <cmath>
#include <map>
#include <tuple>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/aip/etag.h"
#include "common/aip/idempotency.h"
#include "common/aip/status_macros.h"
#include "common/auth/token.h"
#include "common/mysql/audit.h"
#include "common/request_fields.h"
#include "common/status_util.h"
#include "google/protobuf/util/time_util.h"
#include "services/stats/count_deltas.h"
#include "services/stats/stats_store.h"
#include "services/stats/stats_store_rows.h"

// The rollups' safety net: rebuilt from the reports, and checked against
// them.
namespace smz::stats {

namespace {

// The rollups recomputed from the counted reports' cells, as SELECTs with
// the columns of each rollup table, named as the tables name them (the
// check below joins them USING those names). Each takes one parameter,
// the period (FROM_COUNTED_CELLS_OF_PERIOD ends in `r.period = ?`), and is
// driven by the reports' index on (period, status).
#define FROM_COUNTED_CELLS_OF_PERIOD               \
  " FROM reports r CROSS JOIN " REPORT_CELLS_OF_R( \
      "c") " WHERE r.period = ? AND r.status IN " COUNTED_STATUS_SQL
// A rollup row's figures: v value, n contributors, s partner_sum and q
// partner_square_sum (see the schema for why the partner sums).
#define ROLLUP_SUMS                                            \
  "SUM(c.value) AS v, COUNT(*) AS n, SUM(r.partner_id) AS s, " \
  "SUM(CAST(r.partner_id AS DECIMAL(38,0)) * r.partner_id) AS q"
constexpr char kRecomputeCells[] =
    "SELECT r.period AS period, c.measure, c.nationality, c.department, "
    "c.care_type, c.sex, c.age_band, r.partner_kind, r.region, " ROLLUP_SUMS
        FROM_COUNTED_CELLS_OF_PERIOD
    " GROUP BY r.period, c.measure, c.nationality, c.department, "
    "c.care_type, c.sex, c.age_band, r.partner_kind, r.region";
constexpr char kRecomputeNationality[] =
    "SELECT r.period AS period, c.measure, c.nationality, " ROLLUP_SUMS
        FROM_COUNTED_CELLS_OF_PERIOD
    " GROUP BY r.period, c.measure, c.nationality";
constexpr char kRecomputeDepartment[] =
    "SELECT r.period AS period, c.measure, c.department, "
    "c.care_type, " ROLLUP_SUMS FROM_COUNTED_CELLS_OF_PERIOD
    " GROUP BY r.period, c.measure, c.department, c.care_type";
#undef ROLLUP_SUMS
#undef FROM_COUNTED_CELLS_OF_PERIOD

}  // namespace

namespace {

// Every period with reports, oldest first. Rebuilds and checks run one
// period per statement, so no statement outlives the I/O timeout at
// national scale.
absl::StatusOr<std::vector<int>> ReportedPeriods(Session& session) {
  SMZ_ASSIGN_OR_RETURN(
      std::vector<Row> rows,
      session.Query("SELECT DISTINCT period FROM reports ORDER BY period", {}));
  std::vector<int> periods;
  for (const Row& row : rows) periods.push_back(static_cast<int>(row.Int(0)));
  return periods;
}

}  // namespace

absl::StatusOr<int64_t> StatsStore::RepairCellsJson() {
  // Every statement covers a bounded range, however few rows need writing
  // and however large the table: the next kScan rows' ids and whether their
  // document is their row's, then the cells of those whose is not, kFetch at
  // a time (a report may hold 5,000 cells).
  constexpr int kScan = 500;
  constexpr size_t kFetch = 32;
  int64_t repaired = 0;
  int64_t after_id = 0;
  for (;;) {
    // Set by the lambda anew each time it runs (Transact may run its own
    // again).
    std::vector<int64_t> stale;
    int64_t last_id = after_id;
    int scanned = 0;
    SMZ_RETURN_IF_ERROR(database_->Run([&](Session& session) -> absl::Status {
      // NULL, not JSON, or a document for other cells (or without a
      // digest). CASE, because MySQL's JSON_VALUE fails on text that is
      // not JSON where MariaDB's answers NULL.
      SMZ_ASSIGN_OR_RETURN(
          std::vector<Row> rows,
          session.Query("SELECT id, CASE WHEN cells_json IS NULL OR NOT "
                        "JSON_VALID(cells_json) THEN 1 ELSE NOT "
                        "(JSON_VALUE(cells_json, '$.digest') <=> digest) END "
                        "FROM reports WHERE id > ? ORDER BY id LIMIT ?",
                        {SqlInt(after_id), SqlInt(kScan)}));
      stale.clear();
      last_id = after_id;
      scanned = static_cast<int>(rows.size());
      for (const Row& row : rows) {
        last_id = row.Int(0);
        if (row.Int(1) != 0) stale.push_back(last_id);
      }
      return absl::OkStatus();
    }));
    for (size_t first = 0; first < stale.size(); first += kFetch) {
      const size_t n = std::min(kFetch, stale.size() - first);
      std::vector<SqlValue> ids;
      for (size_t k = first; k < first + n; ++k)
        ids.push_back(SqlInt(stale[k]));
      int64_t written = 0;
      SMZ_RETURN_IF_ERROR(database_->Transact([&](Session& session)
                                                  -> absl::Status {
        written = 0;
        SMZ_ASSIGN_OR_RETURN(
            std::vector<Row> rows,
            session.Query(absl::StrCat("SELECT id, digest, cells FROM reports "
                                       "WHERE id IN ",
                                       InList(n)),
                          ids));
        for (const Row& row : rows) {
          Report holder;
          // An unreadable blob has no cells to write: its report reads as
          // DATA_LOSS, and the rollup check counts it.
          if (!holder.ParseFromString(row.Text(2))) continue;
          const std::string digest = row.Text(1);
          // Only if the row still has these cells: a writer of this
          // release may have written its own document meanwhile.
          SMZ_ASSIGN_OR_RETURN(
              const int64_t changed,
              session.Execute("UPDATE reports SET cells_json = ? WHERE id = "
                              "? AND digest = ?",
                              {CellsJson(CellsOfReport(holder), digest),
                               SqlInt(row.Int(0)), digest}));
          written += changed;
        }
        return absl::OkStatus();
      }));
      repaired += written;
    }
    after_id = last_id;
    if (scanned < kScan) return repaired;
  }
}

absl::Status StatsStore::FoldCountDeltas() {
  // Up to the newest row committed now: a reader folds what was
  // acknowledged before it asked, and is not kept folding by the groups
  // that commit meanwhile.
  SMZ_ASSIGN_OR_RETURN(
      std::vector<Row> newest,
      database_->RunFor<std::vector<Row>>([](Session& session) {
        return session.Query("SELECT MAX(id) FROM count_deltas", {});
      }));
  if (newest.empty() || newest.front().IsNull(0)) return absl::OkStatus();
  const int64_t last = newest.front().Int(0);
  // Rows per transaction: a few hundred groups' changes collapse into the
  // month's rollup rows (a few thousand at national scale).
  constexpr int kBatch = 256;
  for (;;) {
    size_t taken = 0;
    bool more = false;
    SMZ_RETURN_IF_ERROR(database_->Transact(
        [&](Session& session) -> absl::Status {
          taken = 0;
          more = false;
          // Locked in id order, as every fold locks them. A fold that meets
          // a row another fold (or a group not yet committed) holds waits
          // for it, then finds it gone (READ COMMITTED) or folds it: when
          // any fold returns, every row up to `last` is in the rollups.
          // Ids and sizes first, without the blobs, so that what this
          // process holds is bounded by bytes too: a large import's rows
          // (1 MiB each) would otherwise come 256 at a time. The rows taken
          // are those that fit the budget, the first one always; the rest
          // stay locked until the commit, as they would be by any fold.
          SMZ_ASSIGN_OR_RETURN(
              std::vector<Row> sizes,
              session.Query("SELECT id, deltas_bytes FROM count_deltas "
                            "WHERE id <= ? ORDER BY id LIMIT ? FOR UPDATE",
                            {SqlInt(last), SqlInt(kBatch)}));
          if (sizes.empty()) return absl::OkStatus();
          std::vector<SqlValue> ids;
          int64_t bytes = 0;
          for (const Row& row : sizes) {
            const int64_t size = std::max<int64_t>(0, row.Int(1));
            if (!ids.empty() && bytes + size > options_.fold_max_bytes) break;
            bytes += size;
            ids.push_back(SqlInt(row.Int(0)));
          }
          // Another transaction when this one was full, by rows or by bytes.
          more = sizes.size() == static_cast<size_t>(kBatch) ||
                 ids.size() < sizes.size();
          taken = ids.size();
          // One statement shape whatever the count (the prepared-statement
          // cache keeps it): the last id repeated to fill the list.
          while (ids.size() < static_cast<size_t>(kBatch)) {
            ids.push_back(ids.back());
          }
          SMZ_ASSIGN_OR_RETURN(
              std::vector<Row> deltas_rows,
              session.Query(absl::StrCat("SELECT id, deltas FROM count_deltas "
                                         "WHERE id IN ",
                                         InList(ids.size())),
                            ids));
          // Locked above, so all there: a row missing would be deleted
          // below without being folded.
          if (deltas_rows.size() != taken) {
            return absl::InternalError(
                absl::StrCat("a fold read ", deltas_rows.size(),
                             " count deltas of the ", taken, " it locked"));
          }
          SharedCounts sum;
          for (const Row& row : deltas_rows) {
            storage::CountDeltas deltas;
            absl::Status added = deltas.ParseFromString(row.Text(1))
                                     ? AddCountDeltas(deltas, &sum)
                                     : absl::DataLossError("unreadable");
            if (!added.ok()) {
              return absl::DataLossError(absl::StrCat(
                  "count delta ", row.Int(0), " cannot be folded (",
                  added.message(),
                  "); the rollups are rebuilt from the reports on the "
                  "worker's next pass"));
            }
          }
          // With the deltas, the rollups add up to the figures they did,
          // and a reader of this release folds before it reads them, so no
          // reader waits for this (no lease wait). One stamp row moves all
          // the same: a replica of 0.23, which reads the rollups without
          // folding, and the gateway, which keeps what it computed under
          // the stamp, must not keep an answer without these deltas.
          // (Rollups, then the stamp: a group takes its stamps after its
          // reports' rows and never waits on a fold.)
          SMZ_RETURN_IF_ERROR(WriteSharedRows(session, sum));
          SMZ_RETURN_IF_ERROR(
              session
                  .Execute("UPDATE rollup_version SET version = UUID_SHORT() "
                           "WHERE shard = ?",
                           {SqlInt(sizes.front().Int(0) % kReportCountShards)})
                  .status());
          return session
              .Execute(absl::StrCat("DELETE FROM count_deltas WHERE id IN ",
                                    InList(ids.size())),
                       ids)
              .status();
        },
        Database::Isolation::kReadCommitted));
    if (taken > 0) count_delta_folds_.fetch_add(1, std::memory_order_relaxed);
    if (!more) return absl::OkStatus();
  }
}

absl::StatusOr<bool> StatsStore::FoldCountDeltasOrRebuild() {
  const absl::Status folded = FoldCountDeltas();
  if (!absl::IsDataLoss(folded)) {
    if (!folded.ok()) return folded;
    return false;
  }
  SMZ_RETURN_IF_ERROR(RebuildRollups());
  return true;
}

absl::Status StatsStore::RebuildRollups() {
  // The rollups come from cells_json: first make it hold every report's
  // cells.
  SMZ_RETURN_IF_ERROR(RepairCellsJson().status());
  return database_->Transact([&](Session& session) -> absl::Status {
    // Every shard a new stamp (rows missing included): no aggregate kept in
    // memory survives a rebuild. First, so that no group of submissions is
    // between its stamps and its count delta: the deltas deleted next are
    // exactly those of reports committed, which the rebuild counts.
    // The same upsert a group of submissions makes, of every shard.
    SharedCounts every_shard;
    for (int shard = 0; shard < kReportCountShards; ++shard) {
      every_shard.version_shards.insert(shard);
    }
    SMZ_RETURN_IF_ERROR(MoveRollupStamps(session, every_shard));
    for (const char* sql :
         {"DELETE FROM count_deltas", "DELETE FROM rollup_cells",
          "DELETE FROM rollup_nationality", "DELETE FROM rollup_department",
          "DELETE FROM report_counts", "DELETE FROM group_reporters"}) {
      if (absl::StatusOr<int64_t> s = session.Execute(sql, {}); !s.ok()) {
        return s.status();
      }
    }
    for (const std::string& sql :
         {absl::StrCat("INSERT INTO report_counts (period, shard, counted) ",
                       kRecomputeReportCounts),
          absl::StrCat("INSERT INTO group_reporters (period, partner_kind, "
                       "region, shard, active, with_revenue) ",
                       kRecomputeGroupReporters)}) {
      if (absl::StatusOr<int64_t> s = session.Execute(sql, {}); !s.ok()) {
        return s.status();
      }
    }
    SMZ_ASSIGN_OR_RETURN(std::vector<int> periods, ReportedPeriods(session));
    const std::pair<const char*, const char*> fills[] = {
        {"INSERT INTO rollup_cells (period, measure, nationality, "
         "department, care_type, sex, age_band, partner_kind, region, value, "
         "contributors, partner_sum, partner_square_sum) ",
         kRecomputeCells},
        {"INSERT INTO rollup_nationality (period, measure, nationality, "
         "value, contributors, partner_sum, partner_square_sum) ",
         kRecomputeNationality},
        {"INSERT INTO rollup_department (period, measure, department, "
         "care_type, value, contributors, partner_sum, partner_square_sum) ",
         kRecomputeDepartment}};
    for (int period : periods) {
      for (const auto& [insert, select] : fills) {
        absl::StatusOr<int64_t> s =
            session.Execute(absl::StrCat(insert, select), {SqlInt(period)});
        if (!s.ok()) return s.status();
      }
    }
    return absl::OkStatus();
  });
}

absl::StatusOr<int64_t> StatsStore::CountRollupMismatches() {
  // The rollups with every count delta committed so far (the check is
  // exact while no submission commits during it).
  SMZ_RETURN_IF_ERROR(FoldCountDeltas());
  return database_->RunFor<int64_t>([&](Session& session)
                                        -> absl::StatusOr<int64_t> {
    struct Check {
      const char* table;
      const char* recompute;
      const char* key;
    };
    const Check checks[] = {
        {"rollup_cells", kRecomputeCells,
         "period, measure, nationality, department, care_type, sex, "
         "age_band, partner_kind, region"},
        {"rollup_nationality", kRecomputeNationality,
         "period, measure, nationality"},
        {"rollup_department", kRecomputeDepartment,
         "period, measure, department, care_type"}};
    SMZ_ASSIGN_OR_RETURN(std::vector<int> periods, ReportedPeriods(session));
    // Counted reports, all periods at once.
    absl::StatusOr<std::vector<Row>> counts = session.Query(
        absl::StrCat("SELECT (SELECT COUNT(*) FROM (", kRecomputeReportCounts,
                     ") x LEFT JOIN report_counts y USING (period, shard) "
                     "WHERE y.counted IS NULL OR y.counted <> x.n) + "
                     "(SELECT COUNT(*) FROM report_counts y LEFT JOIN (",
                     kRecomputeReportCounts,
                     ") x USING (period, shard) WHERE x.n IS NULL AND "
                     "y.counted <> 0)"),
        {});
    if (!counts.ok()) return counts.status();
    int64_t mismatches = counts->front().Int(0);
    absl::StatusOr<std::vector<Row>> groups = session.Query(
        absl::StrCat(
            "SELECT (SELECT COUNT(*) FROM (", kRecomputeGroupReporters,
            ") x LEFT JOIN group_reporters y USING (period, partner_kind, "
            "region, shard) WHERE COALESCE(y.active, 0) <> x.active OR "
            "COALESCE(y.with_revenue, 0) <> x.with_revenue) + "
            "(SELECT COUNT(*) FROM "
            "group_reporters y LEFT JOIN (",
            kRecomputeGroupReporters,
            ") x USING (period, partner_kind, region, shard) WHERE "
            "x.active IS NULL AND (y.active <> 0 OR y.with_revenue <> 0))"),
        {});
    if (!groups.ok()) return groups.status();
    mismatches += groups->front().Int(0);
    for (int period : periods) {
      for (const Check& check : checks) {
        const std::string keys = check.key;
        // Recomputed rows missing or different in the rollup, and
        // rollup rows with contributors that the cells do not explain.
        absl::StatusOr<std::vector<Row>> rows = session.Query(
            absl::StrCat(
                "SELECT (SELECT COUNT(*) FROM (", check.recompute,
                ") x LEFT JOIN ", check.table, " y USING (", keys,
                ") WHERE y.value IS NULL OR y.value <> x.v OR "
                "y.contributors <> x.n OR y.partner_sum <> x.s OR "
                "y.partner_square_sum <> x.q) + (SELECT COUNT(*) FROM ",
                check.table, " y LEFT JOIN (", check.recompute, ") x USING (",
                keys,
                ") WHERE y.period = ? AND x.v IS NULL AND "
                "(y.contributors <> 0 OR y.value <> 0))"),
            // The first recomputation's period, the second's, y.period.
            {SqlInt(period), SqlInt(period), SqlInt(period)});
        if (!rows.ok()) return rows.status();
        mismatches += rows->front().Int(0);
      }
    }
    return mismatches;
  });
}

}  // namespace smz::stats
