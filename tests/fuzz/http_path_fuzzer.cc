// What a browser or script sends as the path of an HTTP request to the
// gateway, matched against the path templates of the protos' bindings; and
// the template parser itself, on any text.
#include <cstddef>
#include <cstdint>
#include <string>

#include "absl/strings/string_view.h"
#include "services/gateway/http_rule.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using smz::gateway::PathTemplate;
  static const char* const kTemplates[] = {
      "/v1/partners/{id}", "/v1/partners/{partner_id}/reports/{period}",
      "/v1/events/{id}:publish", "/v1/reports:import",
      "/v1/partners/{partner.id=*}"};
  const absl::string_view input(reinterpret_cast<const char*>(data), size);
  if (input.empty()) return 0;
  const size_t which = static_cast<uint8_t>(input[0]) %
                       (sizeof(kTemplates) / sizeof(kTemplates[0]));
  static const auto* const parsed = [] {
    auto* all = new std::vector<PathTemplate>();
    for (const char* text : kTemplates) {
      all->push_back(*PathTemplate::Parse(text));
    }
    return all;
  }();
  const absl::string_view path = input.substr(1);
  if (auto bound = (*parsed)[which].Match(path)) {
    for (const auto& [field, value] : *bound) {
      // A bound value never holds a NUL and never outgrows its path.
      if (value.find('\0') != std::string::npos || value.size() > path.size()) {
        __builtin_trap();
      }
    }
  }
  (void)PathTemplate::Parse(path);
  (void)smz::gateway::PercentDecodeSegment(path);
  return 0;
}
