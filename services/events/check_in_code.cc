#include "services/events/check_in_code.h"

#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "absl/types/span.h"

namespace smz::events {
namespace {

constexpr char kAlphabet[] = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";
constexpr size_t kCodeChars = 16;  // 80 bits

// The value of one typed character, or -1: Crockford's decoding, which
// forgives case and the letters people confuse with digits.
int ValueOf(char c) {
  if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
  if (c == 'O') return 0;
  if (c == 'I' || c == 'L') return 1;
  for (int i = 0; i < 32; ++i) {
    if (kAlphabet[i] == c) return i;
  }
  return -1;
}

}  // namespace

std::string GenerateCheckInCode(RandomSource& random) {
  uint8_t bytes[kCheckInCodeBytes];
  random.Fill(absl::MakeSpan(bytes));
  std::string code;
  for (size_t i = 0; i < kCodeChars; ++i) {
    // Five bits at bit offset 5i of the 80.
    const int bit = 5 * static_cast<int>(i);
    const int byte = bit / 8;
    const int shift = bit % 8;
    int value = bytes[byte] << 8;
    if (byte + 1 < static_cast<int>(kCheckInCodeBytes)) {
      value |= bytes[byte + 1];
    }
    value = (value >> (11 - shift)) & 31;
    if (i > 0 && i % 4 == 0) code += '-';
    code += kAlphabet[value];
  }
  return code;
}

absl::StatusOr<std::string> CheckInCodeKey(absl::string_view typed) {
  auto refuse = [] {
    return absl::InvalidArgumentError(
        "code: a check-in code is 16 letters and digits, like "
        "K7Q2-M9XD-4T1P-ZR8B");
  };
  if (typed.size() > kMaxCheckInCodeText) return refuse();
  std::string canonical;
  for (char c : typed) {
    if (c == ' ' || c == '-' || c == '\t' || c == '\r' || c == '\n') continue;
    const int value = ValueOf(c);
    if (value < 0 || canonical.size() == kCodeChars) return refuse();
    canonical += kAlphabet[value];
  }
  if (canonical.size() != kCodeChars) return refuse();
  return HashToken(canonical);
}

}  // namespace smz::events
