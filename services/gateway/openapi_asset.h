// The OpenAPI document of smz's HTTP/JSON API as written at build time
// (openapi.h): openapi_gen generates its definition, openapi_asset.cc, into
// the build directory, compiled into gateway_lib (not gateway_http_routes,
// which openapi_gen itself links).
//
//   absl::string_view json = smz::gateway::OpenApiJson();  // /openapi.json
#ifndef SMZ_SERVICES_GATEWAY_OPENAPI_ASSET_H_
#define SMZ_SERVICES_GATEWAY_OPENAPI_ASSET_H_

#include "absl/strings/string_view.h"

namespace smz::gateway {

absl::string_view OpenApiJson();

}  // namespace smz::gateway

#endif  // SMZ_SERVICES_GATEWAY_OPENAPI_ASSET_H_
