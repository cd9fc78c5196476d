// The submissions store against a real MariaDB, for group commit
// (StatsStore::Submit, SubmitGroup): callers that share a transaction each
// succeed or fail alone, a failed caller leaves nothing behind, a caller
// stuck on a lock does not hold up the others, twins make one report, and
// the shared counts and rollups stay exact (CountRollupMismatches
// recomputes them from the reports), through the count deltas that groups
// leave and folds add to them. A group queues its callers' new rows
// (cells, warnings, audit entries, request keys) and inserts them together:
// a later caller of the same report or key still reads them, a failed
// caller's are dropped, and a key a twin recorded elsewhere first splits
// the group; InsertBatched keeps large rows below the server's packet
// limit. The service's own tests
// (stats_service_test.cc) cover submissions one at a time over gRPC.
#include <algorithm>
#include <atomic>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"
#include "common/aip/status_macros.h"
#include "common/clock.h"
#include "common/mysql/audit.h"
#include "gtest/gtest.h"
#include "services/stats/report_rules.h"
#include "services/stats/stats_schema.h"
#include "services/stats/stats_store.h"
#include "services/stats/stats_store_rows.h"
#include "tests/harness/shared_mariadb_test.h"

namespace smz::stats {
namespace {

absl::Time Seoul(int y, int m, int d) {
  return absl::FromCivil(absl::CivilSecond(y, m, d, 9, 0, 0), SeoulTimeZone());
}

constexpr int kNewPatients = static_cast<int>(Measure::kNewPatients);
// Every stored report's cells, one row each (c), beside its report (r).
#define CELLS_OF_REPORTS "reports r CROSS JOIN " REPORT_CELLS_OF_R("c")

class SubmitGroupTest : public testing::SharedMariaDbTest {
 protected:
  void SetUp() override {
    database_ = MigratedDatabase("stats_groups", StatsMigrations());
    ASSERT_NE(database_, nullptr);
    store_ =
        std::make_unique<StatsStore>(database_.get(), &clock_, StoreOptions());
  }

  // A validated submission of `new_patients` Vietnamese patients (and as
  // many dermatology visits) for `partner_id` in `period` ("2020-07").
  static Submission Make(int64_t partner_id, const std::string& period,
                         int64_t new_patients, const std::string& etag = "",
                         const std::string& request_id = "") {
    Submission s;
    s.report.set_partner_id(partner_id);
    s.report.set_period(period);
    v1::NewPatientCell* fresh = s.report.add_new_patients();
    fresh->set_nationality("VN");
    fresh->set_count(new_patients);
    v1::VisitCell* visit = s.report.add_visits();
    visit->set_nationality("VN");
    visit->set_department("dermatology");
    visit->set_care_type(v1::OUTPATIENT);
    visit->set_count(new_patients);
    ReportContext context;
    context.current_month = absl::CivilMonth(2020, 8);  // as clock_
    context.designated_since = absl::CivilMonth(2019, 1);
    FieldViolations violations;
    s.cells = CanonicalCells(s.report, context, &violations);
    EXPECT_TRUE(violations.empty()) << violations.ToStatus();
    s.etag = etag;
    s.method = "SubmitReport";
    s.request_id = request_id;
    s.request_digest = absl::StrCat(partner_id, "/", period, "/", new_patients);
    s.partner = {partner_id, /*kind=*/1, /*region=*/1, "병원", "Hospital"};
    s.actor = absl::StrCat("partner:", partner_id);
    return s;
  }

  // A caller's job as Submit hands it to a group. The job points into the
  // caller, so a caller is never copied or moved.
  struct Caller {
    std::vector<Submission> submissions;
    std::optional<RequestKey> batch;
    StatsStore::SubmitJob job;
    explicit Caller(std::vector<Submission> s,
                    std::optional<RequestKey> batch_key = std::nullopt)
        : submissions(std::move(s)),
          batch(std::move(batch_key)),
          job{&submissions, &batch, kToday} {}
    Caller(const Caller&) = delete;
    Caller& operator=(const Caller&) = delete;
  };

  // The first column of the first row (0 for NULL), read as a reader of
  // the shared rows would: after the count deltas are folded into them.
  int64_t Scalar(const std::string& sql) {
    const absl::Status folded = store_->FoldCountDeltas();
    EXPECT_TRUE(folded.ok()) << folded;
    return Unfolded(sql);
  }

  // The same, reading the tables as they are.
  int64_t Unfolded(const std::string& sql) {
    const std::string text = Text(sql);
    int64_t value = 0;
    if (!text.empty() && !absl::SimpleAtoi(text, &value)) {
      ADD_FAILURE() << sql << " answered " << text;
    }
    return value;
  }

  std::string Text(const std::string& sql) {
    std::string value;
    EXPECT_TRUE(database_
                    ->Run([&](Session& s) -> absl::Status {
                      auto rows = s.Query(sql, {});
                      if (!rows.ok()) return rows.status();
                      if (rows->empty()) return absl::NotFoundError(sql);
                      value = rows->front().Text(0);
                      return absl::OkStatus();
                    })
                    .ok());
    return value;
  }

  void ExpectCountsExact() {
    absl::StatusOr<int64_t> mismatches = store_->CountRollupMismatches();
    ASSERT_TRUE(mismatches.ok()) << mismatches.status();
    EXPECT_EQ(*mismatches, 0);
  }

