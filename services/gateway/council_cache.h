// The council's tables kept in memory, exact: each answer under the stamps
// of the four backends it was computed from (every backend serves
// smz.freshness.v1.FreshnessService: a stamp every write of its data moves),
// answered again only while all four stamps are unchanged. A report, event
// or budget change is therefore in the very next answer, with no time-based
// staleness; past years are as cheap to check as this month.
//
// The stamps are asked of all four backends at once, by a FreshnessFence:
// one round, started after a request arrived, answers every request that
// arrives while it runs; and while every backend's lease on its stamp runs
// (their writers wait those out before acknowledging, write_stamps.h), the
// last round answers at once, with no round at all. Without credentials (the
// stamp is opaque, see freshness.proto), so one caller's round serves the
// others'.
//
// Answers are kept serialized: the gateway's handlers, registered raw, send
// a kept answer's bytes as they are (GatewayGrpcService).
//
//   CouncilCache cache(backends, CouncilCacheOptions{});
//   const std::string key = cache.KeyOf("GetZoneOverview", caller, today,
//                                       request);
//   if (std::shared_ptr<const std::string> hit = cache.Find(key, stamp)) {
//     ShareAsResponse(std::move(hit), response);  // stamp: cache.fence()
//   }
//   ...  // compute, having read `stamp` first and seen no outage
//   cache.Insert(key, stamp,
//                std::make_shared<const std::string>(
//                    overview.SerializeAsString()));
#ifndef SMZ_SERVICES_GATEWAY_COUNCIL_CACHE_H_
#define SMZ_SERVICES_GATEWAY_COUNCIL_CACHE_H_

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "absl/strings/string_view.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "common/auth/authenticator.h"
#include "common/mysql/freshness_fence.h"
#include "common/server/stamped_answers.h"
#include "google/protobuf/message.h"
#include "services/gateway/gateway.h"
#include "smz/freshness/v1/freshness.grpc.pb.h"

namespace smz::gateway {

struct CouncilCacheOptions {
  // Answers kept, counted serialized (GatewayServer makes no cache at 0:
  // every request computes, no stamps asked).
  size_t max_bytes = 16 << 20;
  // Each stamp call's deadline: a backend that does not answer in time
  // makes the requests waiting for that round compute, as without the
  // cache; so a hanging backend costs a request this much more.
  absl::Duration stamp_deadline = absl::Milliseconds(250);
};

class CouncilCache {
 public:
  CouncilCache(const BackendChannels& backends, CouncilCacheOptions options);
  CouncilCache(const CouncilCache&) = delete;
  CouncilCache& operator=(const CouncilCache&) = delete;

  // The four backends' stamps, joined, as of a moment after the call began;
  // "" when a backend cannot say or cannot vouch for its reads (then
  // nothing is answered from memory nor kept).
  FreshnessFence& fence() { return fence_; }

  // Requests larger than this are computed every time (real ones are a few
  // dozen bytes; a padded one must not be hashed and kept).
  static constexpr size_t kMaxRequestBytes = 4096;
  // The key of `method`'s answer to `request` for `caller` on `today` (what
  // a role may see differs; "today" is what an absent as_of means, and what
  // "upcoming" counts from). "" when the request is not to be kept.
  static std::string KeyOf(absl::string_view method, const Principal& caller,
                           absl::CivilDay today,
                           const google::protobuf::Message& request);

  // The answer kept under `key` at `stamp`, serialized, or null.
  std::shared_ptr<const std::string> Find(const std::string& key,
                                          const std::string& stamp) const {
    return answers_.Find(key, stamp);
  }
  // Keeps `answer` (serialized, not null), computed after `stamp` was read.
  void Insert(const std::string& key, const std::string& stamp,
              std::shared_ptr<const std::string> answer);

  // For tests and benchmarks: answers given from memory, stamp rounds run.
  int64_t hits() const { return answers_.hits(); }
  int64_t stamp_rounds() const { return fence_.queries(); }

 private:
  // One round: every backend's stamp, asked at once.
  absl::StatusOr<FreshnessFence::Leased> AskStamps() const;

  const CouncilCacheOptions options_;
  std::array<std::unique_ptr<freshness::v1::FreshnessService::Stub>, 4> stubs_;
  StampedAnswers<std::string> answers_;
  // Last: destroyed first, its threads stopped while the stubs exist.
  FreshnessFence fence_;
};

}  // namespace smz::gateway

#endif  // SMZ_SERVICES_GATEWAY_COUNCIL_CACHE_H_
