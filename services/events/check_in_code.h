// Check-in codes: what a person with a seat shows at the door. Every mail
// that gives or reminds of a seat carries a fresh code, as text and as a QR
// image (common/mail/qr_png.h); the events database keeps only its SHA-256
// (check_in_codes). The plain code stays in the outbox only while its mail
// waits to be sent, or has failed and waits for the district to send it
// again (MailSecret::kErasedWhenSent); sent, it is erased. Every code a
// person was sent stays good until the event has ended: an old mail works
// as well as the newest. CheckIn (EventsStore::CheckIn) looks codes up.
//
// A code is 80 random bits as 16 characters of Crockford's base32, in four
// groups: "K7Q2-M9XD-4T1P-ZR8B". Typed in, case, spaces and hyphens do not
// matter, and O, I and L read as 0, 1 and 1 (what people mistype them for).
//
//   std::string code = GenerateCheckInCode(random);  // into the mail
//   absl::StatusOr<std::string> key = CheckInCodeKey(" k7q2 m9xd 4t1p zr8b");
//   // *key == CheckInCodeKey(code): the hash to look up
#ifndef SMZ_SERVICES_EVENTS_CHECK_IN_CODE_H_
#define SMZ_SERVICES_EVENTS_CHECK_IN_CODE_H_

#include <cstddef>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "common/auth/token.h"

namespace smz::events {

// The longest text accepted as a code (spaces, hyphens and a scanner's
// line end around it; nothing longer is a code).
inline constexpr size_t kMaxCheckInCodeText = 64;
// The random bytes of one code (80 bits).
inline constexpr size_t kCheckInCodeBytes = 10;

// A new code, formatted for people: "XXXX-XXXX-XXXX-XXXX".
std::string GenerateCheckInCode(RandomSource& random);

// The stored key of a code as typed or scanned: SHA-256 (hex) of its 16
// canonical characters. INVALID_ARGUMENT naming `code` for anything that
// is not one.
absl::StatusOr<std::string> CheckInCodeKey(absl::string_view typed);

}  // namespace smz::events

#endif  // SMZ_SERVICES_EVENTS_CHECK_IN_CODE_H_