  // With the default deadline (10 days after month end): July is open,
  // June locked.
  static inline const absl::Time kToday = Seoul(2020, 8, 5);
  FakeClock clock_{kToday};
  std::unique_ptr<Database> database_;
  std::unique_ptr<StatsStore> store_;
};

TEST_F(SubmitGroupTest, AGroupCommitsEveryCallerAndCountsThemOnce) {
  std::vector<std::unique_ptr<Caller>> callers;
  std::vector<StatsStore::SubmitJob*> jobs;
  for (int i = 0; i < 5; ++i) {
    callers.push_back(
        std::make_unique<Caller>(std::vector{Make(101 + i, "2020-07", i + 1)}));
    jobs.push_back(&callers.back()->job);
  }
  store_->SubmitGroup(jobs);
  for (const auto& caller : callers) {
    ASSERT_TRUE(caller->job.result.ok()) << caller->job.result.status();
    EXPECT_EQ(caller->job.result->front().report().revision(), 1);
  }
  EXPECT_EQ(Scalar("SELECT SUM(counted) FROM report_counts WHERE period = "
                   "202007"),
            5);
  // 1 + 2 + 3 + 4 + 5 new patients, summed over the group into one row.
  EXPECT_EQ(Scalar("SELECT value FROM rollup_nationality WHERE period = "
                   "202007 AND measure = " +
                   std::to_string(kNewPatients) + " AND nationality = 'VN'"),
            15);
  ExpectCountsExact();
}

TEST_F(SubmitGroupTest, ACallerThatFailsInAGroupFailsAloneAndLeavesNothing) {
  // Partner 201 reported before; the group then brings:
  Caller first({Make(201, "2020-07", 1)});
  store_->SubmitGroup({&first.job});
  ASSERT_TRUE(first.job.result.ok()) << first.job.result.status();

  Caller fine({Make(202, "2020-07", 2)});
  // A correction with an etag that is not the report's (it is at "1"):
  // ABORTED.
  Caller stale({Make(201, "2020-07", 9, /*etag=*/"\"7\"")});
  // Two reports in one call, the second for a locked month: the first was
  // written when the second failed, and must be undone with it.
  Caller half({Make(205, "2020-07", 5), Make(205, "2020-06", 5)});
  Caller also_fine({Make(204, "2020-07", 4)});
  store_->SubmitGroup({&fine.job, &stale.job, &half.job, &also_fine.job});

  EXPECT_TRUE(fine.job.result.ok()) << fine.job.result.status();
  EXPECT_TRUE(also_fine.job.result.ok()) << also_fine.job.result.status();
  EXPECT_EQ(stale.job.result.status().code(), absl::StatusCode::kAborted)
      << stale.job.result.status();
  EXPECT_EQ(half.job.result.status().code(),
            absl::StatusCode::kFailedPrecondition)
      << half.job.result.status();

  // 201 kept its first revision; 205 has no report at all.
  absl::StatusOr<Report> kept = store_->GetReport(201, 202007);
  ASSERT_TRUE(kept.ok()) << kept.status();
  EXPECT_EQ(kept->revision(), 1);
  EXPECT_EQ(store_->GetReport(205, 202007).status().code(),
            absl::StatusCode::kNotFound);
  EXPECT_EQ(Scalar("SELECT COUNT(*) FROM reports WHERE partner_id = 205"), 0);
  EXPECT_EQ(Scalar("SELECT COUNT(*) FROM " CELLS_OF_REPORTS
                   " WHERE r.partner_id = 205"),
            0);
  EXPECT_EQ(Scalar("SELECT SUM(counted) FROM report_counts WHERE period = "
                   "202007"),
            3);  // 201, 202, 204
  EXPECT_EQ(Scalar("SELECT value FROM rollup_nationality WHERE period = "
                   "202007 AND measure = " +
                   std::to_string(kNewPatients) + " AND nationality = 'VN'"),
            1 + 2 + 4);
  ExpectCountsExact();
}

TEST_F(SubmitGroupTest, TwinsInOneGroupMakeOneReport) {
  // A retry that arrives while its original waits: same caller, same
  // request_id, in the same group.
  Caller original({Make(301, "2020-07", 3, "", "july-301")});
  Caller retry({Make(301, "2020-07", 3, "", "july-301")});
  store_->SubmitGroup({&original.job, &retry.job});
  ASSERT_TRUE(original.job.result.ok()) << original.job.result.status();
  ASSERT_TRUE(retry.job.result.ok()) << retry.job.result.status();
  EXPECT_EQ(retry.job.result->front().report().etag(),
            original.job.result->front().report().etag());
  EXPECT_TRUE(retry.job.result->front().summary().unchanged());
  EXPECT_EQ(Scalar("SELECT revision FROM reports WHERE partner_id = 301"), 1);
  EXPECT_EQ(Scalar("SELECT SUM(counted) FROM report_counts WHERE period = "
                   "202007"),
            1);
  ExpectCountsExact();
}

TEST_F(SubmitGroupTest, RollupRowIsWrittenWhenContributorsCancelButSumsDoNot) {
  // Two contributors cancel out in a row (401 leaves, 402 joins) while
  // their partner sums do not (- 401 + 402): the merged row must still be
  // written, to 401 - 401 + 402.
  Caller a({Make(401, "2020-07", 2)});
  store_->SubmitGroup({&a.job});
  ASSERT_TRUE(a.job.result.ok());
  Submission gone = Make(401, "2020-07", 2);
  gone.etag = a.job.result->front().report().etag();
  gone.cells.clear();
  gone.report.clear_new_patients();
  gone.report.clear_visits();
  gone.report.set_no_activity(true);
  Caller correction({gone});
  Caller newcomer({Make(402, "2020-07", 2)});
  store_->SubmitGroup({&correction.job, &newcomer.job});
  ASSERT_TRUE(correction.job.result.ok()) << correction.job.result.status();
  ASSERT_TRUE(newcomer.job.result.ok()) << newcomer.job.result.status();
  EXPECT_EQ(Scalar("SELECT partner_sum FROM rollup_nationality WHERE period = "
                   "202007 AND measure = " +
                   std::to_string(kNewPatients) + " AND nationality = 'VN'"),
            402);
  ExpectCountsExact();
}

TEST_F(SubmitGroupTest, ConcurrentCallersShareTransactionsAndStayExact) {
  constexpr int kThreads = 16;
  constexpr int kEach = 8;
  std::atomic<int> failed{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kEach; ++i) {
        const int64_t partner = 1000 + t * kEach + i;
        absl::StatusOr<std::vector<v1::SubmitReportResponse>> done =
            store_->Submit({Make(partner, "2020-07", 1 + i % 3)},
                           /*dry_run=*/false);
        if (!done.ok()) {
          ADD_FAILURE() << partner << ": " << done.status();
          failed.fetch_add(1);
        }
      }
    });
  }
  for (std::thread& t : threads) t.join();
  EXPECT_EQ(failed.load(), 0);
  EXPECT_EQ(Scalar("SELECT SUM(counted) FROM report_counts WHERE period = "
                   "202007"),
            kThreads * kEach);
  // Callers that arrived while a group ran shared the next one. (Timing:
  // it would take 128 transactions, each shorter than a thread's next
  // arrival, to fail this.)
  EXPECT_LT(store_->submit_groups_run(), kThreads * kEach);
  ExpectCountsExact();
}

