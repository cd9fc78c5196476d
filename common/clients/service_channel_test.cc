// Channels between the services: calls spread over every replica a target
// names, a read retried on UNAVAILABLE, a write never retried blindly.
#include "common/clients/service_channel.h"

#include <atomic>
#include <memory>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "common/tracing/trace_context.h"
#include "gmock/gmock.h"
#include "grpcpp/server.h"
#include "grpcpp/server_builder.h"
#include "gtest/gtest.h"
#include "smz/registry/v1/registry.grpc.pb.h"

namespace smz {
namespace {

namespace reg = ::smz::registry::v1;

constexpr char kOther[] =
    "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";

// A registry replica that fails its first `failures` calls with
// UNAVAILABLE (as one whose database is failing over) and counts calls.
class Replica final : public reg::RegistryService::Service {
 public:
  explicit Replica(int failures) : failures_(failures) {}
  grpc::Status GetPartner(grpc::ServerContext* context,
                          const reg::GetPartnerRequest*,
                          reg::Partner* partner) override {
    std::string seen;
    int count = 0;
    for (const auto& [key, value] : context->client_metadata()) {
      if (key == "traceparent") {
        seen = std::string(value.data(), value.size());
        ++count;
      }
    }
    absl::MutexLock lock(&mu_);
    traceparent_ = count > 1 ? "several" : seen;
    return Answer(partner);
  }
  std::string traceparent() {
    absl::MutexLock lock(&mu_);
    return traceparent_;
  }
  grpc::Status CreatePartner(grpc::ServerContext*,
                             const reg::CreatePartnerRequest*,
                             reg::Partner* partner) override {
    return Answer(partner);
  }
  int calls() const { return calls_.load(); }

 private:
  grpc::Status Answer(reg::Partner* partner) {
    if (calls_.fetch_add(1) < failures_) {
      return grpc::Status(grpc::StatusCode::UNAVAILABLE, "failing over");
    }
    partner->set_id(7);
    return grpc::Status::OK;
  }
  const int failures_;
  std::atomic<int> calls_{0};
  absl::Mutex mu_;
  std::string traceparent_ ABSL_GUARDED_BY(mu_);
};

struct Running {
  explicit Running(int failures) : replica(failures) {
    grpc::ServerBuilder builder;
    builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(),
                             &port);
    builder.RegisterService(&replica);
    server = builder.BuildAndStart();
  }
  ~Running() { server->Shutdown(); }
  Replica replica;
  int port = 0;
  std::unique_ptr<grpc::Server> server;
};

grpc::Status Call(reg::RegistryService::Stub& stub, bool write) {
  grpc::ClientContext context;
  context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(5)));
  reg::Partner partner;
  return write ? stub.CreatePartner(&context, {}, &partner)
               : stub.GetPartner(&context, {}, &partner);
}

TEST(ServiceChannelTest, AReadIsRetriedOnUnavailableAWriteIsNot) {
  Running read_side(/*failures=*/2);
  auto stub = reg::RegistryService::NewStub(CreateServiceChannel(
      absl::StrCat("127.0.0.1:", read_side.port), TlsOptions()));
  EXPECT_TRUE(Call(*stub, /*write=*/false).ok());
  EXPECT_EQ(read_side.replica.calls(), 3);

  Running write_side(/*failures=*/1);
  stub = reg::RegistryService::NewStub(CreateServiceChannel(
      absl::StrCat("127.0.0.1:", write_side.port), TlsOptions()));
  EXPECT_EQ(Call(*stub, /*write=*/true).error_code(),
            grpc::StatusCode::UNAVAILABLE);
  EXPECT_EQ(write_side.replica.calls(), 1);
}

// A target with two addresses (what dns:/// gives for a name with two
// replicas): both get calls.
TEST(ServiceChannelTest, CallsAreSpreadOverEveryReplica) {
  Running a(0), b(0);
  auto stub = reg::RegistryService::NewStub(CreateServiceChannel(
      absl::StrCat("ipv4:127.0.0.1:", a.port, ",127.0.0.1:", b.port),
      TlsOptions()));
  for (int i = 0; i < 20; ++i) ASSERT_TRUE(Call(*stub, false).ok());
  EXPECT_GE(a.replica.calls(), 5);
  EXPECT_GE(b.replica.calls(), 5);
}

// The trace of the call being handled goes with every call made for it, and
// each call is counted per backend once, however often it was retried.
TEST(ServiceChannelTest, CallsCarryTheTraceAndAreCountedPerBackend) {
  Running replica(/*failures=*/1);
  RpcMetrics metrics;
  auto stub = reg::RegistryService::NewStub(
      CreateServiceChannel(absl::StrCat("127.0.0.1:", replica.port),
                           TlsOptions(), "registry", &metrics));
  ASSERT_TRUE(Call(*stub, false).ok());
  EXPECT_EQ(replica.replica.traceparent(), "");  // no call handled: no trace

  SecureRandom random;
  const TraceContext trace = ContinueOrStartTrace(std::nullopt, random);
  {
    ScopedTrace scope(trace);
    ASSERT_TRUE(Call(*stub, false).ok());
    EXPECT_EQ(replica.replica.traceparent(), FormatTraceparent(trace));
    // One set by hand (the HTTP edge's) is kept, not doubled.
    grpc::ClientContext context;
    context.AddMetadata("traceparent", kOther);
    reg::Partner partner;
    ASSERT_TRUE(stub->GetPartner(&context, {}, &partner).ok());
    EXPECT_EQ(replica.replica.traceparent(), kOther);
  }
  EXPECT_EQ(Call(*stub, true).error_code(), grpc::StatusCode::OK);
  const std::string text = metrics.Text();
  EXPECT_THAT(text, ::testing::HasSubstr(
                        "smz_backend_calls_total{backend=\"registry\",code="
                        "\"OK\",method=\"RegistryService/GetPartner\"} 3"));
  EXPECT_THAT(text,
              ::testing::HasSubstr(
                  "smz_backend_calls_total{backend=\"registry\",code=\"OK\","
                  "method=\"RegistryService/CreatePartner\"} 1"));
  EXPECT_THAT(text, ::testing::HasSubstr(
                        "smz_backend_call_duration_seconds_count{backend="
                        "\"registry\",method=\"RegistryService/GetPartner\"} "
                        "3"));
}

TEST(ServiceChannelTest, TheConfigListsReadsOnly) {
  const std::string& config = ServiceChannelConfig();
  EXPECT_THAT(config, ::testing::HasSubstr(
                          R"({"service":"smz.registry.v1.RegistryService",)"
                          R"("method":"GetPartner"})"));
  EXPECT_THAT(config, ::testing::Not(::testing::HasSubstr("CreatePartner")));
  EXPECT_THAT(config, ::testing::HasSubstr("round_robin"));
  EXPECT_THAT(config, ::testing::Not(::testing::HasSubstr("GatewayService")));
}

}  // namespace
}  // namespace smz
