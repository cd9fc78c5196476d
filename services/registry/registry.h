// The registry's application logic, independent of gRPC: request validation,
// per-partner access rules, lifecycle decisions and idempotency, on top of
// RegistryStore. The gRPC adapter (registry_grpc_service.h) authenticates the
// caller, checks the method's roles and calls one method here.
//
//   Registry registry(&store, &authenticator, &clock, &random);
//   absl::StatusOr<Partner> partner = registry.GetPartner(caller, request);
#ifndef SMZ_SERVICES_REGISTRY_REGISTRY_H_
#define SMZ_SERVICES_REGISTRY_REGISTRY_H_

#include <memory>
#include <optional>
#include <string>

#include "absl/functional/function_ref.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "common/aip/pager.h"
#include "common/auth/authenticator.h"
#include "common/auth/token.h"
#include "common/clock.h"
#include "services/registry/partner_rules.h"
#include "services/registry/registry_store.h"
#include "smz/registry/v1/registry.pb.h"

namespace smz::registry {

// A token an operator made and supplied as a read-only secret file, which
// the registry registers on start instead of minting one (see
// Registry::EnsureProvisionedTokens).
struct ProvisionedToken {
  std::string name;  // "admin", "stats", ...: for the audit trail and logs
  auth::v1::Role role = auth::v1::ROLE_UNSPECIFIED;
  // HashToken of the token: all the registry needs, so that the plaintext
  // (an ADMIN's above all) may stay off its host. 64 lowercase hex digits.
  std::string hash;
};

class Registry {
 public:
  // `authenticator` may be null (its cache is flushed when tokens change).
  Registry(RegistryStore* store, Authenticator* authenticator,
           const Clock* clock, RandomSource* random);

  absl::StatusOr<Partner> CreatePartner(
      const Principal& caller, const v1::CreatePartnerRequest& request);
  absl::StatusOr<Partner> GetPartner(const Principal& caller,
                                     const v1::GetPartnerRequest& request);
  absl::StatusOr<v1::ListPartnersResponse> ListPartners(
      const Principal& caller, const v1::ListPartnersRequest& request);
  // GetPartner and ListPartners answered from memory as of the directory's
  // `stamp` (RegistryStore::directory_fence()), their errors too; nullopt
  // when only the blocking versions above can answer. Never wait.
  std::optional<absl::StatusOr<Partner>> GetPartnerFromMemory(
      const Principal& caller, const v1::GetPartnerRequest& request,
      const std::string& stamp);
  std::optional<absl::StatusOr<v1::ListPartnersResponse>>
  ListPartnersFromMemory(const Principal& caller,
                         const v1::ListPartnersRequest& request,
                         const std::string& stamp);
  // ListPartners for a request as it arrived (`request`: its bytes),
  // answered serialized: from memory as of `stamp`, like
  // ListPartnersFromMemory. The answer is kept under the request's bytes
  // (RegistryStore::CachedListAnswer), so the same bytes asked again at that
  // stamp are answered by the very bytes built the first time, whoever asks:
  // ListPartners is the same for every role allowed to call it (registry.proto
  // leaves PARTNER out; a role that saw only some rows would need answers
  // kept per caller). Kept only when `request` is exactly how this server
  // would serialize the parsed request, so that other encodings of one
  // question (unknown fields, a field given twice, another client's field
  // order or explicit defaults) are answered, never kept: they cannot fill
  // memory with copies. INVALID_ARGUMENT when `request` is not a
  // ListPartnersRequest.
  std::optional<absl::StatusOr<std::shared_ptr<const std::string>>>
  ListPartnersSerializedFromMemory(const Principal& caller,
                                   absl::string_view request,
                                   const std::string& stamp);
  // ListPartners for a request as it arrived, answered serialized; may wait
  // for the database. Keeps no serialized answer: it has no stamp to keep it
  // under (RegistryStore::ListPartners reads its own, keeping the rows), so
  // after a write the first identical read comes here, the second is built
  // from the rows kept and keeps its bytes, and the third on are sent as kept.
  absl::StatusOr<std::string> ListPartnersSerialized(const Principal& caller,
                                                     absl::string_view request);
  FreshnessFence& directory_fence() { return store_->directory_fence(); }
  absl::StatusOr<Partner> UpdatePartner(
      const Principal& caller, const v1::UpdatePartnerRequest& request);
  absl::StatusOr<Partner> ChangeDesignation(
      const Principal& caller, const v1::DesignationRequest& request,
      LifecycleAction action);
  absl::StatusOr<v1::ListPartnerChangesResponse> ListPartnerChanges(
      const Principal& caller, const v1::ListPartnerChangesRequest& request);
  absl::StatusOr<v1::CountDesignationsResponse> CountDesignations(
      const Principal& caller, const v1::CountDesignationsRequest& request);
  absl::StatusOr<v1::CountPartnersResponse> CountPartners(
      const Principal& caller, const v1::CountPartnersRequest& request);
  absl::StatusOr<v1::ListExpiringResponse> ListExpiring(
      const Principal& caller, const v1::ListExpiringRequest& request);
  absl::StatusOr<Grant> CreateGrant(const Principal& caller,
                                    const v1::CreateGrantRequest& request);
  absl::StatusOr<v1::ListGrantsResponse> ListGrants(
      const Principal& caller, const v1::ListGrantsRequest& request);
  absl::StatusOr<v1::IssueTokenResponse> IssueToken(
      const Principal& caller, const v1::IssueTokenRequest& request);
  absl::Status RevokeToken(const Principal& caller,
                           const v1::RevokeTokenRequest& request);
  absl::StatusOr<v1::ListTokensResponse> ListTokens(
      const Principal& caller, const v1::ListTokensRequest& request);

