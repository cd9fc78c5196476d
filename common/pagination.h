// AIP-158 pagination helpers: page sizes, and opaque page tokens that resume
// a keyset scan ("after this sort key and id") and are bound to the request's
// filters, so a token cannot be replayed against a different query.
//
//   smz::FieldViolations violations;
//   int page_size = smz::ResolvePageSize(request.page_size(), &violations);
//   const uint64_t query = smz::QueryFingerprint({filter_a, filter_b});
//   absl::StatusOr<smz::PageCursor> cursor =
//       smz::DecodePageToken(request.page_token(), query);  // {} if empty
//   ... fetch page_size + 1 rows after *cursor ...
//   response.set_next_page_token(smz::EncodePageToken(query, last_row_cursor));
#ifndef SMZ_COMMON_PAGINATION_H_
#define SMZ_COMMON_PAGINATION_H_

#include <cstdint>
#include <initializer_list>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "common/status_util.h"

namespace smz {

inline constexpr int kDefaultPageSize = 50;
inline constexpr int kMaxPageSize = 200;

// 0 -> default; above the maximum -> the maximum; negative -> a violation on
// "page_size" (and the default is returned).
int ResolvePageSize(int requested, FieldViolations* violations);

struct PageCursor {
  bool has_position = false;  // false: start from the beginning
  std::string last_key;       // sort key of the last row returned
  int64_t last_id = 0;        // tie-breaker: id of the last row returned
};

// A stable (cross-process) fingerprint of the request's query parameters.
uint64_t QueryFingerprint(std::initializer_list<absl::string_view> parts);

std::string EncodePageToken(uint64_t fingerprint, const PageCursor& cursor);

// An empty token is the first page. A token that is malformed or was issued
// for other query parameters is INVALID_ARGUMENT on "page_token".
absl::StatusOr<PageCursor> DecodePageToken(absl::string_view token,
                                           uint64_t fingerprint);

}  // namespace smz

#endif  // SMZ_COMMON_PAGINATION_H_
