// The gateway's HTTP edge against what hostile or broken clients send: bad
// Authorization values, oversized and compressed bodies, slow clients,
// query values of every type, other origins, and the transcoding of paths,
// queries and bodies. Behind it a real gRPC server on a loopback port stands
// in for the gateway and registry services, recording what the edge
// forwarded; the clients are raw sockets, so the bytes are exactly the
// ones under test.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "common/server/rpc_runner.h"
#include "gmock/gmock.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/security/credentials.h"
#include "grpcpp/security/server_credentials.h"
#include "grpcpp/server_builder.h"
#include "gtest/gtest.h"
#include "httplib.h"
#include "services/gateway/http_json.h"
#include "smz/gateway/v1/gateway.grpc.pb.h"
#include "smz/registry/v1/registry.grpc.pb.h"
#include "tests/harness/raw_http.h"
#include "tests/harness/test_certificates.h"

namespace smz::gateway {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

// Answers like the gateway, from canned data, and remembers what it got.
class FakeGateway final : public v1::GatewayService::Service {
 public:
  grpc::Status GetKpiTable(grpc::ServerContext* context,
                           const v1::GetKpiTableRequest* request,
                           v1::KpiTable* response) override {
    Remember(context);
    if (request->programme_code() == "nope") {
      return grpc::Status(grpc::StatusCode::NOT_FOUND, "no programme 'nope'");
    }
    response->set_programme_code(request->programme_code());
    response->set_as_of(request->as_of());
    return grpc::Status::OK;
  }
  grpc::Status GetZoneOverview(grpc::ServerContext* context,
                               const v1::GetZoneOverviewRequest* request,
                               v1::ZoneOverview* response) override {
    Remember(context);
    if (Authorization().empty()) {
      return grpc::Status(grpc::StatusCode::UNAUTHENTICATED, "no token");
    }
    response->set_year(request->year());
    return grpc::Status::OK;
  }
  grpc::Status GetCouncilReport(grpc::ServerContext* context,
                                const v1::GetCouncilReportRequest* request,
                                v1::Document* response) override {
    Remember(context);
    response->set_content("<html><style>p{}</style><p>report</p></html>");
    response->set_content_type("text/html; charset=utf-8");
    response->set_filename("council\"\r\nX-Evil: 1.html");
    return grpc::Status::OK;
  }
  // Waits until cancelled: a call in flight when the edge shuts down.
  grpc::Status GetActivityLog(grpc::ServerContext* context,
                              const v1::GetActivityLogRequest*,
                              v1::ActivityLog*) override {
    started_.store(true);
    while (!context->IsCancelled()) absl::SleepFor(absl::Milliseconds(10));
    return grpc::Status(grpc::StatusCode::CANCELLED, "cancelled");
  }

  std::string Authorization() {
    absl::MutexLock lock(&mu_);
    return authorization_;
  }
  int calls() {
    absl::MutexLock lock(&mu_);
    return calls_;
  }
  std::string ClientAddress() {
    absl::MutexLock lock(&mu_);
    return client_address_;
  }
  bool started() const { return started_.load(); }

 private:
  void Remember(grpc::ServerContext* context) {
    absl::MutexLock lock(&mu_);
    ++calls_;
    auto it = context->client_metadata().find("authorization");
    authorization_ = it == context->client_metadata().end()
                         ? ""
                         : std::string(it->second.data(), it->second.size());
    client_address_ = ClientAddressOf(*context, {"gateway"});
  }
  absl::Mutex mu_;
  std::string authorization_ ABSL_GUARDED_BY(mu_);
  std::string client_address_ ABSL_GUARDED_BY(mu_);
  int calls_ ABSL_GUARDED_BY(mu_) = 0;
  std::atomic<bool> started_{false};
};

// The registry's methods with a body, echoing what they were given.
class FakeRegistry final : public registry::v1::RegistryService::Service {
 public:
  grpc::Status CreatePartner(grpc::ServerContext*,
                             const registry::v1::CreatePartnerRequest* request,
                             registry::v1::Partner* response) override {
    *response = request->partner();
    response->set_id(1);
    return grpc::Status::OK;
  }
  grpc::Status UpdatePartner(grpc::ServerContext*,
                             const registry::v1::UpdatePartnerRequest* request,
                             registry::v1::Partner* response) override {
    *response = request->partner();
    response->set_etag(request->update_mask().DebugString());
    return grpc::Status::OK;
  }
};

std::string Get(int port, const std::string& target,
                const std::string& headers = "") {
  return testing::HttpRoundtrip(port, absl::StrCat("GET ", target,
                                                   " HTTP/1.1\r\nHost: x\r\n"
                                                   "Connection: close\r\n",
                                                   headers, "\r\n"));
}

class HttpEdgeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    grpc::ServerBuilder builder;
    builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(),
                             &grpc_port_);
    builder.RegisterService(&fake_);
    builder.RegisterService(&fake_registry_);
    server_ = builder.BuildAndStart();
    ASSERT_NE(server_, nullptr);
    auto channel = grpc::CreateChannel(absl::StrCat("127.0.0.1:", grpc_port_),
                                       grpc::InsecureChannelCredentials());
    front_ = std::make_unique<HttpJsonFront>(
        HttpServiceChannels{{"smz.gateway.v1.GatewayService", channel},
                            {"smz.registry.v1.RegistryService", channel}},
        Options());
    ASSERT_TRUE(front_->Start("127.0.0.1:0").ok());
    port_ = front_->port();
  }
  void TearDown() override {
    front_->Shutdown();
    server_->Shutdown();
  }
  virtual HttpFrontOptions Options() { return HttpFrontOptions(); }

  // The edge still answers an ordinary request.
  void ExpectStillServing() {
    const std::string ok = Get(port_, "/v1/council/kpiTables/smz-2018",
                               "Authorization: Bearer smz_good\r\n");
    EXPECT_EQ(testing::HttpStatusOf(ok), 200) << ok.substr(0, 300);
  }

  FakeGateway fake_;
  FakeRegistry fake_registry_;
  int grpc_port_ = 0;
  std::unique_ptr<grpc::Server> server_;
  std::unique_ptr<HttpJsonFront> front_;
  int port_ = 0;
};

