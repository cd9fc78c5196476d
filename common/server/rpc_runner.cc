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
    const grpc::ServerContextBase& context) {
  const auto& metadata = context.client_metadata();
  auto it = metadata.find("authorization");
  if (it == metadata.end()) return std::nullopt;
  return absl::string_view(it->second.data(), it->second.size());
}

// The caller's trace, when it sent one valid traceparent (W3C: several, or
// one that is not one, start a new trace).
std::optional<TraceContext> ParentTrace(
    const grpc::ServerContextBase& context) {
  const auto& metadata = context.client_metadata();
  auto [first, last] = metadata.equal_range(std::string(kTraceparentHeader));
  if (first == last || std::next(first) != last) return std::nullopt;
  return ParseTraceparent(
      absl::string_view(first->second.data(), first->second.size()));
}

// Threads for the callback path's blocking steps: as many as the default
// database pool has connections, what those steps mostly wait for (a
// registry lookup, for the other services' tokens).
constexpr int kBlockingThreads = 16;

// Calls waiting for a blocking step beyond which more are refused
// (RESOURCE_EXHAUSTED): the synchronous server's limit of calls at once.
constexpr int kMaxQueuedBlockingSteps = 256;

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

std::string ClientAddressOf(const grpc::ServerContextBase& context,
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
                     RandomSource* trace_id_random)
    : service_(ServiceLabel(service_full_name)),
      authenticator_(authenticator),
      metrics_(metrics),
      trusted_edges_(std::move(trusted_edges)),
      trace_ids_(trace_id_random != nullptr ? trace_id_random
                                            : &own_trace_id_random_),
      blocking_pool_(kBlockingThreads, kMaxQueuedBlockingSteps) {
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

absl::Status RpcRunner::Admit(absl::string_view method,
                              absl::StatusOr<Principal> authenticated,
                              Principal* principal,
                              std::string* principal_label) const {
  *principal_label = "anonymous";
  auto access = access_.find(method);
  if (!authenticated.ok() && access != access_.end() && access->second.anyone) {
    // A stale cookie or a registry outage must not keep anyone from signing
    // in: such a method runs for an anonymous caller.
    authenticated = Principal();
  }
  if (!authenticated.ok()) return authenticated.status();
  *principal = *std::move(authenticated);
  *principal_label = PrincipalLabel(*principal);
  if (access == access_.end()) {
    return absl::PermissionDeniedError(
        absl::StrCat(method, " declares no roles, so no one may call it"));
  }
  if (!access->second.anyone) {
    absl::Status allowed = Authorize(*principal, access->second.roles);
    if (!allowed.ok()) return allowed;
  }
  if (principal->second_factor_required() &&
      !access->second.without_second_factor) {
    return absl::PermissionDeniedError(
        "enrol a second factor first (AccountService.EnrolSecondFactor, "
        "then ConfirmSecondFactor): until then an administrator may only "
        "read");
  }
  return absl::OkStatus();
}

absl::Status RpcRunner::Guarded(absl::string_view method,
                                absl::FunctionRef<absl::Status()> handler) {
  try {
    return handler();
  } catch (const std::exception& e) {
    // Our code does not throw; this guards against a library that does.
    Log(LogLevel::kError, "handler threw",
        {{"method", method}, {"what", e.what()}});
    return absl::InternalError("internal error");
  }
}

grpc::Status RpcRunner::Conclude(const grpc::ServerContextBase& context,
                                 absl::string_view method,
                                 std::chrono::steady_clock::time_point start,
                                 absl::string_view principal_label,
                                 const absl::Status& status) {
  const absl::Duration latency =
      absl::FromChrono(std::chrono::steady_clock::now() - start);
  if (metrics_ != nullptr) metrics_->Record(method, status.code(), latency);
  const std::string latency_ms =
      absl::StrFormat("%.3f", absl::ToDoubleMilliseconds(latency));
  const std::string code = absl::StatusCodeToString(status.code());
  if (status.ok() && !log_successes_) return ToGrpcStatus(status);
  Log(status.ok() || absl::IsInvalidArgument(status) || absl::IsNotFound(status)
          ? LogLevel::kInfo
          : LogLevel::kWarning,
      "rpc",
      {{"service", service_},
       {"method", method},
       {"principal", principal_label},
       {"code", code},
       {"latency_ms", latency_ms},
       {"peer", context.peer()},
       {"peer_identity", PeerIdentity(context)},
       {"client", ClientAddressOf(context)},
       {"error", status.ok() ? absl::string_view() : status.message()}});
  if (absl::IsInternal(status) || absl::IsDataLoss(status) ||
      absl::IsUnknown(status)) {
    // Details (SQL errors, row values) stay in our log, not with the caller.
    return ToGrpcStatus(absl::Status(
        status.code(), "internal error; the service log has the details"));
  }
  return ToGrpcStatus(status);
}

grpc::Status RpcRunner::Run(
    grpc::ServerContext* context, absl::string_view method,
    absl::FunctionRef<absl::Status(const Principal&)> handler) {
  const auto start = std::chrono::steady_clock::now();
  // This call's span of the caller's trace (or a new one): every log line
  // written while handling it, and every call it makes, carry it.
  ScopedTrace trace(ContinueOrStartTrace(ParentTrace(*context), *trace_ids_));
  Principal principal;
  std::string principal_label;
  absl::Status status =
      Admit(method, authenticator_->Authenticate(AuthorizationHeader(*context)),
            &principal, &principal_label);
  if (status.ok()) {
    status = Guarded(method, [&] { return handler(principal); });
  }
  return Conclude(*context, method, start, principal_label, status);
}

struct RpcRunner::CallbackCall {
  grpc::CallbackServerContext* context;
  grpc::ServerUnaryReactor* reactor;
  absl::string_view method;
  FreshnessFence* fence;
  FromMemory from_memory;
  Blocking blocking;
  std::chrono::steady_clock::time_point start;
  TraceContext trace;
  Principal principal;
  std::string principal_label = "anonymous";
};

grpc::ServerUnaryReactor* RpcRunner::RunCallback(
    grpc::CallbackServerContext* context, absl::string_view method,
    FreshnessFence* fence, FromMemory from_memory, Blocking blocking) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  auto call = std::make_unique<CallbackCall>(
      CallbackCall{context, reactor, method, fence, std::move(from_memory),
                   std::move(blocking), std::chrono::steady_clock::now(),
                   ContinueOrStartTrace(ParentTrace(*context), *trace_ids_)});
  ScopedTrace trace(call->trace);
  std::optional<absl::StatusOr<Principal>> known =
      authenticator_->AuthenticateFromCache(AuthorizationHeader(*context));
  if (known.has_value()) {
    ContinueAuthenticated(std::move(call), *std::move(known));
  } else {
    // The lookup waits for the registry or the database.
    OnPool(std::move(call), [this](std::unique_ptr<CallbackCall> call) {
      absl::StatusOr<Principal> authenticated = absl::InternalError("");
      const absl::Status guarded = Guarded(call->method, [&] {
        authenticated =
            authenticator_->Authenticate(AuthorizationHeader(*call->context));
        return absl::OkStatus();
      });
      if (!guarded.ok()) authenticated = guarded;
      ContinueAuthenticated(std::move(call), std::move(authenticated));
    });
  }
  // Finish may already have been called (on another thread, even): the
  // default reactor keeps it until the call is bound.
  return reactor;
}

