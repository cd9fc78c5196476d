#include "services/gateway/http_json.h"

#include <arpa/inet.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <openssl/crypto.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cassert>
#include <cstdarg>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <optional>
#include <set>
#include <sstream>
#include <utility>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "common/aip/status_macros.h"
#include "common/auth/token.h"
#include "common/logging.h"
#include "common/server/rpc_runner.h"
#include "common/status_util.h"
#include "common/text_checks.h"
#include "common/tracing/trace_context.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/util/json_util.h"
#include "grpcpp/client_context.h"
#include "grpcpp/generic/generic_stub.h"
#include "grpcpp/impl/codegen/proto_utils.h"
#include "services/gateway/import_template_asset.h"
#include "services/gateway/openapi_asset.h"
#include "services/gateway/query_params.h"
#include "services/gateway/web_assets.h"
#include "services/gateway/web_reference.h"
#include "smz/auth/v1/auth.pb.h"
#include "smz/gateway/v1/gateway.pb.h"
#include "smz/registry/v1/accounts.pb.h"

namespace smz::gateway {
namespace {

using google::protobuf::Message;
using google::protobuf::MethodDescriptor;
using google::protobuf::util::JsonPrintOptions;

using GenericStub = grpc::TemplatedGenericStub<Message, Message>;

// Which Content-Security-Policy a response gets.
enum class PageKind {
  // JSON, CSV, scripts, styles: nothing may run or load from them.
  kData,
  // The workspace's pages: scripts and styles from this origin only, no
  // inline script, calls back to this origin only.
  kPage,
  // The council report as HTML: its own inline styles, no script at all.
  kReport,
};

absl::string_view ContentSecurityPolicy(PageKind kind) {
  switch (kind) {
    case PageKind::kPage:
      return "default-src 'none'; script-src 'self'; style-src 'self'; "
             "img-src 'self' data:; connect-src 'self'; base-uri 'none'; "
             "form-action 'self'; frame-ancestors 'none'";
    case PageKind::kReport:
      return "default-src 'none'; style-src 'unsafe-inline'; img-src data:; "
             "base-uri 'none'; form-action 'none'; frame-ancestors 'none'";
    case PageKind::kData:
      break;
  }
  return "default-src 'none'; frame-ancestors 'none'";
}

struct Answer {
  unsigned status = 200;
  std::string content_type = "application/json; charset=utf-8";
  std::string body;
  PageKind kind = PageKind::kData;
  std::string cache_control = "no-store";
  std::vector<std::pair<std::string, std::string>> headers;
};

Answer ErrorAnswer(const absl::Status& status) {
  std::string body = StatusToJson(status);
  Answer answer;
  answer.status = HttpStatusOf(status.code());
  answer.body = std::move(body);
  if (status.code() == absl::StatusCode::kUnauthenticated) {
    answer.headers.push_back({"WWW-Authenticate", "Bearer realm=\"smz\""});
  }
  return answer;
}

// An error the edge itself answers, with an HTTP status that has no gRPC
// code of its own (405, 413, 415).
Answer EdgeError(unsigned http_status, absl::StatusCode code,
                 absl::string_view message) {
  Answer answer = ErrorAnswer(absl::Status(code, message));
  answer.status = http_status;
  return answer;
}

MHD_Result Queue(MHD_Connection* connection, const Answer& answer) {
  MHD_Response* response = MHD_create_response_from_buffer(
      answer.body.size(), const_cast<char*>(answer.body.data()),
      MHD_RESPMEM_MUST_COPY);
  if (response == nullptr) return MHD_NO;
  MHD_add_response_header(response, "Content-Type",
                          answer.content_type.c_str());
  MHD_add_response_header(response, "Cache-Control",
                          answer.cache_control.c_str());
  MHD_add_response_header(
      response, "Content-Security-Policy",
      std::string(ContentSecurityPolicy(answer.kind)).c_str());
  MHD_add_response_header(response, "X-Content-Type-Options", "nosniff");
  MHD_add_response_header(response, "X-Frame-Options", "DENY");
  MHD_add_response_header(response, "Referrer-Policy", "no-referrer");
  MHD_add_response_header(response, "Cross-Origin-Resource-Policy",
                          "same-origin");
  MHD_add_response_header(response, "Cross-Origin-Opener-Policy",
                          "same-origin");
  if (const MHD_ConnectionInfo* tls = MHD_get_connection_info(
          connection, MHD_CONNECTION_INFO_GNUTLS_SESSION);
      tls != nullptr && tls->tls_session != nullptr) {
    // Browsers that saw the pages over HTTPS never fall back to plain HTTP;
    // but not for "localhost" (the local stack), where the promise would
    // bind every other development server on the machine.
    const char* host =
        MHD_lookup_connection_value(connection, MHD_HEADER_KIND, "Host");
    const absl::string_view host_name =
        host == nullptr ? absl::string_view()
                        : absl::string_view(host).substr(
                              0, absl::string_view(host).rfind(':'));
    if (!absl::EqualsIgnoreCase(host_name, "localhost")) {
      MHD_add_response_header(response, "Strict-Transport-Security",
                              "max-age=31536000");
    }
  }
  for (const auto& [name, value] : answer.headers) {
    // libmicrohttpd refuses values with line breaks; such a header is
    // dropped rather than the response.
    MHD_add_response_header(response, name.c_str(), value.c_str());
  }
  const MHD_Result queued =
      MHD_queue_response(connection, answer.status, response);
  MHD_destroy_response(response);
  return queued;
}

std::optional<absl::string_view> Header(MHD_Connection* connection,
                                        const char* name) {
  const char* value = nullptr;
  size_t size = 0;
  if (MHD_lookup_connection_value_n(connection, MHD_HEADER_KIND, name,
                                    std::strlen(name), &value,
                                    &size) != MHD_YES ||
      value == nullptr) {
    return std::nullopt;
  }
  return absl::string_view(value, size);
}

MHD_Result CollectQueryParameter(void* cls, MHD_ValueKind, const char* key,
                                 size_t key_size, const char* value,
                                 size_t value_size) {
  auto* params = static_cast<std::vector<QueryParameter>*>(cls);
  // Past the limit the rest is not kept; the count still trips the check.
  if (params->size() > kMaxQueryParameters) return MHD_NO;
  params->emplace_back(std::string(key, key_size),
                       value == nullptr ? "" : std::string(value, value_size));
  return MHD_YES;
}

// The client's IP address from its socket ("" if unknown): for the backends'
// logs, and for their limits per client address.
std::string ClientAddress(MHD_Connection* connection) {
  const MHD_ConnectionInfo* info =
      MHD_get_connection_info(connection, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
  if (info == nullptr || info->client_addr == nullptr) return "";
  char text[INET6_ADDRSTRLEN] = {};
  const sockaddr* address = info->client_addr;
  const void* raw =
      address->sa_family == AF_INET6
          ? static_cast<const void*>(
                &reinterpret_cast<const sockaddr_in6*>(address)->sin6_addr)
          : static_cast<const void*>(
                &reinterpret_cast<const sockaddr_in*>(address)->sin_addr);
  if (inet_ntop(address->sa_family, raw, text, sizeof(text)) == nullptr) {
    return "";
  }
  return text;
}

// The client a request is from: the socket's peer, or behind a trusted
// proxy the rightmost X-Forwarded-For entry that is no trusted proxy (the
// entries left of it are the client's own word).
std::string ClientAddressBehind(MHD_Connection* connection,
                                const std::vector<std::string>& trusted) {
  const std::string peer = ClientAddress(connection);
  auto is_trusted = [&](absl::string_view address) {
    return std::find(trusted.begin(), trusted.end(), address) != trusted.end();
  };
  if (peer.empty() || !is_trusted(peer)) return peer;
  const char* forwarded = MHD_lookup_connection_value(
      connection, MHD_HEADER_KIND, "X-Forwarded-For");
  if (forwarded == nullptr) return peer;
  std::vector<absl::string_view> hops = absl::StrSplit(forwarded, ',');
  for (auto hop = hops.rbegin(); hop != hops.rend(); ++hop) {
    const std::string address =
        CheckedClientAddress(absl::StripAsciiWhitespace(*hop));
    if (address.empty()) return peer;  // malformed: trust none of it
    if (!is_trusted(address)) return address;
  }
  return peer;
}

// The traceparent of a request's calls: a span of a trusted proxy's trace,
// or of a new one.
std::string TraceparentFor(MHD_Connection* connection,
                           const std::vector<std::string>& trusted,
                           RandomSource& random) {
  std::optional<TraceContext> parent;
  const std::string peer = ClientAddress(connection);
  if (!peer.empty() &&
      std::find(trusted.begin(), trusted.end(), peer) != trusted.end()) {
    const char* header = MHD_lookup_connection_value(
        connection, MHD_HEADER_KIND, kTraceparentHeader.data());
    if (header != nullptr) parent = ParseTraceparent(header);
  }
  return FormatTraceparent(ContinueOrStartTrace(parent, random));
}

// Leaves escapes as they came: the path is decoded one segment at a time
// after it is split (http_rule.h), so "%2F" stays inside its segment and
// "%00" is refused; query keys and values are decoded in BuildRequest.
// (libmicrohttpd would otherwise decode the whole path first.)
size_t KeepEscapes(void*, MHD_Connection*, char* text) {
  return std::strlen(text);
}

// libmicrohttpd's messages are mostly about clients that misbehave, one per
// connection: at most kLibraryLinesPerSecond a second reach the log, so a
// flood of bad connections cannot flood it.
constexpr int kLibraryLinesPerSecond = 10;

// Remembers the front on each connection (its socket context), for
// PresentCertificate.
void OnConnection(void* front, MHD_Connection*, void** socket_context,
                  MHD_ConnectionNotificationCode code) {
  if (code == MHD_CONNECTION_NOTIFY_STARTED) *socket_context = front;
}

// GnuTLS asks which certificate to present in a handshake: the front's
// current one. libmicrohttpd keeps the connection as the session's pointer.
int PresentCertificate(gnutls_session_t session, const gnutls_datum_t*, int,
                       const gnutls_pk_algorithm_t*, int,
                       gnutls_pcert_st** chain, unsigned int* chain_length,
                       gnutls_privkey_t* key) {
  auto* connection =
      static_cast<MHD_Connection*>(gnutls_session_get_ptr(session));
  if (connection == nullptr) return -1;
  const MHD_ConnectionInfo* info =
      MHD_get_connection_info(connection, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
  if (info == nullptr || info->socket_context == nullptr) return -1;
  HttpsCertificate* certificate =
      static_cast<HttpJsonFront*>(info->socket_context)->https_certificate();
  if (certificate == nullptr) return -1;
  HttpsCertificate::Pair* pair =
      const_cast<HttpsCertificate::Pair*>(certificate->Current());
  *chain = pair->chain;
  *chain_length = pair->chain_length;
  *key = pair->key;
  return 0;
}

void LogFromLibrary(void*, const char* format, va_list args) {
  static std::atomic<int64_t> window{0};
  static std::atomic<int> lines{0};
  const int64_t second = absl::ToUnixSeconds(absl::Now());
  if (window.exchange(second) != second) lines = 0;
  if (++lines > kLibraryLinesPerSecond) return;
  char text[512];
  std::vsnprintf(text, sizeof(text), format, args);
  Log(LogLevel::kInfo, "http client error",
      {{"error", absl::StripTrailingAsciiWhitespace(text)}});
}

std::string ReadFileOrEmpty(const char* path) {
  std::ifstream in(path);
  if (!in) return "";
  std::stringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

}  // namespace

// A generic stub to each service, and Chart.js (read once at start; the
// workspace's own files are compiled in).
struct HttpJsonFront::Backend {
  explicit Backend(const HttpServiceChannels& channels)
      : chart_js(ReadFileOrEmpty(kChartJsPath)) {
    for (const auto& [name, channel] : channels) {
      stubs.emplace(name, std::make_unique<GenericStub>(channel));
    }
  }
  std::map<std::string, std::unique_ptr<GenericStub>> stubs;
  const std::string chart_js;
};

struct HttpJsonFront::Exchange {
  // What is asked for: a method, the council report, or a file.
  enum class Kind { kMethod, kDocument, kFile };
  enum class Phase { kReceiving, kCalling, kAnswered };

  HttpJsonFront* front = nullptr;
  MHD_Connection* connection = nullptr;
  Kind kind = Kind::kFile;
  std::atomic<Phase> phase{Phase::kReceiving};
  const HttpRoute* route = nullptr;
  PathBindings bindings;
  std::string authorization;
  // The credential is the session cookie (not an Authorization header).
  bool cookie_credential = false;
  // Cookies set in the answer carry Secure.
  bool secure = false;
  std::string client_address;  // the HTTP client's IP, as the socket has it
  std::string traceparent;     // sent with the call (TraceparentFor)
  std::string body;
  std::unique_ptr<Message> request;
  std::unique_ptr<Message> response;
  std::shared_ptr<grpc::ClientContext> context =
      std::make_shared<grpc::ClientContext>();
  Answer answer;
};

namespace {

using Exchange = HttpJsonFront::Exchange;

// The AccountService methods whose answers move the session cookie.
const MethodDescriptor* AccountMethod(absl::string_view name) {
  const MethodDescriptor* method = registry::v1::SignInRequest::descriptor()
                                       ->file()
                                       ->FindServiceByName("AccountService")
                                       ->FindMethodByName(std::string(name));
  assert(method != nullptr);  // a name typed wrong, not input
  return method;
}

bool IsMethod(const HttpRoute* route, absl::string_view name) {
  return route != nullptr && route->method == AccountMethod(name);
}

// Over TLS the cookies take the __Host- prefix: a browser then keeps them
// only as Secure, Path=/ and without a Domain, so a sibling subdomain or a
// plain-HTTP page cannot plant a session of its own under that name.
struct CookieNames {
  std::string session;
  std::string csrf;
};
CookieNames CookieNamesFor(bool secure) {
  const absl::string_view prefix = secure ? "__Host-" : "";
  return {absl::StrCat(prefix, kSessionCookie),
          absl::StrCat(prefix, kCsrfCookie)};
}

MHD_Result CountValue(void* cls, MHD_ValueKind kind, const char* key, size_t,
                      const char*, size_t) {
  auto* counted = static_cast<std::pair<absl::string_view, int>*>(cls);
  // Header names are case-insensitive (RFC 9110), cookie names are not.
  const bool same = kind == MHD_HEADER_KIND
                        ? absl::EqualsIgnoreCase(key, counted->first)
                        : counted->first == key;
  if (same) ++counted->second;
  return MHD_YES;
}

// How often a request carries header (or cookie) `name`.
int ValueCount(MHD_Connection* connection, MHD_ValueKind kind,
               absl::string_view name) {
  std::pair<absl::string_view, int> counted{name, 0};
  MHD_get_connection_values_n(connection, kind, &CountValue, &counted);
  return counted.second;
}

int HeaderCount(MHD_Connection* connection, const char* name) {
  return ValueCount(connection, MHD_HEADER_KIND, name);
}

// The session id of the session cookie, checked as an Authorization value
// would be (it becomes one); nullopt when absent, malformed or sent twice
// (one of them planted: which one is meant cannot be told).
std::optional<std::string> SessionCookieOf(MHD_Connection* connection,
                                           bool secure) {
  const std::string name = CookieNamesFor(secure).session;
  if (ValueCount(connection, MHD_COOKIE_KIND, name) != 1) return std::nullopt;
  const char* value =
      MHD_lookup_connection_value(connection, MHD_COOKIE_KIND, name.c_str());
  if (value == nullptr) return std::nullopt;
  const absl::string_view session(value);
  if (!absl::StartsWith(session, kSessionIdPrefix) ||
      !ParseBearerAuthorization(absl::StrCat("Bearer ", session)).ok()) {
    return std::nullopt;
  }
  return std::string(session);
}

bool CsrfMatches(absl::string_view sent, absl::string_view session) {
  const std::string expected = CsrfTokenFor(session);
  return sent.size() == expected.size() &&
         CRYPTO_memcmp(sent.data(), expected.data(), expected.size()) == 0;
}

std::string CookieAttributes(bool secure, int64_t max_age_seconds) {
  return absl::StrCat("; Path=/; SameSite=Strict; Max-Age=", max_age_seconds,
                      secure ? "; Secure" : "");
}

void SetSessionCookies(Answer* answer, absl::string_view session_id,
                       bool secure) {
  const CookieNames names = CookieNamesFor(secure);
  const int64_t lifetime = absl::ToInt64Seconds(kSessionLifetime);
  answer->headers.push_back(
      {"Set-Cookie",
       absl::StrCat(names.session, "=", session_id,
                    CookieAttributes(secure, lifetime), "; HttpOnly")});
  answer->headers.push_back(
      {"Set-Cookie", absl::StrCat(names.csrf, "=", CsrfTokenFor(session_id),
                                  CookieAttributes(secure, lifetime))});
}

void ClearSessionCookies(Answer* answer, bool secure) {
  const CookieNames names = CookieNamesFor(secure);
  answer->headers.push_back(
      {"Set-Cookie", absl::StrCat(names.session, "=",
                                  CookieAttributes(secure, 0), "; HttpOnly")});
  answer->headers.push_back(
      {"Set-Cookie",
       absl::StrCat(names.csrf, "=", CookieAttributes(secure, 0))});
}

// The web workspace's pages and files (web_assets.h), the OpenAPI document
// and Debian's Chart.js.
std::optional<Answer> FileAnswer(absl::string_view path,
                                 const std::string& chart_js) {
  Answer answer;
  if (const WebAsset* asset = FindWebAsset(path)) {
    answer.content_type = std::string(asset->content_type);
    answer.body = std::string(asset->text);
    // Scripts are revalidated like their pages, so that a page and its
    // scripts always come from the same build.
    answer.cache_control = "no-cache";
    if (asset->page) answer.kind = PageKind::kPage;
    return answer;
  }
  answer.cache_control = "max-age=3600";
  if (path == "/static/import_template.xlsx") {
    answer.content_type =
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";
    answer.body = std::string(ImportTemplateXlsx());
    answer.headers.push_back(
        {"Content-Disposition",
         "attachment; filename=\"smz-report-template.xlsx\""});
    return answer;
  }
  if (path == "/static/import_template.csv") {
    answer.content_type = "text/csv; charset=utf-8";
    answer.body = std::string(ImportTemplateCsv());
    answer.headers.push_back(
        {"Content-Disposition",
         "attachment; filename=\"smz-report-template.csv\""});
    return answer;
  }
  if (path == kWebReferencePath) {
    static const std::string* const kScript =
        new std::string(WebReferenceScript());
    answer.content_type = "text/javascript; charset=utf-8";
    answer.body = *kScript;
    return answer;
  }
  if (path == "/openapi.json") {
    answer.body = std::string(OpenApiJson());
    return answer;
  }
  if (path == "/static/chart.js") {
    if (chart_js.empty()) return std::nullopt;
    answer.content_type = "text/javascript; charset=utf-8";
    answer.body = chart_js;
    return answer;
  }
  return std::nullopt;
}

Answer MethodNotAllowed(absl::string_view method,
                        const std::vector<std::string>& allowed) {
  Answer refused = EdgeError(
      405, absl::StatusCode::kInvalidArgument,
      absl::StrCat("method ", Abbreviate(method, 16), " is not allowed here"));
  refused.headers.push_back({"Allow", absl::StrJoin(allowed, ", ")});
  return refused;
}

// Decides a request from its line and headers alone, before any body is
// read: its route, or the refusal to send at once.
// Long by design: each check of an incoming request, in the order the HTTP edge
// must apply them.
std::optional<Answer> Admit(Exchange* exchange, absl::string_view url,
                            absl::string_view method, size_t max_body_bytes) {
  MHD_Connection* connection = exchange->connection;
  const bool get = method == "GET" || method == "HEAD";
  if (absl::StartsWith(url, "/v1/")) {
    exchange->kind = Exchange::Kind::kMethod;
    HttpRouteTable::Lookup found = exchange->front->routes().Find(method, url);
    if (found.route == nullptr && !found.allowed.empty()) {
      return MethodNotAllowed(method, found.allowed);
    }
    if (found.route == nullptr) {
      return ErrorAnswer(absl::NotFoundError(
          absl::StrCat("no method at ", Abbreviate(url, 64))));
    }
    exchange->route = found.route;
    exchange->bindings = std::move(found.bindings);
  } else if (const HttpRoute* document = exchange->front->document_route(url);
             document != nullptr) {
    exchange->kind = Exchange::Kind::kDocument;
    exchange->route = document;
    if (!get) return MethodNotAllowed(method, {"GET", "HEAD"});
  } else {
    exchange->kind = Exchange::Kind::kFile;
    if (!get) return MethodNotAllowed(method, {"GET", "HEAD"});
  }
  const bool takes_body =
      exchange->route != nullptr && !exchange->route->body.empty();
  // One way to frame a body, so that a proxy in front and this edge can
  // never disagree on where a request ends (request smuggling).
  if (HeaderCount(connection, "Transfer-Encoding") > 0 ||
      HeaderCount(connection, "Content-Length") > 1) {
    return EdgeError(400, absl::StatusCode::kInvalidArgument,
                     "a body is framed by one Content-Length only "
                     "(no Transfer-Encoding)");
  }
  if (std::optional<absl::string_view> encoding =
          Header(connection, "Content-Encoding");
      encoding.has_value() &&
      !absl::EqualsIgnoreCase(absl::StripAsciiWhitespace(*encoding),
                              "identity")) {
    return EdgeError(415, absl::StatusCode::kInvalidArgument,
                     "compressed request bodies are not accepted");
  }
  if (std::optional<absl::string_view> length =
          Header(connection, "Content-Length");
      length.has_value()) {
    uint64_t bytes = 0;
    if (!absl::SimpleAtoi(*length, &bytes)) {
      return EdgeError(400, absl::StatusCode::kInvalidArgument,
                       "Content-Length is not a number");
    }
    if (bytes > max_body_bytes) {
      return EdgeError(413, absl::StatusCode::kResourceExhausted,
                       absl::StrCat("request body is larger than ",
                                    max_body_bytes, " bytes"));
    }
  }
  if (exchange->kind == Exchange::Kind::kFile) return std::nullopt;
  if (takes_body && !Header(connection, "Content-Length").has_value()) {
    // Without a length a body can only be refused after 1 MiB of it has
    // been read; clients send JSON with its length.
    return EdgeError(411, absl::StatusCode::kInvalidArgument,
                     "a request body needs a Content-Length");
  }
  if (takes_body) {
    // application/json, with parameters or none ("; charset=utf-8"); no
    // other type, and none missing, so that a form a browser can send from
    // another site is never taken as JSON.
    std::optional<absl::string_view> type = Header(connection, "Content-Type");
    absl::string_view media =
        type.has_value()
            ? absl::StripAsciiWhitespace(type->substr(0, type->find(';')))
            : absl::string_view();
    if (!absl::EqualsIgnoreCase(media, "application/json")) {
      return EdgeError(415, absl::StatusCode::kInvalidArgument,
                       "request bodies must be application/json");
    }
  }
  std::optional<absl::string_view> forwarded_proto =
      Header(connection, "X-Forwarded-Proto");
  exchange->secure =
      exchange->front->options().secure_cookies ||
      exchange->front->https_certificate() != nullptr ||
      (forwarded_proto.has_value() &&
       absl::EqualsIgnoreCase(absl::StripAsciiWhitespace(*forwarded_proto),
                              "https"));
  const bool open_to_anyone = exchange->route->method->options()
                                  .GetExtension(auth::v1::allowed_roles)
                                  .anyone();
  if (std::optional<absl::string_view> authorization =
          Header(connection, "Authorization");
      authorization.has_value()) {
    // Checked here, so that nothing a caller sends reaches gRPC's metadata
    // API unchecked (it aborts the process on bytes it cannot carry).
    absl::StatusOr<absl::string_view> token =
        ParseBearerAuthorization(*authorization);
    if (!token.ok()) return ErrorAnswer(token.status());
    exchange->authorization = absl::StrCat("Bearer ", *token);
  } else if (std::optional<std::string> session =
                 SessionCookieOf(connection, exchange->secure);
             session.has_value()) {
    std::optional<absl::string_view> csrf = Header(connection, kCsrfHeader);
    const bool csrf_holds =
        get || (csrf.has_value() && CsrfMatches(*csrf, *session));
    if (csrf_holds) {
      exchange->authorization = absl::StrCat("Bearer ", *session);
      exchange->cookie_credential = true;
    } else if (!open_to_anyone) {
      // Signing in needs no session: there the cookie is left unused.
      return ErrorAnswer(absl::PermissionDeniedError(
          absl::StrCat("a change made with the session cookie needs header ",
                       kCsrfHeader, " with the value of cookie ",
                       CookieNamesFor(exchange->secure).csrf)));
    }
  }
  if (exchange->authorization.empty() && takes_body && !open_to_anyone) {
    // Every method with a body needs a caller (but signing in): refused
    // before up to max_body_bytes of it are read and held for nobody.
    return ErrorAnswer(absl::UnauthenticatedError(
        "missing credentials: sign in, or send 'Authorization: Bearer "
        "<token>'"));
  }
  return std::nullopt;
}

// The request message from the path, the query string and the JSON body.
absl::Status BuildRequest(Exchange* exchange) {
  const MethodDescriptor* method = exchange->route->method;
  exchange->request = NewMessage(method->input_type());
  exchange->response = NewMessage(method->output_type());
  std::vector<QueryParameter> params;
  MHD_get_connection_values_n(exchange->connection, MHD_GET_ARGUMENT_KIND,
                              &CollectQueryParameter, &params);
  FieldViolations violations;
  for (auto& [key, value] : params) {
    std::optional<std::string> decoded_key = PercentDecodeSegment(key);
    std::optional<std::string> decoded_value = PercentDecodeSegment(value);
    if (!decoded_key.has_value() || !decoded_value.has_value()) {
      violations.Add(Abbreviate(key, 64),
                     "is not percent-encoded correctly (or holds a NUL)");
      continue;
    }
    key = *std::move(decoded_key);
    value = *std::move(decoded_value);
  }
  SMZ_RETURN_IF_ERROR(violations.ToStatus());
  return BuildHttpRequest(*exchange->route, exchange->bindings, params,
                          exchange->body, exchange->request.get());
}

// The answer to a finished call.
Answer CallAnswer(Exchange* exchange, const grpc::Status& status) {
  if (!status.ok()) {
    Answer refused = ErrorAnswer(FromGrpcStatus(status));
    // An ended or unknown session: the page returns to its sign-in form.
    if (exchange->cookie_credential &&
        status.error_code() == grpc::StatusCode::UNAUTHENTICATED) {
      ClearSessionCookies(&refused, exchange->secure);
    }
    return refused;
  }
  Answer answer;
  if (IsMethod(exchange->route, "SignIn")) {
    // The session lives in the HttpOnly cookie only: no script of the page
    // (nor one injected into it) can read or send it elsewhere.
    auto& signed_in =
        static_cast<registry::v1::SignInResponse&>(*exchange->response);
    SetSessionCookies(&answer, signed_in.session_id(), exchange->secure);
    signed_in.clear_session_id();
  }
  for (absl::string_view sign_out : {"SignOut", "SignOutEverywhere"}) {
    if (IsMethod(exchange->route, sign_out) && exchange->cookie_credential) {
      ClearSessionCookies(&answer, exchange->secure);
    }
  }
  if (exchange->kind == Exchange::Kind::kDocument) {
    // A Document or a CalendarFile: content, content_type and filename,
    // read by name (document_route admits only such answers).
    const Message& document = *exchange->response;
    const google::protobuf::Descriptor* type = document.GetDescriptor();
    const google::protobuf::Reflection* fields = document.GetReflection();
    auto text = [&](const char* name) {
      return fields->GetString(document, type->FindFieldByName(name));
    };
    answer.body = text("content");
    answer.content_type = text("content_type");
    if (absl::StartsWith(answer.content_type, "text/html")) {
      answer.kind = PageKind::kReport;
    }
    // The public calendar is the same for everyone: calendar apps and
    // proxies may keep it a few minutes.
    if (absl::StartsWith(answer.content_type, "text/calendar") &&
        exchange->route->method->options()
            .GetExtension(auth::v1::allowed_roles)
            .anyone()) {
      answer.cache_control = "public, max-age=300";
    }
    std::string filename;
    for (char c : text("filename")) {
      if (absl::ascii_isalnum(static_cast<unsigned char>(c)) || c == '.' ||
          c == '-' || c == '_') {
        filename.push_back(c);
      }
    }
    answer.headers.push_back(
        {"Content-Disposition",
         absl::StrCat("inline; filename=\"", filename.substr(0, 100), "\"")});
    return answer;
  }
  JsonPrintOptions print;
  print.preserve_proto_field_names = true;
  print.always_print_primitive_fields = true;
  if (auto printed = google::protobuf::util::MessageToJsonString(
          *exchange->response, &answer.body, print);
      !printed.ok()) {
    return ErrorAnswer(absl::InternalError("the answer could not be printed"));
  }
  return answer;
}

MHD_Result OnRequest(void* cls, MHD_Connection* connection, const char* url,
                     const char* method, const char* /*version*/,
                     const char* upload_data, size_t* upload_data_size,
                     void** request_state) {
  auto* front = static_cast<HttpJsonFront*>(cls);
  auto* exchange = static_cast<Exchange*>(*request_state);
  if (exchange == nullptr) {
    exchange = new Exchange();
    exchange->front = front;
    exchange->connection = connection;
    exchange->client_address =
        ClientAddressBehind(connection, front->options().trusted_proxies);
    exchange->traceparent = TraceparentFor(
        connection, front->options().trusted_proxies, front->trace_id_random());
    *request_state = exchange;
    if (std::optional<Answer> refused =
            Admit(exchange, url, method, front->options().max_body_bytes)) {
      // Answered: should the library call again, it gets this answer.
      exchange->answer = *std::move(refused);
      exchange->phase = Exchange::Phase::kAnswered;
      return Queue(connection, exchange->answer);
    }
    return MHD_YES;
  }
  if (exchange->phase == Exchange::Phase::kReceiving) {
    if (*upload_data_size > 0) {
      if (exchange->body.size() + *upload_data_size >
          front->options().max_body_bytes) {
        // More body than the limit (a GET's body, or a chunked one, that
        // carried no Content-Length to refuse up front).
        return Queue(
            connection,
            EdgeError(413, absl::StatusCode::kResourceExhausted,
                      absl::StrCat("request body is larger than ",
                                   front->options().max_body_bytes, " bytes")));
      }
      exchange->body.append(upload_data, *upload_data_size);
      *upload_data_size = 0;
      return MHD_YES;
    }
    if (exchange->kind == Exchange::Kind::kFile) {
      std::optional<Answer> file = FileAnswer(url, front->chart_js());
      return Queue(connection,
                   file.has_value()
                       ? *file
                       : ErrorAnswer(absl::NotFoundError(
                             absl::StrCat("no page ", Abbreviate(url, 64)))));
    }
    if (absl::Status built = BuildRequest(exchange); !built.ok()) {
      return Queue(connection, ErrorAnswer(built));
    }
    exchange->phase = Exchange::Phase::kCalling;
    // Parked until the call ends: the callback resumes it.
    MHD_suspend_connection(connection);
    front->BeginCall(exchange);
    return MHD_YES;
  }
  if (exchange->phase == Exchange::Phase::kAnswered) {
    return Queue(connection, exchange->answer);
  }
  return MHD_YES;
}

void OnRequestDone(void*, MHD_Connection*, void** request_state,
                   MHD_RequestTerminationCode) {
  delete static_cast<Exchange*>(*request_state);
  *request_state = nullptr;
}

}  // namespace

std::string CsrfTokenFor(absl::string_view session_id) {
  return HashToken(absl::StrCat("smz-csrf:", session_id));
}

int HttpStatusOf(absl::StatusCode code) {
  switch (code) {
    case absl::StatusCode::kOk:
      return 200;
    case absl::StatusCode::kInvalidArgument:
    case absl::StatusCode::kFailedPrecondition:
    case absl::StatusCode::kOutOfRange:
      return 400;
    case absl::StatusCode::kUnauthenticated:
      return 401;
    case absl::StatusCode::kPermissionDenied:
      return 403;
    case absl::StatusCode::kNotFound:
      return 404;
    case absl::StatusCode::kAlreadyExists:
    case absl::StatusCode::kAborted:
      return 409;
    case absl::StatusCode::kResourceExhausted:
      return 429;
    case absl::StatusCode::kUnavailable:
      return 503;
    case absl::StatusCode::kDeadlineExceeded:
      return 504;
    default:
      return 500;
  }
}

HttpJsonFront::HttpJsonFront(HttpServiceChannels services,
                             HttpFrontOptions options)
    : options_(options),
      trace_ids_(options_.trace_id_random != nullptr ? options_.trace_id_random
                                                     : &own_trace_id_random_),
      backend_(std::make_unique<Backend>(services)) {}

HttpJsonFront::~HttpJsonFront() { Shutdown(); }

absl::Status HttpJsonFront::Start(const std::string& listen) {
  std::vector<const google::protobuf::ServiceDescriptor*> served;
  for (const google::protobuf::ServiceDescriptor* service : SmzHttpServices()) {
    if (backend_->stubs.count(service->full_name()) > 0) {
      served.push_back(service);
    }
  }
  absl::StatusOr<HttpRouteTable> routes = HttpRouteTable::Build(served);
  if (!routes.ok()) return routes.status();
  routes_ = std::make_unique<HttpRouteTable>(*std::move(routes));
  // GET /report: the council report as the document itself (HTML or CSV
  // with its own content type), for a browser's address bar and print
  // dialog; its JSON form stays under its annotation.
  // Each answers a message with string fields content, content_type and
  // filename (CallAnswer reads them by name).
  const std::pair<const char*, const char*> documents[] = {
      {"/report", "smz.gateway.v1.GatewayService.GetCouncilReport"},
      {"/public/events.ics",
       "smz.events.v1.EventsService.ExportPublicCalendar"},
  };
  for (const auto& [path_text, method_name] : documents) {
    for (const HttpRoute& route : routes_->routes()) {
      if (route.method->full_name() != method_name) continue;
      const google::protobuf::Descriptor* answer = route.method->output_type();
      for (const char* field : {"content", "content_type", "filename"}) {
        const google::protobuf::FieldDescriptor* f =
            answer->FindFieldByName(field);
        // Our own protos, checked at start rather than by a crash later.
        if (f == nullptr ||
            f->type() != google::protobuf::FieldDescriptor::TYPE_STRING ||
            f->is_repeated()) {
          return absl::InternalError(
              absl::StrCat(method_name, " answers no string field ", field,
                           ": it cannot be served as a document"));
        }
      }
      absl::StatusOr<PathTemplate> path = PathTemplate::Parse(path_text);
      document_routes_[path_text] = std::make_unique<HttpRoute>(
          HttpRoute{route.method, "GET", *std::move(path), ""});
      break;
    }
  }
  const size_t colon = listen.rfind(':');
  int port = -1;
  if (colon == std::string::npos ||
      !absl::SimpleAtoi(listen.substr(colon + 1), &port) || port < 0 ||
      port > 65535) {
    return absl::InvalidArgumentError(
        absl::StrCat("HTTP listen address '", listen, "' is not host:port"));
  }
  std::string host = listen.substr(0, colon);
  if (host == "localhost") host = "127.0.0.1";
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(static_cast<uint16_t>(port));
  if (inet_pton(AF_INET, host.c_str(), &address.sin_addr) != 1) {
    return absl::InvalidArgumentError(absl::StrCat(
        "HTTP listen address '", listen, "' needs an IPv4 address"));
  }
  unsigned flags = MHD_USE_EPOLL_INTERNAL_THREAD | MHD_ALLOW_SUSPEND_RESUME |
                   MHD_USE_ERROR_LOG;
  std::vector<MHD_OptionItem> tls_options;
  if (!options_.tls_cert_file.empty() || !options_.tls_key_file.empty()) {
    if (options_.tls_cert_file.empty() || options_.tls_key_file.empty()) {
      return absl::InvalidArgumentError(
          "http_tls_cert and http_tls_key: give both, or neither");
    }
    absl::StatusOr<std::unique_ptr<HttpsCertificate>> certificate =
        HttpsCertificate::Load(options_.tls_cert_file, options_.tls_key_file,
                               options_.tls_refresh, &SystemClock::Get(),
                               options_.on_tls_certificate);
    if (!certificate.ok()) return certificate.status();
    https_certificate_ = *std::move(certificate);
    flags |= MHD_USE_TLS;
    tls_options = {
        {MHD_OPTION_NOTIFY_CONNECTION,
         reinterpret_cast<intptr_t>(&OnConnection), this},
        {MHD_OPTION_HTTPS_CERT_CALLBACK, 0,
         reinterpret_cast<void*>(&PresentCertificate)},
        {MHD_OPTION_HTTPS_PRIORITIES, 0,
         const_cast<char*>("NORMAL:-VERS-ALL:+VERS-TLS1.3:+VERS-TLS1.2")},
    };
  }
  tls_options.push_back({MHD_OPTION_END, 0, nullptr});
  daemon_ = MHD_start_daemon(
      flags, 0, nullptr, nullptr, &OnRequest, this, MHD_OPTION_ARRAY,
      tls_options.data(), MHD_OPTION_EXTERNAL_LOGGER, &LogFromLibrary, nullptr,
      MHD_OPTION_SOCK_ADDR, reinterpret_cast<sockaddr*>(&address),
      MHD_OPTION_NOTIFY_COMPLETED, &OnRequestDone, nullptr,
      MHD_OPTION_THREAD_POOL_SIZE, options_.event_threads,
      MHD_OPTION_CONNECTION_LIMIT, options_.max_connections,
      MHD_OPTION_PER_IP_CONNECTION_LIMIT, options_.max_connections_per_client,
      MHD_OPTION_CONNECTION_TIMEOUT, options_.idle_timeout_seconds,
      // The request line and headers live in this pool with the read
      // buffer: beyond it the library answers 431 (or 414) by itself.
      MHD_OPTION_CONNECTION_MEMORY_LIMIT, options_.max_header_bytes,
      // Refuse malformed requests instead of guessing at them.
      MHD_OPTION_STRICT_FOR_CLIENT, 1, MHD_OPTION_UNESCAPE_CALLBACK,
      &KeepEscapes, nullptr, MHD_OPTION_END);
  if (daemon_ == nullptr) {
    return absl::UnavailableError(absl::StrCat("cannot listen on ", listen));
  }
  const MHD_DaemonInfo* info =
      MHD_get_daemon_info(daemon_, MHD_DAEMON_INFO_BIND_PORT);
  port_ = info != nullptr ? info->port : port;
  return absl::OkStatus();
}

const HttpRoute* HttpJsonFront::document_route(absl::string_view path) const {
  auto it = document_routes_.find(path);
  return it == document_routes_.end() ? nullptr : it->second.get();
}

const std::string& HttpJsonFront::chart_js() const {
  return backend_->chart_js;
}

void HttpJsonFront::BeginCall(Exchange* exchange) {
  {
    absl::MutexLock lock(&mu_);
    if (stopping_) {
      exchange->answer =
          ErrorAnswer(absl::UnavailableError("the gateway is shutting down"));
      exchange->phase = Exchange::Phase::kAnswered;
      MHD_resume_connection(exchange->connection);
      return;
    }
    in_flight_.emplace(exchange, exchange->context);
  }
  exchange->context->set_deadline(
      absl::ToChronoTime(absl::Now() + options_.call_deadline));
  if (!exchange->client_address.empty()) {
    exchange->context->AddMetadata(std::string(kClientAddressMetadata),
                                   exchange->client_address);
  }
  if (!exchange->authorization.empty()) {
    exchange->context->AddMetadata("authorization", exchange->authorization);
  }
  exchange->context->AddMetadata(std::string(kTraceparentHeader),
                                 exchange->traceparent);
  const MethodDescriptor* method = exchange->route->method;
  // Every route's service has a stub: the table holds no other services.
  GenericStub& stub = *backend_->stubs.at(method->service()->full_name());
  stub.UnaryCall(
      exchange->context.get(),
      absl::StrCat("/", method->service()->full_name(), "/", method->name()),
      grpc::StubOptions(), exchange->request.get(), exchange->response.get(),
      [this, exchange](grpc::Status status) {
        exchange->answer = CallAnswer(exchange, status);
        EndCall(exchange);
      });
}

void HttpJsonFront::EndCall(Exchange* exchange) {
  // Under the lock, so that Shutdown cannot stop the daemon between the
  // call leaving the set and its connection being resumed.
  absl::MutexLock lock(&mu_);
  in_flight_.erase(exchange);
  exchange->phase = Exchange::Phase::kAnswered;
  MHD_resume_connection(exchange->connection);
}

void HttpJsonFront::Shutdown() {
  if (daemon_ == nullptr) return;
  // The listening socket is ours to close, but only after MHD_stop_daemon:
  // the daemon's thread may still be taking it out of its epoll set (closed
  // before, that fails and libmicrohttpd aborts the process).
  const MHD_socket listener = MHD_quiesce_daemon(daemon_);
  // Parked connections must be resumed before the daemon stops: end their
  // calls now; new ones are answered 503. TryCancel runs outside the lock,
  // as it may complete a call (and take the lock) in this thread.
  std::vector<std::shared_ptr<grpc::ClientContext>> calls;
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
    for (const auto& [exchange, context] : in_flight_) calls.push_back(context);
  }
  for (const auto& context : calls) context->TryCancel();
  {
    absl::MutexLock lock(&mu_);
    mu_.Await(absl::Condition(
        +[](std::map<Exchange*, std::shared_ptr<grpc::ClientContext>>* calls) {
          return calls->empty();
        },
        &in_flight_));
  }
  MHD_stop_daemon(daemon_);
  daemon_ = nullptr;
  if (listener != MHD_INVALID_SOCKET) close(listener);
}

}  // namespace smz::gateway
