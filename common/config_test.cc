#include "common/config.h"

#include <cstdio>
#include <cstdlib>
#include <fstream>

#include "gtest/gtest.h"

namespace smz {
namespace {

TEST(ConfigTest, ParsesDsn) {
  DatabaseOptions options;
  ASSERT_TRUE(ParseMysqlDsn("mysql://smz_registry@127.0.0.1:33306/smz_registry",
                            &options)
                  .ok());
  EXPECT_EQ(options.user, "smz_registry");
  EXPECT_EQ(options.host, "127.0.0.1");
  EXPECT_EQ(options.port, 33306);
  EXPECT_EQ(options.database, "smz_registry");
  EXPECT_TRUE(options.password.empty());
}

TEST(ConfigTest, DsnWithPasswordAndDefaultPort) {
  DatabaseOptions options;
  ASSERT_TRUE(ParseMysqlDsn("mysql://u:p@ss@db.example/x", &options).ok());
  EXPECT_EQ(options.user, "u");
  EXPECT_EQ(options.password, "p@ss");
  EXPECT_EQ(options.host, "db.example");
  EXPECT_EQ(options.port, 3306);
}

TEST(ConfigTest, RejectsBadDsns) {
  DatabaseOptions options;
  EXPECT_FALSE(ParseMysqlDsn("postgres://u@h/d", &options).ok());
  EXPECT_FALSE(ParseMysqlDsn("mysql://h:3306/d", &options).ok());
  EXPECT_FALSE(ParseMysqlDsn("mysql://u@h:99999/d", &options).ok());
  EXPECT_FALSE(ParseMysqlDsn("mysql://u@h:3306/", &options).ok());
}

TEST(ConfigTest, ReadsPasswordFile) {
  const std::string path = ::testing::TempDir() + "/credentials";
  {
    std::ofstream out(path);
    out << "# service credentials\n\npassword=s3cr=t\n";
  }
  absl::StatusOr<std::string> password = ReadPasswordFile(path);
  ASSERT_TRUE(password.ok()) << password.status();
  EXPECT_EQ(*password, "s3cr=t");
  EXPECT_FALSE(ReadPasswordFile(path + ".missing").ok());
  std::remove(path.c_str());
}

TEST(ConfigTest, FlagBeatsEnvironmentBeatsDefault) {
  setenv("SMZ_TEST_SETTING", "from-env", 1);
  EXPECT_EQ(FlagOrEnv("from-flag", "SMZ_TEST_SETTING", "default"), "from-flag");
  EXPECT_EQ(FlagOrEnv("", "SMZ_TEST_SETTING", "default"), "from-env");
  unsetenv("SMZ_TEST_SETTING");
  EXPECT_EQ(FlagOrEnv("", "SMZ_TEST_SETTING", "default"), "default");
}

}  // namespace
}  // namespace smz
