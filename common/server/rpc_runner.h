// The one path every smz RPC handler runs through: authenticate the bearer
// token, check the caller's role, run the handler, map its absl::Status to a
// grpc::Status (with field violations), and write one structured log line and
// the metrics for the call.
//
//   grpc::Status RegistryService::GetPartner(grpc::ServerContext* context,
//                                            const GetPartnerRequest* request,
//                                            Partner* response) {
//     return runner_.Run(context, "GetPartner", smz::RoleSet::Everyone(),
//                        [&](const smz::Principal& caller) {
//                          return registry_.GetPartner(caller, *request,
//                                                      response);
//                        });
//   }
#ifndef SMZ_COMMON_SERVER_RPC_RUNNER_H_
#define SMZ_COMMON_SERVER_RPC_RUNNER_H_

#include <string>
#include <utility>

#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "common/auth/authenticator.h"
#include "common/server/metrics.h"
#include "grpcpp/server_context.h"

namespace smz {

class RpcRunner {
 public:
  // `metrics` may be null.
  RpcRunner(std::string service, Authenticator* authenticator,
            RpcMetrics* metrics);

  grpc::Status Run(grpc::ServerContext* context, absl::string_view method,
                   const RoleSet& allowed,
                   absl::FunctionRef<absl::Status(const Principal&)> handler);

 private:
  const std::string service_;
  Authenticator* const authenticator_;
  RpcMetrics* const metrics_;
};

// For handlers whose logic returns a value: runs `call` and moves its value
// into the gRPC response on success.
//
//   return runner_->Run(context, "GetPartner", RoleSet::Everyone(),
//                       [&](const Principal& caller) {
//                         return RespondWith(response, [&] {
//                           return registry_->GetPartner(caller, *request);
//                         });
//                       });
template <typename T, typename Call>
absl::Status RespondWith(T* response, Call call) {
  absl::StatusOr<T> result = call();
  if (!result.ok()) return result.status();
  *response = *std::move(result);
  return absl::OkStatus();
}

}  // namespace smz

#endif  // SMZ_COMMON_SERVER_RPC_RUNNER_H_
