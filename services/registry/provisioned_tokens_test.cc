#include "services/registry/provisioned_tokens.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/auth/token.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace smz::registry {
namespace {

using ::testing::AllOf;
using ::testing::HasSubstr;
using ::testing::Not;

class ProvisionedTokensTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string pattern = ::testing::TempDir() + "/provisioned_XXXXXX";
    ASSERT_NE(mkdtemp(pattern.data()), nullptr);
    dir_ = pattern;
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  // A secret file holding `content` with `mode`; its path.
  std::string Secret(const std::string& name, const std::string& content,
                     mode_t mode = 0400) {
    const std::string path = absl::StrCat(dir_, "/", name);
    std::ofstream(path) << content;
    chmod(path.c_str(), mode);
    return path;
  }

  std::string dir_;
  SecureRandom random_;
};

TEST_F(ProvisionedTokensTest, ReadsTheAdminAndEachServicesToken) {
  const std::string admin = GenerateToken(random_);
  const std::string stats = GenerateToken(random_);
  const std::string events = GenerateToken(random_);
  // A trailing newline, as `echo` and editors leave one.
  absl::StatusOr<std::vector<ProvisionedToken>> tokens = ReadProvisionedTokens(
      Secret("admin.token", admin + "\n"),
      absl::StrCat(" stats=", Secret("stats.token", stats, 0440),
                   ", events=", Secret("events.token", events + "\n", 0600)));
  ASSERT_TRUE(tokens.ok()) << tokens.status();
  ASSERT_EQ(tokens->size(), 3u);
  EXPECT_EQ((*tokens)[0].name, "admin");
  EXPECT_EQ((*tokens)[0].role, auth::v1::ADMIN);
  EXPECT_EQ((*tokens)[0].hash, HashToken(admin));
  EXPECT_EQ((*tokens)[1].name, "stats");
  EXPECT_EQ((*tokens)[1].role, auth::v1::ANALYST);
  EXPECT_EQ((*tokens)[1].hash, HashToken(stats));
  EXPECT_EQ((*tokens)[2].name, "events");
  EXPECT_EQ((*tokens)[2].hash, HashToken(events));

  absl::StatusOr<std::vector<ProvisionedToken>> none =
      ReadProvisionedTokens("", "");
  ASSERT_TRUE(none.ok());
  EXPECT_TRUE(none->empty());
}

// deploy/secrets/make_secrets.sh makes what the registry reads, and never
// replaces a token already made.
TEST_F(ProvisionedTokensTest, MakeSecretsMakesAcceptableTokensOnce) {
  const std::string command =
      absl::StrCat("bash ", SMZ_MAKE_SECRETS, " ", dir_, "/s stats events >",
                   dir_, "/out 2>&1");
  ASSERT_EQ(std::system(command.c_str()), 0);
  absl::StatusOr<std::vector<ProvisionedToken>> tokens = ReadProvisionedTokens(
      dir_ + "/s/admin.token",
      absl::StrCat("stats=", dir_, "/s/stats.registry-token,events=", dir_,
                   "/s/events.registry-token"));
  ASSERT_TRUE(tokens.ok()) << tokens.status();
  ASSERT_EQ(tokens->size(), 3u);
  struct stat info {};
  ASSERT_EQ(stat((dir_ + "/s/admin.token").c_str(), &info), 0);
  EXPECT_EQ(info.st_mode & 0777, 0400);
  ASSERT_EQ(std::system(command.c_str()), 0);
  absl::StatusOr<std::vector<ProvisionedToken>> again =
      ReadProvisionedTokens(dir_ + "/s/admin.token", "");
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->front().hash, tokens->front().hash);
  EXPECT_NE(std::system(absl::StrCat("bash ", SMZ_MAKE_SECRETS, " ", dir_,
                                     "/s 'Bad Name' >/dev/null 2>&1")
                            .c_str()),
            0);
}

TEST_F(ProvisionedTokensTest, KubernetesSymlinkedSecretsAreRead) {
  const std::string token = GenerateToken(random_);
  const std::string target = Secret("..data_admin", token, 0440);
  const std::string link = dir_ + "/admin.token";
  ASSERT_EQ(symlink(target.c_str(), link.c_str()), 0);
  absl::StatusOr<std::vector<ProvisionedToken>> tokens =
      ReadProvisionedTokens(link, "");
  ASSERT_TRUE(tokens.ok()) << tokens.status();
  EXPECT_EQ(tokens->front().hash, HashToken(token));
}

