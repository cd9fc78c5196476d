#include "common/mysql/freshness_fence.h"

#include <algorithm>
#include <system_error>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "common/mysql/write_stamps.h"

namespace smz {
namespace {

constexpr int kQueryThreads = 2;

}  // namespace

FreshnessFence::FreshnessFence(Database* database, std::string sql)
    : FreshnessFence(database, std::move(sql), absl::ZeroDuration()) {}

FreshnessFence::FreshnessFence(Database* database, std::string sql,
                               absl::Duration lease, const Clock& clock)
    : FreshnessFence(
          [database, lease,
           // With a lease, `sql` as a derived table, so that no row is
           // still no row (an error below), not an empty stamp.
           sql = lease > absl::ZeroDuration()
                     ? absl::StrCat("SELECT stamp_query.*, (SELECT "
                                    "TIMESTAMPDIFF(MICROSECOND, "
                                    "UTC_TIMESTAMP(6), until) FROM "
                                    "stamp_lease WHERE id = 1) FROM (",
                                    sql, ") AS stamp_query")
                     : std::move(sql)]() -> absl::StatusOr<Leased> {
            absl::StatusOr<std::vector<Row>> rows =
                database->RunFor<std::vector<Row>>(
                    [&](Session& session) -> absl::StatusOr<std::vector<Row>> {
                      if (lease > absl::ZeroDuration()) {
                        // Autocommit: granted (and committed) before the
                        // stamp is read, so a writer that commits after the
                        // read finds it (write_stamps.h).
                        absl::StatusOr<int64_t> granted = session.Execute(
                            kStampLeaseGrantSql,
                            {SqlInt(absl::ToInt64Microseconds(lease))});
                        if (!granted.ok()) return granted.status();
                      }
                      return session.Query(sql, {});
                    });
            if (!rows.ok()) return rows.status();
            if (rows->empty()) {
              return absl::InternalError(
                  "the freshness stamp's row is missing");
            }
            Leased answer{rows->front().Text(0), absl::ZeroDuration()};
            // What the database says is left of the lease (none without
            // its row), never more than asked for.
            if (lease > absl::ZeroDuration() && rows->front().size() > 1 &&
                !rows->front().IsNull(1)) {
              answer.lease =
                  std::min(lease, absl::Microseconds(rows->front().Int(1)));
            }
            return answer;
          },
          clock) {}

FreshnessFence::FreshnessFence(Query query)
    : FreshnessFence(
          [query = std::move(query)]() -> absl::StatusOr<Leased> {
            absl::StatusOr<std::string> stamp = query();
            if (!stamp.ok()) return stamp.status();
            return Leased{*std::move(stamp), absl::ZeroDuration()};
          },
          SteadyClock::Get()) {}

FreshnessFence::FreshnessFence(LeasedQuery query, const Clock& clock)
    : query_(std::move(query)), clock_(clock) {}

bool FreshnessFence::LeaseCovered(absl::Time arrived) {
  if (!last_.ok() || lease_end_ <= arrived) return false;
  ++leased_answers_;
  return true;
}

bool FreshnessFence::AnswerFromLease() {
  if (!last_.ok()) return false;
  const absl::Time now = clock_.Now();
  if (lease_end_ <= now) return false;
  ++leased_answers_;
  // A call past the lease's middle: renew the lease now on a fence thread
  // while it still answers, so that calls that keep coming never find it
  // ended.
  if (!renewal_wanted_ && running_ == 0 && !stopping_ &&
      now - lease_start_ > (lease_end_ - lease_start_) / 2) {
    renewal_wanted_ = true;
    if (threads_.empty()) {
      try {
        threads_.emplace_back([this] { Loop(); });
      } catch (const std::system_error&) {
        renewal_wanted_ = false;  // no thread to be had: the lease just ends
      }
    }
    waiting_.Signal();
  }
  return true;
}

absl::Duration FreshnessFence::LeaseLeft(const std::string& stamp) const {
  absl::MutexLock lock(&mutex_);
  if (!last_.ok() || *last_ != stamp) return absl::ZeroDuration();
  return std::max(absl::ZeroDuration(), lease_end_ - clock_.Now());
}

int64_t FreshnessFence::leased_answers() const {
  absl::MutexLock lock(&mutex_);
  return leased_answers_;
}

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
  return CurrentOf(/*leases=*/true);
}

absl::StatusOr<std::string> FreshnessFence::CurrentFromQuery() {
  return CurrentOf(/*leases=*/false);
}

absl::StatusOr<std::string> FreshnessFence::CurrentOf(bool leases) {
  absl::MutexLock lock(&mutex_);
  if (leases && AnswerFromLease()) return last_;
  // The first query to start from now on; any later one will do as well.
  const int64_t wanted = started_ + 1;
  const absl::Time arrived = clock_.Now();
  while (finished_ < wanted) {
    if (running_ > 0) {
      // Wait for the running query: one that started after this call
      // answers it; else, when it ends, this caller or another waiting
      // one starts the next (shared).
      done_.Wait(&mutex_);
      if (leases && LeaseCovered(arrived)) return last_;
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
  absl::ReleasableMutexLock lock(&mutex_);
  if (AnswerFromLease()) {
    // At once, on the caller's thread: no query, no hand-off.
    const absl::StatusOr<std::string> stamp = last_;
    lock.Release();
    std::move(then)(stamp);
    return;
  }
  waiters_.push_back(Waiter{started_ + 1, clock_.Now(), std::move(then)});
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
    while (!stopping_ && !(UncoveredWaiters() && running_ < kQueryThreads) &&
           !(renewal_wanted_ && running_ == 0)) {
      waiting_.Wait(&mutex_);
    }
    if (stopping_) return;
    RunQuery();
  }
}

void FreshnessFence::RunQuery() {
  ++running_;
  const int64_t mine = ++started_;
  renewal_wanted_ = false;  // any query renews the lease, whoever it is for
  mutex_.Unlock();
  // Before the query: a lease counts from before the database granted it.
  const absl::Time start = clock_.Now();
  absl::StatusOr<Leased> answer = query_();
  absl::StatusOr<std::string> stamp =
      answer.ok() ? absl::StatusOr<std::string>(std::move(answer->stamp))
                  : absl::StatusOr<std::string>(answer.status());
  mutex_.Lock();
  // Queries may end out of order: the newest to start is the answer.
  if (mine > finished_) {
    last_ = stamp;
    lease_start_ = start;
    lease_end_ = answer.ok() ? start + answer->lease : absl::InfinitePast();
    finished_ = mine;
  }
  --running_;
  done_.SignalAll();
  // Two queries in flight may see a write in the opposite order of their
  // numbers, so a continuation may get an older stamp than one answered
  // just before: a cache keyed by it is emptied for nothing (speed only:
  // each answer is still as new as its continuation's call).
  // Answered: continuations this query or an earlier one was started for,
  // and those that arrived before this answer's lease ends (a write
  // acknowledged before they arrived waited that lease out,
  // write_stamps.h); the latter spares a call that finds the lease just
  // ended while a renewal runs. The others need the next query.
  const absl::Time covers_until =
      answer.ok() ? start + answer->lease : absl::InfinitePast();
  std::vector<Waiter> answered;
  std::vector<Waiter> still_waiting;
  for (Waiter& waiter : waiters_) {
    (waiter.wanted <= mine || waiter.arrived < covers_until ? answered
                                                            : still_waiting)
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
