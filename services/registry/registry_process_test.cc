// The `registry` binary as deployed: configured only through SMZ_*
// environment variables, writes the bootstrap admin token once to a 0600
// file, never logs secrets, and exits cleanly on SIGTERM.
//
// Usage (from CTest): registry_process_test <path of the registry binary>
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"
#include "common/auth/token.h"
#include "common/mysql/database.h"
#include "common/mysql/migrations.h"
#include "common/version.h"
#include "gmock/gmock.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/security/credentials.h"
#include "gtest/gtest.h"
#include "smz/registry/v1/registry.grpc.pb.h"
#include "tests/harness/local_stack.h"
#include "tests/harness/mariadb_server.h"
#include "tests/harness/raw_http.h"

namespace {

using ::smz::testing::As;

using ::testing::HasSubstr;
using ::testing::Not;

std::string g_registry_binary;

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

class RegistryProcessTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_FALSE(g_registry_binary.empty()) << "pass the registry binary path";
    auto mariadb = smz::testing::MariaDbServer::Start();
    ASSERT_TRUE(mariadb.ok()) << mariadb.status();
    mariadb_ = *std::move(mariadb);
    auto database = mariadb_->CreateServiceDatabase("smz_registry");
    ASSERT_TRUE(database.ok()) << database.status();
    database_ = *database;
    std::string pattern = ::testing::TempDir() + "/registry_process_XXXXXX";
    ASSERT_NE(mkdtemp(pattern.data()), nullptr);
    dir_ = pattern;
    std::ofstream credentials(dir_ + "/registry.mysql");
    credentials << "password=" << database_.password << "\n";
    credentials.close();
    ASSERT_TRUE(credentials.good());
    port_ = smz::testing::PickUnusedPort();
  }

  void TearDown() override {
    if (pid_ > 0) {
      kill(pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
    }
    std::error_code ignored;
    if (!dir_.empty()) std::filesystem::remove_all(dir_, ignored);
  }

  void StartRegistry(const std::vector<std::string>& flags = {}) {
    pid_ = Spawn(
        port_,
        {absl::StrCat("SMZ_BOOTSTRAP_ADMIN_TOKEN_FILE=", dir_, "/admin.token")},
        flags, dir_ + "/registry.log");
  }

  // A registry process on `port` with the database settings and `extra_env`;
  // its output appended to `log`.
  pid_t Spawn(int port, const std::vector<std::string>& extra_env,
              const std::vector<std::string>& flags, const std::string& log) {
    std::vector<std::string> environment = {
        absl::StrCat("SMZ_LISTEN=127.0.0.1:", port), "SMZ_METRICS_LISTEN=off",
        absl::StrCat("SMZ_MYSQL_DSN=mysql://", database_.user,
                     "@127.0.0.1:", database_.port, "/", database_.database),
        absl::StrCat("SMZ_MYSQL_CREDENTIALS_FILE=", dir_, "/registry.mysql"),
        "PATH=/usr/bin:/bin"};
    environment.insert(environment.end(), extra_env.begin(), extra_env.end());
    std::vector<char*> env;
    for (std::string& entry : environment) env.push_back(entry.data());
    env.push_back(nullptr);
    std::vector<std::string> arguments = {g_registry_binary};
    arguments.insert(arguments.end(), flags.begin(), flags.end());
    std::vector<char*> argv;
    for (std::string& argument : arguments) argv.push_back(argument.data());
    argv.push_back(nullptr);
    const pid_t pid = fork();
    if (pid == 0) {
      const int fd = open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
      dup2(fd, STDOUT_FILENO);
      dup2(fd, STDERR_FILENO);
      execve(argv[0], argv.data(), env.data());
      _exit(127);
    }
    return pid;
  }

  // Runs the binary with `flags` to its end; its exit code.
  int RunToExit(const std::vector<std::string>& flags) {
    StartRegistry(flags);
    int status = 0;
    waitpid(pid_, &status, 0);
    pid_ = -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  }

  bool WaitServing(absl::Duration timeout) {
    return smz::testing::WaitServing(port_, timeout);
  }

  // SIGTERM, then the exit status (or -1 if it did not exit in time).
  int Terminate() {
    const int status = Terminate(pid_);
    if (status != -1) pid_ = -1;
    return status;
  }
  static int Terminate(pid_t pid) {
    kill(pid, SIGTERM);
    const absl::Time deadline = absl::Now() + absl::Seconds(20);
    int status = 0;
    while (absl::Now() < deadline) {
      if (waitpid(pid, &status, WNOHANG) == pid) {
        return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
      }
      absl::SleepFor(absl::Milliseconds(50));
    }
    return -1;
  }

  std::unique_ptr<smz::testing::MariaDbServer> mariadb_;
  smz::DatabaseOptions database_;
  std::string dir_;
  int port_ = 0;
  pid_t pid_ = -1;
};