void RpcRunner::ContinueAuthenticated(std::unique_ptr<CallbackCall> call,
                                      absl::StatusOr<Principal> authenticated) {
  absl::Status admitted = Admit(call->method, std::move(authenticated),
                                &call->principal, &call->principal_label);
  if (!admitted.ok()) {
    FinishCallback(std::move(call), admitted);
    return;
  }
  if (call->fence == nullptr) {
    AnswerFromMemory(std::move(call), "");
    return;
  }
  FreshnessFence* fence = call->fence;
  fence->CurrentAsync([this, call = std::move(call)](
                          const absl::StatusOr<std::string>& stamp) mutable {
    ScopedTrace trace(call->trace);
    if (stamp.ok()) {
      AnswerFromMemory(std::move(call), *stamp);
    } else if (absl::IsUnavailable(stamp.status())) {
      // The database is down (or the fence shutting down): so would be
      // the blocking path.
      FinishCallback(std::move(call), stamp.status());
    } else {
      // The blocking path may do without the stamp (it reads the database).
      AnswerBlocking(std::move(call));
    }
  });
}

void RpcRunner::AnswerFromMemory(std::unique_ptr<CallbackCall> call,
                                 const std::string& stamp) {
  std::optional<absl::Status> answer;
  absl::Status guarded = Guarded(call->method, [&] {
    answer = call->from_memory(call->principal, stamp);
    return absl::OkStatus();
  });
  if (!guarded.ok()) answer = guarded;
  if (answer.has_value()) {
    FinishCallback(std::move(call), *answer);
  } else {
    AnswerBlocking(std::move(call));
  }
}

void RpcRunner::AnswerBlocking(std::unique_ptr<CallbackCall> call) {
  OnPool(std::move(call), [this](std::unique_ptr<CallbackCall> call) {
    const absl::Status status =
        Guarded(call->method, [&] { return call->blocking(call->principal); });
    FinishCallback(std::move(call), status);
  });
}

void RpcRunner::OnPool(std::unique_ptr<CallbackCall> call, PoolStep step) {
  // The pool owns the call once it takes the task; a refused task is
  // dropped, and the call answered here.
  CallbackCall* const owned = call.release();
  const bool posted =
      blocking_pool_.Post([this, owned, step = std::move(step)]() mutable {
        std::unique_ptr<CallbackCall> call(owned);
        ScopedTrace trace(call->trace);
        if (call->context->IsCancelled()) {
          // Gone while it waited: no lookup or query for nobody.
          FinishCallback(std::move(call),
                         absl::CancelledError("the caller gave up"));
          return;
        }
        std::move(step)(std::move(call));
      });
  if (!posted) {
    std::unique_ptr<CallbackCall> refused(owned);
    FinishCallback(std::move(refused),
                   absl::ResourceExhaustedError(
                       "the service is too busy to answer; try again"));
  }
}

void RpcRunner::FinishCallback(std::unique_ptr<CallbackCall> call,
                               const absl::Status& status) {
  const grpc::Status answer = Conclude(
      *call->context, call->method, call->start, call->principal_label, status);
  // The last use of the call's context, request and response.
  call->reactor->Finish(answer);
}

}  // namespace smz
