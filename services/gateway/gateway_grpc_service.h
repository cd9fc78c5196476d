// The gateway service's gRPC face: each handler runs through the RPC runner and
// hands the authenticated caller to Gateway. Who may call each method is
// declared next to it in gateway.proto (option (smz.auth.v1.allowed_roles)) and
// enforced by the runner; finer rules are in the backends: the caller's own
// credential is forwarded, so their rules (e.g. small-cell suppression) apply
// unchanged.
//
// Every method is a read on gRPC's callback API (RpcRunner::RunCallback).
// The council's tables are answered from memory while the backends' stamps
// have not moved (CouncilCache: the runner asks its fence); otherwise they
// are computed on the runner's worker pool and kept, unless a backend was
// out meanwhile. A partner's profile is always computed.
#ifndef SMZ_SERVICES_GATEWAY_GATEWAY_GRPC_SERVICE_H_
#define SMZ_SERVICES_GATEWAY_GATEWAY_GRPC_SERVICE_H_

#include "absl/functional/any_invocable.h"
#include "absl/strings/string_view.h"
#include "common/server/rpc_runner.h"
#include "services/gateway/council_cache.h"
#include "services/gateway/gateway.h"
#include "smz/gateway/v1/gateway.grpc.pb.h"

namespace smz::gateway {

class GatewayGrpcService final : public v1::GatewayService::CallbackService {
 public:
  // `cache` may be null: every answer computed.
  GatewayGrpcService(Gateway* gateway, RpcRunner* runner, CouncilCache* cache)
      : gateway_(gateway), runner_(runner), cache_(cache) {}

  grpc::ServerUnaryReactor* GetKpiTable(grpc::CallbackServerContext* context,
                                        const v1::GetKpiTableRequest* request,
                                        v1::KpiTable* response) override;
  grpc::ServerUnaryReactor* GetZoneOverview(
      grpc::CallbackServerContext* context,
      const v1::GetZoneOverviewRequest* request,
      v1::ZoneOverview* response) override;
  grpc::ServerUnaryReactor* ListUpcomingEvents(
      grpc::CallbackServerContext* context,
      const v1::ListUpcomingEventsRequest* request,
      v1::UpcomingEvents* response) override;
  grpc::ServerUnaryReactor* GetActivityLog(
      grpc::CallbackServerContext* context,
      const v1::GetActivityLogRequest* request,
      v1::ActivityLog* response) override;
  grpc::ServerUnaryReactor* GetPartnerProfile(
      grpc::CallbackServerContext* context,
      const v1::GetPartnerProfileRequest* request,
      v1::PartnerProfile* response) override;
  grpc::ServerUnaryReactor* GetCouncilReport(
      grpc::CallbackServerContext* context,
      const v1::GetCouncilReportRequest* request,
      v1::Document* response) override;
  grpc::ServerUnaryReactor* GetBudgetTable(
      grpc::CallbackServerContext* context,
      const programme::v1::GetBudgetTableRequest* request,
      programme::v1::BudgetTable* response) override;

 private:
  // Computes `response` with the caller's forwarded credential.
  using Compute = absl::AnyInvocable<absl::Status(
      const Principal& caller, const std::string& authorization)>;
  // `method`'s answer from memory at the stamps of a moment after the call
  // began, else `compute` on the worker pool (kept when it succeeded with
  // every backend answering); with `from_memory` false, always `compute`.
  // `method` must be a literal.
  grpc::ServerUnaryReactor* Answer(grpc::CallbackServerContext* context,
                                   absl::string_view method,
                                   const google::protobuf::Message* request,
                                   google::protobuf::Message* response,
                                   Compute compute, bool from_memory = true);

  Gateway* const gateway_;
  RpcRunner* const runner_;
  CouncilCache* const cache_;
};

}  // namespace smz::gateway

#endif  // SMZ_SERVICES_GATEWAY_GATEWAY_GRPC_SERVICE_H_
