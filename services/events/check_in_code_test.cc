#include "services/events/check_in_code.h"

#include <cstdint>
#include <string>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/match.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace smz::events {
namespace {

using ::testing::MatchesRegex;

// Bytes from splitmix64: repeatable, and codes a test can tell apart.
class CountingRandom : public RandomSource {
 public:
  void Fill(absl::Span<uint8_t> out) override {
    for (uint8_t& b : out) {
      uint64_t z = (state_ += 0x9E3779B97F4A7C15ULL);
      z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
      z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
      b = static_cast<uint8_t>(z ^ (z >> 31));
    }
  }

 private:
  uint64_t state_ = 0;
};

TEST(CheckInTest, CodesAreFourGroupsOfCrockfordBase32) {
  CountingRandom random;
  absl::flat_hash_set<std::string> seen;
  for (int i = 0; i < 200; ++i) {
    const std::string code = GenerateCheckInCode(random);
    EXPECT_THAT(code, MatchesRegex("[0-9A-HJKMNP-TV-Z]{4}(-[0-9A-HJKMNP-TV-Z]"
                                   "{4}){3}"));
    EXPECT_TRUE(seen.insert(code).second) << code;
    EXPECT_TRUE(CheckInCodeKey(code).ok()) << code;
  }
}

TEST(CheckInTest, AllEightyBitsReachTheCode) {
  // All ones and all zeros: the last character holds the last five bits.
  class Fixed : public RandomSource {
   public:
    explicit Fixed(uint8_t b) : b_(b) {}
    void Fill(absl::Span<uint8_t> out) override {
      for (uint8_t& b : out) b = b_;
    }
    uint8_t b_;
  };
  Fixed ones(0xFF), zeros(0x00);
  EXPECT_EQ(GenerateCheckInCode(ones), "ZZZZ-ZZZZ-ZZZZ-ZZZZ");
  EXPECT_EQ(GenerateCheckInCode(zeros), "0000-0000-0000-0000");
}

TEST(CheckInTest, TypedAsPeopleTypeItIsTheSameCode) {
  const std::string key = *CheckInCodeKey("K7Q2-M9XD-4T1P-ZR8B");
  EXPECT_EQ(*CheckInCodeKey("k7q2m9xd4t1pzr8b"), key);
  EXPECT_EQ(*CheckInCodeKey(" K7Q2 M9XD 4T1P ZR8B\r\n"), key);
  EXPECT_EQ(*CheckInCodeKey("K7Q2-M9XD-4TIP-ZR8B"), key);  // I for 1
  EXPECT_EQ(*CheckInCodeKey("K7Q2-M9XD-4TlP-ZR8B"), key);  // l for 1
  EXPECT_NE(*CheckInCodeKey("K7Q2-M9XD-4T1P-ZR8C"), key);
  EXPECT_EQ(*CheckInCodeKey("0000-0000-0000-0000"),
            *CheckInCodeKey("OOOO-oooo-0000-0000"));
}

TEST(CheckInTest, AnythingElseIsRefusedNamingTheCode) {
  for (const std::string& bad :
       {std::string(""), std::string("K7Q2-M9XD-4T1P"),
        std::string("K7Q2-M9XD-4T1P-ZR8B-X"),
        std::string("K7Q2-M9XD-4T1P-ZR8U"), std::string("K7Q2/M9XD/4T1P/ZR8B"),
        std::string(65, '-'), std::string("K7Q2-M9XD-4T1P-ZR8\xC3\xA9")}) {
    const absl::Status refused = CheckInCodeKey(bad).status();
    EXPECT_EQ(refused.code(), absl::StatusCode::kInvalidArgument) << bad;
    EXPECT_TRUE(absl::StartsWith(refused.message(), "code:")) << bad;
  }
}

}  // namespace
}  // namespace smz::events
