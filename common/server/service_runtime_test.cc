// ServiceRuntime: graceful shutdown lets in-flight calls finish and refuses
// new ones; health follows database reachability.
#include "common/server/service_runtime.h"

#include <thread>

#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/security/credentials.h"
#include "gtest/gtest.h"
#include "smz/bench/v1/echo.grpc.pb.h"
#include "tests/harness/mariadb_server.h"

namespace smz {
namespace {

// Answers after a pause long enough to be caught mid-call by Shutdown().
class SlowEcho final : public bench::v1::EchoService::Service {
 public:
  grpc::Status Echo(grpc::ServerContext*, const bench::v1::EchoRequest* request,
                    bench::v1::EchoResponse* response) override {
    started.Notify();
    absl::SleepFor(absl::Milliseconds(800));
    response->set_message(request->message());
    return grpc::Status::OK;
  }
  absl::Notification started;
};

DatabaseOptions UnreachableDatabase() {
  DatabaseOptions options;
  options.host = "127.0.0.1";
  options.port = testing::PickUnusedPort();  // nothing listens there
  options.user = "nobody";
  options.database = "nothing";
  return options;
}

TEST(ServiceRuntimeTest, ShutdownFinishesInFlightCallsAndRefusesNewOnes) {
  SlowEcho service;
  ServerOptions options;
  options.listen = "127.0.0.1:0";
  ServiceRuntime runtime(options, UnreachableDatabase(), nullptr);
  ASSERT_TRUE(runtime.Start({&service}).ok());
  auto channel = grpc::CreateChannel(absl::StrCat("127.0.0.1:", runtime.port()),
                                     grpc::InsecureChannelCredentials());
  auto stub = bench::v1::EchoService::NewStub(channel);

  grpc::Status in_flight;
  bench::v1::EchoResponse response;
  std::thread caller([&] {
    grpc::ClientContext context;
    bench::v1::EchoRequest request;
    request.set_message("finish me");
    in_flight = stub->Echo(&context, request, &response);
  });
  service.started.WaitForNotification();
  runtime.Shutdown();  // returns once the in-flight call is done
  caller.join();
  EXPECT_TRUE(in_flight.ok()) << in_flight.error_message();
  EXPECT_EQ(response.message(), "finish me");

  grpc::ClientContext late;
  late.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(2)));
  bench::v1::EchoRequest request;
  EXPECT_FALSE(stub->Echo(&late, request, &response).ok());
  runtime.Shutdown();  // idempotent
}

TEST(ServiceRuntimeTest, HealthIsNotServingWithoutADatabase) {
  SlowEcho service;
  ServerOptions options;
  options.listen = "127.0.0.1:0";
  options.health_interval = absl::Milliseconds(100);
  ServiceRuntime runtime(options, UnreachableDatabase(), nullptr);
  ASSERT_TRUE(runtime.Start({&service}).ok());
  EXPECT_FALSE(runtime.serving());
  auto health = grpc::health::v1::Health::NewStub(
      grpc::CreateChannel(absl::StrCat("127.0.0.1:", runtime.port()),
                          grpc::InsecureChannelCredentials()));
  grpc::ClientContext context;
  grpc::health::v1::HealthCheckResponse response;
  ASSERT_TRUE(health->Check(&context, {}, &response).ok());
  EXPECT_EQ(response.status(),
            grpc::health::v1::HealthCheckResponse::NOT_SERVING);
  // Not ready, but alive: a database outage must not get it restarted.
  grpc::health::v1::HealthCheckRequest request;
  request.set_service(kReadinessHealthName);
  grpc::ClientContext readiness;
  ASSERT_TRUE(health->Check(&readiness, request, &response).ok());
  EXPECT_EQ(response.status(),
            grpc::health::v1::HealthCheckResponse::NOT_SERVING);
  request.set_service(kLivenessHealthName);
  grpc::ClientContext liveness;
  ASSERT_TRUE(health->Check(&liveness, request, &response).ok());
  EXPECT_EQ(response.status(), grpc::health::v1::HealthCheckResponse::SERVING);
}

TEST(ServiceRuntimeTest, ReportsAPortThatIsTaken) {
  SlowEcho service;
  ServerOptions first_options;
  first_options.listen = "127.0.0.1:0";
  ServiceRuntime first(first_options, UnreachableDatabase(), nullptr);
  ASSERT_TRUE(first.Start({&service}).ok());
  SlowEcho other;
  ServerOptions second_options;
  second_options.listen = absl::StrCat("127.0.0.1:", first.port());
  ServiceRuntime second(second_options, UnreachableDatabase(), nullptr);
  EXPECT_EQ(second.Start({&other}).code(), absl::StatusCode::kUnavailable);
}

}  // namespace
}  // namespace smz
