// A test fixture for suites that share one private MariaDB (started once per
// suite, stopped after it) and give each test a fresh database at the
// schema it needs.
//
//   class ThrottleTest : public smz::testing::SharedMariaDbTest {
//    protected:
//     void SetUp() override {
//       database_ = MigratedDatabase("smz_throttle", RegistryMigrations());
//     }
//     std::unique_ptr<Database> database_;
//   };
#ifndef SMZ_TESTS_HARNESS_SHARED_MARIADB_TEST_H_
#define SMZ_TESTS_HARNESS_SHARED_MARIADB_TEST_H_

#include <memory>
#include <string>
#include <vector>

#include "common/clock.h"
#include "common/mysql/database.h"
#include "common/mysql/migrations.h"
#include "gtest/gtest.h"
#include "tests/harness/mariadb_server.h"

namespace smz::testing {

class SharedMariaDbTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    auto mariadb = MariaDbServer::Start();
    ASSERT_TRUE(mariadb.ok()) << mariadb.status();
    mariadb_ = mariadb->release();
  }
  static void TearDownTestSuite() {
    delete mariadb_;
    mariadb_ = nullptr;
  }

  static MariaDbServer& mariadb() { return *mariadb_; }

  // A new database "<prefix>_<n>" with `migrations` applied (null, with a
  // test failure, when that cannot be done).
  std::unique_ptr<Database> MigratedDatabase(
      const std::string& prefix, const std::vector<Migration>& migrations) {
    static int databases = 0;
    auto options = mariadb_->CreateServiceDatabase(prefix + "_" +
                                                   std::to_string(++databases));
    EXPECT_TRUE(options.ok()) << options.status();
    if (!options.ok()) return nullptr;
    auto database = std::make_unique<Database>(*options);
    const absl::Status migrated =
        ApplyMigrations(*database, migrations, migration_clock_);
    EXPECT_TRUE(migrated.ok()) << migrated;
    return migrated.ok() ? std::move(database) : nullptr;
  }

 private:
  static inline MariaDbServer* mariadb_ = nullptr;
  FakeClock migration_clock_{absl::FromUnixSeconds(1'700'000'000)};
};

}  // namespace smz::testing

#endif  // SMZ_TESTS_HARNESS_SHARED_MARIADB_TEST_H_
