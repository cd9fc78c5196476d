// The sign-in throttle: its policy as a pure function, then the same rules
// kept in a real MariaDB with the registry's migrations.
#include "services/registry/sign_in_throttle.h"

#include <atomic>
#include <memory>
#include <thread>

#include "absl/strings/match.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "services/registry/registry_schema.h"
#include "tests/harness/shared_mariadb_test.h"

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
  EXPECT_EQ(AddressSubject("::ffff:10.0.0.7"), "address:10.0.0.7");
  // One IPv6 host holds a whole /64.
  EXPECT_EQ(AddressSubject("2001:db8:1:2:aaaa::1"),
            "address:2001:db8:1:2::/64");
  EXPECT_EQ(AddressSubject("2001:db8:1:2:bbbb::9"),
            "address:2001:db8:1:2::/64");
  for (const std::string& bad :
       {std::string(""), std::string("unknown"), std::string(500, '1'),
        std::string("10.0.0.7\n")}) {
    EXPECT_EQ(AddressSubject(bad), "") << bad;
  }
}

class SignInThrottleTest : public testing::SharedMariaDbTest {
 protected:
  void SetUp() override {
    database_ = MigratedDatabase("smz_throttle", RegistryMigrations());
    ASSERT_NE(database_, nullptr);
    throttle_ = std::make_unique<SignInThrottle>(database_.get(), &clock_);
  }

  FakeClock clock_{kStart};
  std::unique_ptr<Database> database_;
  std::unique_ptr<SignInThrottle> throttle_;
};

TEST_F(SignInThrottleTest, LocksALoginWhateverTheAddressAndSaysWhen) {
  for (int i = 0; i < 10; ++i) {
    // Each attempt from another address: the login alone locks.
    absl::StatusOr<bool> locked = throttle_->Attempt(
        {LoginSubject("kim"), AddressSubject(absl::StrCat("10.0.0.", i))});
    ASSERT_TRUE(locked.ok()) << i << " " << locked.status();
    EXPECT_EQ(*locked, i == 9) << i;
    clock_.Advance(absl::Seconds(30));
  }
  absl::StatusOr<bool> refused =
      throttle_->Attempt({LoginSubject("KIM"), AddressSubject("10.9.9.9")});
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kResourceExhausted);
  EXPECT_THAT(refused.status().message(), HasSubstr("try again in 870 s"));
  // Another login from the same addresses is fine.
  EXPECT_TRUE(
      throttle_->Attempt({LoginSubject("lee"), AddressSubject("10.0.0.1")})
          .ok());
  clock_.Advance(absl::Minutes(15));
  EXPECT_TRUE(throttle_->Attempt({LoginSubject("kim")}).ok());
}

TEST_F(SignInThrottleTest, DelaysAfterFreeAttemptsAndSuccessTakesThemBack) {
  const std::vector<std::string> subjects = {LoginSubject("park"),
                                             AddressSubject("10.0.0.1")};
  for (int i = 0; i < 4; ++i) ASSERT_TRUE(throttle_->Attempt(subjects).ok());
  // The fifth must wait a second after the fourth; a refusal charges
  // nothing.
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(throttle_->Attempt(subjects).status().code(),
              absl::StatusCode::kResourceExhausted);
  }
  clock_.Advance(absl::Seconds(1));
  ASSERT_TRUE(throttle_->Attempt(subjects).ok());
  ASSERT_TRUE(throttle_->Succeeded(subjects).ok());
  // The login starts again (three free attempts); the address keeps four.
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(throttle_->Attempt(subjects).ok());
  EXPECT_TRUE(throttle_->Attempt({LoginSubject("park")}).ok());
}

// Guesses sent all at once are counted one by one: at most the free ones
// and those the delays allow get in.
TEST_F(SignInThrottleTest, ConcurrentGuessesAreCountedOneByOne) {
  std::atomic<int> admitted{0};
  std::vector<std::thread> guessers;
  for (int i = 0; i < 12; ++i) {
    guessers.emplace_back([&] {
      if (throttle_->Attempt({LoginSubject("target")}).ok()) ++admitted;
    });
  }
  for (std::thread& t : guessers) t.join();
  // Three free and the fourth, then every further one must wait (the clock
  // stands still). Attempts that collide on the new row may be refused
  // rather than retried forever: fewer get in, never more.
  EXPECT_LE(admitted.load(), 4);
  EXPECT_GE(admitted.load(), 1);
}

TEST_F(SignInThrottleTest, AnAddressLocksAfterAHundredFailuresOfAnyLogins) {
  for (int i = 0; i < 100; ++i) {
    ASSERT_TRUE(throttle_
                    ->Attempt({LoginSubject(absl::StrCat("user", i)),
                               AddressSubject("10.6.6.6")})
                    .ok())
        << i;
    clock_.Advance(absl::Seconds(30));  // each waits out the delays
  }
  EXPECT_EQ(
      throttle_->Attempt({LoginSubject("new"), AddressSubject("10.6.6.6")})
          .status()
          .code(),
      absl::StatusCode::kResourceExhausted);
  // The same address written IPv4-mapped is the same subject.
  EXPECT_EQ(
      throttle_
          ->Attempt({LoginSubject("new"), AddressSubject("::ffff:10.6.6.6")})
          .status()
          .code(),
      absl::StatusCode::kResourceExhausted);
  EXPECT_TRUE(
      throttle_->Attempt({LoginSubject("new"), AddressSubject("10.7.7.7")})
          .ok());
}

TEST_F(SignInThrottleTest, UnavailableWithoutTheDatabase) {
  mariadb().Pause();
  absl::Status attempted = throttle_->Attempt({LoginSubject("kim")}).status();
  mariadb().Resume();
  EXPECT_EQ(attempted.code(), absl::StatusCode::kUnavailable);
}

}  // namespace
}  // namespace smz::registry
