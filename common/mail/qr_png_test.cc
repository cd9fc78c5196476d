#include "common/mail/qr_png.h"

#include <sys/wait.h>

#include <cstdio>
#include <fstream>
#include <string>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace smz {
namespace {

// What a real reader (Debian's zbarimg) reads from the image.
std::string ReadWithZbar(const std::string& png) {
  const std::string path =
      absl::StrCat(::testing::TempDir(), "/qr-", getpid(), ".png");
  std::ofstream(path, std::ios::binary) << png;
  FILE* pipe = popen(absl::StrCat("zbarimg --raw -q ", path).c_str(), "r");
  std::string out;
  char buffer[512];
  size_t n;
  while ((n = fread(buffer, 1, sizeof buffer, pipe)) > 0) out.append(buffer, n);
  pclose(pipe);
  std::remove(path.c_str());
  while (!out.empty() && out.back() == '\n') out.pop_back();
  return out;
}

TEST(QrPngTest, AReaderReadsBackTheCode) {
  absl::StatusOr<std::string> png = QrPng("K7Q2-M9XD-4T1P-ZR8B");
  ASSERT_TRUE(png.ok()) << png.status();
  EXPECT_EQ(png->substr(0, 8), "\x89PNG\r\n\x1a\n");
  EXPECT_EQ(ReadWithZbar(*png), "K7Q2-M9XD-4T1P-ZR8B");
}

TEST(QrPngTest, TheLongestTextFitsAndStillReads) {
  const std::string text(kMaxQrTextBytes, 'A');
  absl::StatusOr<std::string> png = QrPng(text, 2);
  ASSERT_TRUE(png.ok()) << png.status();
  EXPECT_EQ(ReadWithZbar(*png), text);
}

TEST(QrPngTest, RefusesWhatItShouldNotDraw) {
  EXPECT_EQ(QrPng("").status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(QrPng(std::string(kMaxQrTextBytes + 1, 'A')).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(QrPng("code", 0).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(QrPng("code", 33).status().code(),
            absl::StatusCode::kInvalidArgument);
  // A NUL is data, not the end of the text.
  EXPECT_TRUE(QrPng(std::string("a\0b", 3)).ok());
}

}  // namespace
}  // namespace smz
