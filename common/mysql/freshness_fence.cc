#include "common/mysql/freshness_fence.h"

#include <utility>
#include <vector>

#include "absl/status/status.h"

namespace smz {

FreshnessFence::FreshnessFence(Database* database, std::string sql)
    : database_(database), sql_(std::move(sql)) {}

absl::StatusOr<std::string> FreshnessFence::Current() {
  absl::MutexLock lock(&mutex_);
  // The first query to start from now on; any later one will do as well.
  const int64_t wanted = started_ + 1;
  while (finished_ < wanted) {
    if (running_) {
      // The running query started before this call: wait for it to end,
      // then this caller, or another waiting one, starts the next.
      done_.Wait(&mutex_);
      continue;
    }
    running_ = true;
    const int64_t mine = ++started_;
    mutex_.Unlock();
    absl::StatusOr<std::vector<Row>> rows = database_->RunFor<std::vector<Row>>(
        [&](Session& session) { return session.Query(sql_, {}); });
    absl::StatusOr<std::string> stamp;
    if (!rows.ok()) {
      stamp = rows.status();
    } else if (rows->empty()) {
      stamp = absl::InternalError("the freshness stamp's row is missing");
    } else {
      stamp = rows->front().Text(0);
    }
    mutex_.Lock();
    last_ = std::move(stamp);
    finished_ = mine;
    running_ = false;
    done_.SignalAll();
  }
  return last_;
}

int64_t FreshnessFence::queries() const {
  absl::MutexLock lock(&mutex_);
  return finished_;
}

}  // namespace smz