TEST_F(SubmitGroupTest, ALargeImportRunsBesideTheGroupsAndZeroTurnsThemOff) {
  StoreOptions options;
  options.max_group_cells = 5;  // each report here has 2 cells
  store_ = std::make_unique<StatsStore>(database_.get(), &clock_, options);
  absl::StatusOr<std::vector<v1::SubmitReportResponse>> large =
      store_->Submit({Make(501, "2020-07", 1), Make(502, "2020-07", 1),
                      Make(503, "2020-07", 1)},
                     /*dry_run=*/false);
  ASSERT_TRUE(large.ok()) << large.status();
  EXPECT_EQ(large->size(), 3u);
  EXPECT_EQ(store_->submit_groups_run(), 0);  // not through the queue
  ASSERT_TRUE(
      store_->Submit({Make(504, "2020-07", 1)}, /*dry_run=*/false).ok());
  EXPECT_EQ(store_->submit_groups_run(), 1);

  options.max_group_cells = 0;
  store_ = std::make_unique<StatsStore>(database_.get(), &clock_, options);
  ASSERT_TRUE(
      store_->Submit({Make(505, "2020-07", 1)}, /*dry_run=*/false).ok());
  EXPECT_EQ(store_->submit_groups_run(), 0);
  EXPECT_EQ(Scalar("SELECT SUM(counted) FROM report_counts WHERE period = "
                   "202007"),
            5);
  ExpectCountsExact();
}

TEST_F(SubmitGroupTest, ACallerStuckOnALockDoesNotHoldUpItsGroup) {
  Caller earlier({Make(601, "2020-07", 1)});
  store_->SubmitGroup({&earlier.job});
  ASSERT_TRUE(earlier.job.result.ok()) << earlier.job.result.status();

  // Another transaction holds 601's report row until it sees 600's report
  // committed (or gives up after 20 s): the group must commit 600 and 602
  // while 601 waits, then run 601 alone.
  absl::Notification locked;
  std::atomic<bool> saw_others{false};
  std::thread holder([&] {
    absl::Status held = database_->Transact(
        [&](Session& s) -> absl::Status {
          auto row = s.Query(
              "SELECT id FROM reports WHERE partner_id = 601 FOR UPDATE", {});
          if (!row.ok()) return row.status();
          locked.Notify();
          const absl::Time give_up = absl::Now() + absl::Seconds(20);
          while (!saw_others && absl::Now() < give_up) {
            absl::SleepFor(absl::Milliseconds(50));
            saw_others = Scalar(
                             "SELECT COUNT(*) FROM reports WHERE partner_id "
                             "IN (600, 602)") == 2;
          }
          return absl::OkStatus();
        },
        Database::Isolation::kReadCommitted);  // no gap locks beside 601
    EXPECT_TRUE(held.ok()) << held;
    if (!locked.HasBeenNotified()) locked.Notify();
  });
  locked.WaitForNotification();
  Caller before({Make(600, "2020-07", 2)});
  Caller stuck(
      {Make(601, "2020-07", 3, earlier.job.result->front().report().etag())});
  Caller after({Make(602, "2020-07", 4)});
  store_->SubmitGroup({&before.job, &stuck.job, &after.job});
  holder.join();

  EXPECT_TRUE(saw_others.load());
  EXPECT_TRUE(before.job.result.ok()) << before.job.result.status();
  EXPECT_TRUE(after.job.result.ok()) << after.job.result.status();
  ASSERT_TRUE(stuck.job.result.ok()) << stuck.job.result.status();
  EXPECT_EQ(stuck.job.result->front().report().revision(), 2);
  ExpectCountsExact();
}

TEST_F(SubmitGroupTest, ATwinCommittedElsewhereWhileTheGroupRunsIsReplayed) {
  // 701 reported; its correction is sent twice (a client's retry), and the
  // first copy is committed by another stats process while this group,
  // which already read for 700, waits for 701's row.
  Caller earlier({Make(701, "2020-07", 1)});
  store_->SubmitGroup({&earlier.job});
  ASSERT_TRUE(earlier.job.result.ok()) << earlier.job.result.status();
  const std::string etag = earlier.job.result->front().report().etag();
  Submission correction = Make(701, "2020-07", 5, etag, "fix-701");

  v1::SubmitReportResponse first_answer;
  first_answer.mutable_report()->set_partner_id(701);
  first_answer.mutable_report()->set_etag("\"2\"");
  absl::Notification locked;
  std::thread elsewhere([&] {
    absl::Status done = database_->Transact(
        [&](Session& s) -> absl::Status {
          auto row = s.Query(
              "SELECT id FROM reports WHERE partner_id = 701 FOR UPDATE", {});
          if (!row.ok()) return row.status();
          locked.Notify();
          absl::SleepFor(absl::Milliseconds(500));  // the group reads meanwhile
          auto bumped = s.Execute(
              "UPDATE reports SET revision = 2 WHERE partner_id = 701", {});
          if (!bumped.ok()) return bumped.status();
          return s
              .Execute(
                  "INSERT INTO request_keys (caller, method, request_id, "
                  "request_digest, result_id, response, create_us) VALUES "
                  "(?, ?, ?, ?, 0, ?, 1)",
                  {correction.actor, correction.method, correction.request_id,
                   correction.request_digest, first_answer.SerializeAsString()})
              .status();
        },
        Database::Isolation::kReadCommitted);  // no gap locks beside 701
    EXPECT_TRUE(done.ok()) << done;
    if (!locked.HasBeenNotified()) locked.Notify();
  });
  locked.WaitForNotification();
  Caller other({Make(700, "2020-07", 2, "", "july-700")});
  Caller retry({correction});
  store_->SubmitGroup({&other.job, &retry.job});
  elsewhere.join();

  EXPECT_TRUE(other.job.result.ok()) << other.job.result.status();
  // The first answer, replayed; not "etag is stale".
  ASSERT_TRUE(retry.job.result.ok()) << retry.job.result.status();
  EXPECT_EQ(retry.job.result->front().report().etag(), "\"2\"");
  EXPECT_EQ(Scalar("SELECT revision FROM reports WHERE partner_id = 701"), 2);
}

