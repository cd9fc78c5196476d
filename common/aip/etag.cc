#include "common/aip/etag.h"

#include "absl/strings/str_cat.h"

namespace smz {

std::string EtagOf(int64_t revision) {
  return absl::StrCat("\"", revision, "\"");
}

absl::Status CheckEtag(absl::string_view given, int64_t current_revision,
                       absl::string_view what) {
  return CheckEtag(given, EtagOf(current_revision), what);
}

absl::Status CheckEtag(absl::string_view given, absl::string_view current,
                       absl::string_view what) {
  if (given == current) return absl::OkStatus();
  // `given` is caller text: quoted only when short.
  return absl::AbortedError(
      absl::StrCat("etag ", given.size() <= 32 ? given : "(too long)",
                   " is stale: ", what, " has changed since (now ", current,
                   "); read it again and reapply your change"));
}

void RequireEtag(absl::string_view etag, absl::string_view field,
                 FieldViolations* violations) {
  if (etag.empty()) {
    violations->Add(std::string(field),
                    "is required: send the etag of the version you read");
  }
}

}  // namespace smz
