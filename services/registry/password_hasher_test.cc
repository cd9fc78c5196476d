#include "services/registry/password_hasher.h"

#include <atomic>
#include <thread>
#include <vector>

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
  EXPECT_TRUE(hasher.BurnVerify("whatever123").ok());  // never throws
}

// A flood waits in a bounded queue; the rest are told to come back.
TEST(PasswordHasherTest, ChecksBeyondTheQueueAreRefusedAtOnce) {
  PasswordHasher hasher(PasswordCost{2, size_t{19} << 20}, /*concurrency=*/1,
                        /*max_waiting=*/1);
  absl::StatusOr<std::string> stored = hasher.Hash("correct horse battery");
  ASSERT_TRUE(stored.ok());
  std::atomic<int> busy{0};
  std::atomic<int> checked{0};
  std::vector<std::thread> callers;
  for (int i = 0; i < 8; ++i) {
    callers.emplace_back([&] {
      absl::StatusOr<bool> same =
          hasher.Verify(*stored, "correct horse battery");
      if (same.ok() && *same) ++checked;
      if (absl::IsUnavailable(same.status())) ++busy;
    });
  }
  for (std::thread& t : callers) t.join();
  EXPECT_GE(checked.load(), 1);
  EXPECT_GE(busy.load(), 1);
  EXPECT_EQ(checked.load() + busy.load(), 8);
  // And once the flood has passed, checks go on.
  EXPECT_EQ(hasher.Verify(*stored, "correct horse battery").value_or(false),
            true);
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