TEST_F(SubmitGroupTest, AFailedBatchInAGroupLeavesNoClaimAndADryRunNothing) {
  const RequestKey batch{"admin", "ImportReports", "file-1", "digest-1"};
  // The batch's second report is for a locked month: the whole batch
  // fails, its claim on file-1 with it; the caller beside it commits.
  Caller import({Make(801, "2020-07", 1), Make(801, "2020-06", 1)}, batch);
  Caller beside({Make(802, "2020-07", 2)});
  store_->SubmitGroup({&import.job, &beside.job});
  EXPECT_EQ(import.job.result.status().code(),
            absl::StatusCode::kFailedPrecondition)
      << import.job.result.status();
  EXPECT_TRUE(beside.job.result.ok()) << beside.job.result.status();
  EXPECT_EQ(Scalar("SELECT COUNT(*) FROM request_keys WHERE request_id = "
                   "'file-1'"),
            0);
  EXPECT_EQ(Scalar("SELECT COUNT(*) FROM reports WHERE partner_id = 801"), 0);

  // The file, fixed and sent again under the same key, goes through.
  Caller fixed({Make(801, "2020-07", 1)}, batch);
  store_->SubmitGroup({&fixed.job});
  ASSERT_TRUE(fixed.job.result.ok()) << fixed.job.result.status();

  // A dry run answers like a submission and leaves nothing behind.
  absl::StatusOr<std::vector<v1::SubmitReportResponse>> rehearsed =
      store_->Submit({Make(803, "2020-07", 3)}, /*dry_run=*/true);
  ASSERT_TRUE(rehearsed.ok()) << rehearsed.status();
  EXPECT_EQ(rehearsed->front().report().revision(), 1);
  EXPECT_EQ(Scalar("SELECT COUNT(*) FROM reports WHERE partner_id = 803"), 0);
  EXPECT_EQ(Scalar("SELECT SUM(counted) FROM report_counts WHERE period = "
                   "202007"),
            2);  // 802 and 801
  ExpectCountsExact();
}

TEST_F(SubmitGroupTest, ASecondCallerOfOneReportInAGroupSeesWhatTheFirstWrote) {
  // A group inserts its callers' new cells, audit entries and request keys
  // together at the end; a correction of a report created earlier in the
  // same group must still find (and change, and delete) its cells.
  Caller create({Make(901, "2020-07", 3, "", "create")});
  Submission fix = Make(901, "2020-07", 5, /*etag=*/"\"1\"", "fix");
  fix.report.clear_visits();
  fix.cells.erase(std::remove_if(fix.cells.begin(), fix.cells.end(),
                                 [](const Cell& c) {
                                   return c.measure != Measure::kNewPatients;
                                 }),
                  fix.cells.end());
  Caller correct({fix});
  store_->SubmitGroup({&create.job, &correct.job});
  ASSERT_TRUE(create.job.result.ok()) << create.job.result.status();
  ASSERT_TRUE(correct.job.result.ok()) << correct.job.result.status();
  EXPECT_EQ(correct.job.result->front().report().revision(), 2);

  // The new-patient cell changed to 5, the visit cell deleted.
  EXPECT_EQ(Scalar("SELECT COUNT(*) FROM " CELLS_OF_REPORTS
                   " WHERE r.partner_id = 901"),
            1);
  EXPECT_EQ(Scalar("SELECT c.value FROM " CELLS_OF_REPORTS
                   " WHERE r.partner_id = 901"),
            5);
  EXPECT_EQ(Text("SELECT GROUP_CONCAT(action ORDER BY id) FROM audit_events "
                 "WHERE entity_id = (SELECT id FROM reports WHERE partner_id = "
                 "901)"),
            "SUBMIT,CORRECT");
  EXPECT_EQ(Scalar("SELECT COUNT(*) FROM request_keys WHERE caller = "
                   "'partner:901'"),
            2);
  ExpectCountsExact();

  // Both keys answer their retries with their own first answers.
  Caller retry({Make(901, "2020-07", 3, "", "create")});
  store_->SubmitGroup({&retry.job});
  ASSERT_TRUE(retry.job.result.ok()) << retry.job.result.status();
  EXPECT_EQ(retry.job.result->front().report().revision(), 1);

  // The same within one caller: a report and its correction in one call.
  Submission fix_902 = Make(902, "2020-07", 5, /*etag=*/"\"1\"");
  fix_902.report.clear_visits();
  fix_902.cells = fix.cells;
  for (Cell& c : fix_902.cells) c.value = 5;
  Caller both({Make(902, "2020-07", 3), fix_902});
  store_->SubmitGroup({&both.job});
  ASSERT_TRUE(both.job.result.ok()) << both.job.result.status();
  EXPECT_EQ(Scalar("SELECT COUNT(*) FROM " CELLS_OF_REPORTS
                   " WHERE r.partner_id = 902"),
            1);
  EXPECT_EQ(Scalar("SELECT c.value FROM " CELLS_OF_REPORTS
                   " WHERE r.partner_id = 902"),
            5);
  ExpectCountsExact();
}

TEST_F(SubmitGroupTest,
       ACallerThatFailsAfterTheGroupWroteItsReportUndoesOnlyItself) {
  // The group writes 921's new rows before the correction of 911 runs (it
  // reads them); the correction then fails on its second report (June is
  // locked). Its undo must not take the creator's rows with it.
  Caller create({Make(921, "2020-07", 3, "", "create-921")});
  Caller fails(
      {Make(921, "2020-07", 5, /*etag=*/"\"1\""), Make(921, "2020-06", 5)});
  store_->SubmitGroup({&create.job, &fails.job});
  ASSERT_TRUE(create.job.result.ok()) << create.job.result.status();
  EXPECT_EQ(fails.job.result.status().code(),
            absl::StatusCode::kFailedPrecondition)
      << fails.job.result.status();
  EXPECT_EQ(Scalar("SELECT revision FROM reports WHERE partner_id = 921"), 1);
  EXPECT_EQ(Scalar("SELECT COUNT(*) FROM " CELLS_OF_REPORTS
                   " WHERE r.partner_id = 921 AND c.value = 3"),
            2);
  EXPECT_EQ(Scalar("SELECT COUNT(*) FROM audit_events WHERE entity_id = "
                   "(SELECT id FROM reports WHERE partner_id = 921)"),
            1);
  EXPECT_EQ(Scalar("SELECT COUNT(*) FROM request_keys WHERE request_id = "
                   "'create-921'"),
            1);
  ExpectCountsExact();
}

TEST_F(SubmitGroupTest, AKeyReusedForAnotherReportInOneGroupIsRefused) {
  Caller first({Make(911, "2020-07", 1, "", "same-id")});
  Submission other = Make(912, "2020-07", 2, "", "same-id");
  other.actor = "partner:911";  // the same caller, another report
  Caller reused({other});
  store_->SubmitGroup({&first.job, &reused.job});
  ASSERT_TRUE(first.job.result.ok()) << first.job.result.status();
  EXPECT_EQ(reused.job.result.status().code(),
            absl::StatusCode::kInvalidArgument)
      << reused.job.result.status();
  EXPECT_TRUE(
      absl::StrContains(reused.job.result.status().message(), "request_id"))
      << reused.job.result.status();
  EXPECT_EQ(Scalar("SELECT COUNT(*) FROM reports WHERE partner_id = 912"), 0);
  EXPECT_EQ(Scalar("SELECT COUNT(*) FROM request_keys WHERE request_id = "
                   "'same-id'"),
            1);
  // Refused when it looked its key up, as alone: not by the group's
  // insert of two equal keys, which would have split the group.
  EXPECT_EQ(store_->submit_groups_split(), 0);
  ExpectCountsExact();
}

