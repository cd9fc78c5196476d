#include "common/request_fields.h"

#include <set>
#include <string>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "common/iso_codes.h"
#include "common/text_checks.h"

namespace smz {
namespace {

// The number written by text[start, start + length), all ASCII digits; -1
// otherwise.
int DigitsAt(absl::string_view text, size_t start, size_t length) {
  int value = 0;
  for (size_t i = start; i < start + length; ++i) {
    if (!absl::ascii_isdigit(static_cast<unsigned char>(text[i]))) return -1;
    value = value * 10 + (text[i] - '0');
  }
  return value;
}

}  // namespace

void ValidateRequestId(absl::string_view request_id,
                       FieldViolations* violations) {
  if (!request_id.empty() && !IsRequestId(request_id)) {
    violations->Add("request_id",
                    "must be 1-64 characters of A-Z a-z 0-9 . _ : -");
  }
}

std::optional<absl::CivilDay> ParseDate(absl::string_view text) {
  if (text.size() != 10 || text[4] != '-' || text[7] != '-') {
    return std::nullopt;
  }
  const int year = DigitsAt(text, 0, 4);
  const int month = DigitsAt(text, 5, 2);
  const int day = DigitsAt(text, 8, 2);
  if (year < 0 || month < 0 || day < 0) return std::nullopt;
  const absl::CivilDay civil(year, month, day);
  // CivilDay normalizes 2022-02-30 to March; a real date round-trips.
  if (civil.year() != year || civil.month() != month || civil.day() != day ||
      year < 1900 || year > 2200) {
    return std::nullopt;
  }
  return civil;
}

std::string FormatDate(absl::CivilDay day) {
  return absl::StrFormat("%04d-%02d-%02d", day.year(), day.month(), day.day());
}

std::optional<absl::CivilMonth> ParseMonth(absl::string_view text) {
  if (text.size() != 7 || text[4] != '-') return std::nullopt;
  const int year = DigitsAt(text, 0, 4);
  const int month = DigitsAt(text, 5, 2);
  if (year < 1900 || year > 2200 || month < 1 || month > 12) {
    return std::nullopt;
  }
  return absl::CivilMonth(year, month);
}

std::string FormatMonth(absl::CivilMonth month) {
  return absl::StrFormat("%04d-%02d", month.year(), month.month());
}

void ValidateLocalizedTexts(
    const google::protobuf::Map<std::string, std::string>& texts,
    const std::string& field, size_t max_length, bool required,
    FieldViolations* violations) {
  if (required && texts.count("ko") == 0 && texts.count("en") == 0) {
    violations->Add(field, "needs a 'ko' or 'en' text");
  }
  if (texts.size() > kMaxTextLanguages) {
    violations->Add(field,
                    absl::StrCat("has ", texts.size(), " languages; at most ",
                                 kMaxTextLanguages));
    return;
  }
  // Sorted, so violations come in a stable order.
  std::set<std::string> locales;
  for (const auto& [locale, text] : texts) locales.insert(locale);
  for (const std::string& locale : locales) {
    const std::string& text = texts.at(locale);
    const std::string where = absl::StrCat(field, "[", locale, "]");
    if (!IsLanguageCode(locale)) {
      violations->Add(where, "is not an ISO 639-1 language code");
    }
    if (absl::StripAsciiWhitespace(text).empty()) {
      violations->Add(where, "is empty");
    } else if (text.size() > max_length) {
      violations->Add(where,
                      absl::StrCat("is longer than ", max_length, " bytes"));
    }
  }
}

}  // namespace smz
