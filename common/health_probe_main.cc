// smz_health_probe: exits 0 when a server's grpc.health.v1 status is SERVING.
// Used by deploy scripts to wait for a service to become ready.
//
//   smz_health_probe --target=127.0.0.1:50051 [--service=NAME] [--timeout=2s]
//
// Over TLS with --tls_ca (and --tls_cert/--tls_key where servers ask for
// client certificates), or the SMZ_TLS_* variables (common/tls/tls_options.h).
#include <cstdio>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/time/time.h"
#include "common/tls/tls_options.h"
#include "common/version.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/security/credentials.h"

ABSL_FLAG(std::string, target, "127.0.0.1:50051", "server address");
ABSL_FLAG(std::string, service, "", "health service name ('' = server)");
ABSL_FLAG(absl::Duration, timeout, absl::Seconds(2), "call deadline");

int main(int argc, char** argv) {
  smz::InstallVersionFlag();
  absl::ParseCommandLine(argc, argv);
  absl::StatusOr<smz::TlsOptions> tls = smz::LoadTlsOptions();
  if (!tls.ok()) {
    std::fprintf(stderr, "%s\n", std::string(tls.status().message()).c_str());
    return 2;
  }
  auto channel = grpc::CreateChannel(absl::GetFlag(FLAGS_target),
                                     smz::ChannelCredentialsFor(*tls));
  auto stub = grpc::health::v1::Health::NewStub(channel);
  grpc::ClientContext context;
  context.set_deadline(
      absl::ToChronoTime(absl::Now() + absl::GetFlag(FLAGS_timeout)));
  grpc::health::v1::HealthCheckRequest request;
  request.set_service(absl::GetFlag(FLAGS_service));
  grpc::health::v1::HealthCheckResponse response;
  grpc::Status status = stub->Check(&context, request, &response);
  if (!status.ok()) {
    std::fprintf(stderr, "health check failed: %s\n",
                 status.error_message().c_str());
    return 2;
  }
  const std::string name =
      grpc::health::v1::HealthCheckResponse::ServingStatus_Name(
          response.status());
  std::printf("%s\n", name.c_str());
  return response.status() == grpc::health::v1::HealthCheckResponse::SERVING
             ? 0
             : 1;
}
