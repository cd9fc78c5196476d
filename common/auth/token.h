// Bearer tokens: generation from an injected randomness source, and the
// one-way hash under which they are stored. The plaintext exists only in the
// reply that issues it.
//
//   smz::SecureRandom random;
//   std::string token = smz::GenerateToken(random);  // "smz_..." shown once
//   std::string stored = smz::HashToken(token);      // 64 hex chars
#ifndef SMZ_COMMON_AUTH_TOKEN_H_
#define SMZ_COMMON_AUTH_TOKEN_H_

#include <cstdint>
#include <string>

#include "absl/strings/string_view.h"
#include "absl/types/span.h"

namespace smz {

class RandomSource {
 public:
  virtual ~RandomSource() = default;
  virtual void Fill(absl::Span<uint8_t> out) = 0;
};

// Cryptographically secure bytes (OpenSSL RAND_bytes).
class SecureRandom : public RandomSource {
 public:
  void Fill(absl::Span<uint8_t> out) override;
};

// "smz_" followed by 256 random bits in unpadded base64url.
std::string GenerateToken(RandomSource& random);

// Lowercase hex SHA-256 of the token.
std::string HashToken(absl::string_view token);

// A random id for idempotency keys and the like (128 bits, hex).
std::string GenerateRequestId(RandomSource& random);

}  // namespace smz

#endif  // SMZ_COMMON_AUTH_TOKEN_H_
