// The channel one smz process opens to another service. A target may name
// several replicas: "dns:///registry.smz.internal:50051" resolves to every
// address the name has, and calls are spread round-robin over them (a
// replica that goes away is left out, one that appears is used once the
// name resolves to it; servers end connections after ServerOptions'
// max_connection_age so that clients resolve again). Reads, the methods
// bound to HTTP GET in the .protos, are retried on UNAVAILABLE (a replica
// restarting, a database failing over) with backoff; writes never are here
// (their own request_id makes a caller's retry safe, not a blind one).
// Every call carries the caller's trace and is counted in `metrics` under
// `backend` (common/clients/call_interceptor.h).
//
//   std::shared_ptr<grpc::Channel> registry = smz::CreateServiceChannel(
//       "dns:///registry:50051", tls_options, "registry", &metrics);
#ifndef SMZ_COMMON_CLIENTS_SERVICE_CHANNEL_H_
#define SMZ_COMMON_CLIENTS_SERVICE_CHANNEL_H_

#include <memory>
#include <string>

#include "common/server/metrics.h"
#include "common/tls/tls_options.h"
#include "grpcpp/channel.h"

namespace smz {

// `metrics` may be null (then nothing is counted). `tls_name`, when not
// empty, is the name the server's certificate is checked for instead of the
// target's host (a process calling itself at an address its certificate
// does not name).
std::shared_ptr<grpc::Channel> CreateServiceChannel(
    const std::string& target, const TlsOptions& tls,
    std::string backend = "backend", RpcMetrics* metrics = nullptr,
    const std::string& tls_name = "");

// The gRPC service config of those channels (JSON): round_robin, and a
// retry policy for every read of SmzServices().
const std::string& ServiceChannelConfig();

}  // namespace smz

#endif  // SMZ_COMMON_CLIENTS_SERVICE_CHANNEL_H_
