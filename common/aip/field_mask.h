// Update masks (AIP-161) for every smz Update method: an allow-list of the
// fields a method may change, `"*"` for all of them, and the copy itself by
// protobuf's FieldMaskUtil (a listed repeated or message field is replaced,
// not merged; a listed field absent from the request is cleared).
//
//   static const smz::UpdatableFields kUpdatable(
//       {"name", "description"}, "status changes through its own methods");
//   const std::vector<std::string> paths =
//       kUpdatable.Resolve(request.update_mask(), &violations);
//   if (!violations.empty()) return violations.ToStatus();
//   ...  // under the row's lock:
//   smz::CopyPaths(request.project(), paths, &stored_project);
#ifndef SMZ_COMMON_AIP_FIELD_MASK_H_
#define SMZ_COMMON_AIP_FIELD_MASK_H_

#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "common/status_util.h"
#include "google/protobuf/field_mask.pb.h"
#include "google/protobuf/message.h"

namespace smz {

class UpdatableFields {
 public:
  // `paths`: field names of the resource, in the order "*" expands to.
  // `others`: where the fields outside the list are changed, for the error.
  UpdatableFields(std::vector<std::string> paths, std::string others = "");

  // The paths the mask names; "*" (alone) is every updatable path. An empty
  // mask, "*" beside other paths, and every path outside the list are
  // violations on "update_mask" / "update_mask.paths[i]"; with violations the
  // result is empty.
  std::vector<std::string> Resolve(const google::protobuf::FieldMask& mask,
                                   FieldViolations* violations) const;

 private:
  std::vector<std::string> paths_;
  std::string others_;
};

// Copies `paths` of `source` onto `target` (same message type).
void CopyPaths(const google::protobuf::Message& source,
               const std::vector<std::string>& paths,
               google::protobuf::Message* target);

// The top-level fields whose values differ between two messages of one type,
// in field-number order: the audit trail's "changed fields".
std::vector<std::string> ChangedFields(const google::protobuf::Message& before,
                                       const google::protobuf::Message& after);

}  // namespace smz

#endif  // SMZ_COMMON_AIP_FIELD_MASK_H_
