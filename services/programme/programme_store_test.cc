// The programme store against a private MariaDB started by the harness:
// references checked, uniqueness, idempotent creates (also when retries
// race), stale etags, and executions that can never exceed a line's budget,
// also when recorded concurrently.
#include "services/programme/programme_store.h"

#include <atomic>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/barrier.h"
#include "absl/time/clock.h"
#include "common/mysql/migrations.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "services/programme/programme_rules.h"
#include "services/programme/programme_schema.h"
#include "tests/harness/mariadb_server.h"

namespace smz::programme {
namespace {

using ::testing::HasSubstr;
using ::testing::SizeIs;

class ProgrammeStoreTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    auto server = testing::MariaDbServer::Start();
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = server->release();
    auto options = server_->CreateServiceDatabase("smz_programme");
    ASSERT_TRUE(options.ok()) << options.status();
    options->pool_size = 24;
    database_ = new Database(*options);
    clock_ = new FakeClock(absl::FromCivil(
        absl::CivilSecond(2022, 10, 31, 9, 0, 0), absl::UTCTimeZone()));
    ASSERT_TRUE(
        ApplyMigrations(*database_, ProgrammeMigrations(), *clock_).ok());
    store_ = new ProgrammeStore(database_, clock_);
  }
  static void TearDownTestSuite() {
    delete store_;
    delete database_;
    delete clock_;
    delete server_;
  }

  static RequestKey Key(const std::string& method, const std::string& id = "",
                        const std::string& digest = "d") {
    return RequestKey{"ADMIN#1", method, id, digest};
  }
  static v1::Project Project(const std::string& code, int64_t parent = 0) {
    v1::Project p;
    p.set_code(code);
    p.set_parent_id(parent);
    p.set_kind(parent == 0 ? v1::DIVISION : v1::UNIT_PROJECT);
    (*p.mutable_name())["ko"] = code;
    return p;
  }
  static v1::BudgetLine Line(int64_t project, int64_t amount) {
    v1::BudgetLine l;
    l.set_project_id(project);
    l.set_year(2022);
    l.set_funding_source(v1::ALL_SOURCES);
    l.set_amount_krw(amount);
    return l;
  }
  static v1::ExecutionEntry Spend(int64_t line, int64_t amount,
                                  const std::string& date = "2022-06-30") {
    v1::ExecutionEntry e;
    e.set_line_id(line);
    e.set_amount_krw(amount);
    e.set_date(date);
    e.set_description("brochures");
    return e;
  }

  static testing::MariaDbServer* server_;
  static Database* database_;
  static FakeClock* clock_;
  static ProgrammeStore* store_;
};

testing::MariaDbServer* ProgrammeStoreTest::server_ = nullptr;
Database* ProgrammeStoreTest::database_ = nullptr;
FakeClock* ProgrammeStoreTest::clock_ = nullptr;
ProgrammeStore* ProgrammeStoreTest::store_ = nullptr;

