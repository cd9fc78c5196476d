// MariaDB replication as smz uses it: a primary and a replica following it by
// GTID, semi-synchronously. Reads that tolerate a lag go to the replica while
// it keeps up (ReplicaReads, the heartbeat's lag), to the primary when it
// falls behind or goes away, and back; a replica promoted after the primary's
// loss has every write the primary acknowledged.
#include "common/mysql/replica_reads.h"

#include <atomic>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/aip/status_macros.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/harness/mariadb_server.h"

namespace smz {
namespace {

using testing::MariaDbServer;

// The server a read ran on.
int64_t ServerIdOf(ReplicaReads& reads) {
  absl::StatusOr<std::vector<Row>> rows = reads.ReadFor<std::vector<Row>>(
      [](Session& session) { return session.Query("SELECT @@server_id", {}); });
  return rows.ok() ? rows->front().Int(0) : -1;
}

// Polls `condition` (after a measurement) for up to `timeout`.
template <typename Condition>
bool Eventually(ReplicaReads& reads, Condition condition,
                absl::Duration timeout = absl::Seconds(20)) {
  const absl::Time deadline = absl::Now() + timeout;
  while (absl::Now() < deadline) {
    reads.MeasureNow();
    if (condition()) return true;
    absl::SleepFor(absl::Milliseconds(50));
  }
  return false;
}

class ReplicationTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto primary =
        MariaDbServer::Start(MariaDbServer::ReplicationArgs(1, false));
    ASSERT_TRUE(primary.ok()) << primary.status();
    primary_ = *std::move(primary);
    auto replica =
        MariaDbServer::Start(MariaDbServer::ReplicationArgs(2, true));
    ASSERT_TRUE(replica.ok()) << replica.status();
    replica_ = *std::move(replica);
    absl::Status following = replica_->FollowPrimary(*primary_);
    ASSERT_TRUE(following.ok()) << following;
    // The service's database and user, made on the primary: replication
    // brings both to the replica.
    auto database = primary_->CreateServiceDatabase("smz_stats");
    ASSERT_TRUE(database.ok()) << database.status();
    options_ = *database;
    options_.replica_host = "127.0.0.1";
    options_.replica_port = replica_->port();
    options_.connect_timeout = absl::Seconds(1);
    options_.io_timeout = absl::Seconds(2);
  }

  std::unique_ptr<MariaDbServer> primary_;
  std::unique_ptr<MariaDbServer> replica_;
  DatabaseOptions options_;
};

TEST_F(ReplicationTest, ReadsFollowTheReplicaWhileItKeepsUp) {
  Database primary(options_);
  ReplicaReadsOptions settings;
  settings.max_lag = absl::Seconds(1);
  settings.interval = absl::Hours(1);  // measured by hand here
  ReplicaReads reads(&primary, ReplicaOptionsOf(options_), settings);
  ASSERT_TRUE(reads.Start().ok());
  ASSERT_TRUE(Eventually(reads, [&] { return reads.replica_in_use(); }));
  EXPECT_EQ(ServerIdOf(reads), 2);
  ASSERT_TRUE(reads.lag().has_value());
  EXPECT_LE(*reads.lag(), absl::Seconds(1));

  // A write on the primary is read on the replica moments later.
  ASSERT_TRUE(
      primary
          .Run([](Session& session) {
            SMZ_RETURN_IF_ERROR(
                session.Execute("CREATE TABLE reports (id INT PRIMARY KEY)", {})
                    .status());
            return session.Execute("INSERT INTO reports VALUES (7)", {})
                .status();
          })
          .ok());
  EXPECT_TRUE(Eventually(reads, [&] {
    absl::StatusOr<std::vector<Row>> rows =
        reads.ReadFor<std::vector<Row>>([](Session& session) {
          return session.Query("SELECT id FROM reports", {});
        });
    return rows.ok() && rows->size() == 1;
  }));

  // The replica stops applying (its SQL thread stopped, as a long
  // statement or a broken one would): the lag grows past the bound and
  // reads go to the primary, which has what the replica lacks.
  ASSERT_TRUE(replica_->ExecuteAsRoot("STOP SLAVE SQL_THREAD").ok());
  ASSERT_TRUE(Eventually(reads, [&] { return !reads.replica_in_use(); }));
  ASSERT_TRUE(reads.lag().has_value());
  EXPECT_GT(*reads.lag(), absl::Seconds(1));
  EXPECT_EQ(ServerIdOf(reads), 1);
  ASSERT_TRUE(replica_->ExecuteAsRoot("START SLAVE SQL_THREAD").ok());
  EXPECT_TRUE(Eventually(reads, [&] { return reads.replica_in_use(); }));
  EXPECT_EQ(ServerIdOf(reads), 2);

  // The replica goes away: unknown lag, the primary serves; back, it
  // catches up and serves again.
  ASSERT_TRUE(replica_->Stop().ok());
  EXPECT_EQ(ServerIdOf(reads), 1);  // left for the primary at once
  reads.MeasureNow();
  EXPECT_FALSE(reads.lag().has_value());
  EXPECT_FALSE(reads.replica_in_use());
  ASSERT_TRUE(replica_->Restart().ok());
  ASSERT_TRUE(replica_->ExecuteAsRoot("START SLAVE").ok());
  EXPECT_TRUE(Eventually(reads, [&] { return reads.replica_in_use(); }));
  reads.Stop();
  primary.Close();
}

