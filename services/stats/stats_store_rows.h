// What every part of the statistics store shares: how a report row is read
// and written, and the SQL they have in common. Internal to the store
// (stats_store.cc, submissions_store.cc, aggregates_store.cc,
// rollups_store.cc, count_deltas.cc); the service's other code uses
// StatsStore.
//
//   absl::StatusOr<std::optional<StoredReport>> stored =
//       LoadReport(session, partner_id, period, /*for_update=*/true, 10);
#ifndef SMZ_SERVICES_STATS_STATS_STORE_ROWS_H_
#define SMZ_SERVICES_STATS_STATS_STORE_ROWS_H_

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "common/mysql/database.h"
#include "services/stats/report_rules.h"
#include "services/stats/stats_store.h"
#include "smz/stats/v1/stats.pb.h"

// The statuses aggregates count (SUBMITTED, ACCEPTED) as they appear in SQL
// text; checked against the proto below.
#define COUNTED_STATUS_SQL "(2, 3)"

namespace smz::stats {

static_assert(v1::SUBMITTED == 2 && v1::ACCEPTED == 3);

// Audit entities: a report, or a whole period (lock exceptions for all).
inline constexpr absl::string_view kReportEntity = "report";
inline constexpr absl::string_view kPeriodEntity = "period";

inline constexpr char kReportColumns[] =
    "id, partner_id, period, status, no_activity, revision, digest, "
    "partner_kind, region, first_submit_time_us, update_time_us, "
    "submitted_by, late, cells";

struct StoredReport {
  int64_t id = 0;
  int status = 0;
  int revision = 0;
  std::string digest;
  int partner_kind = 0;
  int region = 0;
  bool no_activity = false;
  int64_t first_submit_time_us = 0;  // 0: never submitted
  bool late = false;
  std::vector<Cell> cells;  // canonical, from the `cells` column
  bool unreadable = false;  // the cells column could not be parsed
  Report report;            // metadata, without cells
};

// report_counts: rows per period (see the schema), by partner_id % 16.
inline constexpr int64_t kReportCountShards = 16;
inline constexpr char kRecomputeReportCounts[] =
    "SELECT period, partner_id % 16 AS shard, COUNT(*) AS n FROM reports "
    "WHERE status IN " COUNTED_STATUS_SQL " GROUP BY period, shard";

// The cells of a report row as a table named `alias` (a string literal),
// one row per cell with the columns report_cells had (measure, nationality,
// department, care_type, sex, age_band, value), read from cells_json
// (written by CellsJson). The reports table must be aliased `r` and come
// before it in FROM. Text compares as in every table here (utf8mb4_bin);
// JSON_TABLE's default would be the server's, latin1 and case-insensitive.
#define REPORT_CELLS_OF_R(alias)                                      \
  "JSON_TABLE(r.cells_json, '$.cells[*]' COLUMNS ("                   \
  "measure TINYINT PATH '$.m', "                                      \
  "nationality CHAR(2) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin "    \
  "PATH '$.n', "                                                      \
  "department VARCHAR(40) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin " \
  "PATH '$.d', "                                                      \
  "care_type TINYINT PATH '$.t', sex TINYINT PATH '$.s', "            \
  "age_band TINYINT PATH '$.a', value BIGINT PATH '$.v')) " alias

// group_reporters (see the schema): per month, kind x region and shard,
// the hospitals with a counted report with activity, and with revenue.
inline constexpr char kRecomputeGroupReporters[] =
    "SELECT r.period, r.partner_kind, r.region, r.partner_id % 16 AS shard, "
    "SUM(r.no_activity = 0) AS active, SUM(EXISTS (SELECT 1 FROM "
    REPORT_CELLS_OF_R("c") " WHERE c.measure = 3 AND c.value > 0)) AS "
    "with_revenue FROM reports r WHERE r.status IN " COUNTED_STATUS_SQL
    " GROUP BY 1, 2, 3, 4";

bool Counted(int status);
bool HasRevenue(const std::vector<Cell>& cells);
std::vector<Cell> CellsOfReport(const Report& report);
// The report's cells as stored in reports.cells (a serialized Report holding
// only its cells): what the service reads back (a report, the plausibility
// history).
std::string CellsBlob(const std::vector<Cell>& cells);
// The same cells as stored in reports.cells_json, for SQL's aggregation
// (REPORT_CELLS_OF_R): {"digest":"<the row's digest>","cells":[{"m":measure,
// "n":nationality,"d":department,"t":care type,"s":sex,"a":age band,
// "v":value},...]}. The digest tells a document written for the row's
// current cells from one a replica of an older release left behind
// (StatsStore::RepairCellsJson).
std::string CellsJson(const std::vector<Cell>& cells, absl::string_view digest);
StoredReport ReportFromRow(const Row& row, int deadline_days);
// A stored report with its cells, as the API returns it.
Report WithCells(const StoredReport& stored);
absl::StatusOr<std::optional<StoredReport>> LoadReport(Session& session,
                                                       int64_t partner_id,
                                                       int period,
                                                       bool for_update,
                                                       int deadline_days);
// Inserts `rows` with multi-row statements of 64, 32, ... 1 rows, so a
// report's cells cost a few round trips while the prepared-statement cache
// holds at most seven shapes per table. A statement's parameters stay
// within kInsertBatchBytes (a row larger than that goes alone), far below
// the server's max_allowed_packet, however large the rows (audit entries
// and recorded answers carry whole reports).
inline constexpr size_t kInsertBatchBytes = 1 << 20;
absl::Status InsertBatched(Session& session, absl::string_view head,
                           absl::string_view tuple, absl::string_view tail,
                           const std::vector<std::vector<SqlValue>>& rows);
std::string ReportBytes(const Report& report);
// A SUM (DECIMAL) as text into 128 bits; false when it is not a number.
bool ParseInt128(absl::string_view text, __int128* out);
// "(?,?,...)" with n placeholders.
std::string InList(size_t n);
bool Has(const std::vector<v1::Dimension>& dims, v1::Dimension d);

}  // namespace smz::stats

#endif  // SMZ_SERVICES_STATS_STATS_STORE_ROWS_H_
