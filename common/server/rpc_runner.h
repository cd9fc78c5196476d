// The one path every smz RPC handler runs through: authenticate the bearer
// token, check the caller's role against the roles the method declares in its
// .proto (option (smz.auth.v1.allowed_roles)), run the handler, map its
// absl::Status to a grpc::Status (with field violations), and write one
// structured log line and the metrics for the call.
//
//   RpcRunner runner(v1::RegistryService::service_full_name(), &auth,
//                    &metrics);
//
//   grpc::Status RegistryGrpcService::GetPartner(
//       grpc::ServerContext* context, const v1::GetPartnerRequest* request,
//       v1::Partner* response) {
//     return runner_->Run(context, "GetPartner", [&](const Principal& caller) {
//       return RespondWith(response, [&] {
//         return registry_->GetPartner(caller, *request);
//       });
//     });
//   }
//
// A method that declares no roles is refused for everyone
// (smz_method_roles_test keeps every method declaring them). A method
// declared `anyone` runs without credentials, with a principal without a
// role (or the caller's own, when it sent a valid credential). An ADMIN
// signed in without a second factor gets PERMISSION_DENIED from every
// method but reads and those declared `without_second_factor`. Each call is
// a span of the caller's W3C trace (its `traceparent` metadata) or starts
// one (common/tracing/trace_context.h): the handler's log lines and calls
// carry it.
//
// Reads that memory usually answers take the callback API instead
// (RunCallback): the same checks, log line and metrics, but nothing waits on
// gRPC's threads — a credential the cache knows, the freshness stamp asked
// without waiting (FreshnessFence::CurrentAsync), the answer from memory;
// only what memory cannot answer runs on the runner's worker pool (a miss
// then asks the stamp again, as the blocking handler always does). Writes,
// and reads memory does not hold, stay on Run. The service's base class
// must list such a method as callback too
// (v1::RegistryService::WithCallbackMethod_GetPartner<...>, or
// WithRawCallbackMethod_ for a method that takes and answers bytes: see
// common/server/raw_messages.h).
//
//   grpc::ServerUnaryReactor* RegistryGrpcService::GetPartner(
//       grpc::CallbackServerContext* context,
//       const v1::GetPartnerRequest* request, v1::Partner* response) {
//     return runner_->RunCallback(
//         context, "GetPartner", &registry_->directory_fence(),
//         [=](const Principal& caller, const std::string& stamp) {
//           ...  // std::nullopt unless memory answers at `stamp`
//         },
//         [=](const Principal& caller) {
//           return RespondWith(response, [&] { ... });  // may block
//         });
//   }
#ifndef SMZ_COMMON_SERVER_RPC_RUNNER_H_
#define SMZ_COMMON_SERVER_RPC_RUNNER_H_

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/functional/any_invocable.h"
#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "common/auth/authenticator.h"
#include "common/auth/token.h"
#include "common/mysql/freshness_fence.h"
#include "common/server/metrics.h"
#include "common/server/worker_pool.h"
#include "common/tracing/trace_context.h"
#include "grpcpp/server_context.h"
#include "grpcpp/support/server_callback.h"

namespace smz {

// The metadata in which the HTTP edge tells a backend the address of the
// client it calls for (the backend's own peer is the edge). Logged as
// "client"; believed only from a trusted edge (TrustedEdge: a certificate
// naming one of --trusted_edges, or plaintext from this host).
inline constexpr absl::string_view kClientAddressMetadata =
    "smz-client-address";

// The address of the client a call is for: what a trusted edge reports (""
// when it reports none or no IP address), else the caller's own address
// (whatever it reported is ignored).
std::string ClientAddressOf(const grpc::ServerContextBase& context,
                            const std::vector<std::string>& trusted_edges);
// A metadata value when it is an IP address (at most 45 characters of hex
// digits, '.' and ':'), else "".
std::string CheckedClientAddress(absl::string_view value);

class RpcRunner {
 public:
  // `service_full_name`: e.g. "smz.registry.v1.RegistryService", a service
  // of the generated descriptor pool. `metrics` may be null.
  // `trusted_edges`: see TlsOptions::trusted_edges. `trace_id_random`
  // makes span and trace ids (null: TraceIdRandom); ids only, never secrets.
  RpcRunner(absl::string_view service_full_name, Authenticator* authenticator,
            RpcMetrics* metrics,
            std::vector<std::string> trusted_edges = {"gateway"},
            RandomSource* trace_id_random = nullptr);

  grpc::Status Run(grpc::ServerContext* context, absl::string_view method,
                   absl::FunctionRef<absl::Status(const Principal&)> handler);

