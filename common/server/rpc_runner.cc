#include "common/server/rpc_runner.h"

#include <chrono>
#include <exception>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "common/logging.h"
#include "common/status_util.h"

namespace smz {
namespace {

std::optional<absl::string_view> AuthorizationHeader(
    const grpc::ServerContext& context) {
  const auto& metadata = context.client_metadata();
  auto it = metadata.find("authorization");
  if (it == metadata.end()) return std::nullopt;
  return absl::string_view(it->second.data(), it->second.size());
}

}  // namespace

RpcRunner::RpcRunner(std::string service, Authenticator* authenticator,
                     RpcMetrics* metrics)
    : service_(std::move(service)),
      authenticator_(authenticator),
      metrics_(metrics) {}

grpc::Status RpcRunner::Run(
    grpc::ServerContext* context, absl::string_view method,
    const RoleSet& allowed,
    absl::FunctionRef<absl::Status(const Principal&)> handler) {
  const auto start = std::chrono::steady_clock::now();
  std::string principal_label = "anonymous";
  absl::Status status;
  absl::StatusOr<Principal> principal =
      authenticator_->Authenticate(AuthorizationHeader(*context));
  if (!principal.ok()) {
    status = principal.status();
  } else {
    principal_label = PrincipalLabel(*principal);
    status = Authorize(*principal, allowed);
    if (status.ok()) {
      try {
        status = handler(*principal);
      } catch (const std::exception& e) {
        // Our code does not throw; this guards against a library that does.
        status = absl::InternalError("internal error");
        Log(LogLevel::kError, "handler threw",
            {{"method", method}, {"what", e.what()}});
      }
    }
  }
  const absl::Duration latency =
      absl::FromChrono(std::chrono::steady_clock::now() - start);
  if (metrics_ != nullptr) metrics_->Record(method, status.code(), latency);
  const std::string latency_ms =
      absl::StrFormat("%.3f", absl::ToDoubleMilliseconds(latency));
  const std::string code = absl::StatusCodeToString(status.code());
  Log(status.ok() || absl::IsInvalidArgument(status) || absl::IsNotFound(status)
          ? LogLevel::kInfo
          : LogLevel::kWarning,
      "rpc",
      {{"service", service_},
       {"method", method},
       {"principal", principal_label},
       {"code", code},
       {"latency_ms", latency_ms},
       {"peer", context->peer()},
       {"error", status.ok() ? absl::string_view() : status.message()}});
  if (absl::IsInternal(status) || absl::IsDataLoss(status) ||
      absl::IsUnknown(status)) {
    // Details (SQL errors, row values) stay in our log, not with the caller.
    return ToGrpcStatus(absl::Status(
        status.code(), "internal error; the service log has the details"));
  }
  return ToGrpcStatus(status);
}

}  // namespace smz