TEST_F(SubmitGroupTest, AKeyRecordedElsewhereBeforeTheGroupsInsertSplitsIt) {
  // Another stats process records 942's key (a twin that went there) after
  // this group looked it up and before the group inserts its keys: the
  // group's insert waits for that transaction, then finds the key taken.
  Submission twin = Make(942, "2020-07", 2, "", "raced-942");
  v1::SubmitReportResponse first_answer;
  first_answer.mutable_report()->set_partner_id(942);
  first_answer.mutable_report()->set_etag("\"9\"");
  absl::Notification inserted;
  std::atomic<bool> saw_wait{false};
  std::thread elsewhere([&] {
    absl::Status done = database_->Transact(
        [&](Session& s) -> absl::Status {
          auto claimed = s.Execute(
              "INSERT INTO request_keys (caller, method, request_id, "
              "request_digest, result_id, response, create_us) VALUES "
              "(?, ?, ?, ?, 0, ?, 1)",
              {twin.actor, twin.method, twin.request_id, twin.request_digest,
               first_answer.SerializeAsString()});
          if (!claimed.ok()) return claimed.status();
          inserted.Notify();
          const absl::Time give_up = absl::Now() + absl::Seconds(20);
          while (!saw_wait && absl::Now() < give_up) {
            absl::SleepFor(absl::Milliseconds(20));
            // The group's insert of its keys, waiting for this row (the
            // service's user sees its own connections).
            saw_wait = Scalar(
                           "SELECT COUNT(*) FROM information_schema."
                           "PROCESSLIST WHERE INFO LIKE 'INSERT INTO "
                           "request_keys%' AND ID <> CONNECTION_ID()") > 0;
          }
          return absl::OkStatus();
        },
        Database::Isolation::kReadCommitted);
    EXPECT_TRUE(done.ok()) << done;
    if (!inserted.HasBeenNotified()) inserted.Notify();
  });
  inserted.WaitForNotification();
  Caller other({Make(941, "2020-07", 1, "", "k-941")});
  Caller raced({twin});
  store_->SubmitGroup({&other.job, &raced.job});
  elsewhere.join();

  EXPECT_TRUE(saw_wait.load());
  EXPECT_EQ(store_->submit_groups_split(), 1);
  ASSERT_TRUE(other.job.result.ok()) << other.job.result.status();
  // The twin's answer, replayed when 942 ran again alone.
  ASSERT_TRUE(raced.job.result.ok()) << raced.job.result.status();
  EXPECT_EQ(raced.job.result->front().report().etag(), "\"9\"");
  EXPECT_EQ(Scalar("SELECT COUNT(*) FROM reports WHERE partner_id = 942"), 0);
  EXPECT_EQ(Scalar("SELECT COUNT(*) FROM reports WHERE partner_id = 941"), 1);
  ExpectCountsExact();
}

TEST_F(SubmitGroupTest, AnImportWritesItsQueueAsItGoesAndUndoesItOnFailure) {
  StoreOptions options;
  options.max_queued_rows = 3;  // each report queues 2 cells, audit, key
  store_ = std::make_unique<StatsStore>(database_.get(), &clock_, options);
  const RequestKey batch{"admin", "ImportReports", "file-95", "digest-95"};
  auto reports = [](bool with_june) {
    std::vector<Submission> s = {Make(951, "2020-07", 1, "", "r951"),
                                 Make(952, "2020-07", 2, "", "r952"),
                                 Make(953, "2020-07", 3, "", "r953")};
    if (with_june) s.push_back(Make(953, "2020-06", 1));  // locked
    return s;
  };
  // Its last report fails after the first three were written: all undone,
  // the caller beside it committed.
  Caller failing(reports(/*with_june=*/true), batch);
  Caller beside({Make(954, "2020-07", 4)});
  store_->SubmitGroup({&failing.job, &beside.job});
  EXPECT_EQ(failing.job.result.status().code(),
            absl::StatusCode::kFailedPrecondition)
      << failing.job.result.status();
  ASSERT_TRUE(beside.job.result.ok()) << beside.job.result.status();
  EXPECT_EQ(Scalar("SELECT COUNT(*) FROM " CELLS_OF_REPORTS
                   " WHERE r.partner_id BETWEEN 951 AND 953"),
            0);
  EXPECT_EQ(Scalar("SELECT COUNT(*) FROM request_keys WHERE request_id LIKE "
                   "'r95%'"),
            0);
  EXPECT_EQ(Scalar("SELECT COUNT(*) FROM reports WHERE partner_id BETWEEN "
                   "951 AND 953"),
            0);

  // Without June, every row of every report is there.
  Caller fixed(reports(/*with_june=*/false), batch);
  store_->SubmitGroup({&fixed.job});
  ASSERT_TRUE(fixed.job.result.ok()) << fixed.job.result.status();
  EXPECT_EQ(Scalar("SELECT COUNT(*) FROM " CELLS_OF_REPORTS
                   " WHERE r.partner_id BETWEEN 951 AND 953"),
            6);
  EXPECT_EQ(Scalar("SELECT COUNT(*) FROM request_keys WHERE request_id LIKE "
                   "'r95%'"),
            3);
  EXPECT_EQ(Scalar("SELECT COUNT(*) FROM audit_events WHERE actor LIKE "
                   "'partner:95%'"),
            4);  // 951, 952, 953 and 954 beside
  ExpectCountsExact();
}

TEST_F(SubmitGroupTest, RowsLargerThanAPacketTogetherGoInSeveralStatements) {
  // A group's audit entries and recorded answers carry whole reports: 40
  // rows of a sixteenth of max_allowed_packet each would be refused by the
  // server in statements of 32.
  const int64_t packet = Scalar("SELECT @@max_allowed_packet");
  ASSERT_GT(packet, 0);
  AuditEntry entry{"report",
                   1,
                   "SUBMIT",
                   "test",
                   kToday,
                   "",
                   std::string(static_cast<size_t>(packet / 16 + 1), 'x'),
                   {}};
  const std::vector<std::vector<SqlValue>> rows(40, AuditRowValues(entry));
  ASSERT_TRUE(database_
                  ->Transact([&](Session& session) {
                    return InsertBatched(session, kAuditInsertHead,
                                         kAuditRowPlaceholders, "", rows);
                  })
                  .ok());
  EXPECT_EQ(Scalar("SELECT COUNT(*) FROM audit_events WHERE actor = 'test'"),
            40);
}

