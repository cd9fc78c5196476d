#include "services/registry/account_grpc_service.h"

#include "absl/strings/strip.h"
#include "common/tls/tls_options.h"

namespace smz::registry {

std::string AccountGrpcService::SignInAddress(
    const grpc::ServerContext& context) const {
  std::string address = runner_->ClientAddressOf(context);
  if (!address.empty()) return address;
  // An edge that reports no client (its own gRPC side): its address.
  return CheckedClientAddress(PeerAddress(context));
}

grpc::Status AccountGrpcService::SignIn(grpc::ServerContext* context,
                                        const v1::SignInRequest* request,
                                        v1::SignInResponse* response) {
  return runner_->Run(context, "SignIn", [&](const Principal&) {
    return RespondWith(response, [&] {
      return accounts_->SignIn(*request, SignInAddress(*context));
    });
  });
}

grpc::Status AccountGrpcService::SignOut(grpc::ServerContext* context,
                                         const v1::SignOutRequest*,
                                         google::protobuf::Empty*) {
  return runner_->Run(context, "SignOut", [&](const Principal& caller) {
    return accounts_->SignOut(caller);
  });
}

grpc::Status AccountGrpcService::SignOutEverywhere(grpc::ServerContext* context,
                                                   const v1::SignOutRequest*,
                                                   google::protobuf::Empty*) {
  return runner_->Run(context, "SignOutEverywhere",
                      [&](const Principal& caller) {
                        return accounts_->SignOutEverywhere(caller);
                      });
}

grpc::Status AccountGrpcService::InviteAccount(
    grpc::ServerContext* context, const v1::InviteAccountRequest* request,
    v1::AccountLinkResponse* response) {
  return runner_->Run(context, "InviteAccount", [&](const Principal& caller) {
    return RespondWith(
        response, [&] { return accounts_->InviteAccount(caller, *request); });
  });
}

grpc::Status AccountGrpcService::SetPasswordWithLink(
    grpc::ServerContext* context, const v1::SetPasswordWithLinkRequest* request,
    v1::Account* response) {
  return runner_->Run(context, "SetPasswordWithLink", [&](const Principal&) {
    return RespondWith(
        response, [&] { return accounts_->SetPasswordWithLink(*request); });
  });
}

grpc::Status AccountGrpcService::ChangePassword(
    grpc::ServerContext* context, const v1::ChangePasswordRequest* request,
    google::protobuf::Empty*) {
  return runner_->Run(context, "ChangePassword", [&](const Principal& caller) {
    return accounts_->ChangePassword(caller, *request, SignInAddress(*context));
  });
}

grpc::Status AccountGrpcService::ResetPassword(
    grpc::ServerContext* context, const v1::AccountActionRequest* request,
    v1::AccountLinkResponse* response) {
  return runner_->Run(context, "ResetPassword", [&](const Principal& caller) {
    return RespondWith(
        response, [&] { return accounts_->ResetPassword(caller, *request); });
  });
}

grpc::Status AccountGrpcService::DisableAccount(
    grpc::ServerContext* context, const v1::AccountActionRequest* request,
    v1::Account* response) {
  return runner_->Run(context, "DisableAccount", [&](const Principal& caller) {
    return RespondWith(
        response, [&] { return accounts_->DisableAccount(caller, *request); });
  });
}

grpc::Status AccountGrpcService::EnableAccount(
    grpc::ServerContext* context, const v1::AccountActionRequest* request,
    v1::Account* response) {
  return runner_->Run(context, "EnableAccount", [&](const Principal& caller) {
    return RespondWith(
        response, [&] { return accounts_->EnableAccount(caller, *request); });
  });
}

grpc::Status AccountGrpcService::SetAccountRole(
    grpc::ServerContext* context, const v1::SetAccountRoleRequest* request,
    v1::Account* response) {
  return runner_->Run(context, "SetAccountRole", [&](const Principal& caller) {
    return RespondWith(
        response, [&] { return accounts_->SetAccountRole(caller, *request); });
  });
}

grpc::Status AccountGrpcService::GetAccount(
    grpc::ServerContext* context, const v1::GetAccountRequest* request,
    v1::Account* response) {
  return runner_->Run(context, "GetAccount", [&](const Principal& caller) {
    return RespondWith(response,
                       [&] { return accounts_->GetAccount(caller, *request); });
  });
}

grpc::Status AccountGrpcService::ListAccounts(
    grpc::ServerContext* context, const v1::ListAccountsRequest* request,
    v1::ListAccountsResponse* response) {
  return runner_->Run(context, "ListAccounts", [&](const Principal& caller) {
    return RespondWith(
        response, [&] { return accounts_->ListAccounts(caller, *request); });
  });
}

grpc::Status AccountGrpcService::ListAccountChanges(
    grpc::ServerContext* context, const audit::v1::ListChangesRequest* request,
    audit::v1::ListChangesResponse* response) {
  return runner_->Run(
      context, "ListAccountChanges", [&](const Principal& caller) {
        return RespondWith(response, [&] {
          return accounts_->ListAccountChanges(caller, *request);
        });
      });
}

grpc::Status AccountGrpcService::EnrolSecondFactor(
    grpc::ServerContext* context, const v1::EnrolSecondFactorRequest* request,
    v1::EnrolSecondFactorResponse* response) {
  return runner_->Run(context, "EnrolSecondFactor",
                      [&](const Principal& caller) {
                        return RespondWith(response, [&] {
                          return accounts_->EnrolSecondFactor(caller, *request);
                        });
                      });
}

grpc::Status AccountGrpcService::ConfirmSecondFactor(
    grpc::ServerContext* context, const v1::ConfirmSecondFactorRequest* request,
    v1::ConfirmSecondFactorResponse* response) {
  return runner_->Run(
      context, "ConfirmSecondFactor", [&](const Principal& caller) {
        return RespondWith(response, [&] {
          return accounts_->ConfirmSecondFactor(caller, *request);
        });
      });
}

}  // namespace smz::registry
