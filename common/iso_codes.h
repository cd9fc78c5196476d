// Fixed international code lists, in one place for every service: ISO 3166-1
// alpha-2 countries (patients' nationalities, event venues, agencies abroad)
// and ISO 639-1 languages (languages spoken, interpretation needs), with
// Korean and English names. Generated from Debian's iso-codes package by
// common/gen_iso_codes.py; nothing is read from the system at run time.
//
//   if (!smz::IsCountryCode("MN")) ...              // uppercase alpha-2
//   const smz::IsoCode* vn = smz::FindCountry("VN"); // vn->name_ko == "베트남"
//   if (!smz::IsLanguageCode("mn")) ...             // lowercase ISO 639-1
#ifndef SMZ_COMMON_ISO_CODES_H_
#define SMZ_COMMON_ISO_CODES_H_

#include "absl/strings/string_view.h"
#include "absl/types/span.h"

namespace smz {

struct IsoCode {
  absl::string_view code;
  absl::string_view name_ko;
  absl::string_view name_en;
};

// Sorted by code.
absl::Span<const IsoCode> Countries();
absl::Span<const IsoCode> Languages();

// nullptr when unknown. Codes are case-sensitive: countries uppercase,
// languages lowercase, as the standards write them.
const IsoCode* FindCountry(absl::string_view code);
const IsoCode* FindLanguage(absl::string_view code);
inline bool IsCountryCode(absl::string_view code) {
  return FindCountry(code) != nullptr;
}
inline bool IsLanguageCode(absl::string_view code) {
  return FindLanguage(code) != nullptr;
}

}  // namespace smz

#endif  // SMZ_COMMON_ISO_CODES_H_
