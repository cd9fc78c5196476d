// What the primary says now, asked once for many callers: the stamp of a
// row that every write of some data changes in its own transaction (the
// registry's directory_version), so that a cache of that data can be
// exact — an entry made at the stamp a caller gets is what the database
// held when that caller arrived, or newer.
//
// Current() returns the answer of a query that *started after the call
// began*, so a write committed before the call is always seen; callers that
// arrive while a query runs share the next one, so under load the cost per
// read is a fraction of a query, and with one caller it is one query. No
// time-based staleness: nothing is remembered between queries.
//
//   FreshnessFence fence(&database,
//                        "SELECT stamp FROM directory_version WHERE id = 1");
//   absl::StatusOr<std::string> stamp = fence.Current();
//   if (stamp.ok() && *stamp == cached_stamp) return cached_value;
#ifndef SMZ_COMMON_MYSQL_FRESHNESS_FENCE_H_
#define SMZ_COMMON_MYSQL_FRESHNESS_FENCE_H_

#include <cstdint>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "common/mysql/database.h"

namespace smz {

class FreshnessFence {
 public:
  // `database` (not owned) is the primary; `sql` returns one row whose
  // first column is the stamp, as text.
  FreshnessFence(Database* database, std::string sql);
  FreshnessFence(const FreshnessFence&) = delete;
  FreshnessFence& operator=(const FreshnessFence&) = delete;

  // The stamp as of a moment after this call began; the query's error
  // (UNAVAILABLE when the database is down) otherwise.
  absl::StatusOr<std::string> Current() ABSL_LOCKS_EXCLUDED(mutex_);

  // How many queries ran (for tests and benchmarks: reads per query).
  int64_t queries() const ABSL_LOCKS_EXCLUDED(mutex_);

 private:
  Database* const database_;
  const std::string sql_;
  mutable absl::Mutex mutex_;
  absl::CondVar done_;
  // Queries are numbered as they start; one runs at a time.
  int64_t started_ ABSL_GUARDED_BY(mutex_) = 0;
  int64_t finished_ ABSL_GUARDED_BY(mutex_) = 0;
  bool running_ ABSL_GUARDED_BY(mutex_) = false;
  absl::StatusOr<std::string> last_ ABSL_GUARDED_BY(mutex_) = std::string();
};

}  // namespace smz

#endif  // SMZ_COMMON_MYSQL_FRESHNESS_FENCE_H_
