#include "services/gateway/gateway_grpc_service.h"

#include <memory>
#include <optional>
#include <string>
#include <utility>

#include "services/gateway/gateway_internal.h"

namespace smz::gateway {
namespace {

// The caller's "authorization" header, already authenticated by the runner.
std::string Authorization(const grpc::ServerContextBase& context) {
  const auto& metadata = context.client_metadata();
  auto it = metadata.find("authorization");
  if (it == metadata.end()) return "";
  return std::string(it->second.data(), it->second.size());
}

// A view of Gateway as the handlers' Compute: `view` with the caller's
// credential, its answer moved into `response`.
template <typename Request, typename Response>
absl::AnyInvocable<absl::Status(const Principal&, const std::string&)>
Computing(Gateway* gateway,
          absl::StatusOr<Response> (Gateway::*view)(const std::string&,
                                                    const Request&),
          const Request* request, Response* response) {
  return [gateway, view, request, response](const Principal&,
                                            const std::string& authorization) {
    return RespondWith(
        response, [&] { return (gateway->*view)(authorization, *request); });
  };
}

}  // namespace

grpc::ServerUnaryReactor* GatewayGrpcService::Answer(
    grpc::CallbackServerContext* context, absl::string_view method,
    const google::protobuf::Message* request,
    google::protobuf::Message* response, Compute compute, bool from_memory) {
  if (cache_ == nullptr || !from_memory) {
    return runner_->RunCallback(
        context, method, nullptr,
        [](const Principal&, const std::string&)
            -> std::optional<absl::Status> { return std::nullopt; },
        [context,
         compute = std::move(compute)](const Principal& caller) mutable {
          return compute(caller, Authorization(*context));
        });
  }
  // The stamps the memory step saw (read after the call began): a miss
  // computes after them, so its answer may be kept at them.
  auto memory_step_stamp = std::make_shared<std::optional<std::string>>();
  auto key_of = [this, method, request](const Principal& caller) {
    absl::StatusOr<absl::CivilDay> today = gateway_->Today();
    if (!today.ok()) return std::string();
    return CouncilCache::KeyOf(method, caller, *today, *request);
  };
  return runner_->RunCallback(
      context, method, &cache_->fence(),
      [this, response, memory_step_stamp, key_of](
          const Principal& caller,
          const std::string& stamp) -> std::optional<absl::Status> {
        *memory_step_stamp = stamp;
        const std::string key = key_of(caller);
        if (key.empty()) return std::nullopt;
        std::shared_ptr<const google::protobuf::Message> held =
            cache_->Find(key, stamp);
        if (held == nullptr) return std::nullopt;
        response->CopyFrom(*held);
        return absl::OkStatus();
      },
      [this, context, response, memory_step_stamp, key_of,
       compute = std::move(compute)](const Principal& caller) mutable {
        std::string stamp = memory_step_stamp->value_or("");
        if (!memory_step_stamp->has_value()) {
          // The memory step did not run (the stamps could not be had).
          absl::StatusOr<std::string> current = cache_->fence().Current();
          if (current.ok()) stamp = *std::move(current);
        }
        const std::string key = key_of(caller);
        const int64_t outages = SectionsMarkedUnavailable();
        absl::Status status = compute(caller, Authorization(*context));
        // An answer with a section some backend could not fill is not kept
        // (any outage meanwhile, this call's or another's, counts); nor one
        // computed across midnight (its "today" is the next key's).
        if (status.ok() && !key.empty() &&
            SectionsMarkedUnavailable() == outages && key_of(caller) == key) {
          cache_->Insert(key, stamp, *response);
        }
        return status;
      });
}

grpc::ServerUnaryReactor* GatewayGrpcService::GetKpiTable(
    grpc::CallbackServerContext* context, const v1::GetKpiTableRequest* request,
    v1::KpiTable* response) {
  return Answer(context, "GetKpiTable", request, response,
                Computing(gateway_, &Gateway::GetKpiTable, request, response));
}

grpc::ServerUnaryReactor* GatewayGrpcService::GetZoneOverview(
    grpc::CallbackServerContext* context,
    const v1::GetZoneOverviewRequest* request, v1::ZoneOverview* response) {
  return Answer(
      context, "GetZoneOverview", request, response,
      Computing(gateway_, &Gateway::GetZoneOverview, request, response));
}

grpc::ServerUnaryReactor* GatewayGrpcService::GetActivityLog(
    grpc::CallbackServerContext* context,
    const v1::GetActivityLogRequest* request, v1::ActivityLog* response) {
  return Answer(
      context, "GetActivityLog", request, response,
      Computing(gateway_, &Gateway::GetActivityLog, request, response));
}

grpc::ServerUnaryReactor* GatewayGrpcService::ListUpcomingEvents(
    grpc::CallbackServerContext* context,
    const v1::ListUpcomingEventsRequest* request,
    v1::UpcomingEvents* response) {
  return Answer(
      context, "ListUpcomingEvents", request, response,
      Computing(gateway_, &Gateway::ListUpcomingEvents, request, response));
}

grpc::ServerUnaryReactor* GatewayGrpcService::GetCouncilReport(
    grpc::CallbackServerContext* context,
    const v1::GetCouncilReportRequest* request, v1::Document* response) {
  return Answer(
      context, "GetCouncilReport", request, response,
      Computing(gateway_, &Gateway::GetCouncilReport, request, response));
}

grpc::ServerUnaryReactor* GatewayGrpcService::GetBudgetTable(
    grpc::CallbackServerContext* context,
    const programme::v1::GetBudgetTableRequest* request,
    programme::v1::BudgetTable* response) {
  return Answer(
      context, "GetBudgetTable", request, response,
      Computing(gateway_, &Gateway::GetBudgetTable, request, response));
}

// Not from memory: one hospital's page, not a council table, whose figures
// come from stats by hospital (not what the rollups' stamp vouches for) and
// whose sections depend on the caller's own rights.
grpc::ServerUnaryReactor* GatewayGrpcService::GetPartnerProfile(
    grpc::CallbackServerContext* context,
    const v1::GetPartnerProfileRequest* request, v1::PartnerProfile* response) {
  return Answer(
      context, "GetPartnerProfile", request, response,
      [this, request, response](const Principal& caller,
                                const std::string& authorization) {
        return RespondWith(response, [&] {
          return gateway_->GetPartnerProfile(
              authorization, caller.role() == auth::v1::ADMIN, *request);
        });
      },
      /*from_memory=*/false);
}

}  // namespace smz::gateway
