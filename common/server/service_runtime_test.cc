// ServiceRuntime: graceful shutdown lets in-flight calls finish and refuses
// new ones; health follows database reachability.
#include "common/server/service_runtime.h"

#include <atomic>
#include <string>
#include <thread>

#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/security/credentials.h"
#include "gtest/gtest.h"
#include "smz/bench/v1/echo.grpc.pb.h"
#include "tests/harness/grpc_reflection.h"
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

// How a reflection request ends on `channel`.
grpc::StatusCode ReflectionStatus(
    const std::shared_ptr<grpc::Channel>& channel) {
  std::string reply;
  return smz::testing::ListServicesByReflection(channel, &reply).error_code();
}

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

// The plaintext health port (Kubernetes' native probes speak no TLS): the
// same statuses, a change seen there too, and nothing else served.
TEST(ServiceRuntimeTest, TheHealthPortServesHealthAlone) {
  SlowEcho service;
  ServerOptions options;
  options.listen = "127.0.0.1:0";
  options.health_listen = "127.0.0.1:0";
  options.health_interval = absl::Milliseconds(50);
  std::atomic<bool> database_up{false};
  ServiceRuntime runtime(
      options, [&] { return database_up.load(); }, nullptr);
  ASSERT_TRUE(runtime.Start({&service}).ok());
  ASSERT_NE(runtime.health_port(), 0);
  ASSERT_NE(runtime.health_port(), runtime.port());
  auto channel =
      grpc::CreateChannel(absl::StrCat("127.0.0.1:", runtime.health_port()),
                          grpc::InsecureChannelCredentials());
  auto health = grpc::health::v1::Health::NewStub(channel);
  auto status_of = [&](const std::string& name) {
    grpc::ClientContext context;
    context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(5)));
    grpc::health::v1::HealthCheckRequest request;
    request.set_service(name);
    grpc::health::v1::HealthCheckResponse response;
    grpc::Status s = health->Check(&context, request, &response);
    return s.ok() ? response.status()
                  : grpc::health::v1::HealthCheckResponse::UNKNOWN;
  };
  EXPECT_EQ(status_of(kLivenessHealthName),
            grpc::health::v1::HealthCheckResponse::SERVING);
  EXPECT_EQ(status_of(kReadinessHealthName),
            grpc::health::v1::HealthCheckResponse::NOT_SERVING);
  database_up = true;
  const absl::Time deadline = absl::Now() + absl::Seconds(5);
  while (status_of(kReadinessHealthName) !=
             grpc::health::v1::HealthCheckResponse::SERVING &&
         absl::Now() < deadline) {
    absl::SleepFor(absl::Milliseconds(20));
  }
  EXPECT_EQ(status_of(kReadinessHealthName),
            grpc::health::v1::HealthCheckResponse::SERVING);
  // The service itself is not there, nor reflection (which the gRPC port
  // has).
  auto echo = bench::v1::EchoService::NewStub(channel);
  grpc::ClientContext context;
  bench::v1::EchoResponse response;
  EXPECT_EQ(echo->Echo(&context, {}, &response).error_code(),
            grpc::StatusCode::UNIMPLEMENTED);
  EXPECT_EQ(ReflectionStatus(channel), grpc::StatusCode::UNIMPLEMENTED);
  EXPECT_EQ(ReflectionStatus(
                grpc::CreateChannel(absl::StrCat("127.0.0.1:", runtime.port()),
                                    grpc::InsecureChannelCredentials())),
            grpc::StatusCode::OK);
  runtime.Shutdown();
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
