#include "common/server/worker_pool.h"

#include <system_error>
#include <utility>

namespace smz {

WorkerPool::WorkerPool(int max_threads, int max_queued)
    : max_threads_(max_threads > 0 ? max_threads : 1),
      max_queued_(max_queued > 0 ? max_queued : 1) {}

WorkerPool::~WorkerPool() {
  std::vector<std::thread> threads;
  {
    absl::MutexLock lock(&mutex_);
    stopping_ = true;
    ready_.SignalAll();
    threads.swap(threads_);
  }
  for (std::thread& thread : threads) thread.join();
}

bool WorkerPool::Post(absl::AnyInvocable<void() &&> task) {
  absl::MutexLock lock(&mutex_);
  if (stopping_ || static_cast<int>(tasks_.size()) >= max_queued_) {
    return false;
  }
  // A thread for each task that no idle one will take, up to the limit.
  if (idle_ <= static_cast<int>(tasks_.size()) &&
      static_cast<int>(threads_.size()) < max_threads_) {
    try {
      threads_.emplace_back([this] { Work(); });
    } catch (const std::system_error&) {
      // A process limit: the threads there are will do; with none, refuse.
      if (threads_.empty()) return false;
    }
  }
  tasks_.push_back(std::move(task));
  ready_.Signal();
  return true;
}

int WorkerPool::threads() const {
  absl::MutexLock lock(&mutex_);
  return static_cast<int>(threads_.size());
}

int WorkerPool::idle() const {
  absl::MutexLock lock(&mutex_);
  return idle_;
}

void WorkerPool::Work() {
  absl::MutexLock lock(&mutex_);
  while (true) {
    while (tasks_.empty()) {
      // Posted tasks are run before stopping: each finishes a call.
      if (stopping_) return;
      ++idle_;
      ready_.Wait(&mutex_);
      --idle_;
    }
    absl::AnyInvocable<void()&&> task = std::move(tasks_.front());
    tasks_.pop_front();
    mutex_.Unlock();
    std::move(task)();
    mutex_.Lock();
  }
}

}  // namespace smz