// The replica stalls and the primary is lost in the middle of a stream of
// writes; the replica is promoted (the README's failover) and has every
// write the primary acknowledged: semi-synchronous replication returned each
// commit only once the replica had it.
TEST_F(ReplicationTest, APromotedReplicaHasEveryAcknowledgedWrite) {
  Database primary(options_);
  ASSERT_TRUE(primary
                  .Run([](Session& session) {
                    return session
                        .Execute("CREATE TABLE visits (id INT PRIMARY KEY)", {})
                        .status();
                  })
                  .ok());
  std::atomic<int> acknowledged{0};
  std::atomic<bool> stop{false};
  std::thread writer([&] {
    for (int id = 1; !stop.load(); ++id) {
      absl::Status s = primary.Transact([&](Session& session) {
        return session.Execute("INSERT INTO visits VALUES (?)", {SqlInt(id)})
            .status();
      });
      if (!s.ok()) break;
      acknowledged = id;
    }
  });
  while (acknowledged.load() < 200) absl::SleepFor(absl::Milliseconds(5));
  // The replica freezes (a network partition, a stalled host) while writes
  // go on, then the primary is lost: a commit the replica never got must
  // not have been acknowledged (asynchronous replication would have, and
  // lost it).
  replica_->Pause();
  absl::SleepFor(absl::Seconds(2));
  primary_->Crash();
  stop = true;
  writer.join();
  replica_->Resume();
  const int acknowledged_writes = acknowledged.load();

  // Failover (README): stop receiving, let what was received be applied,
  // stop following, take writes.
  ASSERT_TRUE(replica_->ExecuteAsRoot("STOP SLAVE IO_THREAD").ok());
  DatabaseOptions promoted = options_;
  promoted.port = replica_->port();
  promoted.replica_host.clear();
  Database database(promoted);
  auto applied = [&] {
    absl::StatusOr<std::vector<Row>> rows =
        database.RunFor<std::vector<Row>>([](Session& session) {
          return session.Query("SELECT COUNT(*) FROM visits", {});
        });
    return rows.ok() ? rows->front().Int(0) : -1;
  };
  const absl::Time deadline = absl::Now() + absl::Seconds(30);
  while (applied() < acknowledged_writes && absl::Now() < deadline) {
    absl::SleepFor(absl::Milliseconds(50));
  }
  for (const char* sql :
       {"STOP SLAVE", "RESET SLAVE ALL", "SET GLOBAL read_only = OFF"}) {
    ASSERT_TRUE(replica_->ExecuteAsRoot(sql).ok()) << sql;
  }
  absl::StatusOr<std::vector<Row>> rows =
      database.RunFor<std::vector<Row>>([](Session& session) {
        return session.Query(
            "SELECT COUNT(*), COALESCE(MAX(id), 0) FROM visits", {});
      });
  ASSERT_TRUE(rows.ok()) << rows.status();
  EXPECT_GE(rows->front().Int(0), acknowledged_writes);
  EXPECT_GE(rows->front().Int(1), acknowledged_writes);
  // And it takes writes.
  EXPECT_TRUE(database
                  .Transact([&](Session& session) {
                    return session
                        .Execute("INSERT INTO visits VALUES (?)",
                                 {SqlInt(acknowledged_writes + 1000)})
                        .status();
                  })
                  .ok());
  database.Close();
}

}  // namespace
}  // namespace smz