TEST_F(RegistryProcessTest,
       ServesWritesTokenOnceNeverLogsSecretsStopsOnSigterm) {
  StartRegistry();
  ASSERT_TRUE(WaitServing(absl::Seconds(30)))
      << ReadFile(dir_ + "/registry.log");

  struct stat info {};
  ASSERT_EQ(stat((dir_ + "/admin.token").c_str(), &info), 0);
  EXPECT_EQ(info.st_mode & 0777, 0600);
  const std::string token(
      absl::StripAsciiWhitespace(ReadFile(dir_ + "/admin.token")));
  EXPECT_THAT(token, HasSubstr("smz_"));

  auto stub = smz::registry::v1::RegistryService::NewStub(grpc::CreateChannel(
      absl::StrCat("127.0.0.1:", port_), grpc::InsecureChannelCredentials()));
  grpc::ClientContext context;
  context.AddMetadata("authorization", absl::StrCat("Bearer ", token));
  smz::auth::v1::Principal me;
  ASSERT_TRUE(stub->WhoAmI(&context, {}, &me).ok());
  EXPECT_EQ(me.role(), smz::auth::v1::ADMIN);

  EXPECT_EQ(Terminate(), 0);
  const std::string log = ReadFile(dir_ + "/registry.log");
  EXPECT_THAT(log, HasSubstr("\"msg\":\"stopped\""));
  EXPECT_THAT(log, HasSubstr("\"method\":\"WhoAmI\""));
  EXPECT_THAT(log, Not(HasSubstr(token)));
  EXPECT_THAT(log, Not(HasSubstr(database_.password)));

  // A second start of the same deployment keeps the first token.
  StartRegistry();
  ASSERT_TRUE(WaitServing(absl::Seconds(30)));
  EXPECT_EQ(
      std::string(absl::StripAsciiWhitespace(ReadFile(dir_ + "/admin.token"))),
      token);
  EXPECT_EQ(Terminate(), 0);
}

