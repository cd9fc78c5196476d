// What the primary says now, asked once for many callers: the stamp of a
// row that every write of some data changes in its own transaction (the
// registry's directory_version), so that a cache of that data can be
// exact — an entry made at the stamp a caller gets is what the database
// held when that caller arrived, or newer. (A "fence": no answer crosses
// it from before the call.) The query may be any function instead of SQL:
// the gateway's asks its four backends for theirs.
//
// Without a lease, Current() returns the answer of a query that *started
// after the call began*, so a write committed before the call is always
// seen; callers that arrive while a query runs share the next one, so
// under load the cost per read is a fraction of a query, and with one
// caller it is one query. Nothing is remembered between queries.
//
// With a lease (write_stamps.h), a query also grants the fence a short
// lease on its answer, and until the lease ends calls are answered at
// once with the last stamp, no query. Every writer that moves the stamp
// waits out the leases granted before its COMMIT before it acknowledges,
// so the guarantee becomes: every write *acknowledged* before the call
// began is in its answer (one committed but still waiting may not be). A
// call answered past the lease's middle has a fence thread renew it, so
// reads that keep coming never wait for a query; a call that finds the
// lease just ended is answered by a query already running if that
// query's lease covers the call's arrival. CurrentFromQuery() skips
// leases: for "did anything commit since?" (stats' check that an answer
// is all of one state).
//
// CurrentAsync() is the same without waiting, for callback-API handlers.
// While a lease runs, its continuation runs at once on the calling thread,
// before CurrentAsync() returns (hold no lock the continuation takes);
// otherwise with the answer of a query on one of the fence's threads (up
// to two that run queries and one helper, started when first needed and
// kept until the fence is destroyed) or in a Current() caller's. So a
// continuation must not block: no I/O, no waiting for other threads, never
// Current() (nor anything that calls it); short mutexes and LeaseLeft()
// are fine. Destroy a fence only after everything that calls it has
// stopped (a gRPC server: shut down).
//
//   FreshnessFence fence(&database,
//                        "SELECT stamp FROM directory_version WHERE id = 1");
//   absl::StatusOr<std::string> stamp = fence.Current();
//   if (stamp.ok() && *stamp == cached_stamp) return cached_value;
//
//   fence.CurrentAsync([reactor](const absl::StatusOr<std::string>& stamp) {
//     ...  // must not block: answer from memory, or post to a WorkerPool
//   });
//
//   database.WaitOutStampLeases(kStampLease);  // its writers, and then:
//   FreshnessFence leased(&database, kDataVersionReadSql, kStampLease);
#ifndef SMZ_COMMON_MYSQL_FRESHNESS_FENCE_H_
#define SMZ_COMMON_MYSQL_FRESHNESS_FENCE_H_

#include <cstdint>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/functional/any_invocable.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "common/clock.h"
#include "common/mysql/database.h"

namespace smz {

class FreshnessFence {
 public:
  // `database` (not owned) is the primary; `sql` returns one row whose
  // first column is the stamp, as text.
  FreshnessFence(Database* database, std::string sql);
  // The same with leases of `lease` (the database's stamp_lease table,
  // write_stamps.h; its writers must WaitOutStampLeases with at least as
  // long). `sql` then runs as a derived table: one column, one row. A
  // zero lease: none, as above.
  FreshnessFence(Database* database, std::string sql, absl::Duration lease,
                 const Clock& clock = SteadyClock::Get());
  // Any other source of stamps (the gateway's: its backends' stamps, asked
  // at once). `query` runs on several threads at a time and must be safe so.
  using Query = absl::AnyInvocable<absl::StatusOr<std::string>() const>;
  explicit FreshnessFence(Query query);
  // A source of stamps that grants leases: `lease` is how long after the
  // query *started* its stamp may be answered without asking again (the
  // gateway's: the shortest lease its backends have left).
  struct Leased {
    std::string stamp;
    absl::Duration lease = absl::ZeroDuration();
  };
  using LeasedQuery = absl::AnyInvocable<absl::StatusOr<Leased>() const>;
  FreshnessFence(LeasedQuery query, const Clock& clock);
  FreshnessFence(const FreshnessFence&) = delete;
  FreshnessFence& operator=(const FreshnessFence&) = delete;
  // Answers continuations still waiting with UNAVAILABLE.
  ~FreshnessFence();

  using Continuation =
      absl::AnyInvocable<void(const absl::StatusOr<std::string>&) &&>;

  // A stamp that every write acknowledged before this call began has moved
  // (read after the call began, or under a lease such writes waited out);
  // the query's error (UNAVAILABLE when the database is down) otherwise.
  absl::StatusOr<std::string> Current() ABSL_LOCKS_EXCLUDED(mutex_);
  // The stamp as read by a query that started after this call began, lease
  // or not: every write *committed* before the call has moved it.
  absl::StatusOr<std::string> CurrentFromQuery() ABSL_LOCKS_EXCLUDED(mutex_);

