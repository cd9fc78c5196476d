// An append-only audit trail kept in a service's own database, written in the
// same transaction as the change it records, so a change and its audit entry
// are committed or rolled back together. Values are stored as serialized
// protobuf messages of the service's own types.
//
//   // In the service's migrations:
//   {3, "audit trail", {smz::kAuditTableDdl}},
//
//   // Inside the transaction that changes partner 7:
//   smz::AuditEntry entry{"partner", 7, "UPDATE", "ADMIN#1", clock.Now(),
//                         before.SerializeAsString(),
//                         after.SerializeAsString(),
//                         {"address"}};
//   absl::Status s = smz::AppendAudit(session, entry);
//
//   absl::StatusOr<smz::AuditPage> history =
//       smz::ReadAudit(session, "partner", 7, /*after_id=*/0, /*limit=*/50);
//   // history->entries; history->cut: the values filled the page early
#ifndef SMZ_COMMON_MYSQL_AUDIT_H_
#define SMZ_COMMON_MYSQL_AUDIT_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "common/mysql/database.h"

namespace smz {

// The table every service's migrations include (MySQL 8 and MariaDB).
inline constexpr char kAuditTableDdl[] =
    "CREATE TABLE IF NOT EXISTS audit_events ("
    " id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,"
    " entity VARCHAR(40) NOT NULL,"
    " entity_id BIGINT NOT NULL,"
    " action VARCHAR(40) NOT NULL,"
    " actor VARCHAR(100) NOT NULL,"
    " time_us BIGINT NOT NULL,"
    " before_value MEDIUMBLOB NULL,"
    " after_value MEDIUMBLOB NULL,"
    " changed_fields TEXT NOT NULL,"
    " KEY audit_events_entity (entity, entity_id, id)"
    ") ENGINE=InnoDB DEFAULT CHARSET=utf8mb4";

struct AuditEntry {
  std::string entity;
  int64_t entity_id = 0;
  std::string action;
  std::string actor;  // a principal label, never a token
  absl::Time time;
  std::string before;  // serialized message; empty when created
  std::string after;   // serialized message; empty when deleted
  std::vector<std::string> changed_fields;
  int64_t id = 0;  // set when read
  // Set when read: before and after are left out, being larger on their own
  // than a page may hold.
  bool values_omitted = false;
};

// Each change carries two whole values: pages of an audit trail are short.
inline constexpr int kAuditMaxChangesPerPage = 50;

// The values one page of an audit trail may hold: two whole resources per
// entry, kept well below gRPC's default 4 MiB message.
inline constexpr size_t kAuditPageValueBytes = 3 << 20;

struct AuditPage {
  std::vector<AuditEntry> entries;
  // The page ended early, its values having reached the budget: more
  // entries may follow the last one.
  bool cut = false;
};

absl::Status AppendAudit(Session& session, const AuditEntry& entry);

// For writers that add many entries in one multi-row statement (a group of
// report submissions): the INSERT up to VALUES, one row's placeholders, and
// an entry's values in their order. AppendAudit writes the same row.
inline constexpr char kAuditInsertHead[] =
    "INSERT INTO audit_events (entity, entity_id, action, actor, time_us, "
    "before_value, after_value, changed_fields) VALUES ";
inline constexpr char kAuditRowPlaceholders[] = "(?, ?, ?, ?, ?, ?, ?, ?)";
std::vector<SqlValue> AuditRowValues(const AuditEntry& entry);

// Entries for one entity, oldest first, with id > after_id: at most `limit`,
// and no more value bytes than `max_value_bytes` in all. Sizes are read
// before values, so a trail of large values never sits in memory at once;
// an entry larger than the budget on its own comes with values_omitted.
absl::StatusOr<AuditPage> ReadAudit(
    Session& session, absl::string_view entity, int64_t entity_id,
    int64_t after_id, int limit, size_t max_value_bytes = kAuditPageValueBytes);

}  // namespace smz

#endif  // SMZ_COMMON_MYSQL_AUDIT_H_
