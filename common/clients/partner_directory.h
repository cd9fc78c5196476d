// Reading partners from the registry, for the services that reference them
// (statistics: "is this partner active, since when"; events: hosting
// partners). Answers are cached briefly, so a burst of reports for one
// hospital costs about one registry call (concurrent first misses each ask);
// the registry stays the only owner.
//
//   auto channel = grpc::CreateChannel(registry_target,
//                                      grpc::InsecureChannelCredentials());
//   smz::RegistryPartnerDirectory partners(channel, service_token,
//                                          &smz::SystemClock::Get());
//   absl::StatusOr<smz::registry::v1::Partner> p = partners.Get(partner_id);
//   if (absl::IsNotFound(p.status())) ...   // unknown partner id
//   if (p.ok() && p->status() != smz::registry::v1::ACTIVE) ...
//
// The token is the calling service's own (a read-only ANALYST token issued
// by the district), never a caller's.
#ifndef SMZ_COMMON_CLIENTS_PARTNER_DIRECTORY_H_
#define SMZ_COMMON_CLIENTS_PARTNER_DIRECTORY_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "common/clock.h"
#include "grpcpp/channel.h"
#include "smz/registry/v1/registry.grpc.pb.h"

namespace smz {

class PartnerDirectory {
 public:
  virtual ~PartnerDirectory() = default;
  // NOT_FOUND for an unknown id, INVALID_ARGUMENT for id <= 0; UNAVAILABLE
  // when the registry cannot answer.
  virtual absl::StatusOr<registry::v1::Partner> Get(int64_t partner_id) = 0;
  // Every ACTIVE partner of `kind`, in id order, as the registry lists them
  // (without their designation history: Get has it); UNAVAILABLE when the
  // registry cannot answer. Not cached (the answer feeds reports that must
  // be current).
  virtual absl::StatusOr<std::vector<registry::v1::Partner>> ListActive(
      registry::v1::PartnerKind kind) = 0;
};

class RegistryPartnerDirectory : public PartnerDirectory {
 public:
  RegistryPartnerDirectory(std::shared_ptr<grpc::ChannelInterface> registry,
                           std::string token, const Clock* clock,
                           absl::Duration cache_ttl = absl::Seconds(30),
                           absl::Duration timeout = absl::Seconds(2));

  absl::StatusOr<registry::v1::Partner> Get(int64_t partner_id) override;
  absl::StatusOr<std::vector<registry::v1::Partner>> ListActive(
      registry::v1::PartnerKind kind) override;

  // Forgets cached partners (e.g. when told a partner changed).
  void InvalidateCache();

 private:
  struct Cached {
    registry::v1::Partner partner;
    absl::Time expires;
  };
  std::unique_ptr<registry::v1::RegistryService::Stub> stub_;
  const std::string token_;
  const Clock* const clock_;
  const absl::Duration cache_ttl_;
  const absl::Duration timeout_;
  absl::Mutex mu_;
  absl::flat_hash_map<int64_t, Cached> cache_ ABSL_GUARDED_BY(mu_);
  uint64_t generation_ ABSL_GUARDED_BY(mu_) = 0;  // bumped by InvalidateCache
};

}  // namespace smz

#endif  // SMZ_COMMON_CLIENTS_PARTNER_DIRECTORY_H_