  // Calls `then` with what Current() would return, without waiting for it.
  // `then` must not block: it runs on the calling thread while a lease
  // runs, else on the thread that ran the query (the
  // fence's own, or a Current() caller's), or on the fence's helper thread,
  // which takes half of the continuations one query answers when there are
  // several (their work — copying an answer, sending it — then uses two
  // cores rather than one).
  void CurrentAsync(Continuation then) ABSL_LOCKS_EXCLUDED(mutex_);

  // How long `stamp` may still be answered without asking, if it is the
  // fence's last answer and its lease runs; zero otherwise. For a fence
  // that answers others (FreshnessService): their lease may run this long
  // from before they asked.
  absl::Duration LeaseLeft(const std::string& stamp) const
      ABSL_LOCKS_EXCLUDED(mutex_);

  // How many queries ran (for tests and benchmarks: reads per query), and
  // how many calls a lease answered (without a query started for them).
  int64_t queries() const ABSL_LOCKS_EXCLUDED(mutex_);
  int64_t leased_answers() const ABSL_LOCKS_EXCLUDED(mutex_);

 private:
  struct Waiter {
    int64_t wanted;      // the first query number that answers it
    absl::Time arrived;  // by clock_: a lease running then answers it too
    Continuation then;
  };
  struct Answered {
    Continuation then;
    absl::StatusOr<std::string> stamp;
  };

  // Runs query number started_ + 1 with mutex_ held on entry and exit
  // (released while it runs), then answers the waiters it satisfies.
  void RunQuery() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mutex_);
  // A fence's query thread: starts a query when continuations wait that no
  // running query covers (one that started after them).
  void Loop() ABSL_LOCKS_EXCLUDED(mutex_);
  bool UncoveredWaiters() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mutex_) {
    return !waiters_.empty() && waiters_.back().wanted > started_;
  }
  absl::StatusOr<std::string> CurrentOf(bool leases)
      ABSL_LOCKS_EXCLUDED(mutex_);
  // Whether the last answer's lease still runs, so that a call may have it
  // now (counted as a leased answer; past the lease's middle, a renewal is
  // asked for).
  bool AnswerFromLease() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mutex_);
  // Whether the last answer's lease ran when a call `arrived` (counted as
  // a leased answer when it did).
  bool LeaseCovered(absl::Time arrived) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mutex_);
  // The helper thread: runs the continuations handed to it.
  void HelperLoop() ABSL_LOCKS_EXCLUDED(mutex_);

  // Called without mutex_, by up to kQueryThreads threads and Current()
  // callers at once.
  const LeasedQuery query_;
  const Clock& clock_;
  mutable absl::Mutex mutex_;
  absl::CondVar done_;
  absl::CondVar waiting_;  // continuations added, or stopping
  std::vector<Waiter> waiters_ ABSL_GUARDED_BY(mutex_);
  bool stopping_ ABSL_GUARDED_BY(mutex_) = false;
  // Started by CurrentAsync, up to kQueryThreads: a continuation that
  // arrives while a query runs starts the next at once rather than waiting
  // for that one to end (its latency: one query, not one and a half).
  std::vector<std::thread> threads_ ABSL_GUARDED_BY(mutex_);
  absl::CondVar helper_ready_;
  std::vector<Answered> for_helper_ ABSL_GUARDED_BY(mutex_);
  std::thread helper_ ABSL_GUARDED_BY(mutex_);  // started when first needed
  // Queries are numbered as they start; several may run (kQueryThreads for
  // continuations, besides Current() callers') and end in any order.
  int64_t started_ ABSL_GUARDED_BY(mutex_) = 0;
  int64_t finished_ ABSL_GUARDED_BY(mutex_) = 0;
  int running_ ABSL_GUARDED_BY(mutex_) = 0;  // queries in flight
  absl::StatusOr<std::string> last_ ABSL_GUARDED_BY(mutex_) = std::string();
  // When last_'s lease began and ends (by clock_): its query's start, plus
  // its lease.
  absl::Time lease_start_ ABSL_GUARDED_BY(mutex_) = absl::InfinitePast();
  absl::Time lease_end_ ABSL_GUARDED_BY(mutex_) = absl::InfinitePast();
  // A leased answer past the lease's middle asks a fence thread to renew
  // it; any query that starts does.
  bool renewal_wanted_ ABSL_GUARDED_BY(mutex_) = false;
  int64_t leased_answers_ ABSL_GUARDED_BY(mutex_) = 0;
};

}  // namespace smz

#endif  // SMZ_COMMON_MYSQL_FRESHNESS_FENCE_H_
