// One page of a List method (AIP-158) over rows in ascending id order (or a
// sort key and id): the page size, the page token bound to the query's
// filters, fetching one row more than the page to know whether another
// page follows, and the next token.
//
//   smz::FieldViolations violations;
//   smz::Pager pager = smz::PagerFor(request, &violations);
//   if (!violations.empty()) return violations.ToStatus();
//   query.after_id = pager.after_id();
//   query.limit = pager.fetch_limit();
//   SMZ_ASSIGN_OR_RETURN(std::vector<Project> rows,
//                        store->ListProjects(query));
//   response.set_next_page_token(
//       pager.Finish(&rows, [](const Project& p) { return p.id(); }));
#ifndef SMZ_COMMON_AIP_PAGER_H_
#define SMZ_COMMON_AIP_PAGER_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "common/aip/request_key.h"
#include "common/pagination.h"
#include "common/status_util.h"

namespace smz {

class Pager {
 public:
  // Violations on "page_size" and "page_token" go to `violations`.
  // `max_page_size` lowers kMaxPageSize for large rows.
  Pager(int page_size, absl::string_view page_token, uint64_t fingerprint,
        FieldViolations* violations, int max_page_size = kMaxPageSize);

  int page_size() const { return page_size_; }
  // Rows to fetch: one more than a page.
  int fetch_limit() const { return page_size_ + 1; }
  // Where the page starts: after this row (0 and "" on the first page).
  int64_t after_id() const { return cursor_.last_id; }
  const PageCursor& cursor() const { return cursor_; }

  // Cuts `rows` (fetched with fetch_limit) to the page and returns the next
  // page's token, or "" on the last page. `id_of(row)` is the row's id.
  template <typename T, typename IdOf>
  std::string Finish(std::vector<T>* rows, IdOf id_of) const {
    return FinishWithKey(rows, id_of, [](const T&) { return std::string(); });
  }

  // The next page's token for a page that ended early (its byte budget
  // spent): the next page starts after row `last_id`.
  std::string TokenAfter(int64_t last_id) const {
    PageCursor next;
    next.has_position = true;
    next.last_id = last_id;
    return EncodePageToken(fingerprint_, next);
  }

  // Finish for pages ordered by a sort key, then id.
  template <typename T, typename IdOf, typename KeyOf>
  std::string FinishWithKey(std::vector<T>* rows, IdOf id_of,
                            KeyOf key_of) const {
    if (static_cast<int>(rows->size()) <= page_size_) return "";
    rows->resize(page_size_);
    PageCursor next;
    next.has_position = true;
    next.last_id = id_of(rows->back());
    next.last_key = key_of(rows->back());
    return EncodePageToken(fingerprint_, next);
  }

 private:
  const uint64_t fingerprint_;
  int page_size_ = kDefaultPageSize;
  PageCursor cursor_;
};

// A Pager bound to every field of `request` but its page_size and
// page_token, so a token cannot be replayed against another query and a new
// filter field is bound without anyone remembering to. A caller whose
// identity narrows the query (a partner's own rows) passes the request with
// that filter filled in; `scope` names what else decides the rows (drafts
// shown to organizers, the day a default date resolved to).
template <typename Request>
Pager PagerFor(const Request& request, FieldViolations* violations,
               absl::string_view scope = "", int max_page_size = kMaxPageSize) {
  Request filters = request;
  filters.clear_page_size();
  filters.clear_page_token();
  return Pager(request.page_size(), request.page_token(),
               QueryFingerprint({RequestDigest(filters), scope}), violations,
               max_page_size);
}

}  // namespace smz

#endif  // SMZ_COMMON_AIP_PAGER_H_
