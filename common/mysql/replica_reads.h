// Reads that tolerate a bounded lag go to a MariaDB replica (MariaDB's own
// GTID replication) while it keeps up, and to the primary otherwise; writes,
// and reads that must see the caller's own writes, always go to the primary.
//
// The lag is measured end to end, with the service's own privileges: every
// `interval` the primary's heartbeat row (smz_heartbeat, in the service's
// database) gets the primary's time, and the replica is asked how old the
// row it has is by its own clock. A replica that lags more than `max_lag`,
// does not answer, or has no heartbeat yet serves no read.
//
//   ReplicaReads reads(&primary, ReplicaOptionsOf(primary_options), {});
//   reads.Start();
//   absl::StatusOr<std::vector<Row>> rows =
//       reads.ReadFor<std::vector<Row>>([&](Session& session) { ... });
//   std::optional<absl::Duration> lag = reads.lag();
#ifndef SMZ_COMMON_MYSQL_REPLICA_READS_H_
#define SMZ_COMMON_MYSQL_REPLICA_READS_H_

#include <memory>
#include <optional>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "absl/time/time.h"
#include "common/mysql/database.h"

namespace smz {

struct ReplicaReadsOptions {
  // A replica further behind than this serves no read.
  absl::Duration max_lag = absl::Seconds(2);
  // How often the heartbeat is written and the lag measured.
  absl::Duration interval = absl::Milliseconds(500);
};

class ReplicaReads {
 public:
  // `primary` (not owned) is where the heartbeat is written; `replica` is
  // the replica's connection (the same user and database as the primary's,
  // which replication copies).
  ReplicaReads(Database* primary, const DatabaseOptions& replica,
               ReplicaReadsOptions options);
  ~ReplicaReads();
  ReplicaReads(const ReplicaReads&) = delete;
  ReplicaReads& operator=(const ReplicaReads&) = delete;

  // Creates the heartbeat table on the primary if needed (replication
  // copies it) and starts measuring. Reads go to the primary until the
  // replica is first found fresh.
  absl::Status Start();
  void Stop();

  // The replica while it is fresh, else the primary.
  Database& ForLaggingRead();

  // Runs `fn` (autocommit) where ForLaggingRead says; a replica that fails
  // it as UNAVAILABLE (gone since the last measurement) is left for the
  // primary at once.
  template <typename T>
  absl::StatusOr<T> ReadFor(absl::FunctionRef<absl::StatusOr<T>(Session&)> fn) {
    Database& database = ForLaggingRead();
    absl::StatusOr<T> result = database.RunFor<T>(fn);
    if (&database != primary_ && absl::IsUnavailable(result.status())) {
      return primary_->RunFor<T>(fn);
    }
    return result;
  }
  // The last lag measured; nullopt when the replica did not answer or has
  // no heartbeat.
  std::optional<absl::Duration> lag() const;
  bool replica_in_use() const;

  // One round of the loop (write the heartbeat, measure), for tests that
  // do not want to wait for `interval`.
  void MeasureNow();

 private:
  void Loop();

  Database* const primary_;
  Database replica_;
  const ReplicaReadsOptions options_;
  mutable absl::Mutex mu_;
  std::optional<absl::Duration> lag_ ABSL_GUARDED_BY(mu_);
  bool fresh_ ABSL_GUARDED_BY(mu_) = false;
  absl::Notification stop_;
  std::thread thread_;
};

// The replica's options: `primary`'s, with the replica's address.
DatabaseOptions ReplicaOptionsOf(const DatabaseOptions& primary);

// A read that tolerates a bounded lag: through `replica` when the service
// has one (ReadFor), else on `primary`.
template <typename T>
absl::StatusOr<T> LaggingReadFor(
    Database& primary, ReplicaReads* replica,
    absl::FunctionRef<absl::StatusOr<T>(Session&)> fn) {
  if (replica == nullptr) return primary.RunFor<T>(fn);
  return replica->ReadFor<T>(fn);
}

// The same for a body that fills its own results; it may run twice (on the
// replica, then the primary), so it must start them afresh.
inline absl::Status LaggingRun(Database& primary, ReplicaReads* replica,
                               absl::FunctionRef<absl::Status(Session&)> fn) {
  return LaggingReadFor<bool>(primary, replica,
                              [&](Session& session) -> absl::StatusOr<bool> {
                                absl::Status status = fn(session);
                                if (!status.ok()) return status;
                                return true;
                              })
      .status();
}

}  // namespace smz

#endif  // SMZ_COMMON_MYSQL_REPLICA_READS_H_
