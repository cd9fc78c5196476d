// The gateway service's gRPC face: each handler runs through the RPC runner and
// hands the authenticated caller to Gateway. Who may call each method is
// declared next to it in gateway.proto (option (smz.auth.v1.allowed_roles)) and
// enforced by the runner; finer rules are in the backends: the caller's own
// credential is forwarded, so their rules (e.g. small-cell suppression) apply
// unchanged.
#ifndef SMZ_SERVICES_GATEWAY_GATEWAY_GRPC_SERVICE_H_
#define SMZ_SERVICES_GATEWAY_GATEWAY_GRPC_SERVICE_H_

#include "common/server/rpc_runner.h"
#include "services/gateway/gateway.h"
#include "smz/gateway/v1/gateway.grpc.pb.h"

namespace smz::gateway {

class GatewayGrpcService final : public v1::GatewayService::Service {
 public:
  GatewayGrpcService(Gateway* gateway, RpcRunner* runner)
      : gateway_(gateway), runner_(runner) {}

  grpc::Status GetKpiTable(grpc::ServerContext* context,
                           const v1::GetKpiTableRequest* request,
                           v1::KpiTable* response) override;
  grpc::Status GetZoneOverview(grpc::ServerContext* context,
                               const v1::GetZoneOverviewRequest* request,
                               v1::ZoneOverview* response) override;
  grpc::Status ListUpcomingEvents(grpc::ServerContext* context,
                                  const v1::ListUpcomingEventsRequest* request,
                                  v1::UpcomingEvents* response) override;
  grpc::Status GetActivityLog(grpc::ServerContext* context,
                              const v1::GetActivityLogRequest* request,
                              v1::ActivityLog* response) override;
  grpc::Status GetPartnerProfile(grpc::ServerContext* context,
                                 const v1::GetPartnerProfileRequest* request,
                                 v1::PartnerProfile* response) override;
  grpc::Status GetCouncilReport(grpc::ServerContext* context,
                                const v1::GetCouncilReportRequest* request,
                                v1::Document* response) override;
  grpc::Status GetBudgetTable(
      grpc::ServerContext* context,
      const programme::v1::GetBudgetTableRequest* request,
      programme::v1::BudgetTable* response) override;

 private:
  Gateway* const gateway_;
  RpcRunner* const runner_;
};

}  // namespace smz::gateway

#endif  // SMZ_SERVICES_GATEWAY_GATEWAY_GRPC_SERVICE_H_
