#include "common/mysql/migrations.h"

#include <openssl/sha.h>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/aip/status_macros.h"
#include "common/logging.h"

namespace smz {
namespace {

std::string Checksum(const Migration& migration) {
  std::string text;
  for (const std::string& statement : migration.statements) {
    absl::StrAppend(&text, statement, "\n;\n");
  }
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(text.data()), text.size(),
         digest);
  return absl::BytesToHexString(
      absl::string_view(reinterpret_cast<const char*>(digest), sizeof(digest)));
}

constexpr char kCreateTable[] =
    "CREATE TABLE IF NOT EXISTS schema_migrations ("
    " version INT NOT NULL PRIMARY KEY,"
    " description VARCHAR(200) NOT NULL,"
    " checksum CHAR(64) NOT NULL,"
    " applied_at_us BIGINT NOT NULL"
    ") ENGINE=InnoDB DEFAULT CHARSET=utf8mb4";

absl::Status ApplyLocked(Session& session,
                         absl::Span<const Migration> migrations,
                         const Clock& clock) {
  if (auto s = session.Execute(kCreateTable, {}); !s.ok()) return s.status();
  SMZ_ASSIGN_OR_RETURN(
      std::vector<Row> applied,
      session.Query("SELECT version, checksum FROM schema_migrations", {}));
  // A newer release migrated this database: this binary does not know what
  // the schema means now (README, "Upgrading": roll forward, or restore the
  // backup taken before the migration).
  const int known = migrations.empty() ? 0 : migrations.back().version;
  for (const Row& row : applied) {
    if (row.Int(0) > known) {
      return absl::FailedPreconditionError(
          absl::StrCat("the database's schema is at version ", row.Int(0),
                       ", newer than this binary knows (", known,
                       "): a newer release migrated it; run that release"));
    }
  }
  int previous = 0;
  for (const Migration& migration : migrations) {
    if (migration.version <= previous) {
      return absl::InternalError("migrations must have increasing versions");
    }
    previous = migration.version;
    const std::string checksum = Checksum(migration);
    const Row* done = nullptr;
    for (const Row& row : applied) {
      if (row.Int(0) == migration.version) done = &row;
    }
    if (done != nullptr) {
      if (done->Text(1) != checksum) {
        return absl::FailedPreconditionError(absl::StrCat(
            "schema migration ", migration.version, " (", migration.description,
            ") was changed after it was applied; add a new migration instead"));
      }
      continue;
    }
    // MySQL commits DDL implicitly, so each statement is its own step; the
    // version row is written last, and statements use IF NOT EXISTS where
    // a half-applied migration could be re-run.
    for (const std::string& statement : migration.statements) {
      if (auto s = session.Execute(statement, {}); !s.ok()) {
        return absl::Status(s.status().code(),
                            absl::StrCat("migration ", migration.version,
                                         " failed: ", s.status().message()));
      }
    }
    auto recorded = session.Execute(
        "INSERT INTO schema_migrations (version, description, checksum, "
        "applied_at_us) VALUES (?, ?, ?, ?)",
        {SqlInt(migration.version), migration.description, checksum,
         SqlInt(absl::ToUnixMicros(clock.Now()))});
    if (!recorded.ok()) return recorded.status();
    Log(LogLevel::kInfo, "applied schema migration",
        {{"version", absl::StrCat(migration.version)},
         {"description", migration.description}});
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status ApplyMigrations(Database& db,
                             absl::Span<const Migration> migrations,
                             const Clock& clock) {
  return db.Run([&](Session& session) -> absl::Status {
    const std::string lock_name =
        absl::StrCat("smz_migrations_", db.options().database);
    // Short waits in a loop: one long GET_LOCK would outlast the client's
    // read timeout and look like a lost connection.
    bool have_lock = false;
    for (int attempt = 0; attempt < 30 && !have_lock; ++attempt) {
      SMZ_ASSIGN_OR_RETURN(std::vector<Row> locked,
                           session.Query("SELECT GET_LOCK(?, 2)", {lock_name}));
      have_lock = !locked.empty() && locked.front().Int(0) == 1;
    }
    if (!have_lock) {
      return absl::UnavailableError(
          "timed out after 60 s waiting for another instance's migrations");
    }
    absl::Status status = ApplyLocked(session, migrations, clock);
    auto released = session.Query("SELECT RELEASE_LOCK(?)", {lock_name});
    if (status.ok() && !released.ok()) return released.status();
    return status;
  });
}

absl::StatusOr<int> CurrentSchemaVersion(Database& db) {
  return db.RunFor<int>([](Session& session) -> absl::StatusOr<int> {
    SMZ_ASSIGN_OR_RETURN(
        std::vector<Row> rows,
        session.Query("SELECT COALESCE(MAX(version), 0) FROM schema_migrations",
                      {}));
    return static_cast<int>(rows.at(0).Int(0));
  });
}

absl::Status ApplyMigrationsWhenReady(Database& db,
                                      absl::Span<const Migration> migrations,
                                      const Clock& clock,
                                      absl::Duration timeout) {
  const absl::Time deadline = absl::Now() + timeout;
  while (true) {
    absl::Status migrated = ApplyMigrations(db, migrations, clock);
    if (migrated.ok() || !absl::IsUnavailable(migrated) ||
        absl::Now() >= deadline) {
      return migrated;
    }
    Log(LogLevel::kWarning, "database not ready; retrying",
        {{"error", migrated.message()}});
    absl::SleepFor(absl::Seconds(1));
  }
}

}  // namespace smz
