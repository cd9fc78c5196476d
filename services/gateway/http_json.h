// The suite's HTTP face for browsers and scripts, and its edge: every smz
// method under the path its .proto's google.api.http annotation gives
// (http_routes.h), with protobuf's JSON mapping of the same request and
// response messages; the council report as a document at /report; the
// web workspace's pages and files (web_assets.h: the council dashboard at /,
// the hospital's pages, the district's review queue, ...); and the OpenAPI 3
// description of it all at /openapi.json.
//
//   GET   /v1/partners/7
//   PATCH /v1/partners/7?update_mask=contacts&etag=…   {"contacts":[…]}
//   GET   /v1/council/kpiTables/smz-2018?as_of=2020-12-31
//   Authorization: Bearer smz_…
//
//   HttpJsonFront front({{"smz.registry.v1.RegistryService", registry},
//                        {"smz.gateway.v1.GatewayService", gateway}, ...});
//   absl::Status started = front.Start("127.0.0.1:8055");
//
// Each request becomes a call to the service that owns the method, with the
// caller's own Authorization header, so authentication, roles, own-data
// rules, logs and metrics are exactly those of the gRPC call. Errors are
// google.rpc.Status in JSON (field names as in the .proto, like every
// answer here):
//   {"code":3,"message":"…","details":[{"@type":
//    "type.googleapis.com/google.rpc.BadRequest","field_violations":[…]}]}
// with the HTTP status of the gRPC code (400, 401, 403, 404, 409, 429, 503,
// 504, 500).
//
// Sessions in a browser: AccountService.SignIn's answer sets the session
// as cookie smz_session (HttpOnly, SameSite=Strict, Path=/; over TLS, see
// secure_cookies, Secure and named __Host-smz_session) and leaves the id out
// of the JSON; a request without an
// Authorization header is made with that cookie as its credential. Every
// state-changing request (not GET or HEAD) made with the cookie also sends
// header X-SMZ-CSRF with the value of cookie smz_csrf (readable by the
// page's script, derived from the session), else 403: a page of another
// site can make a browser send the cookie, never the header. Signing out,
// or a 401 to a cookie, clears both cookies.
//
// Everything here is hostile until checked, before anything is forwarded:
// the Authorization value (Bearer + token68, bounded, else 401), the body
// (at most max_body_bytes, refused with 413 from its Content-Length before
// it is read), content encodings (none accepted: 415), path and query
// parameters (typed by the request message). It is served by
// libmicrohttpd's event loop, so a client that sends its headers slowly
// holds a socket, not a thread; connections are capped in all and per
// client address, idle ones closed after idle_timeout. Backend calls are
// asynchronous: while one runs, its connection is parked, not a thread.
// Every response carries the browser security headers (a Content-Security-
// Policy without inline script, frame-ancestors 'none', nosniff,
// no-referrer) and no CORS headers: other origins get nothing.
#ifndef SMZ_SERVICES_GATEWAY_HTTP_JSON_H_
#define SMZ_SERVICES_GATEWAY_HTTP_JSON_H_

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "common/auth/token.h"
#include "common/tracing/trace_context.h"
#include "grpcpp/channel.h"
#include "grpcpp/client_context.h"
#include "services/gateway/http_routes.h"
#include "services/gateway/https_certificate.h"

struct MHD_Daemon;

