#include "common/server/rpc_runner.h"

#include <cassert>
#include <chrono>
#include <exception>
#include <iterator>
#include <optional>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/strip.h"
#include "common/logging.h"
#include "common/status_util.h"
#include "common/tls/tls_options.h"
#include "common/tracing/trace_context.h"
#include "google/api/annotations.pb.h"
#include "google/protobuf/descriptor.h"
#include "smz/auth/v1/auth.pb.h"

namespace smz {
namespace {

std::optional<absl::string_view> AuthorizationHeader(
    const grpc::ServerContext& context) {
  const auto& metadata = context.client_metadata();
  auto it = metadata.find("authorization");
  if (it == metadata.end()) return std::nullopt;
  return absl::string_view(it->second.data(), it->second.size());
}

// The caller's trace, when it sent one valid traceparent (W3C: several, or
// one that is not one, start a new trace).
std::optional<TraceContext> ParentTrace(const grpc::ServerContext& context) {
  const auto& metadata = context.client_metadata();
  auto [first, last] = metadata.equal_range(std::string(kTraceparentHeader));
  if (first == last || std::next(first) != last) return std::nullopt;
  return ParseTraceparent(
      absl::string_view(first->second.data(), first->second.size()));
}

// "smz.registry.v1.RegistryService" -> "registry".
std::string ServiceLabel(absl::string_view full_name) {
  absl::string_view name = full_name.substr(full_name.rfind('.') + 1);
  absl::ConsumeSuffix(&name, "Service");
  return absl::AsciiStrToLower(name);
}

}  // namespace

std::string CheckedClientAddress(absl::string_view value) {
  if (value.size() > 45) return "";
  for (char c : value) {
    if (!absl::ascii_isxdigit(static_cast<unsigned char>(c)) && c != '.' &&
        c != ':') {
      return "";
    }
  }
  return std::string(value);
}

std::string ClientAddressOf(const grpc::ServerContext& context,
                            const std::vector<std::string>& trusted_edges) {
  if (!TrustedEdge(context, trusted_edges)) {
    // Another service, a tool or a stranger: it speaks for itself.
    return CheckedClientAddress(PeerAddress(context));
  }
  const auto& metadata = context.client_metadata();
  auto it = metadata.find(std::string(kClientAddressMetadata));
  if (it == metadata.end()) return "";
  return CheckedClientAddress(
      absl::string_view(it->second.data(), it->second.size()));
}

RpcRunner::RpcRunner(absl::string_view service_full_name,
                     Authenticator* authenticator, RpcMetrics* metrics,
                     std::vector<std::string> trusted_edges,
                     RandomSource* random)
    : service_(ServiceLabel(service_full_name)),
      authenticator_(authenticator),
      metrics_(metrics),
      trusted_edges_(std::move(trusted_edges)),
      random_(random != nullptr ? random : &secure_random_) {
  const google::protobuf::ServiceDescriptor* service =
      google::protobuf::DescriptorPool::generated_pool()->FindServiceByName(
          std::string(service_full_name));
  // A programming error (a name typed wrong), not input: fail at start-up.
  assert(service != nullptr);
  if (service == nullptr) return;
  for (int i = 0; i < service->method_count(); ++i) {
    const google::protobuf::MethodDescriptor* method = service->method(i);
    if (!method->options().HasExtension(auth::v1::allowed_roles)) continue;
    const auth::v1::RoleList& declared =
        method->options().GetExtension(auth::v1::allowed_roles);
    Access access;
    for (int role : declared.roles()) access.roles.Add(static_cast<Role>(role));
    access.anyone = declared.anyone();
    // Signing in and setting a password must work for an administrator
    // who still sends a session that has no second factor yet.
    access.without_second_factor =
        declared.anyone() || declared.without_second_factor() ||
        method->options().GetExtension(google::api::http).pattern_case() ==
            google::api::HttpRule::kGet;
    access_.emplace(method->name(), access);
  }
}

std::optional<RoleSet> RpcRunner::AllowedRoles(absl::string_view method) const {
  auto it = access_.find(method);
  if (it == access_.end()) return std::nullopt;
  return it->second.roles;
}

grpc::Status RpcRunner::Run(
    grpc::ServerContext* context, absl::string_view method,
    absl::FunctionRef<absl::Status(const Principal&)> handler) {
  const auto start = std::chrono::steady_clock::now();
  // This call's span of the caller's trace (or a new one): every log line
  // written while handling it, and every call it makes, carry it.
  ScopedTrace trace(ContinueOrStartTrace(ParentTrace(*context), *random_));
  std::string principal_label = "anonymous";
  absl::Status status;
  auto access = access_.find(method);
  absl::StatusOr<Principal> principal =
      authenticator_->Authenticate(AuthorizationHeader(*context));
  if (!principal.ok() && access != access_.end() && access->second.anyone) {
    // A stale cookie or a registry outage must not keep anyone from signing
    // in: such a method runs for an anonymous caller.
    principal = Principal();
  }
  if (!principal.ok()) {
    status = principal.status();
  } else {
    principal_label = PrincipalLabel(*principal);
    if (access == access_.end()) {
      status = absl::PermissionDeniedError(
          absl::StrCat(method, " declares no roles, so no one may call it"));
    } else if (!access->second.anyone) {
      status = Authorize(*principal, access->second.roles);
    }
    if (status.ok() && access != access_.end() &&
        principal->second_factor_required() &&
        !access->second.without_second_factor) {
      status = absl::PermissionDeniedError(
          "enrol a second factor first (AccountService.EnrolSecondFactor, "
          "then ConfirmSecondFactor): until then an administrator may only "
          "read");
    }
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
       {"peer_identity", PeerIdentity(*context)},
       {"client", ClientAddressOf(*context)},
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
