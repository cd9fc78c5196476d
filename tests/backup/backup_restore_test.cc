// Backups end to end (deploy/backup): the zone's demo data in every service,
// one backup of the four databases taken while they serve, restored into an
// empty MariaDB under new servers, answering every call as before; and what
// a backup would bring back — tokens revoked since it was taken — kept out:
// the registry's first start after the restore revokes every API token but
// the provisioned ones.
//
// Usage (from CTest): backup_restore_test <smzctl> <registry_load_demo>
//   <stats_load_demo> <events_load_demo> <programme_load_demo>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/civil_time.h"
#include "common/auth/token.h"
#include "common/clock.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "smz/registry/v1/registry.grpc.pb.h"
#include "tests/harness/local_stack.h"
#include "tests/harness/mariadb_server.h"
#include "tests/harness/test_certificates.h"

namespace smz::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

std::vector<std::string> g_tools;  // smzctl, then the four demo loaders

std::string Repo(const std::string& path) {
  return absl::StrCat(SMZ_SOURCE_DIR, "/", path);
}

// A command's exit status (its output appended to `log`).
int RunCommand(const std::string& command, const std::string& log) {
  const int status =
      std::system(absl::StrCat(command, " >>", log, " 2>&1").c_str());
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

void WriteSecret(const std::string& path, const std::string& token) {
  std::ofstream(path) << token << "\n";
  chmod(path.c_str(), 0600);
}

// What the people using the zone read, through smzctl as an operator would:
// call → JSON answer.
std::map<std::string, std::string> Answers(LocalStack& stack,
                                           const std::string& token_file) {
  const std::string registry = stack.registry().target();
  const std::string stats = absl::StrCat("127.0.0.1:", stack.stats()->port());
  const std::string events = absl::StrCat("127.0.0.1:", stack.events()->port());
  const std::string programme =
      absl::StrCat("127.0.0.1:", stack.programme()->port());
  const std::vector<std::vector<std::string>> calls = {
      {registry, "smz.registry.v1.RegistryService/ListPartners",
       R"({"page_size":200})"},
      {registry, "smz.registry.v1.RegistryService/CountPartners", "{}"},
      {stats, "smz.stats.v1.StatsService/GetKpiProgress",
       R"({"year":2019,"as_of":"2019-12-31"})"},
      {stats, "smz.stats.v1.StatsService/GetKpiProgress",
       R"({"year":2020,"as_of":"2020-12-31"})"},
      {events, "smz.events.v1.EventsService/CountCompletedEvents",
       R"({"year_from":2018,"year_to":2022})"},
      {events, "smz.events.v1.EventsService/ListEvents",
       R"({"page_size":200})"},
      {programme, "smz.programme.v1.ProgrammeService/ListProjects",
       R"({"page_size":200})"},
      {programme, "smz.programme.v1.ProgrammeService/GetBudgetTable",
       R"({"year":2022,"as_of_date":"2022-10-31"})"},
  };
  std::map<std::string, std::string> answers;
  for (const std::vector<std::string>& call : calls) {
    // Keys sorted (a map's order is the process's own), then smzctl's exit
    // status.
    const std::string command = absl::StrCat(
        "out=$(", g_tools[0], " --target=", call[0],
        " --token_file=", token_file, " call ", call[1], " '", call[2],
        "' 2>&1); status=$?; printf '%s' \"$out\" | /usr/bin/python3 -c "
        "'import json, sys; print(json.dumps(json.load(sys.stdin), "
        "sort_keys=True, ensure_ascii=False))' 2>&1; echo \"exit=$status\"");
    answers[absl::StrCat(call[1], " ", call[2])] = CommandOutput(command);
  }
  return answers;
}

grpc::StatusCode WhoAmI(LocalStack& stack, const std::string& token) {
  auth::v1::Principal me;
  return stack.registry().stub().WhoAmI(As(token).get(), {}, &me).error_code();
}

TEST(BackupRestoreTest, ARestoredStackAnswersAsBeforeAndRevocationsHold) {
  ASSERT_EQ(g_tools.size(), 5u) << "pass smzctl and the four demo loaders";
  std::string pattern = ::testing::TempDir() + "/backup_restore_XXXXXX";
  ASSERT_NE(mkdtemp(pattern.data()), nullptr);
  const std::string dir = pattern;
  const std::string log = dir + "/commands.log";
  FakeClock clock(absl::FromCivil(absl::CivilSecond(2023, 3, 2, 10, 0, 0),
                                  absl::UTCTimeZone()));

  // The zone as the local stack's demo has it.
  auto a = LocalStack::Start(&clock);
  ASSERT_TRUE(a.ok()) << a.status();
  ASSERT_TRUE((*a)->StartStats().ok());
  ASSERT_TRUE((*a)->StartEvents().ok());
  ASSERT_TRUE((*a)->StartProgramme().ok());
  const std::string admin_a = dir + "/admin-a.token";
  WriteSecret(admin_a, (*a)->admin_token());
  const std::string registry_a = (*a)->registry().target();
  ASSERT_EQ(
      RunCommand(absl::StrCat(g_tools[1], " --target=", registry_a,
                              " --token_file=", admin_a, " --csv=",
                              Repo("deploy/demo/specialized_operators.csv")),
                 log),
      0)
      << CommandOutput("cat " + log);
  ASSERT_EQ(RunCommand(
                absl::StrCat(g_tools[2], " --registry=", registry_a,
                             " --stats=127.0.0.1:", (*a)->stats()->port(),
                             " --token_file=", admin_a, " --csv=",
                             Repo("deploy/demo/foreign_patients_reported.csv")),
                log),
            0)
      << CommandOutput("cat " + log);
  ASSERT_EQ(
      RunCommand(absl::StrCat(g_tools[3], " --registry=", registry_a,
                              " --events=127.0.0.1:", (*a)->events()->port(),
                              " --token_file=", admin_a, " --csv=",
                              Repo("deploy/demo/activities_2018_2022.csv")),
                 log),
      0)
      << CommandOutput("cat " + log);
  ASSERT_EQ(RunCommand(absl::StrCat(g_tools[4], " --programme=127.0.0.1:",
                                    (*a)->programme()->port(), " --token_file=",
                                    admin_a, " --dir=", Repo("deploy/demo")),
                       log),
            0)
      << CommandOutput("cat " + log);
  absl::StatusOr<std::string> kept =
      (*a)->IssueToken(auth::v1::ANALYST, "kept: its secret file is current");
  absl::StatusOr<std::string> council =
      (*a)->IssueToken(auth::v1::COUNCIL, "council member");
  absl::StatusOr<std::string> leaked =
      (*a)->IssueToken(auth::v1::COUNCIL, "leaked after the backup");
  ASSERT_TRUE(kept.ok() && council.ok() && leaked.ok());
  const std::map<std::string, std::string> before = Answers(**a, admin_a);
  for (const auto& [call, answer] : before) {
    ASSERT_THAT(answer, ::testing::EndsWith("exit=0\n")) << call << answer;
    ASSERT_GT(answer.size(), 100u) << call << answer;  // not an empty list
  }

  // The backup, while the services serve.
  const std::string backups = dir + "/backups";
  // The scripts' state (restore.sh marks it restored, and sets its tokens
  // aside) is the test's own, never the checkout's .smz of a stack up.sh
  // may be running.
  const std::string state = dir + "/state";
  ASSERT_EQ(
      RunCommand(absl::StrCat("SMZ_STATE=", state, " SMZ_MARIADB_SOCKET=",
                              (*a)->mariadb().socket(), " bash ",
                              Repo("deploy/backup/backup.sh"), " ", backups),
                 log),
      0)
      << CommandOutput("cat " + log);
  std::string backup;
  for (const auto& entry : std::filesystem::directory_iterator(backups)) {
    if (entry.path().extension() == ".gz") backup = entry.path().string();
  }
  ASSERT_FALSE(backup.empty());
  struct stat info {};
  ASSERT_EQ(stat(backup.c_str(), &info), 0);
  EXPECT_EQ(info.st_mode & 0777, 0600);  // people's details are in it

  // After it: the leaked token is revoked, a partner added.
  auth::v1::Principal me;
  ASSERT_TRUE((*a)->registry().stub().WhoAmI(As(*leaked).get(), {}, &me).ok());
  registry::v1::RevokeTokenRequest revoke;
  revoke.set_token_id(me.token_id());
  google::protobuf::Empty empty;
  ASSERT_TRUE((*a)->registry()
                  .stub()
                  .RevokeToken(As((*a)->admin_token()).get(), revoke, &empty)
                  .ok());
  ASSERT_TRUE((*a)->AddPartner(TestHospital("백업 뒤의 병원")).ok());
  EXPECT_NE(Answers(**a, admin_a), before);
  a->reset();  // the disaster

  // An empty server: a corrupted backup and an incomplete one are refused;
  // the real one restores; a second restore over it needs --force.
  auto b = MariaDbServer::Start();
  ASSERT_TRUE(b.ok()) << b.status();
  const std::string restore =
      absl::StrCat("SMZ_STATE=", state, " SMZ_MARIADB_SOCKET=", (*b)->socket(),
                   " bash ", Repo("deploy/backup/restore.sh"));
  const std::string corrupt = dir + "/corrupt.sql.gz";
  std::filesystem::copy_file(backup, corrupt);
  std::filesystem::copy_file(backup + ".sha256", corrupt + ".sha256");
  {
    std::fstream f(corrupt, std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(100);
    f.put('\x42');
  }
  EXPECT_NE(RunCommand(absl::StrCat(restore, " ", corrupt), log), 0);
  EXPECT_THAT(CommandOutput("cat " + log), HasSubstr("does not match"));
  const std::string cut = dir + "/cut.sql.gz";
  ASSERT_EQ(RunCommand(absl::StrCat("(gzip -dc ", backup,
                                    " | head -n 50 | gzip > ", cut, ")"),
                       log),
            0);
  EXPECT_NE(RunCommand(absl::StrCat(restore, " --unchecked ", cut), log), 0);
  EXPECT_THAT(CommandOutput("cat " + log),
              HasSubstr("is not a complete backup"));
  ASSERT_EQ(RunCommand(absl::StrCat(restore, " ", backup), log), 0)
      << CommandOutput("cat " + log);
  // Marked in the test's state: up.sh there would load no demo over it.
  EXPECT_TRUE(std::filesystem::exists(state + "/restored-from"));
  EXPECT_NE(RunCommand(absl::StrCat(restore, " ", backup), log), 0);
  EXPECT_THAT(CommandOutput("cat " + log), HasSubstr("add --force"));

  // Break-glass by hand before the registry's first start is refused: the
  // review would revoke what it issued.
  {
    absl::StatusOr<DatabaseOptions> registry_db =
        (*b)->CreateServiceDatabase("smz_registry");
    ASSERT_TRUE(registry_db.ok());
    registry::RegistryServerOptions options;
    options.database = *registry_db;
    options.clock = &clock;
    absl::StatusOr<registry::v1::TokenInfo> glass =
        registry::RegistryServer::IssueBreakGlassAdminToken(
            options, "operator",
            [](const std::string&) { return absl::OkStatus(); });
    EXPECT_EQ(glass.status().code(), absl::StatusCode::kFailedPrecondition)
        << glass.status();
  }

  // New servers over it, the analyst's token provisioned as a secret.
  const std::string kept_token = *kept;
  auto restored = LocalStack::Start(
      &clock, *std::move(b), [&](registry::RegistryServerOptions& options) {
        options.provisioned_tokens.push_back(
            {"stats", auth::v1::ANALYST, HashToken(kept_token)});
      });
  ASSERT_TRUE(restored.ok()) << restored.status();
  LocalStack& stack = **restored;
  // Every ADMIN token was revoked by the review: a new one was minted.
  ASSERT_FALSE(stack.admin_token().empty());
  ASSERT_TRUE(stack.StartStats().ok());
  ASSERT_TRUE(stack.StartEvents().ok());
  ASSERT_TRUE(stack.StartProgramme().ok());
  const std::string admin_b = dir + "/admin-b.token";
  WriteSecret(admin_b, stack.admin_token());
  const std::map<std::string, std::string> after = Answers(stack, admin_b);
  for (const auto& [call, answer] : before) {
    EXPECT_EQ(after.at(call), answer) << call;
  }

  EXPECT_EQ(WhoAmI(stack, *kept), grpc::StatusCode::OK);
  EXPECT_EQ(WhoAmI(stack, *leaked), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_EQ(WhoAmI(stack, *council), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_EQ(WhoAmI(stack, (*restored)->admin_token()), grpc::StatusCode::OK);
  // Reviewed once: a later start (here, the review again) changes nothing.
  absl::StatusOr<std::string> issued =
      stack.IssueToken(auth::v1::COUNCIL, "after the restore");
  ASSERT_TRUE(issued.ok());
  absl::StatusOr<registry::RegistryStore::RestoreReview> again =
      stack.registry().server().registry().ReviewAfterRestore({});
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_EQ(again->backup_label, "");
  EXPECT_EQ(WhoAmI(stack, *issued), grpc::StatusCode::OK);
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace smz::testing

int main(int argc, char** argv) {
  ::testing::InitGoogleTest(&argc, argv);
  for (int i = 1; i < argc; ++i) smz::testing::g_tools.push_back(argv[i]);
  return RUN_ALL_TESTS();
}
