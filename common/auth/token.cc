#include "common/auth/token.h"

#include <openssl/rand.h>
#include <openssl/sha.h>

#include <cstdlib>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"

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

std::string GenerateRequestId(RandomSource& random) {
  uint8_t bytes[16];
  random.Fill(absl::MakeSpan(bytes));
  return absl::BytesToHexString(
      absl::string_view(reinterpret_cast<const char*>(bytes), sizeof(bytes)));
}

}  // namespace smz
