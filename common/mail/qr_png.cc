#include "common/mail/qr_png.h"

#include <png.h>
#include <qrencode.h>

#include <algorithm>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace smz {
namespace {

// What readers need around a symbol (ISO/IEC 18004: four modules).
constexpr int kQuietModules = 4;

struct QrCodeFree {
  void operator()(QRcode* code) const { QRcode_free(code); }
};

}  // namespace

absl::StatusOr<std::string> QrPng(absl::string_view text, int module_pixels) {
  if (text.empty() || text.size() > kMaxQrTextBytes) {
    return absl::InvalidArgumentError(
        absl::StrCat("text: 1 to ", kMaxQrTextBytes, " bytes"));
  }
  if (module_pixels < 1 || module_pixels > 32) {
    return absl::InvalidArgumentError("module_pixels: 1 to 32");
  }
  // QRcode_encodeData takes bytes with their length: a NUL in `text` is
  // data, not its end.
  std::unique_ptr<QRcode, QrCodeFree> code(QRcode_encodeData(
      static_cast<int>(text.size()),
      reinterpret_cast<const unsigned char*>(text.data()), 0, QR_ECLEVEL_M));
  if (code == nullptr) {
    return absl::InternalError("libqrencode could not encode the text");
  }
  const int modules = code->width + 2 * kQuietModules;
  const int side = modules * module_pixels;
  std::vector<uint8_t> pixels(static_cast<size_t>(side) * side, 0xFF);
  for (int y = 0; y < code->width; ++y) {
    for (int x = 0; x < code->width; ++x) {
      // Bit 0 of each module's byte: dark.
      if ((code->data[y * code->width + x] & 1) == 0) continue;
      const int left = (x + kQuietModules) * module_pixels;
      const int top = (y + kQuietModules) * module_pixels;
      for (int dy = 0; dy < module_pixels; ++dy) {
        uint8_t* row = &pixels[static_cast<size_t>(top + dy) * side + left];
        std::fill(row, row + module_pixels, 0x00);
      }
    }
  }
  // libpng's simplified API: no setjmp, errors in image.message.
  png_image image{};
  image.version = PNG_IMAGE_VERSION;
  image.width = static_cast<png_uint_32>(side);
  image.height = static_cast<png_uint_32>(side);
  image.format = PNG_FORMAT_GRAY;
  png_alloc_size_t size = 0;
  if (!png_image_write_to_memory(&image, nullptr, &size, 0, pixels.data(), side,
                                 nullptr)) {
    return absl::InternalError(
        absl::StrCat("libpng could not size the image: ", image.message));
  }
  std::string png(size, '\0');
  if (!png_image_write_to_memory(&image, png.data(), &size, 0, pixels.data(),
                                 side, nullptr)) {
    return absl::InternalError(
        absl::StrCat("libpng could not write the image: ", image.message));
  }
  png.resize(size);
  return png;
}

}  // namespace smz
