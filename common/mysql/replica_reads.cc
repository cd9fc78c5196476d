#include "common/mysql/replica_reads.h"

#include <algorithm>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/aip/status_macros.h"
#include "common/logging.h"

namespace smz {
namespace {

// In the service's own database: replication copies it with everything else.
constexpr char kHeartbeatDdl[] =
    "CREATE TABLE IF NOT EXISTS smz_heartbeat ("
    " id TINYINT NOT NULL PRIMARY KEY,"
    " beat_us BIGINT NOT NULL"
    ") ENGINE=InnoDB";

}  // namespace

DatabaseOptions ReplicaOptionsOf(const DatabaseOptions& primary) {
  DatabaseOptions replica = primary;
  replica.host = primary.replica_host;
  replica.port = primary.replica_port;
  replica.replica_host.clear();
  return replica;
}

ReplicaReads::ReplicaReads(Database* primary, const DatabaseOptions& replica,
                           ReplicaReadsOptions options)
    : primary_(primary), replica_(replica), options_(options) {}

ReplicaReads::~ReplicaReads() { Stop(); }

absl::Status ReplicaReads::Start() {
  SMZ_RETURN_IF_ERROR(primary_->Run([](Session& session) {
    return session.Execute(kHeartbeatDdl, {}).status();
  }));
  MeasureNow();
  thread_ = std::thread([this] { Loop(); });
  return absl::OkStatus();
}

void ReplicaReads::Stop() {
  if (!stop_.HasBeenNotified()) stop_.Notify();
  if (thread_.joinable()) thread_.join();
}

void ReplicaReads::Loop() {
  while (!stop_.WaitForNotificationWithTimeout(options_.interval)) {
    MeasureNow();
  }
}

void ReplicaReads::MeasureNow() {
  // The primary's own time, in microseconds; the replica compares it with
  // its own (servers' clocks kept by NTP: the skew adds to the lag).
  absl::Status beat = primary_->Run([](Session& session) {
    return session
        .Execute(
            "INSERT INTO smz_heartbeat (id, beat_us) VALUES "
            "(1, CAST(UNIX_TIMESTAMP(NOW(6)) * 1000000 AS SIGNED)) "
            "ON DUPLICATE KEY UPDATE beat_us = VALUES(beat_us)",
            {})
        .status();
  });
  if (!beat.ok()) {
    // The primary is down: its own errors say so; the lag is unknown.
    absl::MutexLock lock(&mu_);
    lag_.reset();
    fresh_ = false;
    return;
  }
  absl::StatusOr<std::vector<Row>> rows =
      replica_.RunFor<std::vector<Row>>([](Session& session) {
        return session.Query(
            "SELECT CAST(UNIX_TIMESTAMP(NOW(6)) * 1000000 AS SIGNED) - "
            "beat_us FROM smz_heartbeat WHERE id = 1",
            {});
      });
  std::optional<absl::Duration> lag;
  if (rows.ok() && !rows->empty()) {
    // A clock behind the primary's reads as a negative age: no lag.
    lag = absl::Microseconds(std::max<int64_t>(0, rows->front().Int(0)));
  }
  const bool fresh = lag.has_value() && *lag <= options_.max_lag;
  absl::MutexLock lock(&mu_);
  if (fresh != fresh_) {
    Log(fresh ? LogLevel::kInfo : LogLevel::kWarning,
        fresh ? "reads go to the replica again" : "reads go to the primary",
        {{"replica", replica_.options().host},
         {"lag_ms", lag.has_value()
                        ? absl::StrCat(absl::ToInt64Milliseconds(*lag))
                        : "unknown"}});
  }
  lag_ = lag;
  fresh_ = fresh;
}

Database& ReplicaReads::ForLaggingRead() {
  absl::MutexLock lock(&mu_);
  return fresh_ ? replica_ : *primary_;
}

std::optional<absl::Duration> ReplicaReads::lag() const {
  absl::MutexLock lock(&mu_);
  return lag_;
}

bool ReplicaReads::replica_in_use() const {
  absl::MutexLock lock(&mu_);
  return fresh_;
}

}  // namespace smz
