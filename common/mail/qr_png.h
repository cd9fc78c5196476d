// A QR code as a PNG image: what a mail carries inline for a person to show
// at the door (a check-in code) and a phone or a scanner reads back. The
// symbol comes from libqrencode, the image from libpng; black modules on
// white, with the four-module quiet zone readers need.
//
//   absl::StatusOr<std::string> png = smz::QrPng("K7Q2-M9XD-4T1P-ZR8B");
//   // *png: the bytes of an image/png, about 300 pixels square
#ifndef SMZ_COMMON_MAIL_QR_PNG_H_
#define SMZ_COMMON_MAIL_QR_PNG_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace smz {

// The longest text QrPng encodes: a code, not a document.
inline constexpr size_t kMaxQrTextBytes = 256;

// `text` (1 to kMaxQrTextBytes bytes, any bytes) as a QR code of error
// correction level M, `module_pixels` (1-32) pixels per module, as PNG
// bytes. INVALID_ARGUMENT for text or a size out of range; INTERNAL when
// either library fails.
absl::StatusOr<std::string> QrPng(absl::string_view text,
                                  int module_pixels = 8);

}  // namespace smz

#endif  // SMZ_COMMON_MAIL_QR_PNG_H_
