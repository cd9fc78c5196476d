#include "common/mysql/audit.h"

#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "common/aip/status_macros.h"

namespace smz {

absl::Status AppendAudit(Session& session, const AuditEntry& entry) {
  return session
      .Execute(
          "INSERT INTO audit_events (entity, entity_id, action, actor, "
          "time_us, before_value, after_value, changed_fields) "
          "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
          {entry.entity, SqlInt(entry.entity_id), entry.action, entry.actor,
           SqlInt(absl::ToUnixMicros(entry.time)), SqlNullIfEmpty(entry.before),
           SqlNullIfEmpty(entry.after),
           absl::StrJoin(entry.changed_fields, ",")})
      .status();
}

absl::StatusOr<std::vector<AuditEntry>> ReadAudit(Session& session,
                                                  absl::string_view entity,
                                                  int64_t entity_id,
                                                  int64_t after_id, int limit) {
  SMZ_ASSIGN_OR_RETURN(
      std::vector<Row> rows,
      session.Query(
          "SELECT id, action, actor, time_us, before_value, after_value, "
          "changed_fields FROM audit_events WHERE entity = ? AND entity_id = ? "
          "AND id > ? ORDER BY id LIMIT ?",
          {std::string(entity), SqlInt(entity_id), SqlInt(after_id),
           SqlInt(limit)}));
  std::vector<AuditEntry> entries;
  entries.reserve(rows.size());
  for (const Row& row : rows) {
    AuditEntry entry;
    entry.id = row.Int(0);
    entry.entity = std::string(entity);
    entry.entity_id = entity_id;
    entry.action = row.Text(1);
    entry.actor = row.Text(2);
    entry.time = absl::FromUnixMicros(row.Int(3));
    entry.before = row.Text(4);
    entry.after = row.Text(5);
    if (!row.Text(6).empty()) {
      entry.changed_fields = absl::StrSplit(row.Text(6), ',');
    }
    entries.push_back(std::move(entry));
  }
  return entries;
}

}  // namespace smz
