// TLS between smz processes, with certificates made by the project's own
// script (deploy/tls/make_certs.sh, OpenSSL's command line): a server that
// requires client certificates accepts only clients whose certificate its CA
// signed and logs who they are; a client checks the server's name; a
// certificate renewed in place serves new connections without a restart;
// bad options are refused at start.
#include "common/tls/tls_options.h"

#include <cstdlib>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>

#include "absl/flags/declare.h"
#include "absl/flags/flag.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "common/server/metrics.h"
#include "common/server/rpc_runner.h"
#include "common/server/service_runtime.h"
#include "gmock/gmock.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/security/auth_context.h"
#include "grpcpp/server.h"
#include "grpcpp/server_builder.h"
#include "gtest/gtest.h"
#include "tests/harness/test_certificates.h"

ABSL_DECLARE_FLAG(std::string, tls_client_auth);

namespace smz {
namespace {

using ::grpc::health::v1::Health;
using ::grpc::health::v1::HealthCheckRequest;
using ::grpc::health::v1::HealthCheckResponse;
using ::testing::HasSubstr;

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream content;
  content << in.rdbuf();
  return content.str();
}

// A health service that remembers who called (PeerIdentity).
class WhoCalls final : public Health::Service {
 public:
  grpc::Status Check(grpc::ServerContext* context,
                     const HealthCheckRequest* /*request*/,
                     HealthCheckResponse* response) override {
    absl::MutexLock lock(&mu_);
    last_identity_ = PeerIdentity(*context);
    last_client_ = ClientAddressOf(*context, {"gateway"});
    response->set_status(HealthCheckResponse::SERVING);
    return grpc::Status::OK;
  }
  std::string last_identity() {
    absl::MutexLock lock(&mu_);
    return last_identity_;
  }
  // The client address the call counts for (RpcRunner's rule).
  std::string last_client() {
    absl::MutexLock lock(&mu_);
    return last_client_;
  }

 private:
  absl::Mutex mu_;
  std::string last_identity_ ABSL_GUARDED_BY(mu_);
  std::string last_client_ ABSL_GUARDED_BY(mu_);
};

class TlsTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    // The script's knobs, whatever the caller's environment says.
    unsetenv("SMZ_TLS_SANS");
    unsetenv("SMZ_TLS_DAYS");
    dir_ = new std::string(absl::StrCat(::testing::TempDir(), "/smz-tls-",
                                        absl::ToUnixNanos(absl::Now())));
    other_ = new std::string(absl::StrCat(*dir_, "-other"));
    ASSERT_TRUE(
        testing::MakeTestCertificates(*dir_, "registry gateway events"));
    ASSERT_TRUE(testing::MakeTestCertificates(
        *other_, "gateway"));  // another CA altogether
  }
  static void TearDownTestSuite() {
    std::system(absl::StrCat("rm -rf ", *dir_, " ", *other_).c_str());
    delete dir_;
    delete other_;
  }

  static std::string File(const std::string& name) {
    return absl::StrCat(*dir_, "/", name);
  }

  TlsOptions ServerTls(bool require_client_cert) {
    TlsOptions tls;
    tls.cert_file = File("registry.crt");
    tls.key_file = File("registry.key");
    tls.ca_file = File("ca.crt");
    tls.require_client_cert = require_client_cert;
    tls.refresh = absl::Seconds(1);
    return tls;
  }

  TlsOptions GatewayTls() {
    TlsOptions tls;
    tls.cert_file = File("gateway.crt");
    tls.key_file = File("gateway.key");
    tls.ca_file = File("ca.crt");
    return tls;
  }

  void Serve(const TlsOptions& tls, const std::string& host = "127.0.0.1") {
    ASSERT_TRUE(CheckTlsOptions(tls).ok());
    if (server_ != nullptr) server_->Shutdown();
    host_ = host;
    grpc::ServerBuilder builder;
    builder.AddListeningPort(absl::StrCat(host, ":0"),
                             ServerCredentialsFor(tls), &port_);
    builder.RegisterService(&service_);
    server_ = builder.BuildAndStart();
    ASSERT_NE(server_, nullptr);
  }

  void TearDown() override {
    if (server_ != nullptr) server_->Shutdown();
  }

  // A health check over a new channel; `server_name` overrides the name
  // the server's certificate must carry (empty: the address dialled).
  grpc::Status Check(const TlsOptions& tls, const std::string& server_name = "",
                     std::string* server_pem = nullptr,
                     const std::string& reported_client = "") {
    grpc::ChannelArguments args;
    if (!server_name.empty()) args.SetSslTargetNameOverride(server_name);
    // A fresh connection each time, not one shared with an earlier channel.
    args.SetInt("grpc.use_local_subchannel_pool", 1);
    auto channel = grpc::CreateCustomChannel(absl::StrCat(host_, ":", port_),
                                             ChannelCredentialsFor(tls), args);
    auto stub = Health::NewStub(channel);
    grpc::ClientContext context;
    context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(5)));
    if (!reported_client.empty()) {
      context.AddMetadata(std::string(kClientAddressMetadata), reported_client);
    }
    HealthCheckResponse response;
    grpc::Status status = stub->Check(&context, {}, &response);
    if (server_pem != nullptr && status.ok()) {
      for (const grpc::string_ref& pem :
           context.auth_context()->FindPropertyValues("x509_pem_cert")) {
        server_pem->assign(pem.data(), pem.size());
      }
    }
    return status;
  }

  static inline std::string* dir_ = nullptr;
  static inline std::string* other_ = nullptr;
  WhoCalls service_;
  std::unique_ptr<grpc::Server> server_;
  std::string host_ = "127.0.0.1";
  int port_ = 0;
};

