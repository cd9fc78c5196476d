#include "services/registry/totp.h"

#include <set>

#include "absl/strings/match.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace smz::registry {
namespace {

// Bytes counting up from `start`: a predictable randomness source.
class CountingRandom : public RandomSource {
 public:
  void Fill(absl::Span<uint8_t> out) override {
    for (uint8_t& b : out) b = next_++;
  }

 private:
  uint8_t next_ = 0;
};

// RFC 6238 appendix B's SHA-1 secret and times; the last 6 of its 8 digits.
constexpr absl::string_view kRfcSecret = "12345678901234567890";

TEST(TotpTest, MatchesTheRfcTestVectors) {
  EXPECT_EQ(TotpCode(kRfcSecret, absl::FromUnixSeconds(59)), "287082");
  EXPECT_EQ(TotpCode(kRfcSecret, absl::FromUnixSeconds(1111111109)), "081804");
  EXPECT_EQ(TotpCode(kRfcSecret, absl::FromUnixSeconds(1111111111)), "050471");
  EXPECT_EQ(TotpCode(kRfcSecret, absl::FromUnixSeconds(1234567890)), "005924");
  EXPECT_EQ(TotpCode(kRfcSecret, absl::FromUnixSeconds(2000000000)), "279037");
}

TEST(TotpTest, AcceptsOneStepEitherSideOnceEach) {
  const absl::Time now = absl::FromUnixSeconds(1234567890);
  const int64_t step = 1234567890 / 30;
  for (int offset : {-1, 0, 1}) {
    const std::string code =
        TotpCode(kRfcSecret, now + absl::Seconds(30 * offset));
    absl::StatusOr<int64_t> accepted = VerifyTotp(kRfcSecret, code, now, 0);
    ASSERT_TRUE(accepted.ok()) << offset << " " << accepted.status();
    EXPECT_EQ(*accepted, step + offset);
    // The same code again, or any code of a step not after it: refused.
    EXPECT_EQ(VerifyTotp(kRfcSecret, code, now, *accepted).status().code(),
              absl::StatusCode::kUnauthenticated);
  }
  // Two steps away is too far.
  for (int offset : {-2, 2}) {
    const std::string code =
        TotpCode(kRfcSecret, now + absl::Seconds(30 * offset));
    EXPECT_EQ(VerifyTotp(kRfcSecret, code, now, 0).status().code(),
              absl::StatusCode::kUnauthenticated);
  }
  // A later code after an earlier one is fine.
  absl::StatusOr<int64_t> earlier = VerifyTotp(
      kRfcSecret, TotpCode(kRfcSecret, now - absl::Seconds(30)), now, 0);
  ASSERT_TRUE(earlier.ok());
  EXPECT_TRUE(
      VerifyTotp(kRfcSecret, TotpCode(kRfcSecret, now), now, *earlier).ok());
}

TEST(TotpTest, MalformedCodesAreRefusedBeforeAnyCheck) {
  const absl::Time now = absl::FromUnixSeconds(59);
  for (absl::string_view code : std::vector<absl::string_view>{
           "", "28708", "2870822", "28708a", "２８７０８２", " 87082",
           absl::string_view("28708\0", 6)}) {
    EXPECT_EQ(VerifyTotp(kRfcSecret, code, now, 0).status().code(),
              absl::StatusCode::kInvalidArgument)
        << code;
  }
  EXPECT_EQ(VerifyTotp(kRfcSecret, "000000", now, 0).status().code(),
            absl::StatusCode::kUnauthenticated);
  // No enrolment (an empty or short secret) is never a code to guess.
  for (absl::string_view secret :
       {absl::string_view(""), absl::string_view("short")}) {
    EXPECT_EQ(VerifyTotp(secret, TotpCode(secret, now), now, 0).status().code(),
              absl::StatusCode::kFailedPrecondition);
  }
}

TEST(TotpTest, SecretsAndUris) {
  CountingRandom random;
  const std::string secret = NewTotpSecret(random);
  EXPECT_EQ(secret.size(), kTotpSecretBytes);
  // RFC 4648's own example, and no padding.
  EXPECT_EQ(Base32("foobar"), "MZXW6YTBOI");
  EXPECT_EQ(TotpUri(kRfcSecret, "smz", "kim lee"),
            "otpauth://totp/smz:kim%20lee?secret="
            "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ&issuer=smz&algorithm=SHA1"
            "&digits=6&period=30");
}

TEST(TotpTest, RecoveryCodesAreDistinctAndTypedLoosely) {
  SecureRandom random;
  const std::vector<std::string> codes = NewRecoveryCodes(random);
  ASSERT_EQ(codes.size(), static_cast<size_t>(kRecoveryCodeCount));
  EXPECT_EQ(std::set<std::string>(codes.begin(), codes.end()).size(),
            codes.size());
  for (const std::string& code : codes) {
    EXPECT_EQ(code.size(), 14u);
    EXPECT_EQ(NormalizeRecoveryCode(code), code);
  }
  EXPECT_EQ(NormalizeRecoveryCode("ABCD EFGH-ijkl"), "abcd-efgh-ijkl");
  for (const std::string& bad : std::vector<std::string>{
           "", "abcd-efgh-ijk", "abcd-efgh-ijkl-m", "abcd-efgh-ijk1",
           "abcd-efgh-ijk\xff", std::string(100, 'a')}) {
    EXPECT_EQ(NormalizeRecoveryCode(bad), "") << bad;
  }
}

}  // namespace
}  // namespace smz::registry
