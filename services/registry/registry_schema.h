// The registry's database schema, as versioned migrations applied at start-up
// (see common/mysql/migrations.h). Append new versions; never edit old ones.
// Statements must run on MySQL 8 (production) and MariaDB 10.11 (local and
// tests): no MariaDB-only syntax such as CREATE INDEX IF NOT EXISTS.
#ifndef SMZ_SERVICES_REGISTRY_REGISTRY_SCHEMA_H_
#define SMZ_SERVICES_REGISTRY_REGISTRY_SCHEMA_H_

#include <vector>

#include "common/mysql/migrations.h"

namespace smz::registry {

// The table of backups restored: deploy/backup/backup.sh appends this very
// statement and a pending row to every backup it makes.
inline constexpr char kRestoreMarksTableDdl[] =
    "CREATE TABLE IF NOT EXISTS restore_marks ("
    " id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,"
    " backup_label VARCHAR(100) NOT NULL,"
    " backup_time_us BIGINT NOT NULL,"
    " review_time_us BIGINT NULL"
    ") ENGINE=InnoDB DEFAULT CHARSET=ascii COLLATE=ascii_bin";

const std::vector<Migration>& RegistryMigrations();

}  // namespace smz::registry

#endif  // SMZ_SERVICES_REGISTRY_REGISTRY_SCHEMA_H_