// Since release 0.23 SQL aggregates a report's cells from reports.cells_json.
// A replica of an older release saves a report without it, or corrects one
// and leaves the document of the cells before: RepairCellsJson (start-up,
// RebuildRollups) writes it from the row's own cells, and until then the
// rollup check tells the difference.
TEST_F(SubmitGroupTest, RepairCellsJsonWritesWhatAnOlderReleaseLeftOut) {
  Caller saved({Make(971, "2020-07", 3)});
  Caller corrected({Make(972, "2020-07", 4)});
  Caller current({Make(973, "2020-07", 5)});
  store_->SubmitGroup({&saved.job, &corrected.job, &current.job});
  ASSERT_TRUE(saved.job.result.ok()) << saved.job.result.status();
  ASSERT_TRUE(corrected.job.result.ok()) << corrected.job.result.status();
  ASSERT_TRUE(current.job.result.ok()) << current.job.result.status();
  ExpectCountsExact();
  ASSERT_TRUE(database_
                  ->Run([](Session& s) -> absl::Status {
                    for (const char* sql :
                         {"UPDATE reports SET cells_json = NULL WHERE "
                          "partner_id = 971",
                          "UPDATE reports SET digest = 'by-an-older-release', "
                          "cells_json = REPLACE(cells_json, '\"v\":4', "
                          "'\"v\":40') WHERE partner_id = 972"}) {
                      SMZ_RETURN_IF_ERROR(s.Execute(sql, {}).status());
                    }
                    return absl::OkStatus();
                  })
                  .ok());
  absl::StatusOr<int64_t> mismatches = store_->CountRollupMismatches();
  ASSERT_TRUE(mismatches.ok()) << mismatches.status();
  EXPECT_GT(*mismatches, 0);

  // Both found: the row without a document, and the one whose document is
  // for other cells than its digest says; 973's is its row's, left alone.
  absl::StatusOr<int64_t> repaired = store_->RepairCellsJson();
  ASSERT_TRUE(repaired.ok()) << repaired.status();
  EXPECT_EQ(*repaired, 2);
  repaired = store_->RepairCellsJson();
  ASSERT_TRUE(repaired.ok()) << repaired.status();
  EXPECT_EQ(*repaired, 0);
  ExpectCountsExact();
  // 4 new patients and 4 visits, from the row's cells.
  EXPECT_EQ(Scalar("SELECT SUM(c.value) FROM " CELLS_OF_REPORTS
                   " WHERE r.partner_id = 972"),
            8);
  EXPECT_EQ(Text("SELECT JSON_VALUE(cells_json, '$.digest') FROM reports "
                 "WHERE partner_id = 972"),
            "by-an-older-release");
}

// Past one batch of RepairCellsJson: a database an older release filled
// has many rows without a document.
TEST_F(SubmitGroupTest, RepairCellsJsonGoesThroughEveryBatch) {
  const std::string cells = CellsBlob(Make(1, "2020-07", 3).cells);
  ASSERT_TRUE(database_
                  ->Run([&](Session& s) {
                    // 1,234 reports as 0.22 saved them: `cells`, no
                    // document.
                    return s
                        .Execute(
                            "INSERT INTO reports (partner_id, period, status, "
                            "no_activity, revision, digest, partner_kind, "
                            "region, first_submit_time_us, update_time_us, "
                            "submitted_by, late, cells) SELECT 5000 + seq, "
                            "202001, 2, 0, 1, 'd', 1, 1, 0, 0, 'old', 0, ? "
                            "FROM seq_1_to_1234",
                            {cells})
                        .status();
                  })
                  .ok());
  absl::StatusOr<int64_t> repaired = store_->RepairCellsJson();
  ASSERT_TRUE(repaired.ok()) << repaired.status();
  EXPECT_EQ(*repaired, 1234);
  repaired = store_->RepairCellsJson();
  ASSERT_TRUE(repaired.ok()) << repaired.status();
  EXPECT_EQ(*repaired, 0);
  // 3 new patients and 3 visits each.
  EXPECT_EQ(Scalar("SELECT SUM(c.value) FROM " CELLS_OF_REPORTS
                   " WHERE r.partner_id > 5000"),
            1234 * 6);
}

// A partner's own figures come from the report rows' cells: a revenue
// wider than 32 bits (the largest a report may carry, kMaxRevenueKrw), and
// a correction, an UPDATE of the row, that drops a cell (the revenue) and
// one that brings it back.
TEST_F(SubmitGroupTest, FiguresByPartnerAreTheReportsCells) {
  Submission rich = Make(981, "2020-07", 2);
  rich.report.set_revenue_krw(1'000'000'000'000);
  ReportContext context;
  context.current_month = absl::CivilMonth(2020, 8);
  context.designated_since = absl::CivilMonth(2019, 1);
  FieldViolations violations;
  rich.cells = CanonicalCells(rich.report, context, &violations);
  ASSERT_TRUE(violations.empty()) << violations.ToStatus();
  Caller first({rich});
  store_->SubmitGroup({&first.job});
  ASSERT_TRUE(first.job.result.ok()) << first.job.result.status();
  // The correction: other counts, no revenue any more.
  Caller second({Make(981, "2020-07", 6, /*etag=*/"\"1\"")});
  store_->SubmitGroup({&second.job});
  ASSERT_TRUE(second.job.result.ok()) << second.job.result.status();

  AggregateQuery query;
  query.start_period = 202007;
  query.end_period = 202007;
  query.group_by = {v1::PARTNER};
  query.filter.add_partner_ids(981);
  absl::StatusOr<AggregateResult> result = store_->Aggregate(query);
  ASSERT_TRUE(result.ok()) << result.status();
  ASSERT_EQ(result->groups.size(), 1u);
  EXPECT_EQ(result->groups[0].partner_id, 981);
  EXPECT_EQ(result->groups[0].new_patients.value, 6);
  EXPECT_EQ(result->groups[0].visits.value, 6);
  EXPECT_FALSE(result->groups[0].revenue.present);
  ExpectCountsExact();

  // The revenue back, whole.
  rich.etag = "\"2\"";
  Caller third({rich});
  store_->SubmitGroup({&third.job});
  ASSERT_TRUE(third.job.result.ok()) << third.job.result.status();
  result = store_->Aggregate(query);
  ASSERT_TRUE(result.ok()) << result.status();
  ASSERT_EQ(result->groups.size(), 1u);
  EXPECT_EQ(result->groups[0].revenue.value, 1'000'000'000'000);
  EXPECT_EQ(result->groups[0].visits.value, 2);
  ExpectCountsExact();
}

}  // namespace
}  // namespace smz::stats

