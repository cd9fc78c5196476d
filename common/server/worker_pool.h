// Threads for the blocking part of callback-API handlers. A callback handler
// must not block gRPC's own threads (they are few, and a blocked one stalls
// other calls), so what may wait — a database query, a registry lookup —
// is posted here and finishes the call from a pool thread.
//
// Threads are started as tasks need them, up to `max_threads`, and kept;
// tasks beyond that wait in order, at most `max_queued` of them: Post
// refuses more (a flood of calls that all need a lookup is turned away at
// once, not queued without bound), and refuses once the pool is stopping.
// The destructor runs every task already posted, then joins the threads.
//
//   WorkerPool pool(/*max_threads=*/16, /*max_queued=*/256);
//   if (!pool.Post([reactor, response] {
//         reactor->Finish(ReadFromDatabase(response));
//       })) {
//     reactor->Finish(grpc::Status(grpc::StatusCode::RESOURCE_EXHAUSTED, ...));
//   }
#ifndef SMZ_COMMON_SERVER_WORKER_POOL_H_
#define SMZ_COMMON_SERVER_WORKER_POOL_H_

#include <deque>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/functional/any_invocable.h"
#include "absl/synchronization/mutex.h"

namespace smz {

class WorkerPool {
 public:
  WorkerPool(int max_threads, int max_queued);
  WorkerPool(const WorkerPool&) = delete;
  WorkerPool& operator=(const WorkerPool&) = delete;
  ~WorkerPool();

  // Runs `task` on a pool thread; false (and `task` dropped) when
  // `max_queued` tasks wait already, the pool is stopping, or no thread can
  // be started. Tasks must not throw.
  [[nodiscard]] bool Post(absl::AnyInvocable<void() &&> task)
      ABSL_LOCKS_EXCLUDED(mutex_);

  // Threads started so far, and of those waiting for a task (for tests).
  int threads() const ABSL_LOCKS_EXCLUDED(mutex_);
  int idle() const ABSL_LOCKS_EXCLUDED(mutex_);

 private:
  void Work();

  const int max_threads_;
  const int max_queued_;
  mutable absl::Mutex mutex_;
  absl::CondVar ready_;
  std::deque<absl::AnyInvocable<void() &&>> tasks_ ABSL_GUARDED_BY(mutex_);
  std::vector<std::thread> threads_ ABSL_GUARDED_BY(mutex_);
  int idle_ ABSL_GUARDED_BY(mutex_) = 0;
  bool stopping_ ABSL_GUARDED_BY(mutex_) = false;
};

}  // namespace smz

#endif  // SMZ_COMMON_SERVER_WORKER_POOL_H_