TEST_F(HttpEdgeTest, ForwardsAWellFormedBearerToken) {
  const std::string ok =
      Get(port_, "/v1/council/kpiTables/smz-2018?as_of=2020-12-31",
          "Authorization: Bearer smz_abc-DEF_1\r\n");
  ASSERT_EQ(testing::HttpStatusOf(ok), 200) << ok;
  EXPECT_THAT(ok, HasSubstr("\"programme_code\":\"smz-2018\""));
  EXPECT_EQ(fake_.Authorization(), "Bearer smz_abc-DEF_1");
  // And who the client is, for the service's log and its per-address limits.
  EXPECT_EQ(fake_.ClientAddress(), "127.0.0.1");
}

// Every shape of a bad Authorization value is 401 at the edge, never
// forwarded, and the process goes on serving. (A 0xFF byte used to reach
// gRPC's metadata API, which aborts the process.)
TEST_F(HttpEdgeTest, BadAuthorizationValuesAre401AndNeverForwarded) {
  const std::vector<std::string> bad = {
      "Bearer smz_\xFF\xFE",
      "Bearer smz_\x01\x02",
      "Bearer smz_\x7F",
      "Bearer smz_\xED\x95\x9C\xEA\xB8\x80",  // UTF-8 Korean
      "Bearer smz a b",
      "Bearer",
      "Basic dXNlcjpwYXNz",
      "Bearer =abc",
      absl::StrCat("Bearer ", std::string(5000, 'a')),
      "bearer\tsmz_tab",
  };
  for (const std::string& value : bad) {
    const int before = fake_.calls();
    const std::string response =
        Get(port_, "/v1/council/zoneOverviews/2019",
            absl::StrCat("Authorization: ", value, "\r\n"));
    EXPECT_EQ(testing::HttpStatusOf(response), 401)
        << value.substr(0, 40) << "\n"
        << response.substr(0, 300);
    EXPECT_THAT(response, HasSubstr("WWW-Authenticate: Bearer"));
    EXPECT_EQ(fake_.calls(), before) << "forwarded: " << value.substr(0, 40);
    ExpectStillServing();
  }
  // A header line without a value.
  const std::string empty =
      Get(port_, "/v1/council/zoneOverviews/2019", "Authorization:\r\n");
  EXPECT_THAT(testing::HttpStatusOf(empty), ::testing::AnyOf(400, 401))
      << empty;
  // A NUL inside the value: libmicrohttpd ends the value there, so at most
  // the well-formed part before it can be forwarded, never the NUL.
  const std::string nul =
      Get(port_, "/v1/council/zoneOverviews/2019",
          std::string("Authorization: Bearer smz_\0nul\r\n", 32));
  EXPECT_NE(testing::HttpStatusOf(nul), 0) << nul;
  EXPECT_EQ(fake_.Authorization().find('\0'), std::string::npos);
  ExpectStillServing();
}

// The session cookie stands in for the Authorization header when there is
// none; a malformed one, or one that is no session, is never forwarded.
TEST_F(HttpEdgeTest, SessionCookiesAreForwardedOnlyWhenWellFormed) {
  const std::string session = "smzs_abcDEF-123_x";
  std::string ok = Get(port_, "/v1/council/zoneOverviews/2019",
                       absl::StrCat("Cookie: other=1; smz_session=", session,
                                    "; smz_csrf=x\r\n"));
  ASSERT_EQ(testing::HttpStatusOf(ok), 200) << ok;
  EXPECT_EQ(fake_.Authorization(), absl::StrCat("Bearer ", session));
  // The header wins over the cookie.
  ok = Get(port_, "/v1/council/zoneOverviews/2019",
           absl::StrCat("Authorization: Bearer smz_token\r\nCookie: "
                        "smz_session=",
                        session, "\r\n"));
  ASSERT_EQ(testing::HttpStatusOf(ok), 200) << ok;
  EXPECT_EQ(fake_.Authorization(), "Bearer smz_token");
  for (const std::string& cookie :
       {std::string("smz_session=smz_an_api_token"),
        std::string("smz_session=smzs_\xFF\xFE"),
        std::string("smz_session=smzs_a b"),
        absl::StrCat("smz_session=smzs_", std::string(5000, 'a')),
        std::string("smz_session=")}) {
    const int before = fake_.calls();
    const std::string response = Get(port_, "/v1/council/zoneOverviews/2019",
                                     absl::StrCat("Cookie: ", cookie, "\r\n"));
    // Forwarded without a credential, or refused for its size; never with
    // the cookie's value.
    EXPECT_NE(testing::HttpStatusOf(response), 0) << cookie.substr(0, 40);
    if (fake_.calls() > before) {
      EXPECT_EQ(fake_.Authorization(), "") << cookie.substr(0, 40);
    }
    ExpectStillServing();
  }
  // RFC 6265 allows a value in double quotes: it is the same value.
  ok = Get(port_, "/v1/council/zoneOverviews/2019",
           "Cookie: smz_session=\"smzs_quoted\"\r\n");
  ASSERT_EQ(testing::HttpStatusOf(ok), 200) << ok;
  EXPECT_EQ(fake_.Authorization(), "Bearer smzs_quoted");
}