  // Answers from memory when it can: the answer at a stamp, or std::nullopt
  // when memory does not hold it. Must not block (see FreshnessFence::
  // CurrentAsync: it runs on the fence's threads).
  using FromMemory = absl::AnyInvocable<std::optional<absl::Status>(
      const Principal& caller, const std::string& stamp)>;
  // The whole handler, which may wait for the database.
  using Blocking = absl::AnyInvocable<absl::Status(const Principal& caller)>;

  // Run's checks, log line and metrics through the callback API. After
  // authentication (from the cache; else looked up on the worker pool)
  // `from_memory` runs with `fence`'s stamp as of after the call began ("" when
  // `fence` is null); when it does not answer, or the stamp cannot be had,
  // `blocking` runs on the worker pool. `method` must outlive the call (a
  // literal); the callables may capture the request and response pointers,
  // valid until the call is finished.
  grpc::ServerUnaryReactor* RunCallback(grpc::CallbackServerContext* context,
                                        absl::string_view method,
                                        FreshnessFence* fence,
                                        FromMemory from_memory,
                                        Blocking blocking);

  // Logs failed calls only (metrics still count every call): for a method
  // called many times a second whose success says nothing (GetStamp).
  void LogOnlyFailures() { log_successes_ = false; }

  // The roles `method` declares; nullopt when it declares none (or does not
  // exist).
  std::optional<RoleSet> AllowedRoles(absl::string_view method) const;

  // ClientAddressOf with this runner's trusted edges.
  std::string ClientAddressOf(const grpc::ServerContextBase& context) const {
    return smz::ClientAddressOf(context, trusted_edges_);
  }

 private:
  // Who may call a method, as its .proto declares it.
  struct Access {
    RoleSet roles = RoleSet({});
    bool anyone = false;  // callers without credentials too
    // Callable before an ADMIN enrols a second factor: declared so, open to
    // anyone, or a read (bound to HTTP GET).
    bool without_second_factor = false;
  };
  // A call on the callback path, handed from thread to thread.
  struct CallbackCall;

  // The caller as Run sees it: OK and their principal, or the refusal.
  absl::Status Admit(absl::string_view method,
                     absl::StatusOr<Principal> authenticated,
                     Principal* principal, std::string* principal_label) const;
  // Runs a handler, turning an exception (from a library) into INTERNAL.
  static absl::Status Guarded(absl::string_view method,
                              absl::FunctionRef<absl::Status()> handler);
  // The log line and metrics of a finished call, and its gRPC status.
  grpc::Status Conclude(const grpc::ServerContextBase& context,
                        absl::string_view method,
                        std::chrono::steady_clock::time_point start,
                        absl::string_view principal_label,
                        const absl::Status& status);

  // The callback path's steps, each on whichever thread got there.
  void ContinueAuthenticated(std::unique_ptr<CallbackCall> call,
                             absl::StatusOr<Principal> authenticated);
  void AnswerFromMemory(std::unique_ptr<CallbackCall> call,
                        const std::string& stamp);
  void AnswerBlocking(std::unique_ptr<CallbackCall> call);
  // Runs `step` on the worker pool, unless the caller is gone by then;
  // RESOURCE_EXHAUSTED when the pool's queue is full.
  using PoolStep =
      absl::AnyInvocable<void(std::unique_ptr<CallbackCall> call) &&>;
  void OnPool(std::unique_ptr<CallbackCall> call, PoolStep step);
  void FinishCallback(std::unique_ptr<CallbackCall> call,
                      const absl::Status& status);

  const std::string service_;  // "registry": for logs
  absl::flat_hash_map<std::string, Access> access_;
  Authenticator* const authenticator_;
  RpcMetrics* const metrics_;
  const std::vector<std::string> trusted_edges_;
  TraceIdRandom own_trace_id_random_;
  RandomSource* const trace_ids_;
  bool log_successes_ = true;  // set before serving
  // Last: destroyed first, running what it still holds while the rest of
  // the runner exists.
  WorkerPool blocking_pool_;
};

// For handlers whose logic returns a value: runs `call` and moves its value
// into the gRPC response on success.
//
//   return runner_->Run(context, "GetPartner", [&](const Principal& caller) {
//     return RespondWith(response, [&] {
//       return registry_->GetPartner(caller, *request);
//     });
//   });
template <typename T, typename Call>
absl::Status RespondWith(T* response, Call call) {
  absl::StatusOr<T> result = call();
  if (!result.ok()) return result.status();
  *response = *std::move(result);
  return absl::OkStatus();
}

}  // namespace smz

#endif  // SMZ_COMMON_SERVER_RPC_RUNNER_H_
