// Checks for text that callers send: UTF-8, locale tags, e-mail addresses,
// phone numbers, registration numbers, request ids and time-zone names.
//
// Every check here runs in time linear in its input and uses no recursion and
// no regular expression engine, and most refuse at their length cap before
// looking at the characters: a caller may send a megabyte where a field
// expects twenty bytes, and the answer must still be a quick "no". (A
// backtracking std::regex recursed once per character of a long e-mail
// address and overflowed the stack.)
//
//   if (!smz::IsEmailAddress(contact.email())) {
//     violations.Add("contact.email", "is not an e-mail address");
//   }
//   std::string shown = smz::Abbreviate(untrusted, 64);  // safe to echo
#ifndef SMZ_COMMON_TEXT_CHECKS_H_
#define SMZ_COMMON_TEXT_CHECKS_H_

#include <cstddef>
#include <string>

#include "absl/strings/string_view.h"

namespace smz {

// Well-formed UTF-8 (RFC 3629): no overlong forms, no surrogates, nothing
// above U+10FFFF. MySQL's utf8mb4 refuses exactly these.
bool IsValidUtf8(absl::string_view text);

// The number of code points of valid UTF-8 text (Korean is 3 bytes each).
size_t Utf8Length(absl::string_view text);

// At most `max_bytes` bytes of `text`, cut at a character boundary and ended
// with "…" when cut, with control characters replaced by '?': for echoing
// caller input in error messages and logs.
std::string Abbreviate(absl::string_view text, size_t max_bytes);

// A BCP 47 tag of the common shape: a 2-3 letter lowercase language, then
// subtags of 2-8 letters or digits ("ko", "en", "zh-Hans", "pt-BR"); at most
// 35 bytes.
bool IsLocaleTag(absl::string_view text);

// local@domain.tld with one '@', no spaces or control characters, a dot inside
// the domain; at most 254 bytes, local part at most 64.
bool IsEmailAddress(absl::string_view text);

// 6-30 of the characters 0-9 + ( ) space . -
bool IsPhoneNumber(absl::string_view text);

// A medical-tourism attraction registration number: 3-64 letters, digits or
// '-', starting with a letter or digit.
bool IsRegistrationNumber(absl::string_view text);

// An AIP-155 request id: 1-64 of A-Z a-z 0-9 . _ : -
bool IsRequestId(absl::string_view text);

// The shape of an IANA time-zone name ("Asia/Seoul", "America/Argentina/
// Buenos_Aires", "UTC", "Etc/GMT+9"): at most 64 bytes, 1-4 parts separated
// by '/', each 1-30 of A-Z a-z 0-9 _ + - and not starting with '-' (so no
// "." or ".." can lead out of the zone database's folder).
// The shape only; whether such a zone exists is for the caller to ask.
bool IsTimeZoneName(absl::string_view text);

}  // namespace smz

#endif  // SMZ_COMMON_TEXT_CHECKS_H_
