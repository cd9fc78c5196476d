#include "common/request_fields.h"

#include <regex>
#include <string>

#include "absl/strings/str_format.h"

namespace smz {
namespace {

bool Matches(absl::string_view text, const std::regex& pattern) {
  return std::regex_match(text.begin(), text.end(), pattern);
}

}  // namespace

void ValidateRequestId(absl::string_view request_id,
                       FieldViolations* violations) {
  static const std::regex* const kPattern =
      new std::regex("^[A-Za-z0-9._:-]{1,64}$");
  if (!request_id.empty() && !Matches(request_id, *kPattern)) {
    violations->Add("request_id",
                    "must be 1-64 characters of A-Z a-z 0-9 . _ : -");
  }
}

std::optional<absl::CivilDay> ParseDate(absl::string_view text) {
  static const std::regex* const kPattern =
      new std::regex("^[0-9]{4}-[0-9]{2}-[0-9]{2}$");
  if (!Matches(text, *kPattern)) return std::nullopt;
  const int year = std::stoi(std::string(text.substr(0, 4)));
  const int month = std::stoi(std::string(text.substr(5, 2)));
  const int day = std::stoi(std::string(text.substr(8, 2)));
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
  static const std::regex* const kPattern =
      new std::regex("^[0-9]{4}-(0[1-9]|1[0-2])$");
  if (!Matches(text, *kPattern)) return std::nullopt;
  const int year = std::stoi(std::string(text.substr(0, 4)));
  if (year < 1900 || year > 2200) return std::nullopt;
  return absl::CivilMonth(year, std::stoi(std::string(text.substr(5, 2))));
}

std::string FormatMonth(absl::CivilMonth month) {
  return absl::StrFormat("%04d-%02d", month.year(), month.month());
}

}  // namespace smz
