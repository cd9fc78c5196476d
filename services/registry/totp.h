// The second factor of ADMIN accounts: time-based one-time passwords
// (RFC 6238, computed by Debian's liboath) as authenticator apps make them
// (HMAC-SHA-1, 6 digits, 30-second steps), and one-time recovery codes.
//
//   std::string secret = NewTotpSecret(random);          // 20 bytes, stored
//   std::string uri = TotpUri(secret, "smz", "kim");     // shown as a QR code
//   absl::StatusOr<int64_t> step =
//       VerifyTotp(secret, "287082", clock.Now(), last_step);
//   // store *step as last_step: the same code is not accepted twice
//
//   std::vector<std::string> codes = NewRecoveryCodes(random);  // shown once
//   std::string stored = HashToken(codes[0]);            // stored, hashed
//
// A code is accepted one step either side of now (a phone's clock may be
// 30 s off), and only for a step after the last one accepted, so a code
// seen over a shoulder or replayed is refused.
#ifndef SMZ_SERVICES_REGISTRY_TOTP_H_
#define SMZ_SERVICES_REGISTRY_TOTP_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "common/auth/token.h"

namespace smz::registry {

inline constexpr size_t kTotpSecretBytes = 20;
inline constexpr int kTotpDigits = 6;
inline constexpr int kTotpStepSeconds = 30;
inline constexpr int kRecoveryCodeCount = 10;

std::string NewTotpSecret(RandomSource& random);

// RFC 4648 base32 without padding, as authenticator apps take secrets.
std::string Base32(absl::string_view bytes);

// The bytes of base32 text (as an authenticator app reads a typed secret;
// empty when it is not base32): for tests and tools acting as the app.
std::string DecodeBase32(absl::string_view text);

// "otpauth://totp/<issuer>:<account>?secret=...&issuer=...&algorithm=SHA1
// &digits=6&period=30" (Key Uri Format), labels percent-encoded.
std::string TotpUri(absl::string_view secret, absl::string_view issuer,
                    absl::string_view account);

// The code for the step holding `time`.
std::string TotpCode(absl::string_view secret, absl::Time time);

// The step of `code` when it is the code of the step before, at or after
// `now`'s and later than `last_step` (0: none accepted yet).
// INVALID_ARGUMENT when `code` is not 6 digits; UNAUTHENTICATED when it is
// not a current code or was used already (one message for both);
// FAILED_PRECONDITION when `secret` is not a 20-byte enrolment. Replay
// across replicas needs the caller to store the step conditionally
// (UPDATE ... SET last_step = ? WHERE last_step < ?, one row changed).
absl::StatusOr<int64_t> VerifyTotp(absl::string_view secret,
                                   absl::string_view code, absl::Time now,
                                   int64_t last_step);

// Ten codes of the form "abcd-efgh-ijkl" (60 random bits each, base32
// letters and digits), stored as HashToken() of the code.
std::vector<std::string> NewRecoveryCodes(RandomSource& random);

// A recovery code as typed (any case, spaces or dashes anywhere) in the
// form it was issued in; "" if it cannot be one.
std::string NormalizeRecoveryCode(absl::string_view typed);

}  // namespace smz::registry

#endif  // SMZ_SERVICES_REGISTRY_TOTP_H_
