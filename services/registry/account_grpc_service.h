// AccountService's gRPC face: each handler runs through the RPC runner and
// hands the caller to Accounts (accounts.h). Who may call each method is
// declared beside it in accounts.proto; SignIn and SetPasswordWithLink are
// open to anyone (`anyone: true`).
#ifndef SMZ_SERVICES_REGISTRY_ACCOUNT_GRPC_SERVICE_H_
#define SMZ_SERVICES_REGISTRY_ACCOUNT_GRPC_SERVICE_H_

#include <string>

#include "common/server/rpc_runner.h"
#include "services/registry/accounts.h"
#include "smz/registry/v1/accounts.grpc.pb.h"

namespace smz::registry {

class AccountGrpcService final : public v1::AccountService::Service {
 public:
  AccountGrpcService(Accounts* accounts, RpcRunner* runner)
      : accounts_(accounts), runner_(runner) {}

  grpc::Status SignIn(grpc::ServerContext* context,
                      const v1::SignInRequest* request,
                      v1::SignInResponse* response) override;
  grpc::Status SignOut(grpc::ServerContext* context,
                       const v1::SignOutRequest* request,
                       google::protobuf::Empty* response) override;
  grpc::Status SignOutEverywhere(grpc::ServerContext* context,
                                 const v1::SignOutRequest* request,
                                 google::protobuf::Empty* response) override;
  grpc::Status InviteAccount(grpc::ServerContext* context,
                             const v1::InviteAccountRequest* request,
                             v1::AccountLinkResponse* response) override;
  grpc::Status SetPasswordWithLink(
      grpc::ServerContext* context,
      const v1::SetPasswordWithLinkRequest* request,
      v1::Account* response) override;
  grpc::Status ChangePassword(grpc::ServerContext* context,
                              const v1::ChangePasswordRequest* request,
                              google::protobuf::Empty* response) override;
  grpc::Status ResetPassword(grpc::ServerContext* context,
                             const v1::AccountActionRequest* request,
                             v1::AccountLinkResponse* response) override;
  grpc::Status DisableAccount(grpc::ServerContext* context,
                              const v1::AccountActionRequest* request,
                              v1::Account* response) override;
  grpc::Status EnableAccount(grpc::ServerContext* context,
                             const v1::AccountActionRequest* request,
                             v1::Account* response) override;
  grpc::Status SetAccountRole(grpc::ServerContext* context,
                              const v1::SetAccountRoleRequest* request,
                              v1::Account* response) override;
  grpc::Status GetAccount(grpc::ServerContext* context,
                          const v1::GetAccountRequest* request,
                          v1::Account* response) override;
  grpc::Status ListAccounts(grpc::ServerContext* context,
                            const v1::ListAccountsRequest* request,
                            v1::ListAccountsResponse* response) override;
  grpc::Status ListAccountChanges(
      grpc::ServerContext* context,
      const audit::v1::ListChangesRequest* request,
      audit::v1::ListChangesResponse* response) override;
  grpc::Status EnrolSecondFactor(
      grpc::ServerContext* context, const v1::EnrolSecondFactorRequest* request,
      v1::EnrolSecondFactorResponse* response) override;
  grpc::Status ConfirmSecondFactor(
      grpc::ServerContext* context,
      const v1::ConfirmSecondFactorRequest* request,
      v1::ConfirmSecondFactorResponse* response) override;

 private:
  // The address a sign-in comes from: what a trusted edge reports
  // (RpcRunner::ClientAddressOf), else the gRPC peer's own IP address.
  std::string SignInAddress(const grpc::ServerContext& context) const;

  Accounts* const accounts_;
  RpcRunner* const runner_;
};

}  // namespace smz::registry

#endif  // SMZ_SERVICES_REGISTRY_ACCOUNT_GRPC_SERVICE_H_
