#include "common/aip/pager.h"

#include <algorithm>

namespace smz {

Pager::Pager(int page_size, absl::string_view page_token, uint64_t fingerprint,
             FieldViolations* violations, int max_page_size)
    : fingerprint_(fingerprint) {
  page_size_ = std::min(ResolvePageSize(page_size, violations), max_page_size);
  absl::StatusOr<PageCursor> cursor = DecodePageToken(page_token, fingerprint);
  if (cursor.ok()) {
    cursor_ = *cursor;
  } else {
    violations->Add("page_token", "is not valid for this query");
  }
}

}  // namespace smz
