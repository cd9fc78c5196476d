// The read side of a service's audit trail (common/mysql/audit.h), in the
// one API shape of smz.audit.v1: a service lists its entities and their
// message types, and its ListXxxChanges method is one call.
//
//   const smz::AuditedEntities kEntities = {
//       {"project", v1::Project::descriptor()},
//       {"budget_line", v1::BudgetLine::descriptor()}};
//   absl::StatusOr<audit::v1::ListChangesResponse> changes =
//       smz::ListChanges(*database, kEntities, request);
#ifndef SMZ_COMMON_AIP_CHANGE_LOG_H_
#define SMZ_COMMON_AIP_CHANGE_LOG_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "common/mysql/database.h"
#include "google/protobuf/descriptor.h"
#include "smz/audit/v1/audit.pb.h"

namespace smz {

struct AuditedEntity {
  std::string entity;                        // as written in the trail
  const google::protobuf::Descriptor* type;  // of its before/after values
};
using AuditedEntities = std::vector<AuditedEntity>;

// INVALID_ARGUMENT names every bad field (unknown entity, id, page).
absl::StatusOr<audit::v1::ListChangesResponse> ListChanges(
    Database& database, const AuditedEntities& entities,
    const audit::v1::ListChangesRequest& request);

}  // namespace smz

#endif  // SMZ_COMMON_AIP_CHANGE_LOG_H_
