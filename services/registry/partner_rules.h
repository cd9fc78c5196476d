// The registry's domain rules, free of storage and transport: what a valid
// partner, grant or designation request is, which lifecycle transitions are
// legal, and which fields an update may touch.
//
//   smz::FieldViolations violations;
//   smz::registry::ValidatePartner(partner, "partner", &violations);
//   if (!violations.empty()) return violations.ToStatus();
//
//   absl::StatusOr<PartnerStatus> next =
//       smz::registry::NextStatus(PENDING, LifecycleAction::kRevoke);
//   // FAILED_PRECONDITION: a PENDING partner was never designated.
#ifndef SMZ_SERVICES_REGISTRY_PARTNER_RULES_H_
#define SMZ_SERVICES_REGISTRY_PARTNER_RULES_H_

#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/civil_time.h"
#include "common/aip/field_mask.h"
#include "common/request_fields.h"
#include "common/status_util.h"
#include "google/protobuf/field_mask.pb.h"
#include "smz/registry/v1/registry.pb.h"

namespace smz::registry {

using ::smz::registry::v1::DesignationAction;
using ::smz::registry::v1::Partner;
using ::smz::registry::v1::PartnerStatus;

enum class LifecycleAction {
  kDesignate,
  kRedesignate,
  kSuspend,
  kReinstate,
  kRevoke
};

absl::string_view LifecycleActionName(LifecycleAction action);

// The status after `action`, or FAILED_PRECONDITION explaining why the
// transition is illegal from `current`.
absl::StatusOr<PartnerStatus> NextStatus(PartnerStatus current,
                                         LifecycleAction action);

// The history entry an action records.
DesignationAction RecordedAction(LifecycleAction action);

// Checks every field of a partner's editable profile; violations are named
// "<prefix>.<field>" (e.g. "partner.name").
void ValidatePartner(const Partner& partner, absl::string_view prefix,
                     FieldViolations* violations);

// Editable fields (FieldMask paths of Partner).
const std::vector<std::string>& MutablePartnerPaths();
// The subset a PARTNER may change on its own record.
const std::vector<std::string>& PartnerSelfServicePaths();

// UpdatePartner's mask: the editable fields, "*" for all of them.
const UpdatableFields& PartnerUpdatableFields();

// The Partner fields (editable ones, status and current term) whose values
// differ between two versions, for the audit trail.
std::vector<std::string> ChangedPartnerFields(const Partner& before,
                                              const Partner& after);

// Designation requests: dates, term and reason as the action needs them.
// `current_since` is the effective date of the latest designation or
// redesignation (for ordering checks), if any.
void ValidateDesignationRequest(const v1::DesignationRequest& request,
                                LifecycleAction action,
                                std::optional<absl::CivilDay> current_since,
                                FieldViolations* violations);

void ValidateGrant(const v1::Grant& grant, FieldViolations* violations);

}  // namespace smz::registry

#endif  // SMZ_SERVICES_REGISTRY_PARTNER_RULES_H_
