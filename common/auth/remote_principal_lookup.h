// Authentication for every service but the registry: the registry owns the
// token table, so a service resolves a caller's bearer token by asking the
// registry's WhoAmI with that token. Wrapped in an Authenticator, answers are
// cached briefly, so a busy service asks once per token per cache period.
//
//   auto registry = grpc::CreateChannel("127.0.0.1:50051",
//                                       grpc::InsecureChannelCredentials());
//   smz::RemotePrincipalLookup lookup(registry);
//   smz::Authenticator authenticator(&lookup, &smz::SystemClock::Get());
//   smz::RpcRunner runner("stats", &authenticator, &metrics);
#ifndef SMZ_COMMON_AUTH_REMOTE_PRINCIPAL_LOOKUP_H_
#define SMZ_COMMON_AUTH_REMOTE_PRINCIPAL_LOOKUP_H_

#include <memory>

#include "absl/time/time.h"
#include "common/auth/authenticator.h"
#include "grpcpp/channel.h"
#include "smz/registry/v1/registry.grpc.pb.h"

namespace smz {

class RemotePrincipalLookup : public PrincipalLookup {
 public:
  explicit RemotePrincipalLookup(
      std::shared_ptr<grpc::ChannelInterface> registry,
      absl::Duration timeout = absl::Seconds(2));

  // nullopt when the registry says UNAUTHENTICATED; UNAVAILABLE when it cannot
  // be asked (down, slow, or any other failure).
  absl::StatusOr<std::optional<Principal>> FindByToken(
      absl::string_view token, absl::string_view token_hash) override;

 private:
  std::unique_ptr<registry::v1::RegistryService::Stub> stub_;
  const absl::Duration timeout_;
};

}  // namespace smz

#endif  // SMZ_COMMON_AUTH_REMOTE_PRINCIPAL_LOOKUP_H_
