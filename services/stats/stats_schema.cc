#include "services/stats/stats_schema.h"

#include "common/aip/idempotency.h"
#include "common/mail/outbox.h"
#include "common/mysql/audit.h"
#include "common/mysql/write_stamps.h"

namespace smz::stats {

// Periods are stored as YYYYMM integers (202007), so ranges and year/quarter
// buckets are plain arithmetic. Code columns use a binary collation: "CN"
// and "cn" are different codes, as in the API.
// Long by design: the schema's history, one migration after another (data, not
// logic; applied migrations never change).
const std::vector<Migration>& StatsMigrations() {
  static const auto* const kMigrations = new std::vector<Migration>{
      {1,
       "reports, cells, rollups, lock exceptions, warnings, idempotency keys",
       {
           // What the service last learned about a partner from the
           // registry: names for outputs, kind and region for grouping.
           "CREATE TABLE IF NOT EXISTS partners ("
           " id BIGINT NOT NULL PRIMARY KEY,"
           " kind TINYINT NOT NULL,"
           " region TINYINT NOT NULL,"
           " name_ko VARCHAR(200) NOT NULL,"
           " name_en VARCHAR(200) NOT NULL,"
           " refresh_time_us BIGINT NOT NULL"
           ") ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin",
           // One row per partner and month. partner_kind and region are
           // fixed at the first save, so every later correction moves the
           // same rollup rows even if the partner's region changes.
           "CREATE TABLE IF NOT EXISTS reports ("
           " id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,"
           " partner_id BIGINT NOT NULL,"
           " period INT NOT NULL,"
           " status TINYINT NOT NULL,"
           " no_activity TINYINT NOT NULL,"
           " revision INT NOT NULL,"
           " digest CHAR(64) NOT NULL,"
           " partner_kind TINYINT NOT NULL,"
           " region TINYINT NOT NULL,"
           " first_submit_time_us BIGINT NULL,"
           " update_time_us BIGINT NOT NULL,"
           " submitted_by VARCHAR(100) NOT NULL,"
           " late TINYINT NOT NULL,"
           // The current revision's cells as a serialized
           // smz.stats.v1.Report (cells only), for reads and the
           // plausibility history; since migration 10 cells_json has them
           // for aggregation.
           " cells MEDIUMBLOB NOT NULL,"
           " UNIQUE KEY reports_partner_period (partner_id, period),"
           " KEY reports_period (period, status)"
           ") ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin",
           // The current revision's non-zero cells (earlier revisions live
           // in the audit trail). Neither written nor read since migration
           // 10 (release 0.23); kept for replicas of 0.22, dropped later.
           "CREATE TABLE IF NOT EXISTS report_cells ("
           " report_id BIGINT NOT NULL,"
           " partner_id BIGINT NOT NULL,"
           " period INT NOT NULL,"
           " measure TINYINT NOT NULL,"
           " nationality CHAR(2) NOT NULL,"
           " department VARCHAR(40) NOT NULL,"
           " care_type TINYINT NOT NULL,"
           " sex TINYINT NOT NULL,"
           " age_band TINYINT NOT NULL,"
           " value BIGINT NOT NULL,"
           " PRIMARY KEY (report_id, measure, nationality, department,"
           "  care_type, sex, age_band),"
           " KEY report_cells_period (period, measure),"
           " KEY report_cells_partner (partner_id, period)"
           ") ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin",
           // Rollups of the counted (SUBMITTED, ACCEPTED) reports (moved by
           // the submitting transaction until 0.23; since, by folds of the
           // count deltas it leaves, migration 11). Besides the sum, each row
           // keeps how many partner cells contribute and the sum and square
           // sum of their partner ids: a group comes from a single partner
           // exactly when square_sum * contributors = sum^2, which is what
           // small-cell suppression must know, and all three add up across
           // rows and months.
           "CREATE TABLE IF NOT EXISTS rollup_cells ("
           " period INT NOT NULL,"
           " measure TINYINT NOT NULL,"
           " nationality CHAR(2) NOT NULL,"
           " department VARCHAR(40) NOT NULL,"
           " care_type TINYINT NOT NULL,"
           " sex TINYINT NOT NULL,"
           " age_band TINYINT NOT NULL,"
           " partner_kind TINYINT NOT NULL,"
           " region TINYINT NOT NULL,"
           " value BIGINT NOT NULL,"
           " contributors BIGINT NOT NULL,"
           " partner_sum BIGINT NOT NULL,"
           " partner_square_sum DECIMAL(38,0) NOT NULL,"
           " PRIMARY KEY (period, measure, nationality, department, care_type,"
           "  sex, age_band, partner_kind, region)"
           ") ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin",
           "CREATE TABLE IF NOT EXISTS rollup_nationality ("
           " period INT NOT NULL,"
           " measure TINYINT NOT NULL,"
           " nationality CHAR(2) NOT NULL,"
           " value BIGINT NOT NULL,"
           " contributors BIGINT NOT NULL,"
           " partner_sum BIGINT NOT NULL,"
           " partner_square_sum DECIMAL(38,0) NOT NULL,"
           " PRIMARY KEY (period, measure, nationality)"
           ") ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin",
           "CREATE TABLE IF NOT EXISTS rollup_department ("
           " period INT NOT NULL,"
           " measure TINYINT NOT NULL,"
           " department VARCHAR(40) NOT NULL,"
           " care_type TINYINT NOT NULL,"
           " value BIGINT NOT NULL,"
           " contributors BIGINT NOT NULL,"
           " partner_sum BIGINT NOT NULL,"
           " partner_square_sum DECIMAL(38,0) NOT NULL,"
           " PRIMARY KEY (period, measure, department, care_type)"
           ") ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin",
           // partner_id 0: every partner of the period.
           "CREATE TABLE IF NOT EXISTS lock_exceptions ("
           " id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,"
           " partner_id BIGINT NOT NULL,"
           " period INT NOT NULL,"
           " reason TEXT NOT NULL,"
           " granted_by VARCHAR(100) NOT NULL,"
           " grant_time_us BIGINT NOT NULL,"
           " expire_time_us BIGINT NOT NULL,"
           " request_id VARCHAR(64) NULL,"
           " UNIQUE KEY lock_exceptions_request (request_id),"
           " KEY lock_exceptions_period (period, partner_id, expire_time_us)"
           ") ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin",
           "CREATE TABLE IF NOT EXISTS warnings ("
           " id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,"
           " report_id BIGINT NOT NULL,"
           " partner_id BIGINT NOT NULL,"
           " period INT NOT NULL,"
           " revision INT NOT NULL,"
           " cell VARCHAR(200) NOT NULL,"
           " value BIGINT NOT NULL,"
           " history_median DOUBLE NOT NULL,"
           " z_score DOUBLE NOT NULL,"
           " history_months INT NOT NULL,"
           " KEY warnings_report (report_id),"
           " KEY warnings_partner (partner_id, period),"
           " KEY warnings_period (period)"
           ") ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin",
           // A retried request (same caller and request_id) gets the stored
           // answer; the first attempt claims the key before any work.
           "CREATE TABLE IF NOT EXISTS idempotency_keys ("
           " caller VARCHAR(100) NOT NULL,"
           " request_id VARCHAR(64) NOT NULL,"
           " request_digest CHAR(64) NOT NULL,"
           " response MEDIUMBLOB NOT NULL,"
           " create_time_us BIGINT NOT NULL,"
           " PRIMARY KEY (caller, request_id)"
           ") ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin",
       }},
      {2, "audit trail", {kAuditTableDdl}},
      // Counted reports (SUBMITTED, ACCEPTED) per period, kept (through
      // count deltas since migration 11) in 16 shards by partner so that
      // concurrent
      // submissions for one month rarely wait on the same row; the monthly
      // KPI reads 16 rows a month instead of counting every report.
      {3,
       "counted reports per period",
       {"CREATE TABLE IF NOT EXISTS report_counts ("
        " period INT NOT NULL,"
        " shard TINYINT NOT NULL,"
        " counted INT NOT NULL,"
        " PRIMARY KEY (period, shard)"
        ") ENGINE=InnoDB DEFAULT CHARSET=utf8mb4",
        "INSERT INTO report_counts (period, shard, counted) "
        "SELECT period, partner_id % 16, COUNT(*) FROM reports "
        "WHERE status IN (2, 3) GROUP BY 1, 2"}},
      // What restricted readers' pooling needs (disclosure.h): per month
      // and kind x region (16 shards by partner, as report_counts), the
      // hospitals with a counted report with activity, and with revenue.
      {4,
       "reporting hospitals per month and kind x region",
       {"CREATE TABLE IF NOT EXISTS group_reporters ("
        " period INT NOT NULL,"
        " partner_kind TINYINT NOT NULL,"
        " region TINYINT NOT NULL,"
        " shard TINYINT NOT NULL,"
        " active INT NOT NULL,"
        " with_revenue INT NOT NULL,"
        " PRIMARY KEY (period, partner_kind, region, shard)"
        ") ENGINE=InnoDB DEFAULT CHARSET=utf8mb4",
        "INSERT INTO group_reporters (period, partner_kind, region, shard, "
        "active, with_revenue) "
        "SELECT r.period, r.partner_kind, r.region, r.partner_id % 16, "
        "SUM(r.no_activity = 0), SUM(EXISTS (SELECT 1 FROM report_cells c "
        "WHERE c.report_id = r.id AND c.measure = 3 AND c.value > 0)) "
        "FROM reports r WHERE r.status IN (2, 3) GROUP BY 1, 2, 3, 4"}},
      // The one request-key table (common/aip/idempotency.h), keyed by
      // method as well: import keys ("imb:" a file, "imp:" its reports)
      // belong to ImportReports, the others to SubmitReport. Lock exceptions
      // granted with a request_id keep it in their own column; their keys
      // move here under the digest "legacy" (a retry of one of them across
      // the upgrade is refused as another request, never granted twice).
      {5,
       "one request-key table for every service, keyed by method",
       {
           kRequestKeysTableDdl,
           "INSERT IGNORE INTO request_keys (caller, method, request_id, "
           "request_digest, result_id, response, create_us) SELECT caller, "
           "CASE WHEN request_id LIKE 'imb:%' OR request_id LIKE 'imp:%' "
           "THEN 'ImportReports' ELSE 'SubmitReport' END, request_id, "
           "request_digest, 0, response, create_time_us FROM idempotency_keys",
           "INSERT IGNORE INTO request_keys (caller, method, request_id, "
           "request_digest, result_id, response, create_us) SELECT granted_by, "
           "'GrantLockException', request_id, 'legacy', id, '', grant_time_us "
           "FROM lock_exceptions WHERE request_id IS NOT NULL",
       }},
      // Apart from the copy, so that a start interrupted between the two
      // runs each again safely (DDL commits by itself).
      {6,
       "the old idempotency table dropped (its keys are in request_keys)",
       {"DROP TABLE IF EXISTS idempotency_keys"}},
      // Reminders of the monthly report to the hospitals' contacts
      // (report_reminders.h), written by the sweep and sent by the worker.
      {7,
       "mail outbox (report due and overdue reminders)",
       {kMailOutboxTableDdl, kMailOutboxEraseDdl, kMailOutboxQrDdl}},
      // The rollups' stamp (StatsStore::rollups_fence(), AggregateCache).
      // One row per shard (partner_id % kReportCountShards, as
      // report_counts; hence the 16 rows), so that concurrent submissions
      // rarely wait on the same row. Every transaction that changes a rollup
      // sets its shard's row to UUID_SHORT(), a value that never repeats:
      // a stamp memory holds always means the same rollups, even after a
      // restore.
      {8,
       "rollup version stamps (aggregates kept in memory, exact)",
       {"CREATE TABLE IF NOT EXISTS rollup_version ("
        " shard TINYINT NOT NULL PRIMARY KEY,"
        " version BIGINT UNSIGNED NOT NULL"
        ") ENGINE=InnoDB DEFAULT CHARSET=utf8mb4",
        "INSERT IGNORE INTO rollup_version (shard, version) VALUES "
        "(0, UUID_SHORT()), "
        "(1, UUID_SHORT()), "
        "(2, UUID_SHORT()), "
        "(3, UUID_SHORT()), "
        "(4, UUID_SHORT()), "
        "(5, UUID_SHORT()), "
        "(6, UUID_SHORT()), "
        "(7, UUID_SHORT()), "
        "(8, UUID_SHORT()), "
        "(9, UUID_SHORT()), "
        "(10, UUID_SHORT()), "
        "(11, UUID_SHORT()), "
        "(12, UUID_SHORT()), "
        "(13, UUID_SHORT()), "
        "(14, UUID_SHORT()), "
        "(15, UUID_SHORT())"}},
      // Leases on the stamp above (common/mysql/write_stamps.h): readers
      // answer from memory for a few milliseconds without asking for it,
      // and writers that move it wait out the leases before acknowledging.
      {9, "stamp leases", {kStampLeaseTableDdl, kStampLeaseSeedSql}},
      // A report's cells for SQL's aggregation, as one JSON document in its
      // own row (CellsJson, REPORT_CELLS_OF_R) instead of a row per cell in
      // report_cells: a submission then writes one row where it wrote
      // twenty-odd, each with three index entries (PERFORMANCE.md,
      // "Cells in the report's row"). Not filled here: SQL cannot read the
      // protobuf in `cells`, which every release writes; the service fills
      // it from there at start-up (StatsStore::RepairCellsJson).
      // report_cells is no longer written or read; it stays for replicas
      // of the release before, and goes in a later release.
      {10,
       "a report's cells as JSON in its row (report_cells retired)",
       {// The server must know JSON_TABLE and JSON_VALUE (MariaDB 10.6,
        // MySQL 8.0.21): on an older one the migration fails here, before
        // a replica of this release serves, rather than its queries later.
        "DO (SELECT COUNT(*) FROM JSON_TABLE('[]', '$[*]' COLUMNS (x "
        "VARCHAR(40) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin PATH '$')) "
        "t), JSON_VALUE('{\"d\":1}', '$.d')",
        "ALTER TABLE reports ADD COLUMN cells_json LONGTEXT NULL"}},
      // What each group of submissions adds to the shared rows
      // (report_counts, group_reporters, the rollups), kept as a row of
      // its own until StatsStore::FoldCountDeltas adds many groups' at once
      // (count_deltas.h): groups no longer write, nor wait on, the rows
      // every submission of a month shares. `deltas` is a serialized
      // smz.stats.storage.CountDeltas.
      {11,
       "count_deltas: each group's changes to the shared rows, folded later",
       {"CREATE TABLE IF NOT EXISTS count_deltas ("
        " id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,"
        " deltas LONGBLOB NOT NULL"
        ") ENGINE=InnoDB DEFAULT CHARSET=utf8mb4"}},
      // Each row's size, written with it, so that a fold chooses the rows
      // that fit its byte budget (StoreOptions::fold_max_bytes) without
      // reading their blobs: LENGTH() of a blob stored off-page reads it
      // whole. 0 for rows a replica of 0.24.0 writes while a rollout runs
      // (folded as if small; each is 1 MiB at most).
      {12,
       "count_deltas.deltas_bytes: a fold bounded by bytes reads no blob to "
       "size it",
       {"ALTER TABLE count_deltas ADD COLUMN deltas_bytes INT NOT NULL "
        "DEFAULT 0"}},
  };
  return *kMigrations;
}

}  // namespace smz::stats
