// Answers kept in memory under the stamp of the data they were computed
// from (a FreshnessFence's: a value every write of that data moves), so that
// a read answers from memory only while nothing has changed since: exact,
// with no time-based staleness. All kept answers share one stamp; an answer
// at another stamp replaces them all. Bounded by bytes (counted serialized).
//
//   StampedAnswers<v1::AggregateResponse> answers(8 << 20);
//   if (std::shared_ptr<const v1::AggregateResponse> hit =
//           answers.Find(key, stamp)) {
//     return *hit;
//   }
//   ...  // compute from the database, having read `stamp` first
//   answers.Insert(key, stamp,
//                  std::make_shared<const v1::AggregateResponse>(answer));
//
// `Answer` is either a protobuf message type (or google::protobuf::Message
// itself, for answers of several types), whose size is its ByteSizeLong(),
// or std::string, for answers kept serialized, whose size is its size()
// (the gateway's council tables: CouncilCache).
#ifndef SMZ_COMMON_SERVER_STAMPED_ANSWERS_H_
#define SMZ_COMMON_SERVER_STAMPED_ANSWERS_H_

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <utility>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/synchronization/mutex.h"

namespace smz {
namespace stamped_answers_internal {

// An answer's size as the budget counts it: its serialized bytes.
inline size_t SizeOf(const std::string& serialized) {
  return serialized.size();
}
template <typename Message>
size_t SizeOf(const Message& message) {
  return message.ByteSizeLong();
}

}  // namespace stamped_answers_internal

template <typename Answer>
class StampedAnswers {
 public:
  // At most `max_bytes` of answers and keys; one answer at most a sixteenth
  // of it. Beyond, kept answers are dropped, in no particular order, until
  // the new one fits (not all: one caller's many answers cost the others
  // only what they displace).
  explicit StampedAnswers(size_t max_bytes) : max_bytes_(max_bytes) {}

  // The answer kept under `key`, if it was computed at `stamp`; null
  // otherwise (an empty stamp never matches).
  std::shared_ptr<const Answer> Find(const std::string& key,
                                     const std::string& stamp) const
      ABSL_LOCKS_EXCLUDED(mutex_) {
    std::shared_ptr<const Answer> kept;
    {
      absl::MutexLock lock(&mutex_);
      if (stamp.empty() || stamp != stamp_) return nullptr;
      auto it = answers_.find(key);
      if (it == answers_.end()) return nullptr;
      kept = it->second.answer;
    }
    hits_.fetch_add(1, std::memory_order_relaxed);
    return kept;
  }

  // Keeps `answer` (not null), computed from what the data held at `stamp`
  // or later (the stamp read before computing). An empty stamp keeps
  // nothing. Stamps are not ordered: the last stamp inserted wins (a slow
  // miss finishing with an older stamp costs the newer answers, never
  // exactness).
  void Insert(const std::string& key, const std::string& stamp,
              std::shared_ptr<const Answer> answer)
      ABSL_LOCKS_EXCLUDED(mutex_) {
    const size_t size = key.size() + stamped_answers_internal::SizeOf(*answer);
    if (stamp.empty() || size > max_bytes_ / 16) return;
    absl::MutexLock lock(&mutex_);
    if (stamp != stamp_) {
      answers_.clear();
      bytes_ = 0;
      stamp_ = stamp;
    }
    while (bytes_ + size > max_bytes_ && !answers_.empty()) {
      auto victim = answers_.begin();
      bytes_ -= victim->second.size;
      answers_.erase(victim);
    }
    auto [it, inserted] =
        answers_.try_emplace(key, Kept{std::move(answer), size});
    if (inserted) bytes_ += size;
  }

  // Answers kept (for tests).
  size_t entries() const ABSL_LOCKS_EXCLUDED(mutex_) {
    absl::MutexLock lock(&mutex_);
    return answers_.size();
  }
  // Answers Find has given (for tests and benchmarks).
  int64_t hits() const { return hits_.load(std::memory_order_relaxed); }

 private:
  const size_t max_bytes_;
  mutable absl::Mutex mutex_;
  std::string stamp_ ABSL_GUARDED_BY(mutex_);
  struct Kept {
    // Shared so that a reader copies it after unlocking.
    std::shared_ptr<const Answer> answer;
    size_t size;  // with its key's
  };
  absl::flat_hash_map<std::string, Kept> answers_ ABSL_GUARDED_BY(mutex_);
  size_t bytes_ ABSL_GUARDED_BY(mutex_) = 0;
  mutable std::atomic<int64_t> hits_{0};
};

}  // namespace smz

#endif  // SMZ_COMMON_SERVER_STAMPED_ANSWERS_H_
