// The path templates of google.api.http bindings, as smz's protos write
// them: "/v1/partners/{partner_id}/reports", "/v1/events/{id}:publish".
// Parsed once from the descriptors, matched against each request's path;
// a match names the request fields its segments fill.
//
//   absl::StatusOr<smz::gateway::PathTemplate> path =
//       smz::gateway::PathTemplate::Parse("/v1/partners/{partner_id}/reports");
//   std::optional<smz::gateway::PathBindings> bound =
//       path->Match("/v1/partners/7/reports");
//   // (*bound)[0] == {"partner_id", "7"}
//
// The grammar is AIP-127's subset: literal segments of
// [A-Za-z0-9._~-], variables "{field}" or "{field.sub}" of one whole
// segment, and an optional ":verb" after the last segment. Request paths are
// hostile: each segment is percent-decoded on its own (a malformed escape or
// a NUL refuses the match), nothing recurses, and a path longer than
// kMaxPathBytes or deeper than kMaxPathSegments never matches.
#ifndef SMZ_SERVICES_GATEWAY_HTTP_RULE_H_
#define SMZ_SERVICES_GATEWAY_HTTP_RULE_H_

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace smz::gateway {

inline constexpr size_t kMaxPathBytes = 2048;
inline constexpr size_t kMaxPathSegments = 32;

// (field path, decoded value) in template order.
using PathBindings = std::vector<std::pair<std::string, std::string>>;

class PathTemplate {
 public:
  // INVALID_ARGUMENT for anything outside the grammar above.
  static absl::StatusOr<PathTemplate> Parse(absl::string_view text);

  // The bindings when `path` (without its query) matches, else nullopt.
  std::optional<PathBindings> Match(absl::string_view path) const;

  // The request fields the template binds, in order.
  std::vector<std::string> Fields() const;
  const std::string& text() const { return text_; }
  const std::string& verb() const { return verb_; }
  // Whether some path could match both this template and `other` (the same
  // number of segments and verb, every literal facing a variable or the same
  // literal): two such bindings of one HTTP method would be ambiguous.
  bool Overlaps(const PathTemplate& other) const;

 private:
  struct Segment {
    bool is_variable = false;
    std::string value;  // the literal, or the variable's field path
  };
  PathTemplate() = default;

  std::string text_;
  std::vector<Segment> segments_;
  std::string verb_;  // "" or e.g. "publish"
};

// The template with its variables unnamed: "/v1/partners/{}" for
// "/v1/partners/{id}" and "/v1/partners/{partner.id}" alike (OpenAPI holds
// one path per shape).
std::string PathShape(absl::string_view template_text);

// Decodes %XX escapes of one path segment; nullopt for a malformed escape or
// a decoded NUL.
std::optional<std::string> PercentDecodeSegment(absl::string_view segment);

}  // namespace smz::gateway

#endif  // SMZ_SERVICES_GATEWAY_HTTP_RULE_H_
