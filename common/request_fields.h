// Checks and conversions for the request fields every smz API shares:
// idempotency keys (AIP-155 request_id), texts by language ({"ko": ...,
// "en": ...}), calendar dates "YYYY-MM-DD" and months "YYYY-MM" (Asia/Seoul
// civil time).
//
//   smz::FieldViolations violations;
//   smz::ValidateRequestId(request.request_id(), &violations);
//   std::optional<absl::CivilMonth> month = smz::ParseMonth("2020-07");
//   std::string text = smz::FormatMonth(*month);  // "2020-07"
#ifndef SMZ_COMMON_REQUEST_FIELDS_H_
#define SMZ_COMMON_REQUEST_FIELDS_H_

#include <optional>
#include <string>

#include "absl/strings/string_view.h"
#include "absl/time/civil_time.h"
#include "common/status_util.h"
#include "google/protobuf/map.h"

namespace smz {

// request_id: optional; when present 1-64 chars of [A-Za-z0-9._:-].
void ValidateRequestId(absl::string_view request_id,
                       FieldViolations* violations);

// A text in several languages, keyed by ISO 639-1 code: at most
// kMaxTextLanguages entries, each non-blank and at most `max_length` bytes;
// with `required`, a "ko" or an "en" entry. Violations name `field[locale]`,
// in locale order.
inline constexpr size_t kMaxTextLanguages = 12;
void ValidateLocalizedTexts(
    const google::protobuf::Map<std::string, std::string>& texts,
    const std::string& field, size_t max_length, bool required,
    FieldViolations* violations);

// "YYYY-MM-DD" -> CivilDay; nullopt when malformed or not a real date.
std::optional<absl::CivilDay> ParseDate(absl::string_view text);
std::string FormatDate(absl::CivilDay day);

// "YYYY-MM" -> CivilMonth; nullopt when malformed (month 01..12, year
// 1900..9999).
std::optional<absl::CivilMonth> ParseMonth(absl::string_view text);
std::string FormatMonth(absl::CivilMonth month);

}  // namespace smz

#endif  // SMZ_COMMON_REQUEST_FIELDS_H_
