// FreshnessFence against a real MariaDB: a write committed before a call is
// always in its answer, callers that arrive together share a query, and a
// database that is down is UNAVAILABLE, not a stale answer.
#include "common/mysql/freshness_fence.h"

#include <atomic>
#include <memory>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"
#include "common/aip/status_macros.h"
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
           "INSERT INTO stamp VALUES (1, 0)"}}});
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