TEST_F(TlsTest, MutualTlsLetsInOnlyClientsTheCaSignedAndSaysWhoTheyAre) {
  Serve(ServerTls(/*require_client_cert=*/true));
  grpc::Status s = Check(GatewayTls());
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(service_.last_identity(), "gateway,localhost,127.0.0.1");

  // No certificate, plaintext, or one from another CA: no call gets through.
  TlsOptions no_certificate;
  no_certificate.ca_file = File("ca.crt");
  EXPECT_EQ(Check(no_certificate).error_code(), grpc::StatusCode::UNAVAILABLE);
  EXPECT_EQ(Check(TlsOptions()).error_code(), grpc::StatusCode::UNAVAILABLE);
  TlsOptions stranger;
  stranger.cert_file = absl::StrCat(*other_, "/gateway.crt");
  stranger.key_file = absl::StrCat(*other_, "/gateway.key");
  stranger.ca_file = File("ca.crt");
  EXPECT_EQ(Check(stranger).error_code(), grpc::StatusCode::UNAVAILABLE);
}

// Sign-in lockouts and sign-up limits count the address the edge reports:
// only the gateway's certificate may report one. Another service's, a
// client without a certificate, or anyone over plaintext from another host
// counts as itself.
TEST_F(TlsTest, OnlyTheGatewaysCertificateMayReportAClientsAddress) {
  Serve(ServerTls(/*require_client_cert=*/false));
  ASSERT_TRUE(Check(GatewayTls(), "", nullptr, "203.0.113.7").ok());
  EXPECT_EQ(service_.last_client(), "203.0.113.7");
  ASSERT_TRUE(Check(GatewayTls()).ok());
  EXPECT_EQ(service_.last_client(), "");  // the edge's own gRPC side

  TlsOptions events;  // a service of ours, but not the edge
  events.cert_file = File("events.crt");
  events.key_file = File("events.key");
  events.ca_file = File("ca.crt");
  ASSERT_TRUE(Check(events, "", nullptr, "203.0.113.7").ok());
  EXPECT_EQ(service_.last_client(), "127.0.0.1");
  TlsOptions anonymous;
  anonymous.ca_file = File("ca.crt");
  ASSERT_TRUE(Check(anonymous, "", nullptr, "203.0.113.7").ok());
  EXPECT_EQ(service_.last_client(), "127.0.0.1");
  // Not an IP address: nothing.
  ASSERT_TRUE(Check(GatewayTls(), "", nullptr, "evil.example").ok());
  EXPECT_EQ(service_.last_client(), "");
  // A certificate named "gateway" from another CA gets no call through.
  TlsOptions stranger;
  stranger.cert_file = absl::StrCat(*other_, "/gateway.crt");
  stranger.key_file = absl::StrCat(*other_, "/gateway.key");
  stranger.ca_file = File("ca.crt");
  EXPECT_EQ(Check(stranger, "", nullptr, "203.0.113.7").error_code(),
            grpc::StatusCode::UNAVAILABLE);
}