namespace smz::stats {
namespace {

// Figures by nationality for July 2020, as the council reads them.
absl::StatusOr<AggregateResult> JulyByNationality(StatsStore& store) {
  AggregateQuery query;
  query.start_period = 202007;
  query.end_period = 202007;
  query.group_by = {v1::NATIONALITY};
  return store.Aggregate(query);
}

TEST_F(SubmitGroupTest, AGroupLeavesOneCountDeltaThatTheNextReaderFolds) {
  StoreOptions no_folder;
  no_folder.fold_after_groups = 0;
  store_.reset();
  store_ = std::make_unique<StatsStore>(database_.get(), &clock_, no_folder);
  std::vector<std::unique_ptr<Caller>> callers;
  std::vector<StatsStore::SubmitJob*> jobs;
  for (int i = 0; i < 3; ++i) {
    callers.push_back(
        std::make_unique<Caller>(std::vector{Make(201 + i, "2020-07", 2)}));
    jobs.push_back(&callers.back()->job);
  }
  store_->SubmitGroup(jobs);
  for (const auto& caller : callers) {
    ASSERT_TRUE(caller->job.result.ok()) << caller->job.result.status();
  }
  // The group wrote one row of its own, not the month's shared rows.
  EXPECT_EQ(Unfolded("SELECT COUNT(*) FROM count_deltas"), 1);
  EXPECT_EQ(Unfolded("SELECT COUNT(*) FROM rollup_nationality"), 0);
  EXPECT_EQ(Unfolded("SELECT COUNT(*) FROM report_counts"), 0);

  // Counted at once all the same: the reader folds first.
  absl::StatusOr<AggregateResult> july = JulyByNationality(*store_);
  ASSERT_TRUE(july.ok()) << july.status();
  ASSERT_EQ(july->groups.size(), 1u);
  EXPECT_EQ(july->groups[0].nationality, "VN");
  EXPECT_EQ(july->groups[0].new_patients.value, 6);
  EXPECT_EQ(july->groups[0].new_patients.contributors, 3);
  EXPECT_EQ(Unfolded("SELECT COUNT(*) FROM count_deltas"), 0);
  absl::StatusOr<std::map<int, int>> counted =
      store_->CountCountedReports(202007, 202007);
  ASSERT_TRUE(counted.ok()) << counted.status();
  EXPECT_EQ(counted->at(202007), 3);
  EXPECT_EQ(store_->count_delta_folds(), 1);

  // A correction is a delta too: 2 -> 5 for one hospital.
  Caller correction({Make(201, "2020-07", 5, /*etag=*/"\"1\"")});
  store_->SubmitGroup({&correction.job});
  ASSERT_TRUE(correction.job.result.ok()) << correction.job.result.status();
  EXPECT_EQ(Unfolded("SELECT COUNT(*) FROM count_deltas"), 1);
  absl::StatusOr<GroupReporters> reporters =
      store_->ReportersByGroup(202007, 202007);
  ASSERT_TRUE(reporters.ok()) << reporters.status();
  EXPECT_EQ(reporters->active.at({202007, 1, 1}), 3);
  EXPECT_EQ(Unfolded("SELECT COUNT(*) FROM count_deltas"), 0);
  july = JulyByNationality(*store_);
  ASSERT_TRUE(july.ok()) << july.status();
  EXPECT_EQ(july->groups[0].new_patients.value, 9);
  ExpectCountsExact();
}

TEST_F(SubmitGroupTest, AFoldTransactionTakesTheRowsThatFitItsByteBudget) {
  StoreOptions no_folder;
  no_folder.fold_after_groups = 0;
  store_.reset();
  store_ = std::make_unique<StatsStore>(database_.get(), &clock_, no_folder);
  for (int i = 0; i < 3; ++i) {
    Caller caller({Make(201 + i, "2020-07", 2)});
    store_->SubmitGroup({&caller.job});
    ASSERT_TRUE(caller.job.result.ok()) << caller.job.result.status();
  }
  EXPECT_EQ(Unfolded("SELECT COUNT(*) FROM count_deltas"), 3);
  // Each row carries its own size, which the fold reads instead of the
  // blob's.
  EXPECT_EQ(Unfolded("SELECT COUNT(*) FROM count_deltas WHERE deltas_bytes "
                     "= LENGTH(deltas) AND deltas_bytes > 0"),
            3);

  // A budget of the first two rows: one transaction takes those two, the
  // next the third (with no budget, the first test's reader takes all in
  // one).
  StoreOptions budget = no_folder;
  budget.fold_max_bytes = Unfolded(
      "SELECT SUM(deltas_bytes) FROM (SELECT deltas_bytes FROM count_deltas "
      "ORDER BY id LIMIT 2) AS first_two");
  store_.reset();
  store_ = std::make_unique<StatsStore>(database_.get(), &clock_, budget);
  absl::StatusOr<AggregateResult> july = JulyByNationality(*store_);
  ASSERT_TRUE(july.ok()) << july.status();
  ASSERT_EQ(july->groups.size(), 1u);
  EXPECT_EQ(july->groups[0].new_patients.value, 6);
  EXPECT_EQ(july->groups[0].new_patients.contributors, 3);
  EXPECT_EQ(store_->count_delta_folds(), 2);
  EXPECT_EQ(Unfolded("SELECT COUNT(*) FROM count_deltas"), 0);
  ExpectCountsExact();
}

TEST_F(SubmitGroupTest, TheFolderFoldsOnceEnoughGroupsCommitted) {
  StoreOptions options;
  options.fold_after_groups = 2;
  store_.reset();
  store_ = std::make_unique<StatsStore>(database_.get(), &clock_, options);
  for (int i = 0; i < 2; ++i) {
    ASSERT_TRUE(
        store_->Submit({Make(301 + i, "2020-07", 4)}, /*dry_run=*/false).ok());
  }
  // No reader asks: the folder thread alone empties count_deltas. (Polled:
  // it runs on its own thread; a folder that never ran fails here after
  // 30 s.)
  const absl::Time give_up = absl::Now() + absl::Seconds(30);
  while (Unfolded("SELECT COUNT(*) FROM count_deltas") > 0 &&
         absl::Now() < give_up) {
    absl::SleepFor(absl::Milliseconds(10));
  }
  EXPECT_EQ(Unfolded("SELECT COUNT(*) FROM count_deltas"), 0);
  EXPECT_EQ(Unfolded("SELECT value FROM rollup_nationality WHERE period = "
                     "202007 AND measure = " +
                     std::to_string(kNewPatients) + " AND nationality = 'VN'"),
            8);
  EXPECT_GE(store_->count_delta_folds(), 1);
  ExpectCountsExact();
}

TEST_F(SubmitGroupTest, FoldsAndSubmissionsAtOnceCountEveryGroupOnce) {
  constexpr int kSubmitters = 8;
  constexpr int kEach = 12;
  std::atomic<bool> submitting{true};
  std::atomic<int> failed{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kSubmitters; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kEach; ++i) {
        const int64_t partner = 2000 + t * kEach + i;
        absl::StatusOr<std::vector<v1::SubmitReportResponse>> done =
            store_->Submit({Make(partner, "2020-07", 1 + i % 4)},
                           /*dry_run=*/false);
        if (!done.ok()) {
          ADD_FAILURE() << partner << ": " << done.status();
          failed.fetch_add(1);
        }
        // A correction of the first, so that deltas also take away.
        if (i == 1) {
          done = store_->Submit(
              {Make(2000 + t * kEach, "2020-07", 7, /*etag=*/"\"1\"")},
              /*dry_run=*/false);
          if (!done.ok()) {
            ADD_FAILURE() << "correction: " << done.status();
            failed.fetch_add(1);
          }
        }
      }
    });
  }
  // Readers folding all along, two at once.
  std::vector<std::thread> folders;
  for (int f = 0; f < 2; ++f) {
    folders.emplace_back([&] {
      while (submitting.load()) {
        absl::Status folded = store_->FoldCountDeltas();
        if (!folded.ok()) {
          ADD_FAILURE() << folded;
          return;
        }
      }
    });
  }
  for (std::thread& t : threads) t.join();
  submitting.store(false);
  for (std::thread& t : folders) t.join();
  EXPECT_EQ(failed.load(), 0);
  EXPECT_EQ(Scalar("SELECT SUM(counted) FROM report_counts WHERE period = "
                   "202007"),
            kSubmitters * kEach);
  int64_t expected = 0;
  for (int t = 0; t < kSubmitters; ++t) {
    for (int i = 0; i < kEach; ++i) expected += i == 0 ? 7 : 1 + i % 4;
  }
  EXPECT_EQ(Scalar("SELECT value FROM rollup_nationality WHERE period = "
                   "202007 AND measure = " +
                   std::to_string(kNewPatients) + " AND nationality = 'VN'"),
            expected);
  EXPECT_EQ(Unfolded("SELECT COUNT(*) FROM count_deltas"), 0);
  ExpectCountsExact();
}

