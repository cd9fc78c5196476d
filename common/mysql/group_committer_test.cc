// GroupCommitter without a database: which jobs run together, in what
// order, how many groups at once, and that every caller gets its own result.
#include "common/mysql/group_committer.h"

#include <atomic>
#include <thread>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"
#include "absl/types/span.h"
#include "gtest/gtest.h"

namespace smz {
namespace {

struct Job {
  int id = 0;
  int result = -1;  // set by the group: the job's id times ten
};

// Records every group's job ids; the first group can be held until released,
// so that the test can queue jobs behind it.
class Recorder {
 public:
  void Run(absl::Span<Job* const> group) {
    {
      absl::MutexLock lock(&mu_);
      std::vector<int> ids;
      for (Job* job : group) ids.push_back(job->id);
      groups_.push_back(ids);
    }
    if (hold_first_.exchange(false)) release_.WaitForNotification();
    for (Job* job : group) job->result = job->id * 10;
  }
  void HoldFirstGroup() { hold_first_ = true; }
  void Release() { release_.Notify(); }
  std::vector<std::vector<int>> groups() {
    absl::MutexLock lock(&mu_);
    return groups_;
  }

 private:
  absl::Mutex mu_;
  std::vector<std::vector<int>> groups_ ABSL_GUARDED_BY(mu_);
  std::atomic<bool> hold_first_{false};
  absl::Notification release_;
};

// Waits (bounded) until `n` jobs are queued behind the running group.
void AwaitWaiting(GroupCommitter<Job>& committer, int n) {
  const absl::Time give_up = absl::Now() + absl::Seconds(10);
  while (committer.waiting() < n && absl::Now() < give_up) {
    absl::SleepFor(absl::Milliseconds(1));
  }
  ASSERT_EQ(committer.waiting(), n);
}

// Waits (bounded) until the recorder's first group has started.
void AwaitFirstGroup(Recorder& recorder) {
  const absl::Time give_up = absl::Now() + absl::Seconds(10);
  while (recorder.groups().empty() && absl::Now() < give_up) {
    absl::SleepFor(absl::Milliseconds(1));
  }
  ASSERT_FALSE(recorder.groups().empty());
}

TEST(GroupCommitterTest, OneCallerRunsAloneAndGetsItsResult) {
  Recorder recorder;
  GroupCommitter<Job> committer(
      {}, [&](absl::Span<Job* const> g) { recorder.Run(g); });
  Job job{7};
  committer.Run(&job, 1);
  EXPECT_EQ(job.result, 70);
  EXPECT_EQ(recorder.groups(), (std::vector<std::vector<int>>{{7}}));
  EXPECT_EQ(committer.groups_run(), 1);
  EXPECT_EQ(committer.waiting(), 0);
}

TEST(GroupCommitterTest, CallersWaitingForAGroupRunTogetherInArrivalOrder) {
  Recorder recorder;
  recorder.HoldFirstGroup();
  GroupCommitter<Job> committer(
      {.max_group_weight = 64, .max_running_groups = 1},
      [&](absl::Span<Job* const> g) { recorder.Run(g); });
  std::vector<Job> jobs(6);
  for (int i = 0; i < 6; ++i) jobs[i].id = i;
  std::vector<std::thread> threads;
  threads.emplace_back([&] { committer.Run(&jobs[0], 1); });
  // Job 0 leads a group that is held; the others queue one by one.
  ASSERT_NO_FATAL_FAILURE(AwaitFirstGroup(recorder));
  for (int i = 1; i < 6; ++i) {
    threads.emplace_back([&, i] { committer.Run(&jobs[i], 1); });
    ASSERT_NO_FATAL_FAILURE(AwaitWaiting(committer, i));
  }
  recorder.Release();
  for (std::thread& t : threads) t.join();
  EXPECT_EQ(recorder.groups(),
            (std::vector<std::vector<int>>{{0}, {1, 2, 3, 4, 5}}));
  for (const Job& job : jobs) EXPECT_EQ(job.result, job.id * 10);
}

TEST(GroupCommitterTest, AGroupHoldsAtMostItsWeightAndAHeavyJobRunsAlone) {
  Recorder recorder;
  recorder.HoldFirstGroup();
  GroupCommitter<Job> committer(
      {.max_group_weight = 3, .max_running_groups = 1},
      [&](absl::Span<Job* const> g) { recorder.Run(g); });
  // Job 0 (weight 1) is held; the others queue behind it.
  const std::vector<int> weights = {/*held*/ 1, 1, 1, 1, 1, 10, 1};
  std::vector<Job> jobs(weights.size());
  for (size_t i = 0; i < jobs.size(); ++i) jobs[i].id = static_cast<int>(i);
  std::vector<std::thread> threads;
  threads.emplace_back([&] { committer.Run(&jobs[0], weights[0]); });
  ASSERT_NO_FATAL_FAILURE(AwaitFirstGroup(recorder));
  for (size_t i = 1; i < jobs.size(); ++i) {
    threads.emplace_back([&, i] { committer.Run(&jobs[i], weights[i]); });
    ASSERT_NO_FATAL_FAILURE(AwaitWaiting(committer, static_cast<int>(i)));
  }
  recorder.Release();
  for (std::thread& t : threads) t.join();
  // Only one group runs at a time, so each next group is taken from the
  // front of what waits: three of weight 1, then one (the heavy one next
  // would overflow), the heavy job alone, the last.
  EXPECT_EQ(recorder.groups(),
            (std::vector<std::vector<int>>{{0}, {1, 2, 3}, {4}, {5}, {6}}));
  for (const Job& job : jobs) EXPECT_EQ(job.result, job.id * 10);
}

TEST(GroupCommitterTest, RunsAsManyGroupsAtOnceAsAllowed) {
  // With two groups allowed, the second starts while the first is held:
  // the first waits for the second to start, which would never happen with
  // one group at a time (the test would time out, not hang: bounded wait).
  absl::Notification second_started;
  std::atomic<bool> first_saw_second{false};
  std::atomic<int> started{0};
  GroupCommitter<Job> committer(
      {.max_running_groups = 2}, [&](absl::Span<Job* const> group) {
        if (started.fetch_add(1) == 0) {
          first_saw_second =
              second_started.WaitForNotificationWithTimeout(absl::Seconds(10));
        } else {
          second_started.Notify();
        }
        for (Job* job : group) job->result = job->id * 10;
      });
  Job first{1};
  Job second{2};
  std::thread leader([&] { committer.Run(&first, 1); });
  while (started.load() == 0) absl::SleepFor(absl::Milliseconds(1));
  committer.Run(&second, 1);
  leader.join();
  EXPECT_TRUE(first_saw_second.load());
  EXPECT_EQ(first.result, 10);
  EXPECT_EQ(second.result, 20);
  EXPECT_EQ(committer.groups_run(), 2);
}

// Under contention, with one group at a time and with two: every caller
// gets its own job's result, never another's, and nobody is left waiting.
// (With two, a caller already taken into a running group is re-checked on
// every unlock while the queue may be empty.)
TEST(GroupCommitterTest, ManyCallersEachGetTheirOwnResult) {
  for (const int running : {1, 2}) {
    GroupCommitter<Job> committer(
        {.max_group_weight = 5, .max_running_groups = running},
        [](absl::Span<Job* const> group) {
          for (Job* job : group) job->result = job->id * 10;
        });
    constexpr int kThreads = 16;
    constexpr int kJobsEach = 200;
    std::vector<std::thread> threads;
    std::atomic<int> wrong{0};
    for (int t = 0; t < kThreads; ++t) {
      threads.emplace_back([&, t] {
        for (int i = 0; i < kJobsEach; ++i) {
          Job job{t * kJobsEach + i};
          committer.Run(&job, 1);
          if (job.result != job.id * 10) wrong.fetch_add(1);
        }
      });
    }
    for (std::thread& t : threads) t.join();
    EXPECT_EQ(wrong.load(), 0) << running << " groups at once";
    EXPECT_EQ(committer.waiting(), 0);
  }
}

}  // namespace
}  // namespace smz
