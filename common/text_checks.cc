#include "common/text_checks.h"

#include <cstdint>

#include "absl/strings/ascii.h"

namespace smz {
namespace {

bool IsAsciiLetterOrDigit(char c) {
  return absl::ascii_isalnum(static_cast<unsigned char>(c));
}

// The length of the valid UTF-8 sequence starting at text[i], 0 if none.
size_t SequenceLength(absl::string_view text, size_t i) {
  const auto byte = [&](size_t k) -> uint8_t {
    return i + k < text.size() ? static_cast<uint8_t>(text[i + k]) : 0;
  };
  const uint8_t c = byte(0);
  if (c < 0x80) return 1;
  const auto continuation = [&](size_t k, uint8_t low, uint8_t high) {
    const uint8_t b = byte(k);
    return i + k < text.size() && b >= low && b <= high;
  };
  // RFC 3629 table 4: the second byte's range depends on the first, which
  // rules out overlong forms, surrogates and code points above U+10FFFF.
  if (c >= 0xC2 && c <= 0xDF) return continuation(1, 0x80, 0xBF) ? 2 : 0;
  if (c == 0xE0) {
    return continuation(1, 0xA0, 0xBF) && continuation(2, 0x80, 0xBF) ? 3 : 0;
  }
  if ((c >= 0xE1 && c <= 0xEC) || c == 0xEE || c == 0xEF) {
    return continuation(1, 0x80, 0xBF) && continuation(2, 0x80, 0xBF) ? 3 : 0;
  }
  if (c == 0xED) {
    return continuation(1, 0x80, 0x9F) && continuation(2, 0x80, 0xBF) ? 3 : 0;
  }
  if (c == 0xF0) {
    return continuation(1, 0x90, 0xBF) && continuation(2, 0x80, 0xBF) &&
                   continuation(3, 0x80, 0xBF)
               ? 4
               : 0;
  }
  if (c >= 0xF1 && c <= 0xF3) {
    return continuation(1, 0x80, 0xBF) && continuation(2, 0x80, 0xBF) &&
                   continuation(3, 0x80, 0xBF)
               ? 4
               : 0;
  }
  if (c == 0xF4) {
    return continuation(1, 0x80, 0x8F) && continuation(2, 0x80, 0xBF) &&
                   continuation(3, 0x80, 0xBF)
               ? 4
               : 0;
  }
  return 0;
}

}  // namespace

bool IsValidUtf8(absl::string_view text) {
  size_t i = 0;
  while (i < text.size()) {
    const size_t length = SequenceLength(text, i);
    if (length == 0) return false;
    i += length;
  }
  return true;
}

size_t Utf8Length(absl::string_view text) {
  size_t count = 0;
  for (unsigned char c : text) count += (c & 0xC0) != 0x80;
  return count;
}

std::string Abbreviate(absl::string_view text, size_t max_bytes) {
  static constexpr absl::string_view kEllipsis = "\xE2\x80\xA6";  // …
  std::string out;
  const bool cut = text.size() > max_bytes;
  const size_t budget =
      cut ? (max_bytes > kEllipsis.size() ? max_bytes - kEllipsis.size() : 0)
          : text.size();
  size_t i = 0;
  while (i < text.size()) {
    const size_t length = SequenceLength(text, i);
    const size_t take = length == 0 ? 1 : length;
    if (out.size() + take > budget) break;
    const unsigned char c = static_cast<unsigned char>(text[i]);
    if (length == 0 || c < 0x20 || c == 0x7F) {
      out.push_back('?');  // invalid byte or control character
    } else {
      out.append(text.data() + i, length);
    }
    i += take;
  }
  if (i < text.size()) out.append(kEllipsis.data(), kEllipsis.size());
  return out;
}

bool IsLocaleTag(absl::string_view text) {
  if (text.size() < 2 || text.size() > 35) return false;
  size_t i = 0;
  while (i < text.size() &&
         absl::ascii_islower(static_cast<unsigned char>(text[i]))) {
    ++i;
  }
  if (i < 2 || i > 3) return false;
  while (i < text.size()) {
    if (text[i] != '-') return false;
    const size_t start = ++i;
    while (i < text.size() && IsAsciiLetterOrDigit(text[i])) ++i;
    if (i - start < 2 || i - start > 8) return false;
  }
  return true;
}

bool IsEmailAddress(absl::string_view text) {
  if (text.size() > 254) return false;
  const size_t at = text.find('@');
  if (at == absl::string_view::npos || at == 0 || at > 64) return false;
  const absl::string_view domain = text.substr(at + 1);
  for (unsigned char c : text) {
    if (c <= 0x20 || c == 0x7F) return false;  // spaces, controls
  }
  if (domain.find('@') != absl::string_view::npos) return false;
  // A dot with something on both sides, as in "example.kr".
  const size_t dot = domain.find('.', 1);
  return dot != absl::string_view::npos && domain.back() != '.';
}

bool IsPhoneNumber(absl::string_view text) {
  if (text.size() < 6 || text.size() > 30) return false;
  for (char c : text) {
    if (!absl::ascii_isdigit(static_cast<unsigned char>(c)) && c != '+' &&
        c != '(' && c != ')' && c != ' ' && c != '.' && c != '-') {
      return false;
    }
  }
  return true;
}

bool IsRegistrationNumber(absl::string_view text) {
  if (text.size() < 3 || text.size() > 64 || !IsAsciiLetterOrDigit(text[0])) {
    return false;
  }
  for (char c : text) {
    if (!IsAsciiLetterOrDigit(c) && c != '-') return false;
  }
  return true;
}

bool IsRequestId(absl::string_view text) {
  if (text.empty() || text.size() > 64) return false;
  for (char c : text) {
    if (!IsAsciiLetterOrDigit(c) && c != '.' && c != '_' && c != ':' &&
        c != '-') {
      return false;
    }
  }
  return true;
}

bool IsTimeZoneName(absl::string_view text) {
  if (text.empty() || text.size() > 64) return false;
  int parts = 1;
  size_t part_length = 0;
  for (char c : text) {
    if (c == '/') {
      if (part_length == 0 || ++parts > 4) return false;
      part_length = 0;
      continue;
    }
    if (!IsAsciiLetterOrDigit(c) && c != '_' && c != '+' && c != '-') {
      return false;
    }
    if (part_length == 0 && c == '-') return false;
    if (++part_length > 30) return false;
  }
  return part_length > 0;
}

}  // namespace smz
