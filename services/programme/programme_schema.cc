#include "services/programme/programme_schema.h"

#include "common/aip/idempotency.h"
#include "common/mysql/audit.h"
#include "common/mysql/write_stamps.h"

namespace smz::programme {

// Projects and indicators keep their definition as a serialized message
// (body) beside the columns queries filter and sort on. Money is BIGINT won.
const std::vector<Migration>& ProgrammeMigrations() {
  static const auto* const kMigrations = new std::vector<Migration>{
      {1,
       "projects, budget lines, executions, indicators, idempotency, audit",
       {
           "CREATE TABLE IF NOT EXISTS projects ("
           " id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,"
           " parent_id BIGINT NOT NULL,"
           " kind TINYINT NOT NULL,"
           " code VARCHAR(64) NOT NULL,"
           " sort_order INT NOT NULL,"
           " body BLOB NOT NULL,"
           " revision BIGINT NOT NULL,"
           " create_us BIGINT NOT NULL,"
           " update_us BIGINT NOT NULL,"
           " UNIQUE KEY projects_code (code),"
           " KEY projects_parent (parent_id, sort_order, code)"
           ") ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin",
           "CREATE TABLE IF NOT EXISTS budget_lines ("
           " id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,"
           " project_id BIGINT NOT NULL,"
           " year SMALLINT NOT NULL,"
           " funding_source TINYINT NOT NULL,"
           " amount_krw BIGINT NOT NULL,"
           " note VARCHAR(1000) NOT NULL,"
           " revision BIGINT NOT NULL,"
           " update_us BIGINT NOT NULL,"
           " UNIQUE KEY budget_lines_unique (project_id, year, funding_source),"
           " KEY budget_lines_year (year, project_id)"
           ") ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin",
           "CREATE TABLE IF NOT EXISTS executions ("
           " id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,"
           " line_id BIGINT NOT NULL,"
           " amount_krw BIGINT NOT NULL,"
           " entry_date DATE NOT NULL,"
           " description VARCHAR(1000) NOT NULL,"
           " created_by VARCHAR(100) NOT NULL,"
           " create_us BIGINT NOT NULL,"
           " KEY executions_line (line_id, entry_date, id)"
           ") ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin",
           "CREATE TABLE IF NOT EXISTS indicators ("
           " id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,"
           " project_id BIGINT NOT NULL,"
           " code VARCHAR(64) NOT NULL,"
           " sort_order INT NOT NULL,"
           " body BLOB NOT NULL,"
           " revision BIGINT NOT NULL,"
           " update_us BIGINT NOT NULL,"
           " UNIQUE KEY indicators_code (code),"
           " KEY indicators_project (project_id, sort_order, code)"
           ") ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin",
           kLegacyIdempotencyKeysDdl,
           kAuditTableDdl,
       }},
      {2,
       "one request-key table for every service (common/aip/idempotency.h)",
       {
           kRequestKeysTableDdl,
           kCopyCallerKeyedIdempotencyKeys,
       }},
      // Apart from the copy, so that a start interrupted between the two
      // runs each again safely (DDL commits by itself).
      {3,
       "the old idempotency table dropped (its keys are in request_keys)",
       {"DROP TABLE IF EXISTS idempotency_keys"}},
      // The stamp every write transaction moves (common/mysql/
      // write_stamps.h): the gateway's council tables stay in memory while
      // it has not moved.
      {4,
       "data version stamps (council tables kept in memory, exact)",
       {kDataVersionTableDdl, kDataVersionSeedSql}},
      // Leases on the stamp above (common/mysql/write_stamps.h): readers
      // answer from memory for a few milliseconds without asking for it,
      // and writers that move it wait out the leases before acknowledging.
      {5, "stamp leases", {kStampLeaseTableDdl, kStampLeaseSeedSql}},
  };
  return *kMigrations;
}

}  // namespace smz::programme
