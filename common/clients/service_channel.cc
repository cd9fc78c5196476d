#include "common/clients/service_channel.h"

#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/smz_services.h"
#include "google/api/annotations.pb.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/support/channel_arguments.h"

namespace smz {
namespace {

std::string BuildServiceConfig() {
  std::vector<std::string> reads;
  for (const google::protobuf::ServiceDescriptor* service : SmzServices()) {
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
  // Three attempts in all, 50 ms then 100-250 ms apart (jittered by gRPC):
  // enough to step over a replica going away, well inside a 2 s deadline.
  // Throttled: when most calls fail (the database down for everyone),
  // retries stop instead of tripling the load.
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

std::shared_ptr<grpc::Channel> CreateServiceChannel(const std::string& target,
                                                    const TlsOptions& tls) {
  grpc::ChannelArguments args;
  args.SetServiceConfigJSON(ServiceChannelConfig());
  return grpc::CreateCustomChannel(target, ChannelCredentialsFor(tls), args);
}

}  // namespace smz
