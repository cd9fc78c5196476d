// FreshnessFence against a real MariaDB: a write committed before a call is
// always in its answer, callers that arrive together share a query, and a
// database that is down is UNAVAILABLE, not a stale answer.
#include "common/mysql/freshness_fence.h"

#include <atomic>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"
#include "common/aip/idempotency.h"
#include "common/aip/request_key.h"
#include "common/aip/status_macros.h"
#include "common/clock.h"
#include "common/mysql/write_stamps.h"
#include "gtest/gtest.h"
#include "tests/harness/shared_mariadb_test.h"

namespace smz {
namespace {

// Adds one to the counter, commits, and returns the value committed.
absl::StatusOr<int64_t> Bump(Database& database) {
  return database.TransactFor<int64_t>(
      [](Session& s) -> absl::StatusOr<int64_t> {
        auto changed = s.Execute(
            "UPDATE stamp SET counter = counter + 1 WHERE id = 1", {});
        if (!changed.ok()) return changed.status();
        auto rows = s.Query("SELECT counter FROM stamp WHERE id = 1", {});
        if (!rows.ok()) return rows.status();
        return rows->front().Int(0);
      });
}

class FreshnessFenceTest : public testing::SharedMariaDbTest {
 protected:
  void SetUp() override {
    if (!mariadb().running()) {
      ASSERT_TRUE(mariadb().Restart().ok());
    }
    db_ = MigratedDatabase(
        "smz_fencetest",
        {{1,
          "a stamp",
          {"CREATE TABLE stamp (id TINYINT PRIMARY KEY, counter BIGINT NOT "
           "NULL)",
           "INSERT INTO stamp VALUES (1, 0)", kStampLeaseTableDdl,
           kStampLeaseSeedSql, kRequestKeysTableDdl}}});
    ASSERT_NE(db_, nullptr);
  }

  static int64_t Number(const absl::StatusOr<std::string>& stamp) {
    int64_t n = -1;
    EXPECT_TRUE(stamp.ok()) << stamp.status();
    if (stamp.ok()) {
      EXPECT_TRUE(absl::SimpleAtoi(*stamp, &n)) << *stamp;
    }
    return n;
  }