// Two administrators revoking each other's tokens at once: one wins, the
// other is refused, one ADMIN token stays. When every ADMIN token is lost
// anyway, the break-glass command on the registry's host issues a new one
// into a new 0600 file, and the issue is in the audit trail.
TEST_F(RegistryProcessTest, LastAdminSurvivesRacesAndBreakGlassIssuesANewOne) {
  StartRegistry();
  ASSERT_TRUE(WaitServing(absl::Seconds(30)))
      << ReadFile(dir_ + "/registry.log");
  const std::string first(
      absl::StripAsciiWhitespace(ReadFile(dir_ + "/admin.token")));
  auto stub = smz::registry::v1::RegistryService::NewStub(grpc::CreateChannel(
      absl::StrCat("127.0.0.1:", port_), grpc::InsecureChannelCredentials()));
  // Rounds of two administrators revoking each other at once: exactly one
  // succeeds; the other is refused (the last ADMIN), or finds its own token
  // already revoked.
  std::string survivor = first;
  smz::auth::v1::Principal survivor_me;
  ASSERT_TRUE(stub->WhoAmI(As(survivor).get(), {}, &survivor_me).ok());
  for (int round = 0; round < 3; ++round) {
    smz::registry::v1::IssueTokenRequest issue;
    issue.set_role(smz::auth::v1::ADMIN);
    issue.set_display_name(absl::StrCat("administrator ", round));
    smz::registry::v1::IssueTokenResponse issued;
    ASSERT_TRUE(stub->IssueToken(As(survivor).get(), issue, &issued).ok());
    const std::string other = issued.token();
    smz::auth::v1::Principal other_me;
    ASSERT_TRUE(stub->WhoAmI(As(other).get(), {}, &other_me).ok());
    grpc::Status by_survivor, by_other;
    std::thread a([&] {
      smz::registry::v1::RevokeTokenRequest revoke;
      revoke.set_token_id(other_me.token_id());
      google::protobuf::Empty empty;
      by_survivor = stub->RevokeToken(As(survivor).get(), revoke, &empty);
    });
    std::thread b([&] {
      smz::registry::v1::RevokeTokenRequest revoke;
      revoke.set_token_id(survivor_me.token_id());
      google::protobuf::Empty empty;
      by_other = stub->RevokeToken(As(other).get(), revoke, &empty);
    });
    a.join();
    b.join();
    ASSERT_NE(by_survivor.ok(), by_other.ok())
        << by_survivor.error_message() << " / " << by_other.error_message();
    const grpc::Status& lost = by_survivor.ok() ? by_other : by_survivor;
    EXPECT_THAT(lost.error_code(),
                ::testing::AnyOf(grpc::StatusCode::FAILED_PRECONDITION,
                                 grpc::StatusCode::UNAUTHENTICATED))
        << lost.error_message();
    if (by_other.ok()) {
      survivor = other;
      survivor_me = other_me;
    }
    // One ADMIN token is left, and it is the winner's.
    smz::registry::v1::ListTokensRequest list;
    smz::registry::v1::ListTokensResponse tokens;
    ASSERT_TRUE(stub->ListTokens(As(survivor).get(), list, &tokens).ok());
    int admins = 0;
    for (const auto& info : tokens.tokens()) {
      if (info.role() == smz::auth::v1::ADMIN) {
        ++admins;
        EXPECT_EQ(info.id(), survivor_me.token_id());
      }
    }
    EXPECT_EQ(admins, 1);
  }
  smz::auth::v1::Principal me;
  ASSERT_TRUE(stub->WhoAmI(As(survivor).get(), {}, &me).ok());
  smz::registry::v1::RevokeTokenRequest self;
  self.set_token_id(survivor_me.token_id());
  google::protobuf::Empty empty;
  EXPECT_EQ(stub->RevokeToken(As(survivor).get(), self, &empty).error_code(),
            grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_EQ(Terminate(), 0);

  // Break-glass: a new ADMIN token into a new 0600 file, without serving.
  const std::string glass = dir_ + "/glass.token";
  ASSERT_EQ(RunToExit({absl::StrCat("--issue_admin_token=", glass)}), 0)
      << ReadFile(dir_ + "/registry.log");
  struct stat info {};
  ASSERT_EQ(stat(glass.c_str(), &info), 0);
  EXPECT_EQ(info.st_mode & 0777, 0600);
  const std::string token(absl::StripAsciiWhitespace(ReadFile(glass)));
  EXPECT_THAT(token, HasSubstr("smz_"));
  // It never overwrites a file.
  EXPECT_EQ(RunToExit({absl::StrCat("--issue_admin_token=", glass)}), 1);
  EXPECT_EQ(std::string(absl::StripAsciiWhitespace(ReadFile(glass))), token);
  EXPECT_THAT(ReadFile(dir_ + "/registry.log"), Not(HasSubstr(token)));

  StartRegistry();
  ASSERT_TRUE(WaitServing(absl::Seconds(30)));
  ASSERT_TRUE(stub->WhoAmI(As(token).get(), {}, &me).ok());
  EXPECT_EQ(me.role(), smz::auth::v1::ADMIN);
  EXPECT_EQ(Terminate(), 0);

  smz::Database database(database_);
  absl::StatusOr<std::vector<smz::Row>> audited =
      database.RunFor<std::vector<smz::Row>>([&](smz::Session& session) {
        return session.Query(
            "SELECT action, actor FROM audit_events WHERE entity = 'token' "
            "AND entity_id = ?",
            {smz::SqlInt(me.token_id())});
      });
  ASSERT_TRUE(audited.ok()) << audited.status();
  ASSERT_EQ(audited->size(), 1u);
  EXPECT_EQ((*audited)[0].Text(0), "BREAK_GLASS");
  EXPECT_THAT((*audited)[0].Text(1), HasSubstr("break-glass:"));

  // The same for a person: an ADMIN account and its one-time link, in a
  // new 0600 file; the link is never logged.
  const std::string link_file = dir_ + "/kim.link";
  EXPECT_EQ(RunToExit({"--admin_account=kim"}), 2);  // needs the file
  EXPECT_EQ(RunToExit({absl::StrCat("--issue_admin_token=", dir_, "/x"),
                       "--admin_account=kim",
                       absl::StrCat("--admin_account_link_file=", link_file)}),
            2);  // one break-glass at a time
  ASSERT_EQ(RunToExit({"--admin_account=kim",
                       absl::StrCat("--admin_account_link_file=", link_file)}),
            0)
      << ReadFile(dir_ + "/registry.log");
  ASSERT_EQ(stat(link_file.c_str(), &info), 0);
  EXPECT_EQ(info.st_mode & 0777, 0600);
  const std::string link(absl::StripAsciiWhitespace(ReadFile(link_file)));
  EXPECT_THAT(link, ::testing::StartsWith("/account/password#smzl_"));
  EXPECT_THAT(ReadFile(dir_ + "/registry.log"),
              Not(HasSubstr(link.substr(link.find('#') + 1))));
  audited = database.RunFor<std::vector<smz::Row>>([&](smz::Session& session) {
    return session.Query("SELECT role, state FROM accounts WHERE login = 'kim'",
                         {});
  });
  ASSERT_TRUE(audited.ok()) << audited.status();
  ASSERT_EQ(audited->size(), 1u);
  EXPECT_EQ((*audited)[0].Text(0), "ADMIN");
  EXPECT_EQ((*audited)[0].Text(1), "ACCOUNT_INVITED");
  database.Close();
}

// Secrets an operator made (Kubernetes Secrets, systemd credentials): two
// replicas starting at once on an empty database register each token once
// and mint none; the tokens work with their roles; a revoked one stops the
// start until its secret is replaced; bad secret files stop the start.
TEST_F(RegistryProcessTest, ProvisionedSecretsAreRegisteredOnceAndRevocable) {
  smz::SecureRandom random;
  const std::string admin = smz::GenerateToken(random);
  const std::string stats = smz::GenerateToken(random);
  const std::string events = smz::GenerateToken(random);
  auto secret = [&](const std::string& name, const std::string& token,
                    mode_t mode) {
    const std::string path = dir_ + "/" + name;
    std::ofstream(path) << token << "\n";
    chmod(path.c_str(), mode);
    return path;
  };
  const std::vector<std::string> provisioned = {
      // The registry needs only the ADMIN token's hash.
      "SMZ_BOOTSTRAP_ADMIN_TOKEN_SECRET=" +
          secret("admin.secret", "sha256:" + smz::HashToken(admin), 0400),
      absl::StrCat("SMZ_SERVICE_TOKEN_SECRETS=stats=",
                   secret("stats.secret", stats, 0400),
                   ",events=", secret("events.secret", events, 0440))};
  const int second_port = smz::testing::PickUnusedPort();
  pid_ = Spawn(port_, provisioned, {}, dir_ + "/registry.log");
  pid_t second = Spawn(second_port, provisioned, {}, dir_ + "/second.log");
  ASSERT_TRUE(WaitServing(absl::Seconds(30)))
      << ReadFile(dir_ + "/registry.log");
  ASSERT_TRUE(smz::testing::WaitServing(second_port, absl::Seconds(30)))
      << ReadFile(dir_ + "/second.log");

  auto stub = smz::registry::v1::RegistryService::NewStub(
      grpc::CreateChannel(absl::StrCat("127.0.0.1:", second_port),
                          grpc::InsecureChannelCredentials()));
  smz::auth::v1::Principal me;
  ASSERT_TRUE(stub->WhoAmI(As(admin).get(), {}, &me).ok());
  EXPECT_EQ(me.role(), smz::auth::v1::ADMIN);
  ASSERT_TRUE(stub->WhoAmI(As(stats).get(), {}, &me).ok());
  EXPECT_EQ(me.role(), smz::auth::v1::ANALYST);
  const int64_t stats_id = me.token_id();
  ASSERT_TRUE(stub->WhoAmI(As(events).get(), {}, &me).ok());
  EXPECT_EQ(me.role(), smz::auth::v1::ANALYST);
  smz::registry::v1::ListTokensResponse tokens;
  ASSERT_TRUE(stub->ListTokens(As(admin).get(), {}, &tokens).ok());
  ASSERT_EQ(tokens.tokens_size(), 3);  // no bootstrap token minted, no twins
  EXPECT_EQ(tokens.tokens(0).display_name(), "admin (provisioned)");
  EXPECT_EQ(tokens.tokens(0).created_by(), "provisioning");

  smz::registry::v1::RevokeTokenRequest revoke;
  revoke.set_token_id(stats_id);
  google::protobuf::Empty empty;
  ASSERT_TRUE(stub->RevokeToken(As(admin).get(), revoke, &empty).ok());
  EXPECT_EQ(Terminate(second), 0);
  EXPECT_EQ(Terminate(), 0);

  // A restart with the same secrets is refused (exit 1): kept, the revoked
  // secret would come back to life with a restored backup. With the secret
  // replaced it starts; the old token stays revoked, the new one works.
  pid_t refused = Spawn(port_, provisioned, {}, dir_ + "/registry.log");
  int exit_status = 0;
  waitpid(refused, &exit_status, 0);
  ASSERT_TRUE(WIFEXITED(exit_status));
  EXPECT_EQ(WEXITSTATUS(exit_status), 1);
  std::string log = ReadFile(dir_ + "/registry.log");
  EXPECT_THAT(log, HasSubstr("was revoked: replace its secret"));
  const std::string new_stats = smz::GenerateToken(random);
  secret("stats.secret", new_stats, 0400);
  pid_ = Spawn(port_, provisioned, {}, dir_ + "/registry.log");
  ASSERT_TRUE(WaitServing(absl::Seconds(30)))
      << ReadFile(dir_ + "/registry.log");
  stub = smz::registry::v1::RegistryService::NewStub(grpc::CreateChannel(
      absl::StrCat("127.0.0.1:", port_), grpc::InsecureChannelCredentials()));
  EXPECT_EQ(stub->WhoAmI(As(stats).get(), {}, &me).error_code(),
            grpc::StatusCode::UNAUTHENTICATED);
  ASSERT_TRUE(stub->WhoAmI(As(new_stats).get(), {}, &me).ok());
  EXPECT_EQ(me.role(), smz::auth::v1::ANALYST);
  ASSERT_TRUE(stub->ListTokens(As(admin).get(), {}, &tokens).ok());
  EXPECT_EQ(tokens.tokens_size(), 3);  // the revoked one is not listed
  EXPECT_EQ(Terminate(), 0);
  log = ReadFile(dir_ + "/registry.log");
  for (const std::string& token : {admin, stats, events, new_stats}) {
    EXPECT_THAT(log + ReadFile(dir_ + "/second.log"), Not(HasSubstr(token)));
  }

  // Refused before serving (exit 2): a secret others may write, a weak one,
  // and a minted and a provisioned admin token at once.
  EXPECT_EQ(RunToExit({absl::StrCat("--service_token_secrets=stats=",
                                    secret("open.secret", stats, 0666))}),
            2);
  EXPECT_EQ(RunToExit({absl::StrCat("--service_token_secrets=stats=",
                                    secret("weak.secret", "smz_abc", 0400))}),
            2);
  EXPECT_EQ(RunToExit({absl::StrCat("--bootstrap_admin_token_secret=", dir_,
                                    "/admin.secret")}),
            2);  // StartRegistry also sets SMZ_BOOTSTRAP_ADMIN_TOKEN_FILE
  log = ReadFile(dir_ + "/registry.log");
  EXPECT_THAT(log, HasSubstr("chmod 0400"));
  EXPECT_THAT(log, HasSubstr("43 to 200"));
  EXPECT_THAT(log, HasSubstr("one of them"));
  EXPECT_THAT(log, Not(HasSubstr(admin)));
}

TEST_F(RegistryProcessTest, RefusesToStartWithoutADatabaseConfiguration) {
  std::string binary = g_registry_binary;
  char* argv[] = {binary.data(), nullptr};
  char* env[] = {const_cast<char*>("PATH=/usr/bin:/bin"), nullptr};
  pid_ = fork();
  if (pid_ == 0) {
    const int null = open("/dev/null", O_WRONLY);
    dup2(null, STDERR_FILENO);
    execve(argv[0], argv, env);
    _exit(127);
  }
  int status = 0;
  waitpid(pid_, &status, 0);
  pid_ = -1;
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 2);
}