  // On the first start of a deployment (no active ADMIN token), creates one:
  // `deliver` receives the plaintext first (e.g. writes it to a 0600 file)
  // and only if it succeeds is the token's hash stored. Returns whether a
  // token was created.
  absl::StatusOr<bool> EnsureBootstrapAdminToken(
      absl::FunctionRef<absl::Status(const std::string& token)> deliver);

  // Registers each provisioned token's hash unless a token with that hash
  // is already stored, so every replica of a fresh deployment may run it at
  // once (the hash is unique: one of them stores it). Returns how many were
  // stored by this call. FAILED_PRECONDITION, and nothing stored, when one
  // was revoked (its secret must be replaced: kept, a restored backup would
  // bring it back to life) or is stored with another role.
  absl::StatusOr<int> EnsureProvisionedTokens(
      absl::Span<const ProvisionedToken> tokens);

  // The first start after a backup is restored revokes every API token but
  // those provisioned (`keep`: their secret files are current), ends every
  // session and voids unused account links (RegistryStore::
  // ReviewAfterRestore), logged with the counts. Every later start: nothing.
  absl::StatusOr<RegistryStore::RestoreReview> ReviewAfterRestore(
      absl::Span<const ProvisionedToken> keep);

  // The break-glass path: a new ADMIN token whatever tokens exist, for when
  // every ADMIN token is lost. `deliver` receives the plaintext before the
  // hash is stored; the issue is audited as BREAK_GLASS by `actor`.
  absl::StatusOr<v1::TokenInfo> IssueBreakGlassAdminToken(
      absl::string_view actor,
      absl::FunctionRef<absl::Status(const std::string& token)> deliver);

 private:
  // ListPartners' query and pager from its request, or every bad field.
  static absl::StatusOr<PartnerListQuery> PlanList(
      const v1::ListPartnersRequest& request, std::optional<Pager>* pager);
  static v1::ListPartnersResponse ListResponse(PartnerList list, Pager& pager);
  // `request`'s bytes as a ListPartnersRequest, or INVALID_ARGUMENT.
  static absl::StatusOr<v1::ListPartnersRequest> ParseListRequest(
      absl::string_view request);

  RegistryStore* const store_;
  Authenticator* const authenticator_;
  const Clock* const clock_;
  RandomSource* const random_;
};

}  // namespace smz::registry

#endif  // SMZ_SERVICES_REGISTRY_REGISTRY_H_
