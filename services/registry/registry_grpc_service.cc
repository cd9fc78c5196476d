#include "services/registry/registry_grpc_service.h"

#include <memory>
#include <string>
#include <utility>

#include "common/mail/mail_api.h"
#include "common/server/raw_messages.h"

namespace smz::registry {

grpc::Status RegistryGrpcService::CreatePartner(
    grpc::ServerContext* context, const v1::CreatePartnerRequest* request,
    Partner* response) {
  return runner_->Run(context, "CreatePartner", [&](const Principal& caller) {
    return RespondWith(
        response, [&] { return registry_->CreatePartner(caller, *request); });
  });
}

grpc::ServerUnaryReactor* RegistryGrpcService::GetPartner(
    grpc::CallbackServerContext* context, const v1::GetPartnerRequest* request,
    Partner* response) {
  return runner_->RunCallback(
      context, "GetPartner", &registry_->directory_fence(),
      [this, request, response](
          const Principal& caller,
          const std::string& stamp) -> std::optional<absl::Status> {
        std::optional<absl::StatusOr<Partner>> answer =
            registry_->GetPartnerFromMemory(caller, *request, stamp);
        if (!answer.has_value()) return std::nullopt;
        return RespondWith(response, [&] { return *std::move(answer); });
      },
      [this, request, response](const Principal& caller) {
        return RespondWith(
            response, [&] { return registry_->GetPartner(caller, *request); });
      });
}

grpc::ServerUnaryReactor* RegistryGrpcService::ListPartners(
    grpc::CallbackServerContext* context, const grpc::ByteBuffer* request,
    grpc::ByteBuffer* response) {
  // The request's bytes are the key of the answers memory keeps. Read once,
  // here, and shared by both steps: a miss in memory runs the blocking one
  // after the first.
  auto request_bytes = std::make_shared<std::string>();
  const bool readable = ReadRawMessage(*request, request_bytes.get());
  return runner_->RunCallback(
      context, "ListPartners", &registry_->directory_fence(),
      [this, request_bytes, readable, response](
          const Principal& caller,
          const std::string& stamp) -> std::optional<absl::Status> {
        if (!readable) return UnreadableRequestError();
        std::optional<absl::StatusOr<std::shared_ptr<const std::string>>> page =
            registry_->ListPartnersSerializedFromMemory(caller, *request_bytes,
                                                        stamp);
        if (!page.has_value()) return std::nullopt;
        if (!page->ok()) return page->status();
        ShareAsResponse(*std::move(*page), response);
        return absl::OkStatus();
      },
      [this, request_bytes, readable, response](const Principal& caller) {
        if (!readable) return UnreadableRequestError();
        absl::StatusOr<std::string> page =
            registry_->ListPartnersSerialized(caller, *request_bytes);
        if (!page.ok()) return page.status();
        ShareAsResponse(std::make_shared<const std::string>(*std::move(page)),
                        response);
        return absl::OkStatus();
      });
}

grpc::Status RegistryGrpcService::UpdatePartner(
    grpc::ServerContext* context, const v1::UpdatePartnerRequest* request,
    Partner* response) {
  return runner_->Run(context, "UpdatePartner", [&](const Principal& caller) {
    return RespondWith(
        response, [&] { return registry_->UpdatePartner(caller, *request); });
  });
}

grpc::Status RegistryGrpcService::Lifecycle(
    grpc::ServerContext* context, absl::string_view method,
    const v1::DesignationRequest& request, LifecycleAction action,
    Partner* response) {
  return runner_->Run(context, method, [&](const Principal& caller) {
    return RespondWith(response, [&] {
      return registry_->ChangeDesignation(caller, request, action);
    });
  });
}

grpc::Status RegistryGrpcService::DesignatePartner(
    grpc::ServerContext* context, const v1::DesignationRequest* request,
    Partner* response) {
  return Lifecycle(context, "DesignatePartner", *request,
                   LifecycleAction::kDesignate, response);
}

grpc::Status RegistryGrpcService::RedesignatePartner(
    grpc::ServerContext* context, const v1::DesignationRequest* request,
    Partner* response) {
  return Lifecycle(context, "RedesignatePartner", *request,
                   LifecycleAction::kRedesignate, response);
}

grpc::Status RegistryGrpcService::SuspendPartner(
    grpc::ServerContext* context, const v1::DesignationRequest* request,
    Partner* response) {
  return Lifecycle(context, "SuspendPartner", *request,
                   LifecycleAction::kSuspend, response);
}

grpc::Status RegistryGrpcService::ReinstatePartner(
    grpc::ServerContext* context, const v1::DesignationRequest* request,
    Partner* response) {
  return Lifecycle(context, "ReinstatePartner", *request,
                   LifecycleAction::kReinstate, response);
}

grpc::Status RegistryGrpcService::RevokePartner(
    grpc::ServerContext* context, const v1::DesignationRequest* request,
    Partner* response) {
  return Lifecycle(context, "RevokePartner", *request, LifecycleAction::kRevoke,
                   response);
}

grpc::Status RegistryGrpcService::ListPartnerChanges(
    grpc::ServerContext* context, const v1::ListPartnerChangesRequest* request,
    v1::ListPartnerChangesResponse* response) {
  return runner_->Run(
      context, "ListPartnerChanges", [&](const Principal& caller) {
        return RespondWith(response, [&] {
          return registry_->ListPartnerChanges(caller, *request);
        });
      });
}

grpc::Status RegistryGrpcService::CountDesignations(
    grpc::ServerContext* context, const v1::CountDesignationsRequest* request,
    v1::CountDesignationsResponse* response) {
  return runner_->Run(context, "CountDesignations",
                      [&](const Principal& caller) {
                        return RespondWith(response, [&] {
                          return registry_->CountDesignations(caller, *request);
                        });
                      });
}

grpc::Status RegistryGrpcService::CountPartners(
    grpc::ServerContext* context, const v1::CountPartnersRequest* request,
    v1::CountPartnersResponse* response) {
  return runner_->Run(context, "CountPartners", [&](const Principal& caller) {
    return RespondWith(
        response, [&] { return registry_->CountPartners(caller, *request); });
  });
}

grpc::Status RegistryGrpcService::ListExpiring(
    grpc::ServerContext* context, const v1::ListExpiringRequest* request,
    v1::ListExpiringResponse* response) {
  return runner_->Run(context, "ListExpiring", [&](const Principal& caller) {
    return RespondWith(
        response, [&] { return registry_->ListExpiring(caller, *request); });
  });
}

grpc::Status RegistryGrpcService::CreateGrant(
    grpc::ServerContext* context, const v1::CreateGrantRequest* request,
    Grant* response) {
  return runner_->Run(context, "CreateGrant", [&](const Principal& caller) {
    return RespondWith(
        response, [&] { return registry_->CreateGrant(caller, *request); });
  });
}

grpc::Status RegistryGrpcService::ListGrants(
    grpc::ServerContext* context, const v1::ListGrantsRequest* request,
    v1::ListGrantsResponse* response) {
  return runner_->Run(context, "ListGrants", [&](const Principal& caller) {
    return RespondWith(response,
                       [&] { return registry_->ListGrants(caller, *request); });
  });
}

grpc::Status RegistryGrpcService::IssueToken(
    grpc::ServerContext* context, const v1::IssueTokenRequest* request,
    v1::IssueTokenResponse* response) {
  return runner_->Run(context, "IssueToken", [&](const Principal& caller) {
    return RespondWith(response,
                       [&] { return registry_->IssueToken(caller, *request); });
  });
}

grpc::Status RegistryGrpcService::RevokeToken(
    grpc::ServerContext* context, const v1::RevokeTokenRequest* request,
    google::protobuf::Empty* response) {
  return runner_->Run(context, "RevokeToken", [&](const Principal& caller) {
    return registry_->RevokeToken(caller, *request);
  });
}

grpc::Status RegistryGrpcService::ListTokens(
    grpc::ServerContext* context, const v1::ListTokensRequest* request,
    v1::ListTokensResponse* response) {
  return runner_->Run(context, "ListTokens", [&](const Principal& caller) {
    return RespondWith(response,
                       [&] { return registry_->ListTokens(caller, *request); });
  });
}

grpc::ServerUnaryReactor* RegistryGrpcService::WhoAmI(
    grpc::CallbackServerContext* context, const v1::WhoAmIRequest* /*request*/,
    Principal* response) {
  // The caller is all the answer: memory always has it.
  auto answer = [response](const Principal& caller) {
    *response = caller;
    return absl::OkStatus();
  };
  return runner_->RunCallback(
      context, "WhoAmI", /*fence=*/nullptr,
      [answer](const Principal& caller, const std::string&)
          -> std::optional<absl::Status> { return answer(caller); },
      answer);
}

grpc::Status RegistryGrpcService::ListRegistryMail(
    grpc::ServerContext* context, const mail::v1::ListMailRequest* request,
    mail::v1::ListMailResponse* response) {
  return runner_->Run(context, "ListRegistryMail", [&](const Principal&) {
    return RespondWith(response,
                       [&] { return smz::ListMail(*outbox_, *request); });
  });
}

grpc::Status RegistryGrpcService::RetryRegistryMail(
    grpc::ServerContext* context, const mail::v1::RetryMailRequest* request,
    mail::v1::Mail* response) {
  return runner_->Run(context, "RetryRegistryMail", [&](const Principal&) {
    return RespondWith(response,
                       [&] { return smz::RetryMail(*outbox_, *request); });
  });
}

}  // namespace smz::registry
