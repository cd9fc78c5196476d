#include "common/aip/field_mask.h"

#include <algorithm>
#include <memory>

#include "absl/strings/str_cat.h"
#include "common/aip/request_key.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/util/field_mask_util.h"

namespace smz {

UpdatableFields::UpdatableFields(std::vector<std::string> paths,
                                 std::string others)
    : paths_(std::move(paths)), others_(std::move(others)) {}

std::vector<std::string> UpdatableFields::Resolve(
    const google::protobuf::FieldMask& mask,
    FieldViolations* violations) const {
  if (mask.paths_size() == 0) {
    violations->Add("update_mask",
                    "is required: list the fields to change, or \"*\"");
    return {};
  }
  // Each path is checked and named: a hostile mask of a million paths
  // would cost a violation each.
  const int max_paths = static_cast<int>(paths_.size()) + 1;
  if (mask.paths_size() > max_paths) {
    violations->Add(
        "update_mask",
        absl::StrCat("names ", mask.paths_size(), " paths; there are ",
                     paths_.size(), " updatable fields"));
    return {};
  }
  const size_t violations_before = violations->size();
  std::vector<std::string> resolved;
  for (int i = 0; i < mask.paths_size(); ++i) {
    const std::string& path = mask.paths(i);
    if (path == "*") {
      if (mask.paths_size() > 1) {
        violations->Add(absl::StrCat("update_mask.paths[", i, "]"),
                        "\"*\" means every field and stands alone");
      }
      resolved = paths_;
      continue;
    }
    if (std::find(paths_.begin(), paths_.end(), path) == paths_.end()) {
      violations->Add(
          absl::StrCat("update_mask.paths[", i, "]"),
          absl::StrCat("'", path.substr(0, 64), "' cannot be updated",
                       others_.empty() ? "" : " (", others_,
                       others_.empty() ? "" : ")"));
      continue;
    }
    if (std::find(resolved.begin(), resolved.end(), path) == resolved.end()) {
      resolved.push_back(path);
    }
  }
  if (violations->size() != violations_before) return {};
  return resolved;
}

void CopyPaths(const google::protobuf::Message& source,
               const std::vector<std::string>& paths,
               google::protobuf::Message* target) {
  google::protobuf::FieldMask mask;
  for (const std::string& path : paths) mask.add_paths(path);
  google::protobuf::util::FieldMaskUtil::MergeOptions options;
  options.set_replace_message_fields(true);
  options.set_replace_repeated_fields(true);
  google::protobuf::util::FieldMaskUtil::MergeMessageTo(source, mask, options,
                                                        target);
}

std::vector<std::string> ChangedFields(const google::protobuf::Message& before,
                                       const google::protobuf::Message& after) {
  std::vector<std::string> changed;
  const google::protobuf::Descriptor* type = before.GetDescriptor();
  std::unique_ptr<google::protobuf::Message> a(before.New());
  std::unique_ptr<google::protobuf::Message> b(after.New());
  for (int i = 0; i < type->field_count(); ++i) {
    const google::protobuf::FieldDescriptor* field = type->field(i);
    a->Clear();
    b->Clear();
    CopyPaths(before, {field->name()}, a.get());
    CopyPaths(after, {field->name()}, b.get());
    if (DeterministicBytes(*a) != DeterministicBytes(*b)) {
      changed.push_back(field->name());
    }
  }
  return changed;
}

}  // namespace smz
