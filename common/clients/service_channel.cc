#include "common/clients/service_channel.h"

#include <memory>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/clients/call_interceptor.h"
#include "common/smz_services.h"
#include "google/api/annotations.pb.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/support/channel_arguments.h"

namespace smz {
namespace {

std::string BuildServiceConfig() {
  std::vector<std::string> reads;
  for (const google::protobuf::ServiceDescriptor* service : SmzServices()) {
    // The gateway's reads retry their backend calls themselves (through
    // these channels): retried again from the HTTP edge, one page view
    // could become nine calls to a failing backend.
    if (service->full_name() == "smz.gateway.v1.GatewayService") continue;
    for (int i = 0; i < service->method_count(); ++i) {
      const google::protobuf::MethodDescriptor* method = service->method(i);
      if (method->options().GetExtension(google::api::http).pattern_case() !=
          google::api::HttpRule::kGet) {
        continue;
      }
      reads.push_back(absl::StrCat(R"({"service":")", service->full_name(),
                                   R"(","method":")", method->name(), R"("})"));
    }
  }
  // Three attempts in all, the second within 50 ms, the third within 100 ms
  // (gRPC waits a random time up to the backoff): enough to step over a
  // replica going away, well inside a 2 s deadline. Throttled (gRFC A6):
  // once more than about one call in ten fails (the database down for
  // everyone), retries stop instead of tripling the load.
  return absl::StrCat(
      R"({"loadBalancingConfig":[{"round_robin":{}}],)",
      R"("retryThrottling":{"maxTokens":10,"tokenRatio":0.1},)",
      R"("methodConfig":[{"name":[)", absl::StrJoin(reads, ","),
      R"(],"retryPolicy":{"maxAttempts":3,"initialBackoff":"0.05s",)",
      R"("maxBackoff":"0.25s","backoffMultiplier":2,)",
      R"("retryableStatusCodes":["UNAVAILABLE"]}}]})");
}

}  // namespace

const std::string& ServiceChannelConfig() {
  static const std::string* const kConfig =
      new std::string(BuildServiceConfig());
  return *kConfig;
}

std::shared_ptr<grpc::Channel> CreateServiceChannel(
    const std::string& target, const TlsOptions& tls, std::string backend,
    RpcMetrics* metrics, const std::string& tls_name) {
  grpc::ChannelArguments args;
  args.SetServiceConfigJSON(ServiceChannelConfig());
  if (!tls_name.empty()) args.SetSslTargetNameOverride(tls_name);
  std::vector<
      std::unique_ptr<grpc::experimental::ClientInterceptorFactoryInterface>>
      interceptors;
  interceptors.push_back(
      MakeCallInterceptorFactory(std::move(backend), metrics));
  return grpc::experimental::CreateCustomChannelWithInterceptors(
      target, ChannelCredentialsFor(tls), args, std::move(interceptors));
}

}  // namespace smz