TEST_F(TlsTest, AnIpv6CallerCountsAsItsOwnAddress) {
  Serve(ServerTls(/*require_client_cert=*/false), "[::1]");
  TlsOptions events;
  events.cert_file = File("events.crt");
  events.key_file = File("events.key");
  events.ca_file = File("ca.crt");
  // The certificates name 127.0.0.1, not ::1: dialled as "localhost".
  ASSERT_TRUE(Check(events, "localhost", nullptr, "203.0.113.7").ok());
  EXPECT_EQ(service_.last_client(), "::1");
}

TEST_F(TlsTest, PlaintextFromThisHostMayReportAClientsAddress) {
  Serve(TlsOptions());
  ASSERT_TRUE(Check(TlsOptions(), "", nullptr, "203.0.113.7").ok());
  EXPECT_EQ(service_.last_client(), "203.0.113.7");
  Serve(TlsOptions(), "[::1]");
  ASSERT_TRUE(Check(TlsOptions(), "", nullptr, "2001:db8::7").ok());
  EXPECT_EQ(service_.last_client(), "2001:db8::7");
}

TEST_F(TlsTest, AClientChecksTheServersCertificateAndName) {
  Serve(ServerTls(/*require_client_cert=*/false));
  // Server-only TLS: a client with the CA alone gets in, and is nobody.
  TlsOptions client;
  client.ca_file = File("ca.crt");
  grpc::Status s = Check(client);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(service_.last_identity(), "");
  EXPECT_TRUE(Check(client, "registry").ok());
  // The certificate is the registry's: dialled as the stats service, no.
  EXPECT_EQ(Check(client, "stats").error_code(), grpc::StatusCode::UNAVAILABLE);
  // A client trusting another CA does not trust this server.
  TlsOptions elsewhere;
  elsewhere.ca_file = absl::StrCat(*other_, "/ca.crt");
  EXPECT_EQ(Check(elsewhere).error_code(), grpc::StatusCode::UNAVAILABLE);
}

TEST_F(TlsTest, ARenewedCertificateServesWithoutARestart) {
  Serve(ServerTls(/*require_client_cert=*/false));
  TlsOptions client;
  client.ca_file = File("ca.crt");
  std::string presented;
  ASSERT_TRUE(Check(client, "", &presented).ok());
  EXPECT_EQ(presented, ReadFile(File("registry.crt")));
  const std::string before = presented;

  ASSERT_TRUE(
      testing::MakeTestCertificates(*dir_, "registry"));  // renewed in place
  const std::string renewed = ReadFile(File("registry.crt"));
  ASSERT_NE(renewed, before);
  // The server looks at its files every second (refresh).
  const absl::Time deadline = absl::Now() + absl::Seconds(15);
  while (presented != renewed && absl::Now() < deadline) {
    absl::SleepFor(absl::Milliseconds(200));
    presented.clear();
    // A look between the key's and the certificate's rename may take a
    // mismatched pair until the next look: such a failure is retried.
    Check(client, "", &presented).IgnoreError();
  }
  EXPECT_EQ(presented, renewed);
}

TEST_F(TlsTest, ServiceRuntimeServesHealthOverTls) {
  ServerOptions options;
  options.tls = ServerTls(/*require_client_cert=*/true);
  RpcMetrics metrics;
  ServiceRuntime runtime(
      options, [] { return true; }, &metrics);
  ASSERT_TRUE(runtime.Start({}).ok());
  port_ = runtime.port();
  EXPECT_TRUE(Check(GatewayTls()).ok());
  // When its certificates end, for the alert (make_certs.sh: 397 days, the
  // CA 10 years).
  absl::StatusOr<absl::Time> not_after =
      CertificateNotAfter(File("registry.crt"));
  ASSERT_TRUE(not_after.ok()) << not_after.status();
  EXPECT_GT(*not_after, absl::Now() + absl::Hours(24 * 390));
  EXPECT_LT(*not_after, absl::Now() + absl::Hours(24 * 398));
  EXPECT_THAT(metrics.Text(),
              HasSubstr(absl::StrCat(
                  "smz_tls_certificate_expiry_timestamp_seconds{certificate="
                  "\"grpc\"} ",
                  absl::ToUnixSeconds(*not_after))));
  EXPECT_THAT(metrics.Text(), HasSubstr("certificate=\"grpc_ca\""));
  EXPECT_THAT(metrics.Text(), HasSubstr("smz_ready 1"));
  EXPECT_FALSE(CertificateNotAfter(File("registry.key")).ok());
  EXPECT_EQ(Check(TlsOptions()).error_code(), grpc::StatusCode::UNAVAILABLE);
  runtime.Shutdown();

  // A server needs its own certificate.
  ServerOptions no_identity;
  no_identity.tls.ca_file = File("ca.crt");
  ServiceRuntime refused(
      no_identity, [] { return true; }, nullptr);
  absl::Status s = refused.Start({});
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(s.message(), HasSubstr("tls_cert"));
}

