// Versioned schema migrations, applied at service start-up and recorded in the
// service's own database (table `schema_migrations`).
//
//   const std::vector<smz::Migration> kMigrations = {
//       {1, "partners", {"CREATE TABLE partners (...)"}},
//       {2, "partner languages", {"CREATE TABLE partner_languages (...)"}},
//   };
//   absl::Status status = smz::ApplyMigrations(db, kMigrations, clock);
//
// Migrations run in version order, each once; concurrent starts of the same
// service serialize on a named lock. The text of every applied migration is
// checksummed: editing one that already ran is refused (FAILED_PRECONDITION)
// rather than silently diverging schemas; add a new version instead. A
// database that a newer release migrated (a version this binary does not
// list) is refused too (FAILED_PRECONDITION): an old binary must not serve
// a schema whose meaning it does not know.
//
// Rules for schema changes that survive a rolling upgrade (old and new
// replicas serve side by side while it runs): a migration only adds (tables,
// nullable or defaulted columns, indexes); what the new code stops using is
// dropped only in a later release, once no replica of the old one runs; a
// column is renamed as add, copy, switch reads, then drop, over releases.
#ifndef SMZ_COMMON_MYSQL_MIGRATIONS_H_
#define SMZ_COMMON_MYSQL_MIGRATIONS_H_

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/types/span.h"
#include "common/clock.h"
#include "common/mysql/database.h"

namespace smz {

struct Migration {
  int version;
  std::string description;
  std::vector<std::string> statements;
};

absl::Status ApplyMigrations(Database& db,
                             absl::Span<const Migration> migrations,
                             const Clock& clock);

// ApplyMigrations for a service starting up: while the database is
// UNAVAILABLE (still starting, restarting) it retries every second until
// `timeout`, logging each wait, rather than crash-looping.
absl::Status ApplyMigrationsWhenReady(Database& db,
                                      absl::Span<const Migration> migrations,
                                      const Clock& clock,
                                      absl::Duration timeout);

// The highest applied version (0 when none).
absl::StatusOr<int> CurrentSchemaVersion(Database& db);

}  // namespace smz

#endif  // SMZ_COMMON_MYSQL_MIGRATIONS_H_