// From anyone but a trusted proxy, X-Forwarded-For is the client's own
// word: ignored.
TEST_F(HttpEdgeTest, ForwardedForIsIgnoredWithoutATrustedProxy) {
  const std::string ok =
      Get(port_, "/v1/council/zoneOverviews/2019",
          "Authorization: Bearer smz_a\r\nX-Forwarded-For: 203.0.113.9\r\n");
  ASSERT_EQ(testing::HttpStatusOf(ok), 200) << ok;
  EXPECT_EQ(fake_.ClientAddress(), "127.0.0.1");
}

// The edge behind a TLS proxy at 127.0.0.1.
class HttpEdgeBehindProxyTest : public HttpEdgeTest {
  HttpFrontOptions Options() override {
    HttpFrontOptions options;
    options.trusted_proxies = {"127.0.0.1"};
    options.secure_cookies = true;
    return options;
  }
};

TEST_F(HttpEdgeBehindProxyTest, TheClientIsTheRightmostUntrustedHop) {
  for (const auto& [header, client] :
       std::vector<std::pair<std::string, std::string>>{
           {"203.0.113.9", "203.0.113.9"},
           // What the client wrote itself is left of what the proxy added.
           {"1.1.1.1, 203.0.113.9", "203.0.113.9"},
           {"203.0.113.9, 127.0.0.1", "203.0.113.9"},
           {"2001:db8::7", "2001:db8::7"},
           // Nothing usable: the proxy itself.
           {"not-an-address", "127.0.0.1"},
           {"", "127.0.0.1"}}) {
    const std::string ok = Get(
        port_, "/v1/council/zoneOverviews/2019",
        absl::StrCat("Authorization: Bearer smz_a\r\nX-Forwarded-For: ", header,
                     "\r\n"));
    ASSERT_EQ(testing::HttpStatusOf(ok), 200) << ok;
    EXPECT_EQ(fake_.ClientAddress(), client) << header;
  }
}

// Over TLS only __Host- cookies count, and only one of them.
TEST_F(HttpEdgeBehindProxyTest, OnlyOneHostPrefixedSessionCookieCounts) {
  std::string ok = Get(port_, "/v1/council/zoneOverviews/2019",
                       "Cookie: __Host-smz_session=smzs_mine\r\n");
  ASSERT_EQ(testing::HttpStatusOf(ok), 200) << ok;
  EXPECT_EQ(fake_.Authorization(), "Bearer smzs_mine");
  // A plain name (as a sibling subdomain could plant) is not read...
  ok = Get(port_, "/v1/council/zoneOverviews/2019",
           "Cookie: smz_session=smzs_planted\r\n");
  ASSERT_NE(testing::HttpStatusOf(ok), 0) << ok;
  EXPECT_EQ(fake_.Authorization(), "");
  // ...nor a session sent twice.
  ok = Get(port_, "/v1/council/zoneOverviews/2019",
           "Cookie: __Host-smz_session=smzs_mine; "
           "__Host-smz_session=smzs_planted\r\n");
  ASSERT_NE(testing::HttpStatusOf(ok), 0) << ok;
  EXPECT_EQ(fake_.Authorization(), "");
}

TEST_F(HttpEdgeTest, OversizedBodyIs413BeforeItIsRead) {
  // Only the headers are sent: the refusal must not wait for the body.
  const absl::Time start = absl::Now();
  const std::string response = testing::HttpRoundtrip(
      port_,
      "POST /v1/partners HTTP/1.1\r\nHost: x\r\n"
      "Content-Type: application/json\r\nContent-Length: 200000000\r\n\r\n",
      absl::Seconds(3));
  EXPECT_EQ(testing::HttpStatusOf(response), 413) << response;
  EXPECT_LT(absl::Now() - start, absl::Seconds(2));
  EXPECT_THAT(response, HasSubstr("Connection: close"));

  // Chunked, with no length announced: refused before any of it is read
  // (one framing only, see AmbiguousFramingIsRefused).
  const std::string chunked = testing::HttpRoundtrip(
      port_,
      "POST /v1/partners HTTP/1.1\r\nHost: x\r\n"
      "Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
      "10000\r\n",
      absl::Seconds(3));
  EXPECT_EQ(testing::HttpStatusOf(chunked), 400) << chunked.substr(0, 300);
  ExpectStillServing();
}