// The registry resolves callers itself: a flag meant for the services that
// call it is a mistake in the deployment, refused before anything starts.
TEST_F(RegistryProcessTest, RefusesFlagsMeantForTheServicesThatCallIt) {
  EXPECT_EQ(RunToExit({"--registry_target=127.0.0.1:50051"}), 2);
  EXPECT_FALSE(WaitServing(absl::Milliseconds(200)));
}

// --migrate_only (a Kubernetes Job, the upgrade's first step): the schema
// applied with the database settings alone, nothing served, exit 0; run
// again, a no-op.
TEST_F(RegistryProcessTest, MigrateOnlyAppliesTheSchemaAndExits) {
  EXPECT_EQ(RunToExit({"--migrate_only=true"}), 0);
  EXPECT_FALSE(WaitServing(absl::Milliseconds(200)));
  smz::Database database(database_);
  absl::StatusOr<int> version = smz::CurrentSchemaVersion(database);
  ASSERT_TRUE(version.ok()) << version.status();
  EXPECT_GT(*version, 0);
  EXPECT_THAT(ReadFile(dir_ + "/registry.log"),
              HasSubstr("registry schema current"));
  EXPECT_EQ(RunToExit({"--migrate_only=true"}), 0);
  // A schema from a newer release: refused, the binary exits non-zero.
  ASSERT_TRUE(database
                  .Run([](smz::Session& session) {
                    return session
                        .Execute(
                            "INSERT INTO schema_migrations VALUES "
                            "(100000, 'from the future', REPEAT('0', 64), 0)",
                            {})
                        .status();
                  })
                  .ok());
  database.Close();
  EXPECT_EQ(RunToExit({"--migrate_only=true"}), 1);
  EXPECT_THAT(ReadFile(dir_ + "/registry.log"),
              HasSubstr("newer than this binary knows"));
  EXPECT_EQ(RunToExit({}), 1);  // nor does it serve
}

// `registry --version` says which release and commit it is, and starts
// nothing (the upgrade procedure checks it on each host).
TEST_F(RegistryProcessTest, VersionSaysWhichBuildItIs) {
  FILE* pipe = popen((g_registry_binary + " --version 2>&1").c_str(), "r");
  ASSERT_NE(pipe, nullptr);
  std::string out;
  char buffer[256];
  while (size_t n = fread(buffer, 1, sizeof(buffer), pipe))
    out.append(buffer, n);
  EXPECT_EQ(pclose(pipe), 0);
  EXPECT_THAT(out, ::testing::StartsWith(absl::StrCat("smz ", smz::Version())));
  EXPECT_THAT(smz::Version(),
              ::testing::MatchesRegex(
                  "[0-9]+\\.[0-9]+\\.[0-9]+\\+[0-9a-f]+|[0-9.]+\\+unknown"));
}

}  // namespace

int main(int argc, char** argv) {
  ::testing::InitGoogleTest(&argc, argv);
  if (argc > 1) g_registry_binary = argv[1];
  return RUN_ALL_TESTS();
}
