#include "common/mysql/audit.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "common/aip/status_macros.h"

namespace smz {

std::vector<SqlValue> AuditRowValues(const AuditEntry& entry) {
  return {entry.entity,
          SqlInt(entry.entity_id),
          entry.action,
          entry.actor,
          SqlInt(absl::ToUnixMicros(entry.time)),
          SqlNullIfEmpty(entry.before),
          SqlNullIfEmpty(entry.after),
          absl::StrJoin(entry.changed_fields, ",")};
}

absl::Status AppendAudit(Session& session, const AuditEntry& entry) {
  return session
      .Execute(absl::StrCat(kAuditInsertHead, kAuditRowPlaceholders),
               AuditRowValues(entry))
      .status();
}

absl::StatusOr<AuditPage> ReadAudit(Session& session, absl::string_view entity,
                                    int64_t entity_id, int64_t after_id,
                                    int limit, size_t max_value_bytes) {
  AuditPage page;
  // First the sizes: which entries fit, before any value is read.
  SMZ_ASSIGN_OR_RETURN(
      std::vector<Row> sizes,
      session.Query(
          "SELECT id, COALESCE(LENGTH(before_value), 0) + "
          "COALESCE(LENGTH(after_value), 0) FROM audit_events WHERE entity = ? "
          "AND entity_id = ? AND id > ? ORDER BY id LIMIT ?",
          {std::string(entity), SqlInt(entity_id), SqlInt(after_id),
           SqlInt(limit)}));
  if (sizes.empty()) return page;
  const int64_t budget = static_cast<int64_t>(max_value_bytes);
  int64_t bytes = 0;
  int64_t last_id = sizes.front().Int(0);
  for (const Row& row : sizes) {
    const int64_t size = row.Int(1);
    if (size <= budget && bytes + size > budget) {
      page.cut = true;
      break;
    }
    if (size <= budget) bytes += size;  // larger ones come without values
    last_id = row.Int(0);
  }
  SMZ_ASSIGN_OR_RETURN(
      std::vector<Row> rows,
      session.Query(
          "SELECT id, action, actor, time_us, changed_fields, "
          "COALESCE(LENGTH(before_value), 0) + "
          "COALESCE(LENGTH(after_value), 0) > ? AS omitted, "
          "IF(COALESCE(LENGTH(before_value), 0) + "
          "COALESCE(LENGTH(after_value), 0) > ?, NULL, before_value), "
          "IF(COALESCE(LENGTH(before_value), 0) + "
          "COALESCE(LENGTH(after_value), 0) > ?, NULL, after_value) "
          "FROM audit_events WHERE entity = ? AND entity_id = ? AND id > ? "
          "AND id <= ? ORDER BY id",
          {SqlInt(budget), SqlInt(budget), SqlInt(budget), std::string(entity),
           SqlInt(entity_id), SqlInt(after_id), SqlInt(last_id)}));
  page.entries.reserve(rows.size());
  for (const Row& row : rows) {
    AuditEntry entry;
    entry.id = row.Int(0);
    entry.entity = std::string(entity);
    entry.entity_id = entity_id;
    entry.action = row.Text(1);
    entry.actor = row.Text(2);
    entry.time = absl::FromUnixMicros(row.Int(3));
    if (!row.Text(4).empty()) {
      entry.changed_fields = absl::StrSplit(row.Text(4), ',');
    }
    entry.values_omitted = row.Int(5) != 0;
    entry.before = row.Text(6);
    entry.after = row.Text(7);
    page.entries.push_back(std::move(entry));
  }
  return page;
}

}  // namespace smz
