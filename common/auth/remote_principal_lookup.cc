#include "common/auth/remote_principal_lookup.h"

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"

namespace smz {

RemotePrincipalLookup::RemotePrincipalLookup(
    std::shared_ptr<grpc::ChannelInterface> registry, absl::Duration timeout)
    : stub_(registry::v1::RegistryService::NewStub(std::move(registry))),
      timeout_(timeout) {}

absl::StatusOr<std::optional<Principal>> RemotePrincipalLookup::FindByToken(
    absl::string_view token, absl::string_view /*token_hash*/) {
  grpc::ClientContext context;
  context.set_deadline(absl::ToChronoTime(absl::Now() + timeout_));
  context.AddMetadata("authorization", absl::StrCat("Bearer ", token));
  Principal principal;
  const grpc::Status status =
      stub_->WhoAmI(&context, registry::v1::WhoAmIRequest(), &principal);
  if (status.ok()) return principal;
  if (status.error_code() == grpc::StatusCode::UNAUTHENTICATED) {
    return std::nullopt;
  }
  // Never "unauthenticated" because the registry could not be asked: that
  // would turn an outage into a wave of rejected credentials.
  return absl::UnavailableError(absl::StrCat(
      "cannot verify credentials with the registry: ", status.error_message()));
}

}  // namespace smz
