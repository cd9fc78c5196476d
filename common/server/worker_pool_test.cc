#include "common/server/worker_pool.h"

#include <atomic>
#include <memory>

#include "absl/synchronization/blocking_counter.h"
#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"

namespace smz {
namespace {

TEST(WorkerPoolTest, RunsEveryTaskWithAtMostItsThreads) {
  std::atomic<int> ran{0};
  absl::Notification release;
  {
    WorkerPool pool(3, 100);
    absl::BlockingCounter started(3);
    // Three tasks that wait hold all three threads; the rest queue.
    for (int i = 0; i < 3; ++i) {
      ASSERT_TRUE(pool.Post([&] {
        started.DecrementCount();
        release.WaitForNotification();
        ++ran;
      }));
    }
    started.Wait();
    for (int i = 0; i < 20; ++i) ASSERT_TRUE(pool.Post([&] { ++ran; }));
    EXPECT_EQ(pool.threads(), 3);
    EXPECT_EQ(ran.load(), 0);
    release.Notify();
  }  // the destructor runs what is queued
  EXPECT_EQ(ran.load(), 23);
}

// A flood is turned away at once rather than queued without bound.
TEST(WorkerPoolTest, RefusesTasksBeyondItsQueue) {
  absl::Notification release;
  std::atomic<int> ran{0};
  {
    WorkerPool pool(1, 5);
    absl::Notification busy;
    ASSERT_TRUE(pool.Post([&] {
      busy.Notify();
      release.WaitForNotification();
    }));
    busy.WaitForNotification();
    for (int i = 0; i < 5; ++i) EXPECT_TRUE(pool.Post([&] { ++ran; }));
    EXPECT_FALSE(pool.Post([&] { ++ran; })) << "the sixth queued task";
    release.Notify();
  }
  EXPECT_EQ(ran.load(), 5);
}

TEST(WorkerPoolTest, ReusesIdleThreads) {
  WorkerPool pool(50, 100);
  for (int i = 0; i < 50; ++i) {
    absl::Notification done;
    ASSERT_TRUE(pool.Post([&] { done.Notify(); }));
    ASSERT_TRUE(done.WaitForNotificationWithTimeout(absl::Seconds(10)));
    // Until the thread is back waiting (it is between tasks just after).
    while (pool.idle() < pool.threads()) absl::SleepFor(absl::Microseconds(50));
  }
  EXPECT_EQ(pool.threads(), 1);
}

TEST(WorkerPoolTest, TasksMayOwnMoveOnlyState) {
  std::atomic<int> seen{0};
  {
    WorkerPool pool(1, 1);
    auto value = std::make_unique<int>(7);
    ASSERT_TRUE(
        pool.Post([&seen, value = std::move(value)] { seen = *value; }));
  }
  EXPECT_EQ(seen.load(), 7);
}

}  // namespace
}  // namespace smz
