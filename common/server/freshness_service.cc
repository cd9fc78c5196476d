#include "common/server/freshness_service.h"

#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "common/auth/token.h"
#include "common/version.h"

namespace smz {

FreshnessGrpcService::FreshnessGrpcService(FreshnessFence* fence,
                                           std::string settings,
                                           std::unique_ptr<RpcRunner> runner)
    : fence_(fence),
      prefix_(absl::StrCat(Version(), "/", settings, "/")),
      runner_(std::move(runner)) {
  runner_->LogOnlyFailures();  // a line per round of every gateway: noise
}

std::string FreshnessGrpcService::Hashed(const std::string& stamp) const {
  return HashToken(absl::StrCat(prefix_, stamp));
}

grpc::ServerUnaryReactor* FreshnessGrpcService::GetStamp(
    grpc::CallbackServerContext* context,
    const freshness::v1::GetStampRequest* /*request*/,
    freshness::v1::Stamp* response) {
  return runner_->RunCallback(
      context, "GetStamp", fence_,
      // Without a fence the stamp is "": nothing may be kept at it.
      [this, response](const Principal&, const std::string& stamp)
          -> std::optional<absl::Status> {
        if (stamp.empty()) return absl::OkStatus();
        response->set_stamp(Hashed(stamp));
        // Read after the stamp, so no more than was left when the stamp
        // was answered; the caller counts it from before it sent the call.
        const absl::Duration left = fence_->LeaseLeft(stamp);
        if (left > absl::ZeroDuration()) {
          const int64_t micros = absl::ToInt64Microseconds(left);
          response->mutable_lease_left()->set_seconds(micros / 1000000);
          response->mutable_lease_left()->set_nanos(
              static_cast<int32_t>(micros % 1000000) * 1000);
        }
        return absl::OkStatus();
      },
      // Only when the fence's query failed: ask again, to answer its error.
      [this, response](const Principal&) -> absl::Status {
        absl::StatusOr<std::string> stamp = fence_->Current();
        if (!stamp.ok()) return stamp.status();
        if (!stamp->empty()) response->set_stamp(Hashed(*stamp));
        return absl::OkStatus();
      });
}

}  // namespace smz