TEST_F(HttpEdgeTest, CompressedBodiesAreRefused) {
  // A gzip member that inflates to far more than it weighs: never inflated.
  std::string bomb = "\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\x03";
  bomb.append(64, '\0');
  for (const char* encoding : {"gzip", "deflate", "br", "x-unknown"}) {
    const std::string response = testing::HttpRoundtrip(
        port_, absl::StrCat("POST /v1/partners HTTP/1.1\r\nHost: x\r\n"
                            "Connection: close\r\n"
                            "Content-Type: application/json\r\n"
                            "Content-Encoding: ",
                            encoding, "\r\nContent-Length: ", bomb.size(),
                            "\r\n\r\n", bomb));
    EXPECT_EQ(testing::HttpStatusOf(response), 415)
        << encoding << response.substr(0, 300);
  }
  const std::string form = testing::HttpRoundtrip(
      port_,
      "POST /v1/partners HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
      "Content-Type: application/x-www-form-urlencoded\r\n"
      "Content-Length: 9\r\n\r\nyear=2019");
  EXPECT_EQ(testing::HttpStatusOf(form), 415) << form.substr(0, 300);
  ExpectStillServing();
}

TEST_F(HttpEdgeTest, HugeHeadersAndUrlsAreRefused) {
  const std::string auth = "Authorization: Bearer smz_good\r\n";
  // Ordinary requests with a few kilobytes of headers pass.
  const std::string ordinary =
      Get(port_, "/v1/council/kpiTables/a",
          absl::StrCat(auth, "X-Padding: ", std::string(4000, 'p'), "\r\n"));
  EXPECT_EQ(testing::HttpStatusOf(ordinary), 200) << ordinary.substr(0, 200);
  // One 20 KiB header, a 20 KiB URL, 2000 headers: refused by the library
  // with 431 or 414, before any handler runs.
  const int calls = fake_.calls();
  for (const std::string& response :
       {Get(port_, "/v1/council/kpiTables/a",
            absl::StrCat(auth, "X-Big: ", std::string(20 << 10, 'b'), "\r\n")),
        Get(port_,
            absl::StrCat("/v1/council/kpiTables/", std::string(20 << 10, 'a')),
            auth),
        Get(port_, "/v1/council/kpiTables/a", [&] {
          std::string h = auth;
          for (int i = 0; i < 2000; ++i)
            absl::StrAppend(&h, "X-H", i, ": v\r\n");
          return h;
        }())}) {
    EXPECT_THAT(testing::HttpStatusOf(response), ::testing::AnyOf(414, 431))
        << response.substr(0, 200);
  }
  EXPECT_EQ(fake_.calls(), calls);
  ExpectStillServing();
}

// One body, one framing: a proxy in front and the edge never disagree on
// where a request ends, so nothing can be smuggled after a body.
TEST_F(HttpEdgeTest, AmbiguousFramingIsRefused) {
  const std::string auth = "Authorization: Bearer smz_good\r\n";
  const std::string smuggled = testing::HttpRoundtrip(
      port_,
      absl::StrCat("POST /v1/partners HTTP/1.1\r\nHost: x\r\n", auth,
                   "Content-Type: application/json\r\nContent-Length: 4\r\n"
                   "Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n"
                   "GET /v1/council/kpiTables/smuggled HTTP/1.1\r\n"
                   "Host: x\r\n",
                   auth, "\r\n"),
      absl::Seconds(3));
  EXPECT_EQ(testing::HttpStatusOf(smuggled), 400) << smuggled;
  EXPECT_THAT(smuggled, Not(HasSubstr("smuggled")));
  const std::string twice = testing::HttpRoundtrip(
      port_,
      absl::StrCat("POST /v1/partners HTTP/1.1\r\nHost: x\r\n", auth,
                   "Content-Type: application/json\r\nContent-Length: 13\r\n"
                   "Content-Length: 0\r\n\r\n{\"year\":2019}"),
      absl::Seconds(3));
  EXPECT_EQ(testing::HttpStatusOf(twice), 400) << twice;
  EXPECT_THAT(twice, HasSubstr("Connection: close"));
  ExpectStillServing();
}

// While 64 clients hold sockets and send their headers a byte at a time,
// the dashboard and the API answer at once.
TEST_F(HttpEdgeTest, SlowClientsDoNotStarveOthers) {
  testing::SlowClients slow(port_, 64, absl::Milliseconds(200));
  ASSERT_EQ(slow.connected(), 64);
  absl::SleepFor(absl::Milliseconds(300));
  for (int round = 0; round < 5; ++round) {
    const absl::Time start = absl::Now();
    const std::string page = Get(port_, "/");
    EXPECT_EQ(testing::HttpStatusOf(page), 200);
    const std::string api = Get(port_, "/v1/council/kpiTables/a",
                                "Authorization: Bearer smz_good\r\n");
    EXPECT_EQ(testing::HttpStatusOf(api), 200);
    EXPECT_LT(absl::Now() - start, absl::Seconds(1));
  }
}