TEST_F(ProgrammeStoreTest, ReferencesUniquenessEtagsAndRetries) {
  absl::StatusOr<v1::Project> division =
      store_->CreateProject(Project("refs"), Key("CreateProject", "p-refs"));
  ASSERT_TRUE(division.ok()) << division.status();
  // A retry returns the same project; another request under the id is
  // refused naming request_id; a second project with the code is
  // ALREADY_EXISTS.
  absl::StatusOr<v1::Project> again =
      store_->CreateProject(Project("refs"), Key("CreateProject", "p-refs"));
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->id(), division->id());
  absl::StatusOr<v1::Project> reused = store_->CreateProject(
      Project("other"), Key("CreateProject", "p-refs", "other digest"));
  EXPECT_EQ(reused.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(GetFieldViolations(reused.status())[0].field, "request_id");
  EXPECT_EQ(store_->CreateProject(Project("refs"), Key("CreateProject"))
                .status()
                .code(),
            absl::StatusCode::kAlreadyExists);
  // An unknown parent names the field.
  absl::StatusOr<v1::Project> orphan =
      store_->CreateProject(Project("orphan", 999999), Key("CreateProject"));
  EXPECT_EQ(orphan.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(GetFieldViolations(orphan.status())[0].field, "project.parent_id");

  // A stale etag is ABORTED and changes nothing.
  auto rename = [](v1::Project& p) {
    (*p.mutable_name())["en"] = "Vision Cooperation Division";
    return absl::OkStatus();
  };
  absl::StatusOr<v1::Project> renamed = store_->ModifyProject(
      division->id(), division->etag(), "ADMIN#1", rename);
  ASSERT_TRUE(renamed.ok()) << renamed.status();
  EXPECT_NE(renamed->etag(), division->etag());
  EXPECT_EQ(
      store_->ModifyProject(division->id(), division->etag(), "ADMIN#1", rename)
          .status()
          .code(),
      absl::StatusCode::kAborted);

  // One line per project, year and source.
  ASSERT_TRUE(store_
                  ->CreateBudgetLine(Line(division->id(), 1000),
                                     Key("CreateBudgetLine"))
                  .ok());
  absl::StatusOr<v1::BudgetLine> twin = store_->CreateBudgetLine(
      Line(division->id(), 2000), Key("CreateBudgetLine"));
  EXPECT_EQ(twin.status().code(), absl::StatusCode::kAlreadyExists);
  EXPECT_THAT(twin.status().message(), HasSubstr("update that one"));
  EXPECT_EQ(store_->CreateBudgetLine(Line(999999, 1), Key("CreateBudgetLine"))
                .status()
                .code(),
            absl::StatusCode::kInvalidArgument);
}

TEST_F(ProgrammeStoreTest, ConcurrentRetriesOfOneCreateMakeOneProject) {
  constexpr int kCallers = 8;
  std::vector<absl::StatusOr<v1::Project>> results(
      kCallers, absl::UnknownError("not run"));
  absl::Barrier* start = new absl::Barrier(kCallers);
  std::vector<std::thread> threads;
  for (int i = 0; i < kCallers; ++i) {
    threads.emplace_back([&, i] {
      if (start->Block()) delete start;
      results[i] = store_->CreateProject(Project("raced"),
                                         Key("CreateProject", "p-raced"));
    });
  }
  for (std::thread& t : threads) t.join();
  for (const auto& r : results) {
    ASSERT_TRUE(r.ok()) << r.status();
    EXPECT_EQ(r->id(), results[0]->id());
  }
}

// Twenty callers each spend 100 on a line of 1,000: exactly ten succeed.
TEST_F(ProgrammeStoreTest, ExecutionNeverExceedsTheBudgetUnderConcurrency) {
  absl::StatusOr<v1::Project> project =
      store_->CreateProject(Project("spend"), Key("CreateProject"));
  ASSERT_TRUE(project.ok());
  absl::StatusOr<v1::BudgetLine> line = store_->CreateBudgetLine(
      Line(project->id(), 1000), Key("CreateBudgetLine"));
  ASSERT_TRUE(line.ok());
  constexpr int kCallers = 20;
  std::atomic<int> ok{0}, refused{0}, one_that_succeeded{-1};
  absl::Barrier* start = new absl::Barrier(kCallers);
  std::vector<std::thread> threads;
  for (int i = 0; i < kCallers; ++i) {
    threads.emplace_back([&, i] {
      if (start->Block()) delete start;
      absl::StatusOr<v1::ExecutionEntry> e = store_->RecordExecution(
          Spend(line->id(), 100),
          Key("RecordExecution", absl::StrCat("spend-", i)));
      if (e.ok()) {
        ++ok;
        one_that_succeeded = i;
      } else if (absl::IsFailedPrecondition(e.status())) {
        ++refused;
      } else {
        ADD_FAILURE() << e.status();
      }
    });
  }
  for (std::thread& t : threads) t.join();
  EXPECT_EQ(ok.load(), 10);
  EXPECT_EQ(refused.load(), 10);
  absl::StatusOr<std::vector<v1::BudgetLine>> lines =
      store_->ListBudgetLines(LineQuery{project->id(), 2022, 0, 10});
  ASSERT_TRUE(lines.ok());
  ASSERT_THAT(*lines, SizeIs(1));
  EXPECT_EQ((*lines)[0].executed_krw(), 1000);

  // A retried entry is not counted twice; a correction brings room back.
  ASSERT_TRUE(store_
                  ->RecordExecution(
                      Spend(line->id(), 100),
                      Key("RecordExecution",
                          absl::StrCat("spend-", one_that_succeeded.load())))
                  .ok());
  ASSERT_TRUE(store_
                  ->RecordExecution(Spend(line->id(), -300, "2022-10-01"),
                                    Key("RecordExecution", "refund"))
                  .ok());
  // Executions as of a date: the refund dated 2022-10-01 is not in a table
  // as of 2022-09-30.
  absl::StatusOr<BudgetYear> september =
      store_->LoadBudgetYear(2022, absl::CivilDay(2022, 9, 30));
  ASSERT_TRUE(september.ok());
  for (const v1::BudgetLine& l : september->lines) {
    if (l.id() == line->id()) {
      EXPECT_EQ(l.executed_krw(), 1000);
    }
  }
  absl::StatusOr<BudgetYear> now = store_->LoadBudgetYear(2022, std::nullopt);
  ASSERT_TRUE(now.ok());
  std::string etag;
  for (const v1::BudgetLine& l : now->lines) {
    if (l.id() != line->id()) continue;
    EXPECT_EQ(l.executed_krw(), 700);
    etag = l.etag();
  }

  // Outside the line's year (or its settlement year): named.
  absl::StatusOr<v1::ExecutionEntry> late = store_->RecordExecution(
      Spend(line->id(), 1, "2024-01-05"), Key("RecordExecution"));
  EXPECT_EQ(late.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(GetFieldViolations(late.status())[0].field, "entry.date");
  // The budget cannot drop below what was spent.
  absl::StatusOr<v1::BudgetLine> cut = store_->ModifyBudgetLine(
      line->id(), etag, "ADMIN#1", [](v1::BudgetLine& l) {
        l.set_amount_krw(500);
        return absl::OkStatus();
      });
  EXPECT_EQ(cut.status().code(), absl::StatusCode::kFailedPrecondition);
}

TEST_F(ProgrammeStoreTest, DatabaseDownIsUnavailable) {
  ASSERT_TRUE(server_->Stop().ok());
  EXPECT_EQ(store_->CreateProject(Project("down"), Key("CreateProject"))
                .status()
                .code(),
            absl::StatusCode::kUnavailable);
  EXPECT_EQ(store_->GetProject(1).status().code(),
            absl::StatusCode::kUnavailable);
  ASSERT_TRUE(server_->Restart().ok());
  absl::StatusOr<v1::Project> after = absl::UnavailableError("");
  for (int i = 0; i < 50 && !after.ok(); ++i) {
    after = store_->CreateProject(Project("down"), Key("CreateProject", "up"));
    if (!after.ok()) absl::SleepFor(absl::Milliseconds(100));
  }
  EXPECT_TRUE(after.ok()) << after.status();
}

}  // namespace
}  // namespace smz::programme
