// Bearer tokens: generation from an injected randomness source, the one-way
// hash under which they are stored, and the parsing of an "Authorization"
// value that every edge does before a token goes anywhere. The plaintext
// exists only in the reply that issues it.
//
//   smz::SecureRandom random;
//   std::string token = smz::GenerateToken(random);  // "smz_..." shown once
//   std::string stored = smz::HashToken(token);      // 64 hex chars
//   absl::StatusOr<absl::string_view> t =
//       smz::ParseBearerAuthorization("Bearer smz_...");  // "smz_..."
#ifndef SMZ_COMMON_AUTH_TOKEN_H_
#define SMZ_COMMON_AUTH_TOKEN_H_

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
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

// Whether `hash` has HashToken's shape: 64 lowercase hex digits.
bool IsTokenHash(absl::string_view hash);

// A token an operator made (a Kubernetes Secret, a systemd credential) to be
// registered as it is: "smz_" and 43 to 200 characters of base64url, at least
// the 256 bits GenerateToken gives. INVALID_ARGUMENT saying what is wrong,
// never echoing the token. deploy/secrets/make_secrets.sh makes such tokens.
absl::Status CheckProvisionedToken(absl::string_view token);

// What a credential is by its first characters: an API token ("smz_"), a
// person's session (SignIn; the HTTP edge keeps it in a cookie), or a
// one-time link that sets a password. Each is 256 random bits after it.
inline constexpr absl::string_view kApiTokenPrefix = "smz_";
inline constexpr absl::string_view kSessionIdPrefix = "smzs_";
inline constexpr absl::string_view kLinkTokenPrefix = "smzl_";
// A session ends this long after sign-in, however busy (the registry's
// rule; the edge's cookie lives as long).
inline constexpr absl::Duration kSessionLifetime = absl::Hours(12);

// A random id for idempotency keys and the like (128 bits, hex).
std::string GenerateRequestId(RandomSource& random);

// The longest Authorization value accepted, and the longest token in it.
inline constexpr size_t kMaxAuthorizationBytes = 300;
inline constexpr size_t kMaxTokenBytes = 256;

// The token of an Authorization value "Bearer <token68>" (RFC 6750: the
// scheme case-insensitive, one or more spaces, then 1-256 of A-Z a-z 0-9
// - . _ ~ + / followed by any '='). UNAUTHENTICATED, saying what is wrong and
// never echoing the value, for anything else: other schemes, control or
// non-ASCII bytes (which gRPC metadata cannot carry), oversized values.
absl::StatusOr<absl::string_view> ParseBearerAuthorization(
    absl::string_view authorization);

}  // namespace smz

#endif  // SMZ_COMMON_AUTH_TOKEN_H_