TEST_F(HttpEdgeTest, PathAndQueryValuesAreTypedByTheRequestMessage) {
  const std::string auth = "Authorization: Bearer smz_good\r\n";
  // A number-looking value in a string field stays a string.
  const std::string numeric =
      Get(port_, "/v1/council/kpiTables/2018?as_of=2020", auth);
  ASSERT_EQ(testing::HttpStatusOf(numeric), 200) << numeric;
  EXPECT_THAT(numeric, HasSubstr("\"programme_code\":\"2018\""));
  EXPECT_THAT(numeric, HasSubstr("\"as_of\":\"2020\""));
  // JSON names, percent-encoding, booleans-looking strings.
  const std::string named =
      Get(port_, "/v1/council/kpiTables/%EC%98%81%EB%93%B1?asOf=true", auth);
  ASSERT_EQ(testing::HttpStatusOf(named), 200) << named;
  EXPECT_THAT(named, HasSubstr("\"programme_code\":\"영등\""));
  // Every bad value is named, in the path and in the query, as a
  // google.rpc.Status with a BadRequest.
  const std::string bad =
      Get(port_, "/v1/council/zoneOverviews/twenty?yaer=1&as_of=2019&x.y.z=1",
          auth);
  EXPECT_EQ(testing::HttpStatusOf(bad), 400) << bad;
  EXPECT_THAT(bad, HasSubstr("{\"code\":3,\"message\":"));
  EXPECT_THAT(bad, HasSubstr("\"@type\":\"type.googleapis.com/"
                             "google.rpc.BadRequest\""));
  for (const char* field :
       {"\"field\":\"year\"", "\"field\":\"yaer\"", "\"field\":\"x.y.z\""}) {
    EXPECT_THAT(bad, HasSubstr(field));
  }
  // The path's value cannot be overridden by the query.
  const std::string twice =
      Get(port_, "/v1/council/zoneOverviews/2019?year=2020", auth);
  EXPECT_EQ(testing::HttpStatusOf(twice), 400) << twice;
  const std::string overflow =
      Get(port_, "/v1/council/zoneOverviews/99999999999999999999", auth);
  EXPECT_EQ(testing::HttpStatusOf(overflow), 400) << overflow;
  const std::string invalid_utf8 =
      Get(port_, "/v1/council/kpiTables/%FF%FE", auth);
  EXPECT_EQ(testing::HttpStatusOf(invalid_utf8), 400) << invalid_utf8;
  ExpectStillServing();
}

