// The sign-in throttle: its policy as a pure function, then the same rules
// kept in a real MariaDB with the registry's migrations.
#include "services/registry/sign_in_throttle.h"

#include <memory>

#include "absl/strings/match.h"
#include "common/mysql/migrations.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "services/registry/registry_schema.h"
#include "tests/harness/mariadb_server.h"

namespace smz::registry {
namespace {

using ::testing::HasSubstr;

const absl::Time kStart = absl::FromUnixSeconds(1'800'000'000);

TEST(ThrottlePolicyTest, FreeFailuresThenDoublingDelaysThenALock) {
  ThrottleState state;
  absl::Time now = kStart;
  // Three free failures: no wait.
  for (int i = 0; i < 3; ++i) {
    state = AfterFailure(state, kLoginThrottle, now);
    EXPECT_EQ(NextAttemptAt(state, kLoginThrottle, now), now) << i;
  }
  // Then 1 s, 2 s, 4 s ... after the last failure, at most 30 s.
  const absl::Duration waits[] = {absl::Seconds(1),  absl::Seconds(2),
                                  absl::Seconds(4),  absl::Seconds(8),
                                  absl::Seconds(16), absl::Seconds(30)};
  for (absl::Duration wait : waits) {
    state = AfterFailure(state, kLoginThrottle, now);
    EXPECT_EQ(NextAttemptAt(state, kLoginThrottle, now), now + wait);
    now += wait;
  }
  // The tenth failure locks for 15 minutes.
  state = AfterFailure(state, kLoginThrottle, now);
  EXPECT_EQ(state.failures, 10);
  EXPECT_EQ(NextAttemptAt(state, kLoginThrottle, now), now + absl::Minutes(15));
  // After the lock, a fresh start.
  now += absl::Minutes(15);
  EXPECT_EQ(NextAttemptAt(state, kLoginThrottle, now), now);
  state = AfterFailure(state, kLoginThrottle, now);
  EXPECT_EQ(state.failures, 1);
}

TEST(ThrottlePolicyTest, OldFailuresAreForgotten) {
  ThrottleState state;
  for (int i = 0; i < 5; ++i) {
    state = AfterFailure(state, kLoginThrottle, kStart);
  }
  const absl::Time later = kStart + absl::Minutes(16);
  EXPECT_EQ(NextAttemptAt(state, kLoginThrottle, later), later);
  EXPECT_EQ(AfterFailure(state, kLoginThrottle, later).failures, 1);
}

TEST(ThrottlePolicyTest, SubjectsAreBoundedAndHideTheName) {
  EXPECT_EQ(LoginSubject(" Kim "), LoginSubject("kim"));
  EXPECT_THAT(LoginSubject("kim"), ::testing::Not(HasSubstr("kim")));
  EXPECT_EQ(LoginSubject(std::string(10000, 'x')).size(), 70u);
  EXPECT_EQ(AddressSubject("10.0.0.7"), "address:10.0.0.7");
  EXPECT_LE(AddressSubject(std::string(500, '1')).size(), 100u);
}

class SignInThrottleTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    auto mariadb = testing::MariaDbServer::Start();
    ASSERT_TRUE(mariadb.ok()) << mariadb.status();
    mariadb_ = mariadb->release();
  }
  static void TearDownTestSuite() { delete mariadb_; }

  void SetUp() override {
    static int databases = 0;
    auto options = mariadb_->CreateServiceDatabase("smz_throttle_" +
                                                   std::to_string(++databases));
    ASSERT_TRUE(options.ok()) << options.status();
    database_ = std::make_unique<Database>(*options);
    ASSERT_TRUE(ApplyMigrations(*database_, RegistryMigrations(), clock_).ok());
    throttle_ = std::make_unique<SignInThrottle>(database_.get(), &clock_);
  }

  static testing::MariaDbServer* mariadb_;
  FakeClock clock_{kStart};
  std::unique_ptr<Database> database_;
  std::unique_ptr<SignInThrottle> throttle_;
};
testing::MariaDbServer* SignInThrottleTest::mariadb_ = nullptr;

TEST_F(SignInThrottleTest, LocksALoginWhateverTheAddressAndSaysWhen) {
  for (int i = 0; i < 10; ++i) {
    // Each failure from another address: the login alone locks.
    const std::vector<std::string> subjects = {
        LoginSubject("kim"), AddressSubject(absl::StrCat("10.0.0.", i))};
    ASSERT_TRUE(throttle_->Admit(subjects).ok()) << i;
    absl::StatusOr<bool> locked = throttle_->Failed(subjects);
    ASSERT_TRUE(locked.ok()) << locked.status();
    EXPECT_EQ(*locked, i == 9) << i;
    clock_.Advance(absl::Seconds(30));
  }
  absl::Status refused =
      throttle_->Admit({LoginSubject("KIM"), AddressSubject("10.9.9.9")});
  EXPECT_EQ(refused.code(), absl::StatusCode::kResourceExhausted);
  EXPECT_THAT(refused.message(), HasSubstr("try again in 870 s"));
  // Another login from the same addresses is fine.
  EXPECT_TRUE(
      throttle_->Admit({LoginSubject("lee"), AddressSubject("10.0.0.1")}).ok());
  clock_.Advance(absl::Minutes(15));
  EXPECT_TRUE(throttle_->Admit({LoginSubject("kim")}).ok());
}

TEST_F(SignInThrottleTest, DelaysAfterFreeFailuresAndSuccessForgetsTheLogin) {
  const std::vector<std::string> subjects = {LoginSubject("park"),
                                             AddressSubject("10.0.0.1")};
  for (int i = 0; i < 4; ++i) ASSERT_TRUE(throttle_->Failed(subjects).ok());
  EXPECT_EQ(throttle_->Admit(subjects).code(),
            absl::StatusCode::kResourceExhausted);
  clock_.Advance(absl::Seconds(1));
  ASSERT_TRUE(throttle_->Admit(subjects).ok());
  ASSERT_TRUE(throttle_->Succeeded(subjects).ok());
  // The login starts again; the address keeps its four failures.
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(throttle_->Failed(subjects).ok());
  EXPECT_TRUE(throttle_->Admit({LoginSubject("park")}).ok());
}

TEST_F(SignInThrottleTest, AnAddressLocksAfterAHundredFailuresOfAnyLogins) {
  for (int i = 0; i < 100; ++i) {
    ASSERT_TRUE(throttle_
                    ->Failed({LoginSubject(absl::StrCat("user", i)),
                              AddressSubject("10.6.6.6")})
                    .ok());
  }
  EXPECT_EQ(throttle_->Admit({LoginSubject("new"), AddressSubject("10.6.6.6")})
                .code(),
            absl::StatusCode::kResourceExhausted);
  EXPECT_TRUE(
      throttle_->Admit({LoginSubject("new"), AddressSubject("10.7.7.7")}).ok());
}

TEST_F(SignInThrottleTest, UnavailableWithoutTheDatabase) {
  mariadb_->Pause();
  absl::Status admitted = throttle_->Admit({LoginSubject("kim")});
  absl::Status failed = throttle_->Failed({LoginSubject("kim")}).status();
  mariadb_->Resume();
  EXPECT_EQ(admitted.code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(failed.code(), absl::StatusCode::kUnavailable);
}

}  // namespace
}  // namespace smz::registry
