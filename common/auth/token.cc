#include "common/auth/token.h"

#include <openssl/rand.h>
#include <openssl/sha.h>

#include <cstdlib>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"

namespace smz {

void SecureRandom::Fill(absl::Span<uint8_t> out) {
  // RAND_bytes fails only when the OS entropy source is broken; handing out
  // predictable tokens would be worse than stopping.
  if (RAND_bytes(out.data(), static_cast<int>(out.size())) != 1) std::abort();
}

std::string GenerateToken(RandomSource& random) {
  uint8_t bytes[32];
  random.Fill(absl::MakeSpan(bytes));
  return absl::StrCat(
      "smz_", absl::WebSafeBase64Escape(absl::string_view(
                  reinterpret_cast<const char*>(bytes), sizeof(bytes))));
}

std::string HashToken(absl::string_view token) {
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(token.data()), token.size(),
         digest);
  return absl::BytesToHexString(
      absl::string_view(reinterpret_cast<const char*>(digest), sizeof(digest)));
}

bool IsTokenHash(absl::string_view hash) {
  if (hash.size() != 64) return false;
  for (char c : hash) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

absl::Status CheckProvisionedToken(absl::string_view token) {
  constexpr size_t kMinRandomChars = 43;  // 256 bits of base64url
  constexpr size_t kMaxRandomChars = 200;
  if (!absl::ConsumePrefix(&token, kApiTokenPrefix)) {
    return absl::InvalidArgumentError(
        "a provisioned token must start with \"smz_\"");
  }
  if (token.size() < kMinRandomChars || token.size() > kMaxRandomChars) {
    return absl::InvalidArgumentError(absl::StrCat(
        "a provisioned token needs ", kMinRandomChars, " to ", kMaxRandomChars,
        " characters after \"smz_\" (256 random bits), not ", token.size()));
  }
  for (char c : token) {
    if (!absl::ascii_isalnum(static_cast<unsigned char>(c)) && c != '-' &&
        c != '_') {
      return absl::InvalidArgumentError(
          "a provisioned token holds only base64url characters (A-Z a-z 0-9 "
          "- _) after \"smz_\"");
    }
  }
  return absl::OkStatus();
}

std::string GenerateRequestId(RandomSource& random) {
  uint8_t bytes[16];
  random.Fill(absl::MakeSpan(bytes));
  return absl::BytesToHexString(
      absl::string_view(reinterpret_cast<const char*>(bytes), sizeof(bytes)));
}

absl::StatusOr<absl::string_view> ParseBearerAuthorization(
    absl::string_view authorization) {
  if (authorization.empty()) {
    return absl::UnauthenticatedError(
        "missing credentials: send 'authorization: Bearer <token>'");
  }
  if (authorization.size() > kMaxAuthorizationBytes) {
    return absl::UnauthenticatedError(absl::StrCat(
        "authorization is longer than ", kMaxAuthorizationBytes, " bytes"));
  }
  absl::string_view value = absl::StripAsciiWhitespace(authorization);
  if (value.size() < 7 ||
      !absl::EqualsIgnoreCase(value.substr(0, 6), "bearer") ||
      value[6] != ' ') {
    return absl::UnauthenticatedError(
        "authorization must use the Bearer scheme");
  }
  absl::string_view token = absl::StripLeadingAsciiWhitespace(value.substr(7));
  size_t end = token.size();
  while (end > 0 && token[end - 1] == '=') --end;  // token68 padding
  bool well_formed = end > 0 && token.size() <= kMaxTokenBytes;
  for (size_t i = 0; well_formed && i < end; ++i) {
    const char c = token[i];
    well_formed = absl::ascii_isalnum(static_cast<unsigned char>(c)) ||
                  c == '-' || c == '.' || c == '_' || c == '~' || c == '+' ||
                  c == '/';
  }
  if (!well_formed) return absl::UnauthenticatedError("malformed bearer token");
  return token;
}

}  // namespace smz
