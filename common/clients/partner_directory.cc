#include "common/clients/partner_directory.h"

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/status_util.h"

namespace smz {
namespace {

constexpr size_t kMaxCachedPartners = 20000;

}  // namespace

RegistryPartnerDirectory::RegistryPartnerDirectory(
    std::shared_ptr<grpc::ChannelInterface> registry, std::string token,
    const Clock* clock, absl::Duration cache_ttl, absl::Duration timeout)
    : stub_(registry::v1::RegistryService::NewStub(std::move(registry))),
      token_(std::move(token)),
      clock_(clock),
      cache_ttl_(cache_ttl),
      timeout_(timeout) {}

absl::StatusOr<registry::v1::Partner> RegistryPartnerDirectory::Get(
    int64_t partner_id) {
  if (partner_id <= 0) {
    // A caller's mistake, not a registry outage.
    return absl::InvalidArgumentError(
        absl::StrCat("partner id ", partner_id, " is not a partner id"));
  }
  const absl::Time now = clock_->Now();
  uint64_t generation = 0;
  {
    absl::MutexLock lock(&mu_);
    auto it = cache_.find(partner_id);
    if (it != cache_.end() && it->second.expires > now) {
      return it->second.partner;
    }
    generation = generation_;
  }
  grpc::ClientContext context;
  context.set_deadline(absl::ToChronoTime(absl::Now() + timeout_));
  context.AddMetadata("authorization", absl::StrCat("Bearer ", token_));
  registry::v1::GetPartnerRequest request;
  request.set_id(partner_id);
  registry::v1::Partner partner;
  const grpc::Status status = stub_->GetPartner(&context, request, &partner);
  if (status.error_code() == grpc::StatusCode::NOT_FOUND) {
    return absl::NotFoundError(
        absl::StrCat("partner ", partner_id, " is not in the registry"));
  }
  if (!status.ok()) {
    // Our own credentials failing is a deployment fault, not the caller's:
    // report it as the registry being unusable.
    return absl::UnavailableError(
        absl::StrCat("cannot read partner ", partner_id, " from the registry: ",
                     absl::StatusCodeToString(FromGrpcStatus(status).code()),
                     ": ", status.error_message()));
  }
  absl::MutexLock lock(&mu_);
  if (generation == generation_) {  // not invalidated while we asked
    if (cache_.size() >= kMaxCachedPartners) cache_.clear();
    cache_[partner_id] = Cached{partner, now + cache_ttl_};
  }
  return partner;
}

absl::StatusOr<std::vector<registry::v1::Partner>>
RegistryPartnerDirectory::ListActive(registry::v1::PartnerKind kind) {
  std::vector<registry::v1::Partner> partners;
  registry::v1::ListPartnersRequest request;
  request.set_kind(kind);
  request.set_status(registry::v1::ACTIVE);
  request.set_page_size(200);
  // Bounded, in case a registry bug hands back the same token forever.
  for (int page = 0; page < 1000; ++page) {
    grpc::ClientContext context;
    context.set_deadline(absl::ToChronoTime(absl::Now() + timeout_));
    context.AddMetadata("authorization", absl::StrCat("Bearer ", token_));
    registry::v1::ListPartnersResponse response;
    const grpc::Status status =
        stub_->ListPartners(&context, request, &response);
    if (!status.ok()) {
      return absl::UnavailableError(
          absl::StrCat("cannot list partners from the registry: ",
                       absl::StatusCodeToString(FromGrpcStatus(status).code()),
                       ": ", status.error_message()));
    }
    for (registry::v1::Partner& partner : *response.mutable_partners()) {
      partners.push_back(std::move(partner));
    }
    if (response.next_page_token().empty()) break;
    request.set_page_token(response.next_page_token());
  }
  // Not into Get's cache: a listing carries no designation history, which
  // Get's answers do (and readers of Get rely on).
  return partners;
}

void RegistryPartnerDirectory::InvalidateCache() {
  absl::MutexLock lock(&mu_);
  cache_.clear();
  ++generation_;
}

}  // namespace smz
