#include "services/gateway/council_cache.h"

#include <algorithm>
#include <chrono>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/blocking_counter.h"
#include "common/mysql/write_stamps.h"
#include "grpcpp/client_context.h"

namespace smz::gateway {
namespace {

// In the order of stubs_.
constexpr std::array<const char*, 4> kBackendNames = {"registry", "stats",
                                                      "events", "programme"};
// Whatever a backend says, the gateway keeps a round no longer than a
// backend's writers wait for a lease (Database::WaitOutStampLeases).
constexpr absl::Duration kLongestLease = kStampLease;

}  // namespace

CouncilCache::CouncilCache(const BackendChannels& backends,
                           CouncilCacheOptions options)
    : options_(options),
      stubs_{freshness::v1::FreshnessService::NewStub(backends.registry),
             freshness::v1::FreshnessService::NewStub(backends.stats),
             freshness::v1::FreshnessService::NewStub(backends.events),
             freshness::v1::FreshnessService::NewStub(backends.programme)},
      answers_(options.max_bytes),
      fence_([this] { return AskStamps(); }, SteadyClock::Get()) {}

absl::StatusOr<FreshnessFence::Leased> CouncilCache::AskStamps() const {
  struct Asked {
    grpc::ClientContext context;
    freshness::v1::GetStampRequest request;
    freshness::v1::Stamp response;
    grpc::Status status;
  };
  std::array<Asked, 4> asked;
  absl::BlockingCounter answered(static_cast<int>(asked.size()));
  const auto deadline = std::chrono::system_clock::now() +
                        absl::ToChronoMicroseconds(options_.stamp_deadline);
  for (size_t i = 0; i < asked.size(); ++i) {
    Asked& a = asked[i];
    a.context.set_deadline(deadline);
    stubs_[i]->async()->GetStamp(&a.context, &a.request, &a.response,
                                 [&a, &answered](grpc::Status status) {
                                   a.status = std::move(status);
                                   answered.DecrementCount();
                                 });
  }
  answered.Wait();
  // The round's lease: the shortest any backend has left, each counted by
  // the fence from before the round was sent (so it ends no later than the
  // backend's own); none when any backend grants none.
  FreshnessFence::Leased round{std::string(), kLongestLease};
  for (size_t i = 0; i < asked.size(); ++i) {
    // A backend that cannot say (down, slow, of a release without stamps)
    // or cannot vouch for its reads: no stamp, so nothing is answered from
    // memory nor kept, and the request computes as without the cache (its
    // sections say what is out). Not an error: that would fail the request.
    if (!asked[i].status.ok() || asked[i].response.stamp().empty()) {
      return FreshnessFence::Leased{};
    }
    absl::StrAppend(&round.stamp, kBackendNames[i], "=",
                    asked[i].response.stamp(), ";");
    const google::protobuf::Duration& left = asked[i].response.lease_left();
    round.lease = std::min(round.lease, absl::Seconds(left.seconds()) +
                                            absl::Nanoseconds(left.nanos()));
  }
  round.lease = std::max(round.lease, absl::ZeroDuration());
  return round;
}

std::string CouncilCache::KeyOf(absl::string_view method,
                                const Principal& caller, absl::CivilDay today,
                                const google::protobuf::Message& request) {
  if (request.ByteSizeLong() > kMaxRequestBytes) return "";
  std::unique_ptr<google::protobuf::Message> known(request.New());
  known->CopyFrom(request);
  known->DiscardUnknownFields();
  return absl::StrCat(method, "\n", auth::v1::Role_Name(caller.role()), "\n",
                      caller.partner_id(), "\n", absl::FormatCivilTime(today),
                      "\n", known->SerializeAsString());
}

void CouncilCache::Insert(const std::string& key, const std::string& stamp,
                          std::shared_ptr<const std::string> answer) {
  if (key.empty() || stamp.empty() || options_.max_bytes == 0) return;
  answers_.Insert(key, stamp, std::move(answer));
}

}  // namespace smz::gateway
