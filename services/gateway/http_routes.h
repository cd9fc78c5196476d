// HTTP/JSON routes for smz's gRPC methods, read from the google.api.http
// annotations in the protos: which method a request's HTTP method and path
// name, and how its path, query and JSON body become the request message.
//
//   absl::StatusOr<HttpRouteTable> table =
//       HttpRouteTable::Build(SmzHttpServices());
//   HttpRouteTable::Lookup found = table->Find("GET", "/v1/partners/7");
//   // found.route->method is RegistryService.GetPartner,
//   // found.bindings == {{"id", "7"}}
//   std::unique_ptr<Message> request =
//       NewMessage(found.route->method->input_type());
//   absl::Status built = BuildHttpRequest(*found.route, found.bindings,
//                                         query, body, request.get());
//
// The rules, as google.api.http defines them:
//  - a path variable fills the field it names, read as that field's type;
//  - body "*" is the whole request as JSON (then the query must be empty);
//    body "field" is that field as JSON (and the query may not reach into
//    it); GET and DELETE take no body, POST, PATCH and PUT must have one;
//  - query parameters fill the other fields, typed (query_params.h).
// The path is authoritative: a body or query that gives a path field a
// different value is refused, so what the URL names is what the call
// touches.
//
// Build refuses annotations that cannot work (unknown fields, a body on a
// GET, two bindings that could match one path), so a mistake in a .proto
// fails at start-up and in the tests, not on some request.
#ifndef SMZ_SERVICES_GATEWAY_HTTP_ROUTES_H_
#define SMZ_SERVICES_GATEWAY_HTTP_ROUTES_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/message.h"
#include "services/gateway/http_rule.h"
#include "services/gateway/query_params.h"

namespace smz::gateway {

struct HttpRoute {
  const google::protobuf::MethodDescriptor* method = nullptr;
  std::string http_method;  // "GET", "POST", "PATCH", "PUT" or "DELETE"
  PathTemplate path;
  std::string body;  // "", "*" or a field of the request
};

class HttpRouteTable {
 public:
  // Every binding (with additional_bindings) of every annotated method of
  // `services`; methods without an annotation get no route.
  static absl::StatusOr<HttpRouteTable> Build(
      const std::vector<const google::protobuf::ServiceDescriptor*>& services);

  struct Lookup {
    // The route, or null: then `allowed` lists the HTTP methods that have a
    // route for this path (empty: no route at all, 404; else 405).
    const HttpRoute* route = nullptr;
    PathBindings bindings;
    std::vector<std::string> allowed;
  };
  // HEAD finds GET's route. `path` is without its query.
  Lookup Find(absl::string_view http_method, absl::string_view path) const;

  const std::vector<HttpRoute>& routes() const { return routes_; }

 private:
  std::vector<HttpRoute> routes_;
};

// The five services smz serves over HTTP (not the internal auth service).
std::vector<const google::protobuf::ServiceDescriptor*> SmzHttpServices();

std::unique_ptr<google::protobuf::Message> NewMessage(
    const google::protobuf::Descriptor* type);

// Fills `request` (of the route's input type, empty) from the request's
// path bindings, query and body; every bad field is named in one
// INVALID_ARGUMENT.
absl::Status BuildHttpRequest(const HttpRoute& route,
                              const PathBindings& bindings,
                              const std::vector<QueryParameter>& query,
                              absl::string_view body,
                              google::protobuf::Message* request);

// The field a dotted path names inside `type` ("partner.id"), through
// singular message fields; null when there is none.
const google::protobuf::FieldDescriptor* FindFieldPath(
    const google::protobuf::Descriptor* type, absl::string_view path);

}  // namespace smz::gateway

#endif  // SMZ_SERVICES_GATEWAY_HTTP_ROUTES_H_
