#include "services/gateway/gateway_grpc_service.h"

#include <string>

namespace smz::gateway {
namespace {

// The caller's "authorization" header, already authenticated by the runner.
std::string Authorization(const grpc::ServerContext& context) {
  const auto& metadata = context.client_metadata();
  auto it = metadata.find("authorization");
  if (it == metadata.end()) return "";
  return std::string(it->second.data(), it->second.size());
}

}  // namespace

grpc::Status GatewayGrpcService::GetKpiTable(
    grpc::ServerContext* context, const v1::GetKpiTableRequest* request,
    v1::KpiTable* response) {
  return runner_->Run(context, "GetKpiTable", [&](const Principal&) {
    return RespondWith(response, [&] {
      return gateway_->GetKpiTable(Authorization(*context), *request);
    });
  });
}

grpc::Status GatewayGrpcService::GetZoneOverview(
    grpc::ServerContext* context, const v1::GetZoneOverviewRequest* request,
    v1::ZoneOverview* response) {
  return runner_->Run(context, "GetZoneOverview", [&](const Principal&) {
    return RespondWith(response, [&] {
      return gateway_->GetZoneOverview(Authorization(*context), *request);
    });
  });
}

grpc::Status GatewayGrpcService::GetActivityLog(
    grpc::ServerContext* context, const v1::GetActivityLogRequest* request,
    v1::ActivityLog* response) {
  return runner_->Run(context, "GetActivityLog", [&](const Principal&) {
    return RespondWith(response, [&] {
      return gateway_->GetActivityLog(Authorization(*context), *request);
    });
  });
}

grpc::Status GatewayGrpcService::ListUpcomingEvents(
    grpc::ServerContext* context, const v1::ListUpcomingEventsRequest* request,
    v1::UpcomingEvents* response) {
  return runner_->Run(context, "ListUpcomingEvents", [&](const Principal&) {
    return RespondWith(response, [&] {
      return gateway_->ListUpcomingEvents(Authorization(*context), *request);
    });
  });
}

grpc::Status GatewayGrpcService::GetPartnerProfile(
    grpc::ServerContext* context, const v1::GetPartnerProfileRequest* request,
    v1::PartnerProfile* response) {
  return runner_->Run(
      context, "GetPartnerProfile", [&](const Principal& caller) {
        return RespondWith(response, [&] {
          return gateway_->GetPartnerProfile(Authorization(*context),
                                             caller.role() == auth::v1::ADMIN,
                                             *request);
        });
      });
}

grpc::Status GatewayGrpcService::GetCouncilReport(
    grpc::ServerContext* context, const v1::GetCouncilReportRequest* request,
    v1::Document* response) {
  return runner_->Run(context, "GetCouncilReport", [&](const Principal&) {
    return RespondWith(response, [&] {
      return gateway_->GetCouncilReport(Authorization(*context), *request);
    });
  });
}

grpc::Status GatewayGrpcService::GetBudgetTable(
    grpc::ServerContext* context,
    const programme::v1::GetBudgetTableRequest* request,
    programme::v1::BudgetTable* response) {
  return runner_->Run(context, "GetBudgetTable", [&](const Principal&) {
    return RespondWith(response, [&] {
      return gateway_->GetBudgetTable(Authorization(*context), *request);
    });
  });
}

}  // namespace smz::gateway