// The flags and SMZ_TLS_* variables (a flag wins over its variable).
TEST_F(TlsTest, TheFlagsAndVariablesAreReadAndCheckedAtStart) {
  setenv("SMZ_TLS_CA", File("ca.crt").c_str(), 1);
  setenv("SMZ_TLS_CLIENT_AUTH", "optional", 1);
  absl::StatusOr<TlsOptions> tls = LoadTlsOptions();
  ASSERT_TRUE(tls.ok()) << tls.status();
  EXPECT_EQ(tls->ca_file, File("ca.crt"));
  EXPECT_FALSE(tls->require_client_cert);
  absl::SetFlag(&FLAGS_tls_client_auth, "require");
  tls = LoadTlsOptions();
  ASSERT_TRUE(tls.ok()) << tls.status();
  EXPECT_TRUE(tls->require_client_cert);
  absl::SetFlag(&FLAGS_tls_client_auth, "sometimes");
  EXPECT_THAT(LoadTlsOptions().status().message(),
              HasSubstr("tls_client_auth: 'sometimes'"));
  absl::SetFlag(&FLAGS_tls_client_auth, "");
  EXPECT_EQ(tls->trusted_edges, std::vector<std::string>{"gateway"});
  setenv("SMZ_TRUSTED_EDGES", "gateway-a, gateway-b.zone.example", 1);
  tls = LoadTlsOptions();
  ASSERT_TRUE(tls.ok()) << tls.status();
  EXPECT_EQ(tls->trusted_edges,
            (std::vector<std::string>{"gateway-a", "gateway-b.zone.example"}));
  setenv("SMZ_TRUSTED_EDGES", "gateway,*", 1);
  EXPECT_THAT(LoadTlsOptions().status().message(),
              HasSubstr("trusted_edges: '*'"));
  setenv("SMZ_TRUSTED_EDGES", "gateway,localhost", 1);
  EXPECT_THAT(LoadTlsOptions().status().message(),
              HasSubstr("on every local certificate"));
  setenv("SMZ_TRUSTED_EDGES", " , ", 1);
  EXPECT_THAT(LoadTlsOptions().status().message(), HasSubstr("no name"));
  unsetenv("SMZ_TRUSTED_EDGES");
  unsetenv("SMZ_TLS_CA");
  unsetenv("SMZ_TLS_CLIENT_AUTH");
  tls = LoadTlsOptions();
  ASSERT_TRUE(tls.ok()) << tls.status();
  EXPECT_FALSE(tls->enabled());
}

TEST_F(TlsTest, BadOptionsAreRefusedAtStartNamingTheFlag) {
  TlsOptions half;
  half.cert_file = File("registry.crt");
  EXPECT_THAT(CheckTlsOptions(half).message(), HasSubstr("tls_key"));
  TlsOptions no_ca = ServerTls(true);
  no_ca.ca_file.clear();
  EXPECT_THAT(CheckTlsOptions(no_ca).message(), HasSubstr("tls_client_auth"));
  // Never the system's roots instead of our CA.
  no_ca.require_client_cert = false;
  EXPECT_THAT(CheckTlsOptions(no_ca).message(), HasSubstr("system's roots"));
  TlsOptions missing = ServerTls(false);
  missing.key_file = File("nowhere.key");
  EXPECT_THAT(CheckTlsOptions(missing).message(), HasSubstr("cannot read"));
  TlsOptions swapped = ServerTls(false);
  swapped.key_file = File("registry.crt");  // a certificate, not a key
  EXPECT_THAT(CheckTlsOptions(swapped).message(),
              HasSubstr("holds no PEM PRIVATE KEY"));
  TlsOptions plaintext_but_require;
  plaintext_but_require.require_client_cert = true;
  EXPECT_EQ(CheckTlsOptions(plaintext_but_require).code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(CheckTlsOptions(TlsOptions()).ok());
}

}  // namespace
}  // namespace smz
