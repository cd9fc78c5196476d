// Answers of QueryAggregate kept in memory, each under the stamp of the
// rollups it was computed at (StatsStore::rollups_fence(): a stamp every
// transaction that changes a rollup moves), so that a read answers from
// memory only while no counted report has changed since: exact, with no
// time-based staleness. Only answers from the rollups are kept (not those by
// partner, which read the cells), keyed by the caller's role — what a role
// may see differs (suppression) — and the request's bytes.
//
//   AggregateCache cache(16 << 20);
//   const std::string key = AggregateCache::KeyOf(caller, request);
//   if (auto hit = cache.Find(key, stamp)) return *hit;
//   ...  // compute from the database, having read `stamp` first
//   cache.Insert(key, stamp, answer);
#ifndef SMZ_SERVICES_STATS_AGGREGATE_CACHE_H_
#define SMZ_SERVICES_STATS_AGGREGATE_CACHE_H_

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>

#include "common/auth/authenticator.h"
#include "common/server/stamped_answers.h"
#include "smz/stats/v1/stats.pb.h"

namespace smz::stats {

class AggregateCache {
 public:
  // At most `max_bytes` of answers and keys, counted serialized (in memory
  // they take a few times that); one answer at most a sixteenth of it.
  // Beyond, kept answers are dropped, in no particular order, until the new
  // one fits. An empty stamp (no rollup_version rows) keeps nothing.
  explicit AggregateCache(size_t max_bytes) : answers_(max_bytes) {}

  // Whether memory may answer `request` at all: aggregates from the rollups,
  // not by partner (those read the cells and the partners' names), asked
  // in a request of at most kMaxRequestBytes (real ones are a few dozen).
  static bool Cacheable(const v1::AggregateRequest& request);
  static constexpr size_t kMaxRequestBytes = 4096;
  // The key: the role (what a role may see differs) and the request's own
  // fields (fields this release does not know are left out).
  static std::string KeyOf(const Principal& caller,
                           const v1::AggregateRequest& request);

  // The answer kept under `key`, if it was computed at `stamp`.
  std::optional<v1::AggregateResponse> Find(const std::string& key,
                                            const std::string& stamp) const;
  // Keeps `answer`, computed from what the database held at `stamp` (the
  // stamp read before computing it and again after, unchanged); see
  // StampedAnswers::Insert.
  void Insert(const std::string& key, const std::string& stamp,
              const v1::AggregateResponse& answer);

  // Answers kept (for tests).
  size_t entries() const { return answers_.entries(); }
  // Answers Find has given (for tests and benchmarks).
  int64_t hits() const { return answers_.hits(); }

 private:
  StampedAnswers<v1::AggregateResponse> answers_;
};

}  // namespace smz::stats

#endif  // SMZ_SERVICES_STATS_AGGREGATE_CACHE_H_