// The registry needs only the hash: the ADMIN's plaintext can stay with the
// administrators.
TEST_F(ProvisionedTokensTest, AHashFileStandsForItsToken) {
  const std::string token = GenerateToken(random_);
  absl::StatusOr<std::vector<ProvisionedToken>> tokens = ReadProvisionedTokens(
      Secret("admin.token.hash", "sha256:" + HashToken(token) + "\n"), "");
  ASSERT_TRUE(tokens.ok()) << tokens.status();
  EXPECT_EQ(tokens->front().hash, HashToken(token));
  for (const std::string& bad :
       std::vector<std::string>{"sha256:" + HashToken(token).substr(1),
                                "sha256:" + std::string(64, 'G'),
                                "sha256:", "SHA256:" + HashToken(token)}) {
    tokens = ReadProvisionedTokens(Secret("bad.hash", bad), "");
    EXPECT_EQ(tokens.status().code(), absl::StatusCode::kInvalidArgument)
        << bad;
  }
}

TEST_F(ProvisionedTokensTest, EveryBadEntryIsNamedAndNoTokenEchoed) {
  const std::string weak = "smz_" + std::string(20, 'a');
  const std::string good = GenerateToken(random_);
  absl::StatusOr<std::vector<ProvisionedToken>> tokens = ReadProvisionedTokens(
      Secret("admin.token", weak),
      absl::StrCat(
          "stats=", Secret("stats.token", good, 0420),  // group-writable
          ",events=", Secret("events.token", good, 0644), ",BAD=", dir_, "/x",
          ",nopath=,=", dir_, "/y", ",events=", dir_, "/events.token",
          ",folder=", dir_));
  ASSERT_EQ(tokens.status().code(), absl::StatusCode::kInvalidArgument);
  const std::string message(tokens.status().message());
  EXPECT_THAT(
      message,
      AllOf(HasSubstr("admin token secret"), HasSubstr("43 to 200"),
            HasSubstr("stats token secret"), HasSubstr("chmod 0400"),
            HasSubstr("events token secret"),
            HasSubstr("may be read by others"),
            HasSubstr("entry 3 is not name=path"),
            HasSubstr("entry 4 is not name=path"),
            HasSubstr("entry 5 is not name=path"),
            HasSubstr("\"events\" given twice"),
            HasSubstr("folder token secret"), HasSubstr("not a regular file")));
  EXPECT_THAT(message, Not(HasSubstr(good)));
  EXPECT_THAT(message, Not(HasSubstr(weak)));

  // The same token for two services is refused: revoking one would
  // revoke both.
  tokens = ReadProvisionedTokens(
      Secret("admin2.token", good),
      absl::StrCat("stats=", Secret("stats2.token", good)));
  ASSERT_EQ(tokens.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(tokens.status().message(), HasSubstr("repeats another's"));

  // An empty file, a token of another kind.
  tokens = ReadProvisionedTokens(Secret("empty.token", "\n"), "");
  EXPECT_EQ(tokens.status().code(), absl::StatusCode::kInvalidArgument);
  tokens = ReadProvisionedTokens(
      Secret("session.token", "smzs_" + std::string(43, 'a')), "");
  EXPECT_THAT(tokens.status().message(), HasSubstr("start with \"smz_\""));
  // More than 4 KiB is not read at all.
  tokens =
      ReadProvisionedTokens(Secret("huge.token", std::string(8192, 'a')), "");
  EXPECT_EQ(tokens.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(tokens.status().message(), HasSubstr("more than 4096 bytes"));
}

TEST_F(ProvisionedTokensTest, AMissingFileAloneIsNotFound) {
  absl::StatusOr<std::vector<ProvisionedToken>> tokens =
      ReadProvisionedTokens(dir_ + "/absent.token", "");
  EXPECT_EQ(tokens.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(tokens.status().message(), HasSubstr("does not exist"));
}

TEST_F(ProvisionedTokensTest, TooManyServicesAreRefused) {
  std::string secrets;
  for (int i = 0; i <= kMaxServiceTokenSecrets; ++i) {
    absl::StrAppend(&secrets, "s", i, "=",
                    Secret(absl::StrCat("s", i), GenerateToken(random_)), ",");
  }
  absl::StatusOr<std::vector<ProvisionedToken>> tokens =
      ReadProvisionedTokens("", secrets);
  ASSERT_EQ(tokens.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(tokens.status().message(), HasSubstr("more than 16"));
}

}  // namespace
}  // namespace smz::registry
