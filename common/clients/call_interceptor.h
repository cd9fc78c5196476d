// What every call one smz process makes to another carries and records:
// the W3C `traceparent` of the call being handled (common/tracing), so that
// the backend's log lines share the caller's trace_id, and — when the caller
// has metrics — the call's outcome and time per backend
// (smz_backend_calls_total, smz_backend_call_duration_seconds). Channels
// from CreateServiceChannel install it; a call whose context already holds
// a traceparent keeps it.
//
//   std::vector<std::unique_ptr<
//       grpc::experimental::ClientInterceptorFactoryInterface>> interceptors;
//   interceptors.push_back(MakeCallInterceptorFactory("registry", &metrics));
#ifndef SMZ_COMMON_CLIENTS_CALL_INTERCEPTOR_H_
#define SMZ_COMMON_CLIENTS_CALL_INTERCEPTOR_H_

#include <memory>
#include <string>

#include "common/server/metrics.h"
#include "grpcpp/support/client_interceptor.h"

namespace smz {

// `backend`: the label of the calls' metrics ("registry"); `metrics` may be
// null (the trace is still sent).
std::unique_ptr<grpc::experimental::ClientInterceptorFactoryInterface>
MakeCallInterceptorFactory(std::string backend, RpcMetrics* metrics);

}  // namespace smz

#endif  // SMZ_COMMON_CLIENTS_CALL_INTERCEPTOR_H_
