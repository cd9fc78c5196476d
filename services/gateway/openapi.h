// The OpenAPI 3 description of smz's HTTP/JSON API, written from the same
// route table the gateway serves (http_routes.h), so it cannot drift from
// the protos: a path per binding, its path and query parameters typed by
// the request's fields, the JSON body, the answer, errors as
// google.rpc.Status, and schemas for every message reachable from them
// (field names as in the .proto, as the gateway prints them). Bindings of
// one shape ("/v1/partners/{id}", "/v1/partners/{partner.id}") share one
// path, as OpenAPI requires, named by the first; each parameter says which
// request field it sets.
//
// Written at build time by openapi_gen (openapi_gen_main.cc) into
// openapi.json and into the gateway's binary (openapi_asset.h), served at
// /openapi.json:
//
//   absl::StatusOr<HttpRouteTable> routes =
//       HttpRouteTable::Build(SmzHttpServices());
//   std::string json = OpenApiDocument(*routes);
#ifndef SMZ_SERVICES_GATEWAY_OPENAPI_H_
#define SMZ_SERVICES_GATEWAY_OPENAPI_H_

#include <string>

#include "absl/strings/string_view.h"
#include "services/gateway/http_routes.h"

namespace smz::gateway {

std::string OpenApiDocument(const HttpRouteTable& routes);

}  // namespace smz::gateway

#endif  // SMZ_SERVICES_GATEWAY_OPENAPI_H_
