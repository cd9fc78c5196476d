// Etags (AIP-154) of every smz resource: one format, `"<revision>"` (an HTTP
// strong entity tag, so the same value can travel in an If-Match header), and
// one check.
//
//   partner.set_etag(smz::EtagOf(row_revision));
//   SMZ_RETURN_IF_ERROR(smz::CheckEtag(request.etag(), current_revision,
//                                      "partner 7"));
//
// A stale etag is ABORTED ("read it again and reapply"); whether an etag is
// required at all is the method's decision (RequireEtag for Update methods).
#ifndef SMZ_COMMON_AIP_ETAG_H_
#define SMZ_COMMON_AIP_ETAG_H_

#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "common/status_util.h"

namespace smz {

std::string EtagOf(int64_t revision);

// OK when `given` is the etag of `current_revision`; ABORTED naming `what`
// ("event 12") and its current etag otherwise.
absl::Status CheckEtag(absl::string_view given, int64_t current_revision,
                       absl::string_view what);
// The same against a resource's current etag.
absl::Status CheckEtag(absl::string_view given, absl::string_view current,
                       absl::string_view what);

// Adds a violation on `field` when `etag` is empty: Update methods refuse to
// overwrite a version the caller has not read.
void RequireEtag(absl::string_view etag, absl::string_view field,
                 FieldViolations* violations);

}  // namespace smz

#endif  // SMZ_COMMON_AIP_ETAG_H_
