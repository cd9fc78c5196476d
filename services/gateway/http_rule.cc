#include "services/gateway/http_rule.h"

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

namespace smz::gateway {
namespace {

bool IsLiteralChar(char c) {
  return absl::ascii_isalnum(static_cast<unsigned char>(c)) || c == '.' ||
         c == '_' || c == '~' || c == '-';
}

bool IsLiteral(absl::string_view text) {
  if (text.empty()) return false;
  for (char c : text) {
    if (!IsLiteralChar(c)) return false;
  }
  return true;
}

// "field" or "field.sub": lower-case proto field names joined by dots.
bool IsFieldPath(absl::string_view text) {
  if (text.empty() || text.front() == '.' || text.back() == '.') return false;
  bool after_dot = true;
  for (char c : text) {
    if (c == '.') {
      if (after_dot) return false;
      after_dot = true;
      continue;
    }
    const bool letter = absl::ascii_islower(static_cast<unsigned char>(c));
    const bool other =
        absl::ascii_isdigit(static_cast<unsigned char>(c)) || c == '_';
    if (!letter && !(other && !after_dot)) return false;
    after_dot = false;
  }
  return true;
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

std::string PathShape(absl::string_view template_text) {
  std::string shape;
  bool in_variable = false;
  for (char c : template_text) {
    if (c == '{') in_variable = true;
    if (!in_variable) shape.push_back(c);
    if (c == '}') {
      in_variable = false;
      shape += "{}";
    }
  }
  return shape;
}

std::optional<std::string> PercentDecodeSegment(absl::string_view segment) {
  std::string out;
  out.reserve(segment.size());
  for (size_t i = 0; i < segment.size(); ++i) {
    char c = segment[i];
    if (c == '%') {
      if (i + 2 >= segment.size()) return std::nullopt;
      const int high = HexValue(segment[i + 1]);
      const int low = HexValue(segment[i + 2]);
      if (high < 0 || low < 0) return std::nullopt;
      c = static_cast<char>(high * 16 + low);
      i += 2;
    }
    if (c == '\0') return std::nullopt;
    out.push_back(c);
  }
  return out;
}

absl::StatusOr<PathTemplate> PathTemplate::Parse(absl::string_view text) {
  auto bad = [&](absl::string_view why) {
    return absl::InvalidArgumentError(
        absl::StrCat("path template '", text, "': ", why));
  };
  if (text.size() > kMaxPathBytes) return bad("too long");
  if (text.size() < 2 || text.front() != '/') {
    return bad("must start with '/' and name a resource");
  }
  PathTemplate path;
  path.text_ = std::string(text);
  absl::string_view rest = text.substr(1);
  // The verb follows the last segment: "{id}:publish", "reports:import".
  if (const size_t slash = rest.rfind('/'), colon = rest.rfind(':');
      colon != absl::string_view::npos &&
      (slash == absl::string_view::npos || colon > slash)) {
    const absl::string_view last =
        rest.substr(slash == absl::string_view::npos ? 0 : slash + 1);
    // A colon inside "{...}" is not a verb.
    if (last.find('}') == absl::string_view::npos || colon > rest.rfind('}')) {
      path.verb_ = std::string(rest.substr(colon + 1));
      if (!IsLiteral(path.verb_)) return bad("bad verb");
      rest = rest.substr(0, colon);
    }
  }
  std::vector<absl::string_view> parts = absl::StrSplit(rest, '/');
  if (parts.size() > kMaxPathSegments) return bad("too many segments");
  for (absl::string_view part : parts) {
    Segment segment;
    if (part.size() >= 2 && part.front() == '{' && part.back() == '}') {
      absl::string_view field = part.substr(1, part.size() - 2);
      if (absl::EndsWith(field, "=*")) field.remove_suffix(2);
      if (!IsFieldPath(field)) return bad("bad variable");
      segment.is_variable = true;
      segment.value = std::string(field);
    } else if (IsLiteral(part)) {
      segment.value = std::string(part);
    } else {
      return bad(absl::StrCat("bad segment '", part, "'"));
    }
    path.segments_.push_back(std::move(segment));
  }
  return path;
}

std::optional<PathBindings> PathTemplate::Match(absl::string_view path) const {
  if (path.size() > kMaxPathBytes || path.empty() || path.front() != '/') {
    return std::nullopt;
  }
  absl::string_view rest = path.substr(1);
  if (!verb_.empty()) {
    const std::string suffix = absl::StrCat(":", verb_);
    if (!absl::EndsWith(rest, suffix)) return std::nullopt;
    rest.remove_suffix(suffix.size());
  }
  std::vector<absl::string_view> parts = absl::StrSplit(rest, '/');
  if (parts.size() != segments_.size()) return std::nullopt;
  PathBindings bindings;
  for (size_t i = 0; i < parts.size(); ++i) {
    const Segment& segment = segments_[i];
    if (!segment.is_variable) {
      if (parts[i] != segment.value) return std::nullopt;
      continue;
    }
    if (parts[i].empty()) return std::nullopt;
    std::optional<std::string> value = PercentDecodeSegment(parts[i]);
    if (!value.has_value()) return std::nullopt;
    // Without a verb, a colon in the last variable would be a verb the
    // template does not have.
    if (verb_.empty() && i + 1 == parts.size() &&
        parts[i].find(':') != absl::string_view::npos) {
      return std::nullopt;
    }
    bindings.emplace_back(segment.value, *std::move(value));
  }
  return bindings;
}

std::vector<std::string> PathTemplate::Fields() const {
  std::vector<std::string> fields;
  for (const Segment& segment : segments_) {
    if (segment.is_variable) fields.push_back(segment.value);
  }
  return fields;
}

bool PathTemplate::Overlaps(const PathTemplate& other) const {
  if (verb_ != other.verb_ || segments_.size() != other.segments_.size()) {
    return false;
  }
  for (size_t i = 0; i < segments_.size(); ++i) {
    const Segment& a = segments_[i];
    const Segment& b = other.segments_[i];
    if (!a.is_variable && !b.is_variable && a.value != b.value) return false;
  }
  return true;
}

}  // namespace smz::gateway
