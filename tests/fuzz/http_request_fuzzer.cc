// A whole HTTP/JSON request as a browser or script sends it to the gateway:
// the method, the path, the query and the JSON body, routed through every
// annotated smz method (http_routes.h) and built into the request message.
//
// Input: one byte for the HTTP method, then "<path>[?<query>]", a newline,
// and the body.
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"
#include "services/gateway/http_routes.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using smz::gateway::HttpRouteTable;
  static const HttpRouteTable* const routes = [] {
    auto built = HttpRouteTable::Build(smz::gateway::SmzHttpServices());
    if (!built.ok()) __builtin_trap();
    return new HttpRouteTable(*std::move(built));
  }();
  static const char* const kMethods[] = {"GET",    "POST", "PATCH",
                                         "DELETE", "PUT",  "HEAD"};
  const absl::string_view input(reinterpret_cast<const char*>(data), size);
  if (input.empty()) return 0;
  const char* method = kMethods[static_cast<uint8_t>(input[0]) % 6];
  absl::string_view rest = input.substr(1);
  const size_t newline = rest.find('\n');
  const absl::string_view target = rest.substr(0, newline);
  const absl::string_view body =
      newline == absl::string_view::npos ? "" : rest.substr(newline + 1);
  const size_t question = target.find('?');
  const absl::string_view path = target.substr(0, question);
  std::vector<smz::gateway::QueryParameter> query;
  if (question != absl::string_view::npos) {
    for (absl::string_view pair :
         absl::StrSplit(target.substr(question + 1), '&')) {
      std::vector<std::string> kv =
          absl::StrSplit(pair, absl::MaxSplits('=', 1));
      auto key = smz::gateway::PercentDecodeSegment(kv[0]);
      auto value =
          smz::gateway::PercentDecodeSegment(kv.size() > 1 ? kv[1] : "");
      if (!key.has_value() || !value.has_value()) return 0;
      query.emplace_back(*key, *value);
    }
  }
  const HttpRouteTable::Lookup found = routes->Find(method, path);
  if (found.route == nullptr) return 0;
  auto request = smz::gateway::NewMessage(found.route->method->input_type());
  (void)smz::gateway::BuildHttpRequest(*found.route, found.bindings, query,
                                       body, request.get());
  return 0;
}