TEST_F(SubmitGroupTest, ADamagedCountDeltaFailsReadsUntilTheRollupsAreRebuilt) {
  Caller caller({Make(401, "2020-07", 3)});
  store_->SubmitGroup({&caller.job});
  ASSERT_TRUE(caller.job.result.ok()) << caller.job.result.status();
  ASSERT_TRUE(database_
                  ->Transact([](Session& session) {
                    return session
                        .Execute(
                            "INSERT INTO count_deltas (deltas) VALUES (?)",
                            {std::string("\xff\xff\xff not a message", 18)})
                        .status();
                  })
                  .ok());
  // Nothing is added from the damaged row, nor from the good one before it
  // (one transaction): figures that leave a group out are not shown.
  absl::StatusOr<AggregateResult> july = JulyByNationality(*store_);
  EXPECT_EQ(july.status().code(), absl::StatusCode::kDataLoss) << july.status();
  EXPECT_TRUE(absl::StrContains(july.status().message(), "rebuilt"))
      << july.status();
  EXPECT_EQ(store_->CountCountedReports(202007, 202007).status().code(),
            absl::StatusCode::kDataLoss);
  EXPECT_EQ(Unfolded("SELECT COUNT(*) FROM count_deltas"), 2);

  // The worker's pass: folding fails, so the rollups are recomputed from
  // the reports themselves, and the deltas dropped.
  absl::StatusOr<bool> rebuilt = store_->FoldCountDeltasOrRebuild();
  ASSERT_TRUE(rebuilt.ok()) << rebuilt.status();
  EXPECT_TRUE(*rebuilt);
  EXPECT_EQ(Unfolded("SELECT COUNT(*) FROM count_deltas"), 0);
  july = JulyByNationality(*store_);
  ASSERT_TRUE(july.ok()) << july.status();
  ASSERT_EQ(july->groups.size(), 1u);
  EXPECT_EQ(july->groups[0].new_patients.value, 3);
  ExpectCountsExact();
  // With nothing damaged, the pass only folds.
  rebuilt = store_->FoldCountDeltasOrRebuild();
  ASSERT_TRUE(rebuilt.ok()) << rebuilt.status();
  EXPECT_FALSE(*rebuilt);
}

TEST_F(SubmitGroupTest, AFoldTakesEveryDeltaBatchAfterBatch) {
  StoreOptions no_folder;
  no_folder.fold_after_groups = 0;
  store_.reset();
  store_ = std::make_unique<StatsStore>(database_.get(), &clock_, no_folder);
  // More groups than one fold transaction takes (256).
  constexpr int kGroups = 300;
  for (int i = 0; i < kGroups; ++i) {
    Caller caller({Make(5000 + i, "2020-07", 1 + i % 5)});
    store_->SubmitGroup({&caller.job});
    ASSERT_TRUE(caller.job.result.ok()) << caller.job.result.status();
  }
  ASSERT_EQ(Unfolded("SELECT COUNT(*) FROM count_deltas"), kGroups);
  const std::string stamp_before =
      Text("SELECT GROUP_CONCAT(version ORDER BY shard) FROM rollup_version");
  // The counters alone, read first: they fold too.
  absl::StatusOr<std::map<int, int>> counted =
      store_->CountCountedReports(202007, 202007);
  ASSERT_TRUE(counted.ok()) << counted.status();
  EXPECT_EQ(counted->at(202007), kGroups);
  EXPECT_EQ(store_->count_delta_folds(), 2);  // 256, then 44
  EXPECT_EQ(Unfolded("SELECT COUNT(*) FROM count_deltas"), 0);
  int64_t expected = 0;
  for (int i = 0; i < kGroups; ++i) expected += 1 + i % 5;
  EXPECT_EQ(Unfolded("SELECT value FROM rollup_nationality WHERE period = "
                     "202007 AND measure = " +
                     std::to_string(kNewPatients) + " AND nationality = 'VN'"),
            expected);
  // The fold moved the rollups' stamp: what a replica of the release before,
  // which does not fold, kept in memory is dropped.
  EXPECT_NE(
      Text("SELECT GROUP_CONCAT(version ORDER BY shard) FROM rollup_version"),
      stamp_before);
  ExpectCountsExact();
}

}  // namespace
}  // namespace smz::stats