namespace smz::gateway {

struct HttpFrontOptions {
  // JSON request bodies; larger ones get 413 before they are read.
  size_t max_body_bytes = size_t{1} << 20;
  // The memory of one connection: request line, headers and read buffer
  // (headers of about half of it fit).
  size_t max_header_bytes = size_t{16} << 10;
  unsigned max_connections = 1000;
  unsigned max_connections_per_client = 256;
  // A connection that sends nothing for this long is closed (while its
  // headers or body arrive, and between keep-alive requests).
  unsigned idle_timeout_seconds = 10;
  // Threads that run the event loops (no handler blocks them).
  unsigned event_threads = 2;
  // A whole call; backend deadlines inside are shorter.
  absl::Duration call_deadline = absl::Seconds(30);
  // Session cookies carry Secure (and the __Host- prefix): the pages are
  // served over TLS (by a proxy in front; also whenever a request says
  // X-Forwarded-Proto: https, and always when the edge serves HTTPS).
  bool secure_cookies = false;
  // HTTPS: the certificate chain and key (PEM) the edge presents, looked at
  // again every `tls_refresh` so that a renewal in place is served without
  // a restart (https_certificate.h). Both or neither. With HTTPS every
  // answer carries Strict-Transport-Security (but to Host "localhost": the
  // local stack); TLS 1.2 and 1.3 only.
  std::string tls_cert_file;
  std::string tls_key_file;
  absl::Duration tls_refresh = absl::Minutes(1);
  // Hears when the certificate in use ends, at start and at each renewal.
  std::function<void(absl::Time not_after)> on_tls_certificate;
  // The addresses of proxies in front (as the socket shows them). A request
  // from one is the client's of the rightmost X-Forwarded-For entry that is
  // no such proxy, so per-address limits (sign-in throttling) apply to
  // people, not to the proxy; from anyone else the header is ignored.
  std::vector<std::string> trusted_proxies;
  // Each call is a span of a W3C trace (traceparent metadata to the
  // gateway and the services): a trusted proxy's `traceparent` header is
  // continued, anyone else's ignored (nobody threads their requests into
  // another's trace), else a trace starts here. Ids from
  // `trace_id_random` (null: TraceIdRandom), which is for ids only: never
  // for anything secret.
  RandomSource* trace_id_random = nullptr;
};

// The browser's session (see "Sessions in a browser" above).
inline constexpr char kSessionCookie[] = "smz_session";
inline constexpr char kCsrfCookie[] = "smz_csrf";
inline constexpr char kCsrfHeader[] = "X-SMZ-CSRF";
// The CSRF token of a session: derived from it, so the edge keeps no state
// and a token planted by another site fits no session it does not know.
std::string CsrfTokenFor(absl::string_view session_id);

// The services served, by full name, each with a channel to it.
using HttpServiceChannels =
    std::map<std::string, std::shared_ptr<grpc::Channel>>;

class HttpJsonFront {
 public:
  // Routes every annotated method of the SmzHttpServices() in `services`
  // (others get 404); /report needs the GatewayService.
  explicit HttpJsonFront(HttpServiceChannels services,
                         HttpFrontOptions options = {});
  ~HttpJsonFront();

  // Listens on "host:port" (an IPv4 address or "localhost"; port 0: any
  // free port). INVALID_ARGUMENT if an annotation cannot be routed or the
  // HTTPS certificate and key cannot be used (HttpsCertificate::Load).
  absl::Status Start(const std::string& listen);
  int port() const { return port_; }
  // Stops accepting, cancels the calls in flight and waits for them, then
  // closes every connection. Idempotent.
  void Shutdown();

  const HttpFrontOptions& options() const { return options_; }
  RandomSource& trace_id_random() const { return *trace_ids_; }
  // Null when the edge serves plain HTTP.
  HttpsCertificate* https_certificate() { return https_certificate_.get(); }

  // For the request handlers in http_json.cc: one request's state, the
  // start of its call to the gateway, and the files served.
  struct Exchange;
  void BeginCall(Exchange* exchange);
  const std::string& chart_js() const;
  const HttpRouteTable& routes() const { return *routes_; }
  // The paths whose answer is the document itself (its content, with its
  // own content type), for an address bar or a calendar app: GET /report
  // (GatewayService.GetCouncilReport) and GET /public/events.ics
  // (EventsService.ExportPublicCalendar). Null for any other path, or
  // when the service is not served.
  const HttpRoute* document_route(absl::string_view path) const;

 private:
  struct Backend;
  void EndCall(Exchange* exchange);

  const HttpFrontOptions options_;
  TraceIdRandom own_trace_id_random_;
  RandomSource* const trace_ids_;
  std::unique_ptr<Backend> backend_;
  std::unique_ptr<HttpRouteTable> routes_;
  std::map<std::string, std::unique_ptr<HttpRoute>, std::less<>>
      document_routes_;
  std::unique_ptr<HttpsCertificate> https_certificate_;
  MHD_Daemon* daemon_ = nullptr;
  int port_ = 0;
  absl::Mutex mu_;
  // Calls under way, with their contexts (shared, so that Shutdown can
  // cancel one outside the lock while its request ends).
  std::map<Exchange*, std::shared_ptr<grpc::ClientContext>> in_flight_
      ABSL_GUARDED_BY(mu_);
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
};

// The HTTP status for a gRPC status code.
int HttpStatusOf(absl::StatusCode code);

}  // namespace smz::gateway

#endif  // SMZ_SERVICES_GATEWAY_HTTP_JSON_H_
