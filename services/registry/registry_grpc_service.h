// The registry service's gRPC face: each handler runs through the RPC runner
// and hands the authenticated caller to Registry. Who may call each method is
// declared next to it in registry.proto (option (smz.auth.v1.allowed_roles))
// and enforced by the runner; finer rules are in registry.cc (a PARTNER reads
// and edits its own record only).
#ifndef SMZ_SERVICES_REGISTRY_REGISTRY_GRPC_SERVICE_H_
#define SMZ_SERVICES_REGISTRY_REGISTRY_GRPC_SERVICE_H_

#include "common/mail/outbox.h"
#include "common/server/rpc_runner.h"
#include "services/registry/registry.h"
#include "smz/registry/v1/registry.grpc.pb.h"

namespace smz::registry {

// The reads that memory answers (GetPartner, ListPartners, WhoAmI) take the
// callback API (RpcRunner::RunCallback): a read of an unchanged directory
// waits on no thread but for the freshness stamp. ListPartners is raw (its
// messages as bytes): a page asked again is sent as it was serialized
// (Registry::ListPartnersSerializedFromMemory). The rest is synchronous.
using RegistryServiceBase = v1::RegistryService::WithCallbackMethod_GetPartner<
    v1::RegistryService::WithRawCallbackMethod_ListPartners<
        v1::RegistryService::WithCallbackMethod_WhoAmI<
            v1::RegistryService::Service>>>;

class RegistryGrpcService final : public RegistryServiceBase {
 public:
  // `outbox`: the registry's mail, for ListRegistryMail and
  // RetryRegistryMail.
  RegistryGrpcService(Registry* registry, Outbox* outbox, RpcRunner* runner)
      : registry_(registry), outbox_(outbox), runner_(runner) {}

  grpc::Status ListRegistryMail(grpc::ServerContext* context,
                                const mail::v1::ListMailRequest* request,
                                mail::v1::ListMailResponse* response) override;
  grpc::Status RetryRegistryMail(grpc::ServerContext* context,
                                 const mail::v1::RetryMailRequest* request,
                                 mail::v1::Mail* response) override;

  grpc::Status CreatePartner(grpc::ServerContext* context,
                             const v1::CreatePartnerRequest* request,
                             Partner* response) override;
  grpc::ServerUnaryReactor* GetPartner(grpc::CallbackServerContext* context,
                                       const v1::GetPartnerRequest* request,
                                       Partner* response) override;
  // A v1::ListPartnersRequest in, a v1::ListPartnersResponse out.
  grpc::ServerUnaryReactor* ListPartners(grpc::CallbackServerContext* context,
                                         const grpc::ByteBuffer* request,
                                         grpc::ByteBuffer* response) override;
  grpc::Status UpdatePartner(grpc::ServerContext* context,
                             const v1::UpdatePartnerRequest* request,
                             Partner* response) override;
  grpc::Status DesignatePartner(grpc::ServerContext* context,
                                const v1::DesignationRequest* request,
                                Partner* response) override;
  grpc::Status RedesignatePartner(grpc::ServerContext* context,
                                  const v1::DesignationRequest* request,
                                  Partner* response) override;
  grpc::Status SuspendPartner(grpc::ServerContext* context,
                              const v1::DesignationRequest* request,
                              Partner* response) override;
  grpc::Status ReinstatePartner(grpc::ServerContext* context,
                                const v1::DesignationRequest* request,
                                Partner* response) override;
  grpc::Status RevokePartner(grpc::ServerContext* context,
                             const v1::DesignationRequest* request,
                             Partner* response) override;
  grpc::Status ListPartnerChanges(
      grpc::ServerContext* context,
      const v1::ListPartnerChangesRequest* request,
      v1::ListPartnerChangesResponse* response) override;
  grpc::Status CountDesignations(
      grpc::ServerContext* context, const v1::CountDesignationsRequest* request,
      v1::CountDesignationsResponse* response) override;
  grpc::Status CountPartners(grpc::ServerContext* context,
                             const v1::CountPartnersRequest* request,
                             v1::CountPartnersResponse* response) override;
  grpc::Status ListExpiring(grpc::ServerContext* context,
                            const v1::ListExpiringRequest* request,
                            v1::ListExpiringResponse* response) override;
  grpc::Status CreateGrant(grpc::ServerContext* context,
                           const v1::CreateGrantRequest* request,
                           Grant* response) override;
  grpc::Status ListGrants(grpc::ServerContext* context,
                          const v1::ListGrantsRequest* request,
                          v1::ListGrantsResponse* response) override;
  grpc::Status IssueToken(grpc::ServerContext* context,
                          const v1::IssueTokenRequest* request,
                          v1::IssueTokenResponse* response) override;
  grpc::Status RevokeToken(grpc::ServerContext* context,
                           const v1::RevokeTokenRequest* request,
                           google::protobuf::Empty* response) override;
  grpc::Status ListTokens(grpc::ServerContext* context,
                          const v1::ListTokensRequest* request,
                          v1::ListTokensResponse* response) override;
  grpc::ServerUnaryReactor* WhoAmI(grpc::CallbackServerContext* context,
                                   const v1::WhoAmIRequest* request,
                                   Principal* response) override;

 private:
  grpc::Status Lifecycle(grpc::ServerContext* context, absl::string_view method,
                         const v1::DesignationRequest& request,
                         LifecycleAction action, Partner* response);

  Registry* const registry_;
  Outbox* const outbox_;
  RpcRunner* const runner_;
};

}  // namespace smz::registry

#endif  // SMZ_SERVICES_REGISTRY_REGISTRY_GRPC_SERVICE_H_
