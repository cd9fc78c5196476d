// Group commit: callers that arrive while a group of writes runs wait and
// then run together, so that one transaction (one commit, one write of the
// rows every caller touches, such as counters and rollups) serves many
// callers. A caller returns when the group holding its job has run; the
// first caller of a group runs it on its own thread (no extra threads), the
// others wait meanwhile. Waiting callers do not watch deadlines: a group
// is short, and a caller's write must not be half-abandoned.
//
//   struct Job { Input in; absl::Status result; };
//   GroupCommitter<Job> committer(
//       {.max_group_weight = 64, .max_running_groups = 1},
//       [&](absl::Span<Job* const> group) {
//         // One transaction for all of `group`; set every job's result.
//       });
//   Job job{input};
//   committer.Run(&job, /*weight=*/1);  // returns once job.result is set
//
// Jobs are taken in arrival order. A group holds at most max_group_weight
// of weight, except that a job heavier than that runs alone. Latency: a
// job that arrives while max_running_groups groups run waits for one of
// them, then runs with the others that arrived meanwhile.
#ifndef SMZ_COMMON_MYSQL_GROUP_COMMITTER_H_
#define SMZ_COMMON_MYSQL_GROUP_COMMITTER_H_

#include <cassert>
#include <cstdint>
#include <deque>
#include <functional>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/types/span.h"

namespace smz {

template <typename Job>
class GroupCommitter {
 public:
  struct Options {
    int max_group_weight = 64;
    // Groups running at once (each on its own transaction).
    int max_running_groups = 1;
  };
  // Runs a group; must set every job's result and must not throw (the
  // callers of a group that threw would wait for ever).
  using RunGroup = std::function<void(absl::Span<Job* const> group)>;

  GroupCommitter(Options options, RunGroup run_group)
      : options_(options), run_group_(std::move(run_group)) {
    assert(options_.max_group_weight > 0 && options_.max_running_groups > 0);
  }
  GroupCommitter(const GroupCommitter&) = delete;
  GroupCommitter& operator=(const GroupCommitter&) = delete;

  // Runs `job` in a group; returns when that group has run.
  void Run(Job* job, int weight) {
    Entry me{job, weight};
    absl::MutexLock lock(&mu_);
    queue_.push_back(&me);
    auto done_or_leading = [this, &me]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
      // A caller taken into a running group is no longer queued, and the
      // queue may be empty.
      return me.done || (running_ < options_.max_running_groups &&
                         !queue_.empty() && queue_.front() == &me);
    };
    mu_.Await(absl::Condition(&done_or_leading));
    if (me.done) return;

    // This caller leads: it takes itself and those queued behind it.
    std::vector<Entry*> group;
    std::vector<Job*> jobs;
    int weight_taken = 0;
    while (!queue_.empty()) {
      Entry* next = queue_.front();
      if (!group.empty() &&
          weight_taken + next->weight > options_.max_group_weight) {
        break;
      }
      weight_taken += next->weight;
      group.push_back(next);
      jobs.push_back(next->job);
      queue_.pop_front();
    }
    ++running_;
    ++groups_run_;
    // The group runs unlocked, so that others can queue meanwhile; the
    // MutexLock above unlocks for good when this returns.
    mu_.Unlock();
    run_group_(absl::MakeConstSpan(jobs));
    mu_.Lock();
    --running_;
    for (Entry* entry : group) entry->done = true;
  }

  // Groups run so far, and jobs waiting for a group (for tests and
  // benchmarks).
  int64_t groups_run() const {
    absl::MutexLock lock(&mu_);
    return groups_run_;
  }
  int waiting() const {
    absl::MutexLock lock(&mu_);
    return static_cast<int>(queue_.size());
  }

 private:
  struct Entry {
    Job* job;
    int weight;
    bool done = false;
  };

  const Options options_;
  const RunGroup run_group_;
  mutable absl::Mutex mu_;
  std::deque<Entry*> queue_ ABSL_GUARDED_BY(mu_);
  int running_ ABSL_GUARDED_BY(mu_) = 0;
  int64_t groups_run_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace smz

#endif  // SMZ_COMMON_MYSQL_GROUP_COMMITTER_H_