  std::unique_ptr<Database> db_;
};

TEST_F(FreshnessFenceTest, AWriteCommittedBeforeTheCallIsSeen) {
  FreshnessFence fence(db_.get(), "SELECT counter FROM stamp WHERE id = 1");
  EXPECT_EQ(Number(fence.Current()), 0);
  const absl::StatusOr<int64_t> written = Bump(*db_);
  ASSERT_TRUE(written.ok()) << written.status();
  EXPECT_EQ(Number(fence.Current()), *written);
}

// Database::StampWritesWith and the data_version table (write_stamps.h):
// every transaction that changed a row moves the stamp, in the same
// transaction; reads, failed and rehearsed transactions do not.
TEST_F(FreshnessFenceTest, EveryWritingTransactionMovesTheDataVersion) {
  std::unique_ptr<Database> db = MigratedDatabase(
      "smz_fencetest_stamps",
      {{1,
        "data and its stamps",
        {"CREATE TABLE items (id INT PRIMARY KEY, name VARCHAR(20))",
         kDataVersionTableDdl, kDataVersionSeedSql}}});
  ASSERT_NE(db, nullptr);
  db->StampWritesWith(kDataVersionStampSql);
  FreshnessFence fence(db.get(), kDataVersionReadSql);
  auto stamp = [&] {
    absl::StatusOr<std::string> current = fence.Current();
    EXPECT_TRUE(current.ok()) << current.status();
    EXPECT_FALSE(current->empty());
    return current.value_or("");
  };
  auto insert = [](int id) {
    return [id](Session& s) -> absl::Status {
      return s.Execute("INSERT INTO items VALUES (?, 'a')", {int64_t{id}})
          .status();
    };
  };
  std::string last = stamp();
  ASSERT_TRUE(db->Transact(insert(1)).ok());
  EXPECT_NE(stamp(), last) << "a committed insert";
  last = stamp();
  // Reads, and a write that changes nothing, leave it.
  ASSERT_TRUE(
      db->Transact([](Session& s) -> absl::Status {
          SMZ_RETURN_IF_ERROR(s.Query("SELECT * FROM items", {}).status());
          return s.Execute("UPDATE items SET name = 'a' WHERE id = 1", {})
              .status();
        }).ok());
  EXPECT_EQ(stamp(), last);
  // A transaction that fails after writing, and a rehearsal: rolled back,
  // stamp included.
  EXPECT_FALSE(db->Transact([&](Session& s) -> absl::Status {
                   SMZ_RETURN_IF_ERROR(insert(2)(s));
                   return absl::FailedPreconditionError("no");
                 }).ok());
  EXPECT_TRUE(db->Rehearse(insert(3)).ok());
  EXPECT_EQ(stamp(), last);
  // An update and a delete each move it.
  ASSERT_TRUE(db->Transact([](Session& s) -> absl::Status {
                  return s.Execute("UPDATE items SET name = 'b'", {}).status();
                }).ok());
  EXPECT_NE(stamp(), last);
  last = stamp();
  ASSERT_TRUE(db->Transact([](Session& s) -> absl::Status {
                  return s.Execute("DELETE FROM items", {}).status();
                }).ok());
  EXPECT_NE(stamp(), last);
}

// Many callers, each writing then asking: never an answer older than its
// own write, whatever the others' queries were doing.
TEST_F(FreshnessFenceTest, NoCallerGetsAnAnswerOlderThanItsOwnWrite) {
  Database readers(db_->options());
  FreshnessFence fence(&readers, "SELECT counter FROM stamp WHERE id = 1");
  std::atomic<int> stale{0};
  std::vector<std::thread> callers;
  for (int t = 0; t < 12; ++t) {
    callers.emplace_back([&] {
      Database writer(db_->options());
      for (int i = 0; i < 30; ++i) {
        const absl::StatusOr<int64_t> written = Bump(writer);
        absl::StatusOr<std::string> seen = fence.Current();
        int64_t n = -1;
        if (!written.ok() || !seen.ok() || !absl::SimpleAtoi(*seen, &n) ||
            n < *written) {
          ++stale;
        }
        // Reads alone too, so that callers meet a query in flight.
        for (int r = 0; r < 5; ++r) (void)fence.Current();
      }
    });
  }
  for (std::thread& caller : callers) caller.join();
  EXPECT_EQ(stale.load(), 0);
}

// Callers that arrive while a (slow) query runs share the next one.
TEST_F(FreshnessFenceTest, CallersArrivingTogetherShareAQuery) {
  FreshnessFence fence(
      db_.get(), "SELECT counter FROM stamp WHERE id = 1 AND SLEEP(0.2) = 0");
  std::vector<std::thread> callers;
  std::atomic<int> answered{0};
  for (int t = 0; t < 16; ++t) {
    callers.emplace_back([&] {
      if (fence.Current().ok()) ++answered;
    });
  }
  for (std::thread& caller : callers) caller.join();
  EXPECT_EQ(answered.load(), 16);
  // The first caller's query, then one for all who came during it (a slow
  // thread start may make a third).
  EXPECT_LE(fence.queries(), 3);
}

TEST_F(FreshnessFenceTest, ADatabaseDownIsUnavailableNotAnOldAnswer) {
  FreshnessFence fence(db_.get(), "SELECT counter FROM stamp WHERE id = 1");
  ASSERT_TRUE(fence.Current().ok());
  ASSERT_TRUE(mariadb().Stop().ok());
  absl::StatusOr<std::string> down = fence.Current();
  EXPECT_EQ(down.status().code(), absl::StatusCode::kUnavailable)
      << down.status();
  ASSERT_TRUE(mariadb().Restart().ok());
  EXPECT_TRUE(fence.Current().ok());
}

// The asynchronous form: an answer as new as a write committed before the
// call, delivered without the caller waiting.
TEST_F(FreshnessFenceTest, AsyncAnswersAreAsNewAsTheCall) {
  absl::Mutex mutex;
  std::vector<std::pair<int64_t, int64_t>> seen;  // (written, answered)
  int pending = 0;
  // Last: destroyed first, while what its continuations use still exists.
  FreshnessFence fence(db_.get(), "SELECT counter FROM stamp WHERE id = 1");
  for (int i = 0; i < 40; ++i) {
    const absl::StatusOr<int64_t> written = Bump(*db_);
    ASSERT_TRUE(written.ok()) << written.status();
    {
      absl::MutexLock lock(&mutex);
      ++pending;
    }
    fence.CurrentAsync(
        [&, written = *written](const absl::StatusOr<std::string>& stamp) {
          const int64_t n = Number(stamp);
          absl::MutexLock lock(&mutex);
          seen.emplace_back(written, n);
          --pending;
        });
    // Sync callers too: their queries answer waiting continuations.
    if (i % 3 == 0) (void)fence.Current();
  }
  absl::MutexLock lock(&mutex);
  ASSERT_TRUE(mutex.AwaitWithTimeout(
      absl::Condition(
          +[](int* pending) { return *pending == 0; }, &pending),
      absl::Seconds(30)));
  ASSERT_EQ(seen.size(), 40u);
  for (const auto& [written, answered] : seen) {
    EXPECT_GE(answered, written) << "an answer older than the call";
  }
}

// Continuations that arrive while a (slow) query runs share the next one,
// and nobody waits while they do.
TEST_F(FreshnessFenceTest, AsyncCallersShareQueriesAndDoNotWait) {
  absl::Notification all_answered;
  std::atomic<int> answered{0};
  std::atomic<int> failed{0};
  FreshnessFence fence(
      db_.get(), "SELECT counter FROM stamp WHERE id = 1 AND SLEEP(0.2) = 0");
  const absl::Time before = absl::Now();
  for (int i = 0; i < 16; ++i) {
    fence.CurrentAsync([&](const absl::StatusOr<std::string>& stamp) {
      if (!stamp.ok()) ++failed;
      if (++answered == 16) all_answered.Notify();
    });
  }
  EXPECT_LT(absl::Now() - before, absl::Milliseconds(150))
      << "CurrentAsync waited for a query";
  ASSERT_TRUE(all_answered.WaitForNotificationWithTimeout(absl::Seconds(10)));
  EXPECT_EQ(failed.load(), 0);
  // The first one's query, one more started at once for those that came
  // during it, and a third for any that came after that one started.
  EXPECT_LE(fence.queries(), 3);
}

// Leases (write_stamps.h), without a database: a query's stamp is
// answered without asking again until its lease, counted from the query's
// start, ends; a call past the lease's middle has it renewed in the
// background; an error is never leased.
TEST(LeasedFenceTest, AnswersFromTheLeaseUntilItEnds) {
  FakeClock clock(absl::FromUnixSeconds(1000));
  std::atomic<int> asked{0};
  std::atomic<bool> fail{false};
  FreshnessFence fence(
      [&]() -> absl::StatusOr<FreshnessFence::Leased> {
        const int n = ++asked;
        clock.Advance(absl::Milliseconds(2));  // the query takes a while
        if (fail) return absl::UnavailableError("down");
        return FreshnessFence::Leased{absl::StrCat("s", n),
                                      absl::Milliseconds(10)};
      },
      clock);
  EXPECT_EQ(fence.Current().value_or(""), "s1");
  // 8 ms left: 10 from the query's start, 2 of them spent in it.
  EXPECT_EQ(fence.LeaseLeft("s1"), absl::Milliseconds(8));
  EXPECT_EQ(fence.LeaseLeft("s0"), absl::ZeroDuration()) << "not its stamp";
  clock.Advance(absl::Milliseconds(2));  // 4 ms into the lease
  EXPECT_EQ(fence.Current().value_or(""), "s1");
  // The asynchronous form answers at once, on the caller's thread.
  bool answered_here = false;
  fence.CurrentAsync([&](const absl::StatusOr<std::string>& stamp) {
    answered_here = stamp.ok() && *stamp == "s1";
  });
  EXPECT_TRUE(answered_here);
  EXPECT_EQ(asked.load(), 1) << "renewed before the lease's middle";
  EXPECT_EQ(fence.leased_answers(), 2);
  // Past the middle: still answered from the lease, and renewed meanwhile.
  clock.Advance(absl::Milliseconds(2));
  EXPECT_EQ(fence.Current().value_or(""), "s1");
  for (int i = 0; i < 1000 && fence.queries() < 2; ++i) {
    absl::SleepFor(absl::Milliseconds(5));
  }
  ASSERT_EQ(fence.queries(), 2) << "the lease was not renewed";
  EXPECT_EQ(fence.Current().value_or(""), "s2");
  EXPECT_EQ(fence.LeaseLeft("s1"), absl::ZeroDuration());
  // The renewal's lease (from 6 ms, when it started, to 16 ms; it is now
  // 8) ends: the next call asks, and waits for the answer.
  clock.Advance(absl::Milliseconds(8));
  EXPECT_EQ(fence.Current().value_or(""), "s3");
  EXPECT_EQ(asked.load(), 3);
  // A failed query leases nothing: the next call asks again.
  clock.Advance(absl::Milliseconds(20));
  fail = true;
  EXPECT_FALSE(fence.Current().ok());
  EXPECT_EQ(fence.LeaseLeft("s3"), absl::ZeroDuration());
  fail = false;
  EXPECT_EQ(fence.Current().value_or(""), "s5");
  EXPECT_EQ(asked.load(), 5);
}

// A call that finds the lease just ended while its renewal runs is
// answered by that renewal, if the renewal's lease runs past the call's
// arrival (a write acknowledged before the call waited that lease out),
// rather than waiting for a query of its own.
TEST(LeasedFenceTest, ARenewalInFlightAnswersCallsItsLeaseCovers) {
  FakeClock clock(absl::FromUnixSeconds(1000));
  std::atomic<int> asked{0};
  absl::Notification release_second;
  absl::Notification release_third;
  FreshnessFence fence(
      [&]() -> absl::StatusOr<FreshnessFence::Leased> {
        const int n = ++asked;
        if (n == 2) release_second.WaitForNotification();
        if (n >= 3) release_third.WaitForNotification();
        return FreshnessFence::Leased{absl::StrCat("s", n),
                                      absl::Milliseconds(10)};
      },
      clock);
  EXPECT_EQ(fence.Current().value_or(""), "s1");  // leased until 10 ms
  clock.Advance(absl::Milliseconds(6));
  EXPECT_EQ(fence.Current().value_or(""), "s1");  // renewal from 6 ms
  for (int i = 0; i < 1000 && asked.load() < 2; ++i) {
    absl::SleepFor(absl::Milliseconds(5));
  }
  ASSERT_EQ(asked.load(), 2);
  clock.Advance(absl::Milliseconds(5));  // 11 ms: the first lease is over
  absl::Notification answered;
  std::string got;
  fence.CurrentAsync([&](const absl::StatusOr<std::string>& stamp) {
    got = stamp.value_or("error");
    answered.Notify();
  });
  EXPECT_FALSE(answered.HasBeenNotified());
  release_second.Notify();  // the renewal's lease: 6 to 16 ms
  EXPECT_TRUE(answered.WaitForNotificationWithTimeout(absl::Seconds(10)))
      << "waited for a query of its own";
  release_third.Notify();
  EXPECT_EQ(got, "s2");
}

// Database::WaitOutStampLeases: a write that moves the stamp returns only
// once every lease granted before its COMMIT has ended, so the reader of
// another replica (another pool) that held one sees the write in its very
// next answer. Without the wait, the reader would answer the old stamp
// from its lease.
TEST_F(FreshnessFenceTest, AnAcknowledgedWriteOutlastsEveryLeaseOnTheStamp) {
  constexpr absl::Duration kLease = absl::Milliseconds(400);
  Database reader_pool(db_->options());
  FreshnessFence fence(&reader_pool, "SELECT counter FROM stamp WHERE id = 1",
                       kLease);
  Database writer(db_->options());
  writer.WaitOutStampLeases(kLease);
  for (int round = 0; round < 3; ++round) {
    const absl::StatusOr<std::string> before = fence.Current();
    ASSERT_TRUE(before.ok()) << before.status();
    ASSERT_GT(fence.LeaseLeft(*before), absl::ZeroDuration())
        << "the database granted no lease";
    const absl::StatusOr<int64_t> written =
        writer.TransactFor<int64_t>([](Session& s) -> absl::StatusOr<int64_t> {
          s.MarkStampMoved();
          SMZ_RETURN_IF_ERROR(
              s.Execute("UPDATE stamp SET counter = counter + 1 WHERE id = 1",
                        {})
                  .status());
          SMZ_ASSIGN_OR_RETURN(
              std::vector<Row> rows,
              s.Query("SELECT counter FROM stamp WHERE id = 1", {}));
          return rows.front().Int(0);
        });
    ASSERT_TRUE(written.ok()) << written.status();
    EXPECT_EQ(fence.LeaseLeft(*before), absl::ZeroDuration())
        << "acknowledged while a lease on the old stamp ran";
    EXPECT_EQ(Number(fence.Current()), *written);
  }
  // A write that moved no stamp, and a read, do not wait (nothing to test
  // but that they succeed: a lease runs now).
  ASSERT_TRUE(fence.Current().ok());
  EXPECT_TRUE(
      writer
          .Transact([](Session& s) { return s.Query("SELECT 1", {}).status(); })
          .ok());
}

// What a lease saves, and why writers must wait: a write that does not
// wait (a process without WaitOutStampLeases) is not in a leased answer,
// though CurrentFromQuery, which skips leases, has it at once.
TEST_F(FreshnessFenceTest, CurrentFromQuerySkipsTheLease) {
  FreshnessFence fence(db_.get(), "SELECT counter FROM stamp WHERE id = 1",
                       absl::Seconds(30));
  const int64_t before = Number(fence.Current());
  const absl::StatusOr<int64_t> written = Bump(*db_);  // waits for nothing
  ASSERT_TRUE(written.ok()) << written.status();
  EXPECT_EQ(Number(fence.Current()), before) << "answered from the lease";
  EXPECT_EQ(Number(fence.CurrentFromQuery()), *written);
  EXPECT_EQ(Number(fence.Current()), *written) << "the query renewed it";
}

// A retry that finds its first answer (common/aip/idempotency.h) changes
// nothing, yet must not be acknowledged before the first one could be: it
// waits out the leases too, in a transaction or in autocommit.
TEST_F(FreshnessFenceTest, AReplayedAnswerOutlastsEveryLeaseToo) {
  constexpr absl::Duration kLease = absl::Milliseconds(400);
  ASSERT_TRUE(db_->Run([](Session& s) {
                   return s
                       .Execute(
                           "INSERT INTO request_keys (caller, method, "
                           "request_id, request_digest, result_id, "
                           "response, create_us) VALUES ('ADMIN#1', "
                           "'Bump', 'r1', 'd1', 7, '', 0)",
                           {})
                       .status();
                 })
                  .ok());
  const RequestKey key{"ADMIN#1", "Bump", "r1", "d1"};
  Database writer(db_->options());
  writer.WaitOutStampLeases(kLease);
  FreshnessFence fence(db_.get(), "SELECT counter FROM stamp WHERE id = 1",
                       kLease);
  for (const bool transactional : {true, false}) {
    const absl::StatusOr<std::string> before = fence.Current();
    ASSERT_TRUE(before.ok()) << before.status();
    ASSERT_GT(fence.LeaseLeft(*before), absl::ZeroDuration());
    auto replay = [&](Session& s) -> absl::Status {
      SMZ_ASSIGN_OR_RETURN(std::optional<FirstAnswer> first,
                           LookUpRequest(s, key));
      EXPECT_TRUE(first.has_value() && first->result_id == 7);
      return absl::OkStatus();
    };
    ASSERT_TRUE(
        (transactional ? writer.Transact(replay) : writer.Run(replay)).ok());
    EXPECT_EQ(fence.LeaseLeft(*before), absl::ZeroDuration())
        << (transactional ? "Transact" : "Run")
        << " acknowledged a replay while a lease ran";
  }
}

// With a lease too, a stamp's missing row is an error, not an empty stamp
// (under which a cache would keep answers no write could ever move).
TEST_F(FreshnessFenceTest, AMissingStampRowIsAnErrorWithALease) {
  FreshnessFence fence(db_.get(), "SELECT counter FROM stamp WHERE id = 2",
                       absl::Milliseconds(400));
  EXPECT_EQ(fence.Current().status().code(), absl::StatusCode::kInternal);
}

// A lease is the database's: with its row gone, nothing is leased.
TEST_F(FreshnessFenceTest, NoLeaseWithoutTheLeaseRow) {
  ASSERT_TRUE(db_->Run([](Session& s) {
                   return s.Execute("DELETE FROM stamp_lease", {}).status();
                 })
                  .ok());
  FreshnessFence fence(db_.get(), "SELECT counter FROM stamp WHERE id = 1",
                       absl::Milliseconds(400));
  const absl::StatusOr<std::string> stamp = fence.Current();
  ASSERT_TRUE(stamp.ok()) << stamp.status();
  EXPECT_EQ(fence.LeaseLeft(*stamp), absl::ZeroDuration());
  (void)fence.Current();
  EXPECT_EQ(fence.queries(), 2);
}

TEST_F(FreshnessFenceTest, AsyncDatabaseDownIsUnavailable) {
  absl::Notification answered;
  absl::Status status;
  FreshnessFence fence(db_.get(), "SELECT counter FROM stamp WHERE id = 1");
  ASSERT_TRUE(mariadb().Stop().ok());
  fence.CurrentAsync([&](const absl::StatusOr<std::string>& stamp) {
    status = stamp.status();
    answered.Notify();
  });
  ASSERT_TRUE(answered.WaitForNotificationWithTimeout(absl::Seconds(30)));
  EXPECT_EQ(status.code(), absl::StatusCode::kUnavailable) << status;
  ASSERT_TRUE(mariadb().Restart().ok());
}

}  // namespace
}  // namespace smz
