#include "services/registry/password_hasher.h"

#include "absl/strings/match.h"
#include "common/status_util.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace smz::registry {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::StartsWith;

// The smallest cost libsodium allows: these tests are about behaviour.
constexpr PasswordCost kCheap{1, size_t{8} << 10};

TEST(PasswordHasherTest, HashesAreArgon2idAndVerify) {
  PasswordHasher hasher(kCheap);
  absl::StatusOr<std::string> stored = hasher.Hash("correct horse battery");
  ASSERT_TRUE(stored.ok()) << stored.status();
  EXPECT_THAT(*stored, StartsWith("$argon2id$v=19$m=8,t=1,p=1$"));
  EXPECT_THAT(*stored, Not(HasSubstr("correct")));
  EXPECT_EQ(hasher.Verify(*stored, "correct horse battery").value_or(false),
            true);
  EXPECT_EQ(hasher.Verify(*stored, "correct horse batterY").value_or(true),
            false);
  // Salted: the same password hashes differently each time.
  EXPECT_NE(*hasher.Hash("correct horse battery"), *stored);
}

TEST(PasswordHasherTest, DefaultCostIsWrittenInTheHash) {
  PasswordHasher hasher;
  absl::StatusOr<std::string> stored = hasher.Hash("correct horse battery");
  ASSERT_TRUE(stored.ok());
  EXPECT_THAT(*stored, StartsWith("$argon2id$v=19$m=9216,t=4,p=1$"));
  EXPECT_FALSE(hasher.NeedsRehash(*stored));
  // A hash made at other parameters is replaced at the next sign-in.
  PasswordHasher cheap(kCheap);
  EXPECT_TRUE(hasher.NeedsRehash(*cheap.Hash("correct horse battery")));
  EXPECT_TRUE(hasher.NeedsRehash("not a hash"));
}

TEST(PasswordHasherTest, StoredValuesThatAreNoHashAreInternalErrors) {
  PasswordHasher hasher(kCheap);
  for (absl::string_view stored :
       {"", "$2y$10$abcdefghijklmnopqrstuv", "$argon2id$v=19$m=8,t=1,p=1$xx",
        "plain text password"}) {
    absl::StatusOr<bool> verified = hasher.Verify(stored, "whatever123");
    EXPECT_TRUE(!verified.ok() || !*verified) << stored;
  }
  EXPECT_EQ(hasher.Verify(std::string(500, '$'), "whatever123").status().code(),
            absl::StatusCode::kInternal);
  hasher.BurnVerify("whatever123");  // and never throws or aborts
}

TEST(PasswordHasherTest, PasswordRules) {
  EXPECT_TRUE(CheckPasswordRules("열 글자 비밀번호입니다").ok());
  EXPECT_TRUE(CheckPasswordRules("ten chars!").ok());
  struct Case {
    std::string password;
    std::string why;
  };
  for (const Case& c : std::vector<Case>{
           {"nine char", "shorter than 10"},
           {"", "shorter than 10"},
           {std::string(257, 'a'), "longer than 256"},
           {"tab\there is bad", "control character"},
           {"valid so far\xff\xfe", "UTF-8"},
       }) {
    absl::Status checked = CheckPasswordRules(c.password, "new_password");
    EXPECT_EQ(checked.code(), absl::StatusCode::kInvalidArgument);
    EXPECT_THAT(checked.message(), HasSubstr(c.why)) << c.password;
    EXPECT_THAT(checked.message(), HasSubstr("new_password"));
    if (c.password.size() > 3) {
      EXPECT_THAT(checked.message(), Not(HasSubstr(c.password)));
    }
  }
}

}  // namespace
}  // namespace smz::registry