TEST_F(HttpEdgeTest, EveryResponseCarriesTheSecurityHeaders) {
  const std::string auth = "Authorization: Bearer smz_good\r\n";
  for (const std::string& target :
       {std::string("/"), std::string("/static/dashboard.js"),
        std::string("/static/dashboard.css"), std::string("/hospital"),
        std::string("/static/api.js"), std::string("/static/reference.js"),
        std::string("/v1/council/kpiTables/a"),
        std::string("/v1/council/kpiTables/nope"),
        std::string("/v1/NoSuchMethod"), std::string("/no/such/page"),
        std::string("/report?year=2019")}) {
    const std::string response = Get(
        port_, target, absl::StrCat(auth, "Origin: https://evil.example\r\n"));
    ASSERT_NE(testing::HttpStatusOf(response), 0) << target;
    EXPECT_THAT(response, HasSubstr("Content-Security-Policy: "));
    EXPECT_THAT(response, HasSubstr("frame-ancestors 'none'")) << target;
    EXPECT_THAT(response, HasSubstr("X-Content-Type-Options: nosniff"));
    EXPECT_THAT(response, HasSubstr("Referrer-Policy: no-referrer"));
    EXPECT_THAT(response, HasSubstr("X-Frame-Options: DENY"));
    EXPECT_THAT(response, Not(HasSubstr("Access-Control-Allow")));
  }
  const std::string page = Get(port_, "/");
  EXPECT_THAT(page, HasSubstr("script-src 'self';"));
  EXPECT_THAT(page, Not(HasSubstr("unsafe-inline")));
  EXPECT_THAT(page, Not(HasSubstr("<script>"))) << "no inline script";
  EXPECT_THAT(page, Not(HasSubstr("<style>")));
  // The report's file name cannot smuggle a header.
  const std::string report = Get(port_, "/report?year=2019", auth);
  EXPECT_EQ(testing::HttpStatusOf(report), 200) << report;
  EXPECT_THAT(report, Not(HasSubstr("\r\nX-Evil")));
  EXPECT_THAT(report, HasSubstr("default-src 'none'; style-src"));
  // No CORS preflight, no other methods.
  const std::string preflight =
      testing::HttpRoundtrip(port_,
                             "OPTIONS /v1/council/kpiTables/a "
                             "HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
                             "Origin: https://evil.example\r\n"
                             "Access-Control-Request-Method: POST\r\n\r\n");
  EXPECT_EQ(testing::HttpStatusOf(preflight), 405) << preflight;
  EXPECT_THAT(preflight, Not(HasSubstr("Access-Control-Allow")));
  const std::string del = testing::HttpRoundtrip(
      port_, "DELETE / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  EXPECT_EQ(testing::HttpStatusOf(del), 405);
}

std::string Send(int port, absl::string_view method, absl::string_view target,
                 absl::string_view body) {
  return testing::HttpRoundtrip(
      port, absl::StrCat(method, " ", target,
                         " HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
                         "Authorization: Bearer smz_good\r\n"
                         "Content-Type: application/json\r\n"
                         "Content-Length: ",
                         body.size(), "\r\n\r\n", body));
}

// Each method under its annotation: the path, query and body become the
// request as the annotation says, and nothing else reaches the service.
TEST_F(HttpEdgeTest, RequestsAreTranscodedByTheAnnotations) {
  const std::string created =
      Send(port_, "POST", "/v1/partners",
           R"({"partner":{"address":"02-1234"},"request_id":"r1"})");
  ASSERT_EQ(testing::HttpStatusOf(created), 200) << created;
  EXPECT_THAT(created, HasSubstr("\"address\":\"02-1234\""));
  // PATCH: the body is the partner, the path its id, the mask in the query.
  const std::string patched =
      Send(port_, "PATCH", "/v1/partners/42?update_mask=address",
           R"({"address":"1"})");
  ASSERT_EQ(testing::HttpStatusOf(patched), 200) << patched;
  EXPECT_THAT(patched, HasSubstr("\"id\":\"42\""));
  EXPECT_THAT(patched, HasSubstr("paths: \\\"address\\\""));
  // The body may not name another partner than the path.
  const std::string other =
      Send(port_, "PATCH", "/v1/partners/42", R"({"id":"43"})");
  EXPECT_EQ(testing::HttpStatusOf(other), 400) << other;
  EXPECT_THAT(other, HasSubstr("\"field\":\"partner.id\""));
  // A method the path does not have: 405 with what it has.
  const std::string put = Send(port_, "PUT", "/v1/partners/42", "{}");
  EXPECT_EQ(testing::HttpStatusOf(put), 405) << put;
  EXPECT_THAT(put, HasSubstr("Allow: GET, HEAD, PATCH"));
  // A body on a GET is refused, not ignored.
  const std::string get_body =
      Send(port_, "GET", "/v1/council/zoneOverviews/2019", R"({"year":2020})");
  EXPECT_EQ(testing::HttpStatusOf(get_body), 400) << get_body;
  // Services not served here have no routes.
  EXPECT_EQ(testing::HttpStatusOf(Get(port_, "/v1/aggregates")), 404);
  // The API's description.
  const std::string openapi = Get(port_, "/openapi.json");
  ASSERT_EQ(testing::HttpStatusOf(openapi), 200) << openapi.substr(0, 300);
  EXPECT_THAT(openapi, HasSubstr("\"openapi\":\"3.0.3\""));
  EXPECT_THAT(openapi, HasSubstr("\"/v1/partners/{id}\":{\"get\""));
  EXPECT_THAT(openapi, HasSubstr("\"the request's partner.id\""));
}

// The path is split before it is decoded, one segment at a time: an
// escaped "/" stays in its segment, "%25" is a "%", "%00" is refused; query
// values are decoded once.
TEST_F(HttpEdgeTest, EscapesAreDecodedOnceAndPerSegment) {
  const std::string auth = "Authorization: Bearer smz_good\r\n";
  const std::string percent =
      Get(port_, "/v1/council/kpiTables/a%2541?as_of=x%2By+z", auth);
  ASSERT_EQ(testing::HttpStatusOf(percent), 200) << percent;
  EXPECT_THAT(percent, HasSubstr("\"programme_code\":\"a%41\""));
  EXPECT_THAT(percent, HasSubstr("\"as_of\":\"x+y z\""));
  const std::string slash = Get(port_, "/v1/council/kpiTables/a%2Fb", auth);
  ASSERT_EQ(testing::HttpStatusOf(slash), 200) << slash;
  EXPECT_THAT(slash, HasSubstr("\"programme_code\":\"a/b\""));
  // An escaped "/" is not a path to another method: it stays in the year.
  const int calls = fake_.calls();
  const std::string year =
      Get(port_, "/v1/council/zoneOverviews/2019%2Fchanges", auth);
  EXPECT_EQ(testing::HttpStatusOf(year), 400) << year;
  EXPECT_THAT(year, HasSubstr("\"field\":\"year\""));
  for (const char* bad :
       {"/v1/council/kpiTables/a%00b", "/v1/council/kpiTables/a%zz",
        "/v1/council/kpiTables/a?as_of=%00"}) {
    const std::string refused = Get(port_, bad, auth);
    EXPECT_THAT(testing::HttpStatusOf(refused), ::testing::AnyOf(400, 404))
        << bad << refused.substr(0, 300);
  }
  EXPECT_EQ(fake_.calls(), calls);
}

// A body is JSON, said so, with a length.
TEST_F(HttpEdgeTest, BodiesMustBeDeclaredJsonWithALength) {
  for (const char* type :
       {"", "Content-Type: text/plain\r\n",
        "Content-Type: application/jsonx\r\n",
        "Content-Type: multipart/form-data; boundary=x\r\n"}) {
    const std::string response = testing::HttpRoundtrip(
        port_, absl::StrCat("POST /v1/partners HTTP/1.1\r\nHost: x\r\n"
                            "Connection: close\r\n"
                            "Authorization: Bearer smz_good\r\n",
                            type, "Content-Length: 2\r\n\r\n{}"));
    EXPECT_EQ(testing::HttpStatusOf(response), 415) << type;
  }
  const std::string charset = testing::HttpRoundtrip(
      port_,
      "POST /v1/partners HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
      "Authorization: Bearer smz_good\r\n"
      "Content-Type: Application/JSON; charset=utf-8\r\n"
      "Content-Length: 2\r\n\r\n{}");
  EXPECT_EQ(testing::HttpStatusOf(charset), 200) << charset;
  // Without a credential a body is refused before it is read.
  const absl::Time start = absl::Now();
  const std::string anonymous = testing::HttpRoundtrip(
      port_,
      "POST /v1/partners HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
      "Content-Type: application/json\r\nContent-Length: 1000000\r\n\r\n",
      absl::Seconds(3));
  EXPECT_EQ(testing::HttpStatusOf(anonymous), 401) << anonymous;
  EXPECT_LT(absl::Now() - start, absl::Seconds(2));
  const std::string unframed = testing::HttpRoundtrip(
      port_,
      "PATCH /v1/partners/7 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
      "Authorization: Bearer smz_good\r\n"
      "Content-Type: application/json\r\n\r\n",
      absl::Seconds(3));
  EXPECT_EQ(testing::HttpStatusOf(unframed), 411) << unframed;
  // A body field that is no JSON of its type.
  const std::string garbage =
      Send(port_, "PATCH", "/v1/partners/7", R"({"nmae":{}})");
  EXPECT_EQ(testing::HttpStatusOf(garbage), 400) << garbage;
  EXPECT_THAT(garbage, HasSubstr("\"field\":\"body\""));
  // HEAD answers like GET, without the body.
  const std::string head = testing::HttpRoundtrip(
      port_,
      "HEAD /v1/council/kpiTables/a HTTP/1.1\r\nHost: x\r\n"
      "Connection: close\r\nAuthorization: Bearer smz_good\r\n\r\n");
  EXPECT_EQ(testing::HttpStatusOf(head), 200) << head;
  EXPECT_THAT(head, Not(HasSubstr("programme_code")));
}

TEST_F(HttpEdgeTest, ShutdownEndsCallsInFlight) {
  std::string response;
  std::thread waiting([&] {
    response = Get(port_, "/v1/council/activityLogs/2019",
                   "Authorization: Bearer smz_good\r\n");
  });
  while (!fake_.started()) absl::SleepFor(absl::Milliseconds(10));
  const absl::Time start = absl::Now();
  front_->Shutdown();
  EXPECT_LT(absl::Now() - start, absl::Seconds(5));
  waiting.join();
  EXPECT_NE(testing::HttpStatusOf(response), 200) << response;
}

// The edge serving HTTPS itself, with a certificate from the project's own
// script (deploy/tls/make_certs.sh).
class HttpsEdgeTest : public HttpEdgeTest {
 protected:
  static void SetUpTestSuite() {
    unsetenv("SMZ_TLS_SANS");
    unsetenv("SMZ_TLS_DAYS");
    dir_ = new std::string(absl::StrCat(::testing::TempDir(), "/smz-https-",
                                        absl::ToUnixNanos(absl::Now())));
    ASSERT_TRUE(MakeCerts("gateway registry"));
  }
  static void TearDownTestSuite() {
    std::system(absl::StrCat("rm -rf ", *dir_).c_str());
    delete dir_;
  }
  static bool MakeCerts(const std::string& names) {
    return testing::MakeTestCertificates(*dir_, names);
  }
  static std::string File(const std::string& name) {
    return absl::StrCat(*dir_, "/", name);
  }
  HttpFrontOptions Options() override {
    HttpFrontOptions options;
    options.tls_cert_file = File("gateway.crt");
    options.tls_key_file = File("gateway.key");
    options.tls_refresh = absl::ZeroDuration();  // every handshake looks
    options.on_tls_certificate = [this](absl::Time not_after) {
      absl::MutexLock lock(&mu_);
      not_after_ = not_after;
      ++pairs_loaded_;
    };
    return options;
  }
  // A client that trusts only the test's CA and checks the server's name.
  std::unique_ptr<httplib::SSLClient> Client() {
    auto client = std::make_unique<httplib::SSLClient>("127.0.0.1", port_);
    client->set_ca_cert_path(File("ca.crt").c_str());
    client->enable_server_certificate_verification(true);
    client->set_connection_timeout(5);
    return client;
  }
  // The SHA-256 fingerprint of the certificate the edge presents now, or of
  // a certificate file, as OpenSSL's command line prints it.
  std::string Presented() {
    return testing::CommandOutput(absl::StrCat(
        "openssl s_client -connect 127.0.0.1:", port_, " -CAfile ",
        File("ca.crt"),
        " -verify_return_error </dev/null 2>/dev/null | openssl x509 -noout "
        "-fingerprint -sha256 2>/dev/null"));
  }
  static std::string FingerprintOf(const std::string& file) {
    return testing::CommandOutput(
        absl::StrCat("openssl x509 -noout -fingerprint -sha256 -in ", file));
  }
  absl::Time not_after() {
    absl::MutexLock lock(&mu_);
    return not_after_;
  }
  int pairs_loaded() {
    absl::MutexLock lock(&mu_);
    return pairs_loaded_;
  }
  static inline std::string* dir_ = nullptr;
  absl::Mutex mu_;
  absl::Time not_after_ ABSL_GUARDED_BY(mu_);
  int pairs_loaded_ ABSL_GUARDED_BY(mu_) = 0;
};

TEST_F(HttpsEdgeTest, AnswersOverHttpsWithStrictTransportSecurity) {
  // The metrics hear when the certificate ends (make_certs.sh: 397 days).
  EXPECT_GT(not_after(), absl::Now() + absl::Hours(24 * 390));
  auto client = Client();
  httplib::Headers headers = {{"Authorization", "Bearer smz_good"}};
  httplib::Result answer =
      client->Get("/v1/council/kpiTables/smz-2018", headers);
  ASSERT_TRUE(answer) << httplib::to_string(answer.error());
  EXPECT_EQ(answer->status, 200) << answer->body;
  EXPECT_EQ(answer->get_header_value("Strict-Transport-Security"),
            "max-age=31536000");
  EXPECT_EQ(fake_.Authorization(), "Bearer smz_good");
  EXPECT_EQ(Presented(), FingerprintOf(File("gateway.crt")));
  // Not to "localhost": the promise would bind every local server.
  httplib::Headers local = headers;
  local.emplace("Host", absl::StrCat("localhost:", port_));
  answer = client->Get("/v1/council/kpiTables/smz-2018", local);
  ASSERT_TRUE(answer) << httplib::to_string(answer.error());
  EXPECT_EQ(answer->status, 200);
  EXPECT_FALSE(answer->has_header("Strict-Transport-Security"));

  // Plain HTTP on the HTTPS port gets no HTTP answer.
  EXPECT_EQ(testing::HttpStatusOf(Get(port_, "/v1/council/kpiTables/smz-2018")),
            0);
  // A client that trusts another CA refuses the edge.
  httplib::SSLClient stranger("127.0.0.1", port_);
  stranger.set_ca_cert_path(File("registry.crt").c_str());
  stranger.enable_server_certificate_verification(true);
  EXPECT_FALSE(stranger.Get("/v1/council/kpiTables/smz-2018", headers));
}

// Over HTTPS the edge reads only the __Host- session cookie, as behind a
// TLS proxy, without any flag saying so.
TEST_F(HttpsEdgeTest, OnlyTheHostPrefixedSessionCookieCounts) {
  auto client = Client();
  httplib::Result answer =
      client->Get("/v1/council/zoneOverviews/2019",
                  {{"Cookie", "__Host-smz_session=smzs_mine"}});
  ASSERT_TRUE(answer) << httplib::to_string(answer.error());
  EXPECT_EQ(answer->status, 200) << answer->body;
  EXPECT_EQ(fake_.Authorization(), "Bearer smzs_mine");
  answer = client->Get("/v1/council/zoneOverviews/2019",
                       {{"Cookie", "smz_session=smzs_planted"}});
  ASSERT_TRUE(answer) << httplib::to_string(answer.error());
  EXPECT_EQ(fake_.Authorization(), "");
}

TEST_F(HttpsEdgeTest, ARenewedCertificateIsServedWithoutARestart) {
  const std::string before = FingerprintOf(File("gateway.crt"));
  ASSERT_EQ(Presented(), before);
  ASSERT_TRUE(MakeCerts("gateway"));  // renewed in place, same paths
  const std::string renewed = FingerprintOf(File("gateway.crt"));
  ASSERT_NE(renewed, before);
  ASSERT_EQ(pairs_loaded(), 1);
  EXPECT_EQ(Presented(), renewed);
  EXPECT_EQ(pairs_loaded(), 2);  // the renewal heard by the metrics
  auto client = Client();
  httplib::Result answer = client->Get("/v1/council/kpiTables/smz-2018",
                                       {{"Authorization", "Bearer smz_good"}});
  ASSERT_TRUE(answer) << httplib::to_string(answer.error());
  EXPECT_EQ(answer->status, 200);

  // A renewal half done (a new certificate beside the old key: here
  // another service's) keeps the pair in use: handshakes go on with it.
  ASSERT_EQ(std::system(absl::StrCat("cp ", File("registry.crt"), " ",
                                     File("gateway.crt"))
                            .c_str()),
            0);
  EXPECT_EQ(Presented(), renewed);
  // An unreadable file too.
  ASSERT_EQ(std::system(absl::StrCat("rm ", File("gateway.crt")).c_str()), 0);
  EXPECT_EQ(Presented(), renewed);
  ASSERT_TRUE(MakeCerts("gateway"));  // and then whole again
  EXPECT_EQ(Presented(), FingerprintOf(File("gateway.crt")));
}

TEST_F(HttpsEdgeTest, BadCertificateFilesAreRefusedAtStart) {
  auto start = [&](const std::string& cert, const std::string& key) {
    HttpFrontOptions options;
    options.tls_cert_file = cert;
    options.tls_key_file = key;
    HttpJsonFront front(HttpServiceChannels{}, options);
    absl::Status started = front.Start("127.0.0.1:0");
    front.Shutdown();
    return started;
  };
  absl::Status s = start(File("gateway.crt"), "");
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(s.message(), HasSubstr("give both"));
  s = start(File("gateway.crt"), File("registry.key"));
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(s.message(), HasSubstr("not the certificate's"));
  s = start(File("nowhere.crt"), File("gateway.key"));
  EXPECT_THAT(s.message(), HasSubstr("http_tls_cert: cannot read"));
  s = start(File("gateway.key"), File("gateway.key"));
  EXPECT_THAT(s.message(), HasSubstr("http_tls_cert: no PEM certificate"));
  s = start(File("gateway.crt"), File("gateway.crt"));
  EXPECT_THAT(s.message(), HasSubstr("http_tls_key"));
}

// Whatever a certificate file holds, parsing it answers (a fuzzer's
// corpus seeds: truncated, garbage, empty).
TEST(HttpsCertificateTest, BrokenPemIsAnErrorNotACrash) {
  for (const std::string& text :
       {std::string(), std::string("-----BEGIN CERTIFICATE-----\n"),
        std::string("-----BEGIN CERTIFICATE-----\nAAAA\n-----END "
                    "CERTIFICATE-----\n"),
        std::string(300 * 1024, 'A'), std::string("\0\xff", 2)}) {
    EXPECT_FALSE(ParseCertificatePair(text, text).ok());
  }
}

}  // namespace
}  // namespace smz::gateway
