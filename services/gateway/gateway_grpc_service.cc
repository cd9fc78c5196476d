#include "services/gateway/gateway_grpc_service.h"

#include <memory>
#include <optional>
#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "common/server/raw_messages.h"
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

}  // namespace

// Defined here, used only here: each table's handler below instantiates it.
template <typename Request, typename Response>
grpc::ServerUnaryReactor* GatewayGrpcService::AnswerTable(
    grpc::CallbackServerContext* context, absl::string_view method,
    const grpc::ByteBuffer* request, grpc::ByteBuffer* response,
    absl::StatusOr<Response> (Gateway::*view)(const std::string&,
                                              const Request&)) {
  // Parsed before authentication, as gRPC parses a typed method's request,
  // once for both steps. Real requests are a few dozen bytes: a large one
  // is refused before it is copied.
  auto parsed = std::make_shared<Request>();
  std::optional<absl::Status> request_error;
  std::string request_bytes;
  if (request->Length() > kMaxTableRequestBytes) {
    request_error = absl::InvalidArgumentError(absl::StrCat(
        "the request is larger than ", kMaxTableRequestBytes, " bytes"));
  } else if (!ReadRawMessage(*request, &request_bytes) ||
             !parsed->ParseFromString(request_bytes)) {
    request_error = UnreadableRequestError();
  }
  auto compute =
      [this, context, parsed,
       view]() -> absl::StatusOr<std::shared_ptr<const std::string>> {
    absl::StatusOr<Response> answer =
        (gateway_->*view)(Authorization(*context), *parsed);
    if (!answer.ok()) return answer.status();
    return std::make_shared<const std::string>(answer->SerializeAsString());
  };
  // A request that cannot be answered is refused by the first step, after
  // authentication, with no stamp asked and nothing computed.
  if (cache_ == nullptr || request_error.has_value()) {
    return runner_->RunCallback(
        context, method, nullptr,
        [request_error](const Principal&, const std::string&)
            -> std::optional<absl::Status> { return request_error; },
        [response,
         compute = std::move(compute)](const Principal&) -> absl::Status {
          absl::StatusOr<std::shared_ptr<const std::string>> answer = compute();
          if (!answer.ok()) return answer.status();
          ShareAsResponse(*std::move(answer), response);
          return absl::OkStatus();
        });
  }
  // The stamps the memory step saw (read after the call began): a miss
  // computes after them, so its answer may be kept at them.
  auto memory_step_stamp = std::make_shared<std::optional<std::string>>();
  auto key_of = [this, method, parsed](const Principal& caller) {
    absl::StatusOr<absl::CivilDay> today = gateway_->Today();
    if (!today.ok()) return std::string();
    return CouncilCache::KeyOf(method, caller, *today, *parsed);
  };
  return runner_->RunCallback(
      context, method, &cache_->fence(),
      [this, response, memory_step_stamp, key_of](
          const Principal& caller,
          const std::string& stamp) -> std::optional<absl::Status> {
        *memory_step_stamp = stamp;
        const std::string key = key_of(caller);
        if (key.empty()) return std::nullopt;
        std::shared_ptr<const std::string> held = cache_->Find(key, stamp);
        if (held == nullptr) return std::nullopt;
        ShareAsResponse(std::move(held), response);
        return absl::OkStatus();
      },
      [this, response, memory_step_stamp, key_of,
       compute = std::move(compute)](const Principal& caller) -> absl::Status {
        std::string stamp = memory_step_stamp->value_or("");
        if (!memory_step_stamp->has_value()) {
          // The memory step did not run (the stamps could not be had).
          absl::StatusOr<std::string> current = cache_->fence().Current();
          if (current.ok()) stamp = *std::move(current);
        }
        const std::string key = key_of(caller);
        const int64_t outages = SectionsMarkedUnavailable();
        absl::StatusOr<std::shared_ptr<const std::string>> answer = compute();
        if (!answer.ok()) return answer.status();
        // An answer with a section some backend could not fill is not kept
        // (any outage meanwhile, this call's or another's, counts); nor one
        // computed across midnight (its "today" is the next key's).
        if (!key.empty() && SectionsMarkedUnavailable() == outages &&
            key_of(caller) == key) {
          cache_->Insert(key, stamp, *answer);
        }
        ShareAsResponse(*std::move(answer), response);
        return absl::OkStatus();
      });
}

grpc::ServerUnaryReactor* GatewayGrpcService::GetKpiTable(
    grpc::CallbackServerContext* context, const grpc::ByteBuffer* request,
    grpc::ByteBuffer* response) {
  return AnswerTable(context, "GetKpiTable", request, response,
                     &Gateway::GetKpiTable);
}

grpc::ServerUnaryReactor* GatewayGrpcService::GetZoneOverview(
    grpc::CallbackServerContext* context, const grpc::ByteBuffer* request,
    grpc::ByteBuffer* response) {
  return AnswerTable(context, "GetZoneOverview", request, response,
                     &Gateway::GetZoneOverview);
}

grpc::ServerUnaryReactor* GatewayGrpcService::GetActivityLog(
    grpc::CallbackServerContext* context, const grpc::ByteBuffer* request,
    grpc::ByteBuffer* response) {
  return AnswerTable(context, "GetActivityLog", request, response,
                     &Gateway::GetActivityLog);
}

grpc::ServerUnaryReactor* GatewayGrpcService::ListUpcomingEvents(
    grpc::CallbackServerContext* context, const grpc::ByteBuffer* request,
    grpc::ByteBuffer* response) {
  return AnswerTable(context, "ListUpcomingEvents", request, response,
                     &Gateway::ListUpcomingEvents);
}

grpc::ServerUnaryReactor* GatewayGrpcService::GetCouncilReport(
    grpc::CallbackServerContext* context, const grpc::ByteBuffer* request,
    grpc::ByteBuffer* response) {
  return AnswerTable(context, "GetCouncilReport", request, response,
                     &Gateway::GetCouncilReport);
}

grpc::ServerUnaryReactor* GatewayGrpcService::GetBudgetTable(
    grpc::CallbackServerContext* context, const grpc::ByteBuffer* request,
    grpc::ByteBuffer* response) {
  return AnswerTable(context, "GetBudgetTable", request, response,
                     &Gateway::GetBudgetTable);
}

// Not from memory: one hospital's page, not a council table, whose figures
// come from stats by hospital (not what the rollups' stamp vouches for) and
// whose sections depend on the caller's own rights.
grpc::ServerUnaryReactor* GatewayGrpcService::GetPartnerProfile(
    grpc::CallbackServerContext* context,
    const v1::GetPartnerProfileRequest* request, v1::PartnerProfile* response) {
  return runner_->RunCallback(
      context, "GetPartnerProfile", nullptr,
      [](const Principal&, const std::string&) -> std::optional<absl::Status> {
        return std::nullopt;
      },
      [this, context, request, response](const Principal& caller) {
        return RespondWith(response, [&] {
          return gateway_->GetPartnerProfile(Authorization(*context),
                                             caller.role() == auth::v1::ADMIN,
                                             *request);
        });
      });
}

}  // namespace smz::gateway
