#include "common/mysql/freshness_fence.h"

#include <system_error>
#include <utility>
#include <vector>

#include "absl/status/status.h"

namespace smz {
namespace {

constexpr int kQueryThreads = 2;

}  // namespace

FreshnessFence::FreshnessFence(Database* database, std::string sql)
    : FreshnessFence([database,
                      sql = std::move(sql)]() -> absl::StatusOr<std::string> {
        absl::StatusOr<std::vector<Row>> rows =
            database->RunFor<std::vector<Row>>(
                [&](Session& session) { return session.Query(sql, {}); });
        if (!rows.ok()) return rows.status();
        if (rows->empty()) {
          return absl::InternalError("the freshness stamp's row is missing");
        }
        return rows->front().Text(0);
      }) {}

FreshnessFence::FreshnessFence(Query query) : query_(std::move(query)) {}

FreshnessFence::~FreshnessFence() {
  std::vector<std::thread> threads;
  std::thread helper;
  {
    absl::MutexLock lock(&mutex_);
    stopping_ = true;
    waiting_.SignalAll();
    done_.SignalAll();
    helper_ready_.SignalAll();
    threads.swap(threads_);
    helper.swap(helper_);
  }
  for (std::thread& thread : threads) thread.join();
  // After the fence's thread: it may still have handed it work.
  if (helper.joinable()) helper.join();
  std::vector<Waiter> left;
  std::vector<Answered> answered;
  {
    absl::MutexLock lock(&mutex_);
    left.swap(waiters_);
    answered.swap(for_helper_);  // when the helper was never started
  }
  for (Answered& a : answered) std::move(a.then)(a.stamp);
  const absl::StatusOr<std::string> closing =
      absl::UnavailableError("the service is shutting down");
  for (Waiter& waiter : left) std::move(waiter.then)(closing);
}

absl::StatusOr<std::string> FreshnessFence::Current() {
  absl::MutexLock lock(&mutex_);
  // The first query to start from now on; any later one will do as well.
  const int64_t wanted = started_ + 1;
  while (finished_ < wanted) {
    if (running_ > 0) {
      // Wait for the running query: one that started after this call
      // answers it; else, when it ends, this caller or another waiting
      // one starts the next (shared).
      done_.Wait(&mutex_);
      continue;
    }
    RunQuery();
  }
  return last_;
}

int64_t FreshnessFence::queries() const {
  absl::MutexLock lock(&mutex_);
  return finished_;
}

void FreshnessFence::CurrentAsync(Continuation then) {
  absl::MutexLock lock(&mutex_);
  waiters_.push_back(Waiter{started_ + 1, std::move(then)});
  if (static_cast<int>(threads_.size()) < kQueryThreads && !stopping_) {
    try {
      threads_.emplace_back([this] { Loop(); });
    } catch (const std::system_error&) {
      // A process limit: the threads there are will do; with none, this
      // continuation learns it now rather than never.
      if (threads_.empty()) {
        Continuation refused = std::move(waiters_.back().then);
        waiters_.pop_back();
        mutex_.Unlock();
        std::move(refused)(absl::UnavailableError(
            "cannot start the freshness fence's thread"));
        mutex_.Lock();
        return;
      }
    }
  }
  waiting_.Signal();
}

void FreshnessFence::Loop() {
  absl::MutexLock lock(&mutex_);
  while (true) {
    // Continuations that a running query covers wait for it; a Current()
    // caller's query answers them too.
    while (!stopping_ && !(UncoveredWaiters() && running_ < kQueryThreads)) {
      waiting_.Wait(&mutex_);
    }
    if (stopping_) return;
    RunQuery();
  }
}

void FreshnessFence::RunQuery() {
  ++running_;
  const int64_t mine = ++started_;
  mutex_.Unlock();
  absl::StatusOr<std::string> stamp = query_();
  mutex_.Lock();
  // Queries may end out of order: the newest to start is the answer.
  if (mine > finished_) {
    last_ = stamp;
    finished_ = mine;
  }
  --running_;
  done_.SignalAll();
  // Two queries in flight may see a write in the opposite order of their
  // numbers, so a continuation may get an older stamp than one answered
  // just before: a cache keyed by it is emptied for nothing (speed only:
  // each answer is still as new as its continuation's call).
  // Continuations waiting for this query or an earlier one; the others
  // arrived while it ran and need the next.
  std::vector<Waiter> answered;
  std::vector<Waiter> still_waiting;
  for (Waiter& waiter : waiters_) {
    (waiter.wanted <= mine ? answered : still_waiting)
        .push_back(std::move(waiter));
  }
  waiters_.swap(still_waiting);
  if (UncoveredWaiters()) waiting_.Signal();
  if (answered.empty()) return;
  // Half for the helper (one wake-up for all of them), half here.
  if (answered.size() >= 2 && !helper_.joinable() && !stopping_) {
    try {
      helper_ = std::thread([this] { HelperLoop(); });
    } catch (const std::system_error&) {
      // No thread to be had (a process limit): all of them here.
    }
  }
  size_t here = answered.size();
  if (answered.size() >= 2 && helper_.joinable()) {
    here = answered.size() - answered.size() / 2;
    for (size_t i = here; i < answered.size(); ++i) {
      for_helper_.push_back(Answered{std::move(answered[i].then), stamp});
    }
    helper_ready_.Signal();
  }
  mutex_.Unlock();
  for (size_t i = 0; i < here; ++i) std::move(answered[i].then)(stamp);
  mutex_.Lock();
}

void FreshnessFence::HelperLoop() {
  absl::MutexLock lock(&mutex_);
  while (true) {
    while (for_helper_.empty() && !stopping_) helper_ready_.Wait(&mutex_);
    if (for_helper_.empty()) return;  // stopping, and nothing left to run
    std::vector<Answered> batch;
    batch.swap(for_helper_);
    mutex_.Unlock();
    for (Answered& answered : batch) {
      std::move(answered.then)(answered.stamp);
    }
    mutex_.Lock();
  }
}

}  // namespace smz
