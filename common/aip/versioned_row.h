// The write path every smz resource shares: a row with a revision, changed
// only in one transaction that takes its lock, checks the caller's etag,
// applies the change, writes revision + 1, reads the row back and appends
// the audit entry; and a Create that claims the request key first.
//
//   smz::VersionedTable<v1::Project> Projects() {
//     smz::VersionedTable<v1::Project> table;
//     table.entity = "project";
//     table.read = [](Session& s, int64_t id, bool lock)
//         -> absl::StatusOr<v1::Project> { ... SELECT ... [FOR UPDATE] };
//     table.etag = [](const v1::Project& p) { return p.etag(); };
//     table.insert = [](Session& s, const v1::Project& p, absl::Time now)
//         -> absl::StatusOr<int64_t> { ... INSERT ..., revision 1 };
//     table.write = [](Session& s, const v1::Project& before,
//                      const v1::Project& p, absl::Time now) {
//         ... UPDATE ... SET revision = revision + 1 ... };
//     return table;
//   }
//
//   // Inside database.TransactFor (T is not deduced through FunctionRef):
//   return smz::CreateVersioned<v1::Project>(session, Projects(), key,
//                                            write, project);
//   return smz::ModifyVersioned<v1::Project>(
//       session, Projects(), id, etag, "UPDATE", write,
//       [&](Session&, v1::Project& p) {
//         smz::CopyPaths(in, paths, &p);
//         return Validate(p);
//       });
//
// A change that leaves the resource as it was writes nothing: no revision,
// no audit entry, the same etag (so a retried update is harmless). `change`
// may write other rows through its Session (seats, rooms): they commit or
// roll back with the rest.
#ifndef SMZ_COMMON_AIP_VERSIONED_ROW_H_
#define SMZ_COMMON_AIP_VERSIONED_ROW_H_

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "absl/functional/function_ref.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "common/aip/etag.h"
#include "common/aip/field_mask.h"
#include "common/aip/idempotency.h"
#include "common/aip/request_key.h"
#include "common/aip/status_macros.h"
#include "common/mysql/audit.h"
#include "common/mysql/database.h"

namespace smz {

template <typename T>
struct VersionedTable {
  std::string entity;  // "project": in audit entries and messages
  // One row; NOT_FOUND when absent. With `lock` it is the transaction's
  // first read and takes the row lock.
  std::function<absl::StatusOr<T>(Session&, int64_t id, bool lock)> read;
  // The etag of a value read (EtagOf its revision).
  std::function<std::string(const T&)> etag;
  // Inserts a new row at revision 1 and returns its id.
  std::function<absl::StatusOr<int64_t>(Session&, const T&, absl::Time)> insert;
  // Overwrites the row of `after` (its id) with revision + 1; `before` is
  // the row as read, for derived rows that need rewriting only on change.
  std::function<absl::Status(Session&, const T& before, const T& after,
                             absl::Time)>
      write;
  // Optional: the value kept in the audit trail (default: all of it).
  std::function<std::string(const T&)> audit_value = nullptr;
  // Optional: the fields that differ (default: ChangedFields); none means
  // nothing to write.
  std::function<std::vector<std::string>(const T&, const T&)> changed_fields =
      nullptr;
};

template <typename T>
std::string AuditValueOf(const VersionedTable<T>& table, const T& value) {
  return table.audit_value ? table.audit_value(value)
                           : value.SerializeAsString();
}

// Who writes, when; one per request.
struct WriteContext {
  std::string actor;  // principal label
  absl::Time now;
};

// Creates `value` unless `key` was answered before (then returns that first
// result). Runs inside the caller's transaction. `before_insert` may check
// or write other rows first. `*inserted` (when given) says which it was: a
// new row's dependent rows have nothing to replace, and deleting "them"
// anyway would take gap locks past the end of their index.
template <typename T>
absl::StatusOr<T> CreateVersioned(
    Session& session, const VersionedTable<T>& table, const RequestKey& key,
    const WriteContext& write, const T& value,
    std::function<absl::Status(Session&)> before_insert = nullptr,
    bool* inserted = nullptr) {
  if (inserted != nullptr) *inserted = false;
  SMZ_ASSIGN_OR_RETURN(std::optional<FirstAnswer> first,
                       ClaimRequest(session, key, write.now));
  if (first.has_value()) return table.read(session, first->result_id, false);
  if (inserted != nullptr) *inserted = true;
  if (before_insert) SMZ_RETURN_IF_ERROR(before_insert(session));
  SMZ_ASSIGN_OR_RETURN(const int64_t id,
                       table.insert(session, value, write.now));
  SMZ_RETURN_IF_ERROR(SetRequestResult(session, key, id));
  SMZ_ASSIGN_OR_RETURN(T stored, table.read(session, id, false));
  SMZ_RETURN_IF_ERROR(
      AppendAudit(session, AuditEntry{table.entity,
                                      id,
                                      "CREATE",
                                      write.actor,
                                      write.now,
                                      "",
                                      AuditValueOf(table, stored),
                                      {}}));
  return stored;
}

// Changes row `id` under its lock. `etag` empty: no check (lifecycle methods
// whose etag is optional); otherwise a stale etag is ABORTED. An action that
// is an event in itself (a designation) sets `record_unchanged`: it gets a
// revision and an audit entry even where no field changed.
template <typename T>
absl::StatusOr<T> ModifyVersioned(
    Session& session, const VersionedTable<T>& table, int64_t id,
    absl::string_view etag, absl::string_view action, const WriteContext& write,
    absl::FunctionRef<absl::Status(Session&, T&)> change,
    bool record_unchanged = false) {
  SMZ_ASSIGN_OR_RETURN(T before, table.read(session, id, true));
  if (!etag.empty()) {
    SMZ_RETURN_IF_ERROR(CheckEtag(etag, table.etag(before),
                                  absl::StrCat(table.entity, " ", id)));
  }
  T after = before;
  SMZ_RETURN_IF_ERROR(change(session, after));
  std::vector<std::string> changed = table.changed_fields
                                         ? table.changed_fields(before, after)
                                         : ChangedFields(before, after);
  if (changed.empty() && !record_unchanged) return before;
  SMZ_RETURN_IF_ERROR(table.write(session, before, after, write.now));
  SMZ_ASSIGN_OR_RETURN(T stored, table.read(session, id, false));
  SMZ_RETURN_IF_ERROR(AppendAudit(
      session, AuditEntry{table.entity, id, std::string(action), write.actor,
                          write.now, AuditValueOf(table, before),
                          AuditValueOf(table, stored), std::move(changed)}));
  return stored;
}

}  // namespace smz

#endif  // SMZ_COMMON_AIP_VERSIONED_ROW_H_
