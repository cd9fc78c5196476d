// The client side of smz's authentication: a gRPC call context carrying
// "authorization: Bearer <token>" and a deadline. Every smz client (the
// gateway's backends aside, which forward the caller's own metadata), tool,
// test and benchmark makes its contexts here.
//
//   std::unique_ptr<grpc::ClientContext> context =
//       smz::BearerContext(token, absl::Seconds(30));
//   grpc::Status s = stub->GetPartner(context.get(), request, &partner);
#ifndef SMZ_COMMON_CLIENTS_BEARER_CONTEXT_H_
#define SMZ_COMMON_CLIENTS_BEARER_CONTEXT_H_

#include <memory>
#include <string>

#include "absl/time/time.h"
#include "grpcpp/client_context.h"

namespace smz {

// For calls that carry whole data sets: the demo loaders' and the
// benchmarks' set-up.
inline constexpr absl::Duration kBulkCallDeadline = absl::Seconds(120);

// No authorization metadata when `token` is empty.
std::unique_ptr<grpc::ClientContext> BearerContext(const std::string& token,
                                                   absl::Duration deadline);

}  // namespace smz

#endif  // SMZ_COMMON_CLIENTS_BEARER_CONTEXT_H_
