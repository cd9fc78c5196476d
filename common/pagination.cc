#include "common/pagination.h"

#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

namespace smz {
namespace {

constexpr char kSeparator = '\x1f';
constexpr absl::string_view kVersion = "p1";

}  // namespace

int ResolvePageSize(int requested, FieldViolations* violations) {
  if (requested < 0) {
    violations->Add("page_size", "must not be negative");
    return kDefaultPageSize;
  }
  if (requested == 0) return kDefaultPageSize;
  return requested > kMaxPageSize ? kMaxPageSize : requested;
}

uint64_t QueryFingerprint(std::initializer_list<absl::string_view> parts) {
  // FNV-1a: stable across processes and releases, unlike absl::Hash.
  uint64_t hash = 1469598103934665603ull;
  for (absl::string_view part : parts) {
    for (unsigned char c : part) {
      hash ^= c;
      hash *= 1099511628211ull;
    }
    hash ^= 0xff;  // part boundary
    hash *= 1099511628211ull;
  }
  return hash;
}

std::string EncodePageToken(uint64_t fingerprint, const PageCursor& cursor) {
  return absl::WebSafeBase64Escape(
      absl::StrCat(kVersion, std::string(1, kSeparator), fingerprint,
                   std::string(1, kSeparator), cursor.last_id,
                   std::string(1, kSeparator), cursor.last_key));
}

absl::StatusOr<PageCursor> DecodePageToken(absl::string_view token,
                                           uint64_t fingerprint) {
  PageCursor cursor;
  if (token.empty()) return cursor;
  std::string raw;
  if (!absl::WebSafeBase64Unescape(token, &raw)) {
    return InvalidField("page_token", "is not a token this service issued");
  }
  std::vector<absl::string_view> parts =
      absl::StrSplit(raw, absl::MaxSplits(kSeparator, 3));
  uint64_t token_fingerprint = 0;
  if (parts.size() != 4 || parts[0] != kVersion ||
      !absl::SimpleAtoi(parts[1], &token_fingerprint) ||
      !absl::SimpleAtoi(parts[2], &cursor.last_id) || cursor.last_id < 0) {
    return InvalidField("page_token", "is not a token this service issued");
  }
  if (token_fingerprint != fingerprint) {
    return InvalidField("page_token",
                        "was issued for a request with other filters or "
                        "ordering; repeat those exactly");
  }
  cursor.has_position = true;
  cursor.last_key = std::string(parts[3]);
  return cursor;
}

}  // namespace smz
