#include "common/config.h"

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>
#include <utility>
#include <vector>

#include "absl/flags/flag.h"
#include "gtest/gtest.h"

ABSL_DECLARE_FLAG(std::string, mysql_dsn);

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

TEST(ConfigTest, ParsesTheReplicaAndItsLag) {
  DatabaseOptions options;
  ASSERT_TRUE(ParseReplica("db-replica.internal:3307", "500ms", &options).ok());
  EXPECT_EQ(options.replica_host, "db-replica.internal");
  EXPECT_EQ(options.replica_port, 3307);
  EXPECT_EQ(options.replica_max_lag, absl::Milliseconds(500));
  ASSERT_TRUE(ParseReplica("10.0.0.7", "2s", &options).ok());
  EXPECT_EQ(options.replica_port, 3306);
  ASSERT_TRUE(ParseReplica("", "2s", &options).ok());
  EXPECT_EQ(options.replica_host, "");
  for (const auto& [address, lag] :
       std::vector<std::pair<std::string, std::string>>{{"db:0", "2s"},
                                                        {"db:99999", "2s"},
                                                        {":3306", "2s"},
                                                        {"db:x", "2s"},
                                                        {"db", "soon"},
                                                        {"db", "10ms"},
                                                        {"db", "2h"}}) {
    EXPECT_EQ(ParseReplica(address, lag, &options).code(),
              absl::StatusCode::kInvalidArgument)
        << address << " " << lag;
  }
}

TEST(ConfigTest, ReadsTokenFile) {
  const std::string path = ::testing::TempDir() + "/service.token";
  std::ofstream(path) << "  smz_abc\n";
  absl::StatusOr<std::string> token = ReadTokenFile(path);
  ASSERT_TRUE(token.ok()) << token.status();
  EXPECT_EQ(*token, "smz_abc");
  EXPECT_EQ(ReadTokenFile(path + ".missing").status().code(),
            absl::StatusCode::kNotFound);
  std::ofstream(path, std::ios::trunc) << " \n";
  EXPECT_EQ(ReadTokenFile(path).status().code(),
            absl::StatusCode::kInvalidArgument);
  // At most kMaxTokenFileBytes are read, whatever the file (or device).
  std::ofstream(path, std::ios::trunc)
      << "smz_" << std::string(kMaxTokenFileBytes - 5, 'a') << "\n";
  EXPECT_TRUE(ReadTokenFile(path).ok());
  std::ofstream(path, std::ios::trunc)
      << "smz_" << std::string(kMaxTokenFileBytes - 3, 'a');
  EXPECT_EQ(ReadTokenFile(path).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ReadTokenFile("/dev/zero").status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(ConfigTest, LoadsFromFlagsAndRefusesPasswordsInTheDsn) {
  for (const char* name :
       {"SMZ_LISTEN", "SMZ_METRICS_LISTEN", "SMZ_MYSQL_DSN",
        "SMZ_MYSQL_CREDENTIALS_FILE", "SMZ_MYSQL_POOL_SIZE"}) {
    unsetenv(name);
  }
  absl::SetFlag(&FLAGS_mysql_dsn,
                "mysql://smz_registry@127.0.0.1:3306/smz_registry");
  setenv("SMZ_MYSQL_PASSWORD", "from-env", 1);
  absl::StatusOr<ServiceConfig> config = LoadServiceConfig("127.0.0.1:1");
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->listen, "127.0.0.1:1");
  EXPECT_EQ(config->database.password, "from-env");
  EXPECT_TRUE(config->metrics_listen.empty());
  absl::SetFlag(&FLAGS_mysql_dsn, "mysql://u:secret@127.0.0.1:3306/d");
  EXPECT_EQ(LoadServiceConfig("127.0.0.1:1").status().code(),
            absl::StatusCode::kInvalidArgument);
  absl::SetFlag(&FLAGS_mysql_dsn, "");
  unsetenv("SMZ_MYSQL_PASSWORD");
  EXPECT_FALSE(LoadServiceConfig("127.0.0.1:1").ok());
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
