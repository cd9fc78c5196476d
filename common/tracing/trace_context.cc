#include "common/tracing/trace_context.h"

#include <algorithm>
#include <cstring>

#include "absl/random/random.h"
#include "absl/strings/escaping.h"
#include "absl/types/span.h"

namespace smz {
namespace {

thread_local std::optional<TraceContext> t_current;

constexpr size_t kMaxTraceparentBytes = 512;

bool IsLowerHex(char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
}

// `hex` (2 × out.size() lowercase hex digits) into `out`.
bool ReadHex(absl::string_view hex, absl::Span<uint8_t> out) {
  if (hex.size() != out.size() * 2) return false;
  for (char c : hex) {
    if (!IsLowerHex(c)) return false;
  }
  for (size_t i = 0; i < out.size(); ++i) {
    auto nibble = [](char c) -> uint8_t {
      return c <= '9' ? c - '0' : c - 'a' + 10;
    };
    out[i] =
        static_cast<uint8_t>(nibble(hex[2 * i]) << 4 | nibble(hex[2 * i + 1]));
  }
  return true;
}

template <size_t N>
bool AllZero(const std::array<uint8_t, N>& bytes) {
  for (uint8_t b : bytes) {
    if (b != 0) return false;
  }
  return true;
}

template <size_t N>
std::string Hex(const std::array<uint8_t, N>& bytes) {
  return absl::BytesToHexString(absl::string_view(
      reinterpret_cast<const char*>(bytes.data()), bytes.size()));
}

}  // namespace

std::string TraceContext::TraceIdHex() const { return Hex(trace_id); }
std::string TraceContext::SpanIdHex() const { return Hex(span_id); }
std::string TraceContext::ParentSpanIdHex() const {
  return AllZero(parent_span_id) ? "" : Hex(parent_span_id);
}

std::optional<TraceContext> ParseTraceparent(absl::string_view value) {
  // version(2) - trace-id(32) - parent-id(16) - flags(2)
  constexpr size_t kVersion00Size = 55;
  if (value.size() < kVersion00Size || value.size() > kMaxTraceparentBytes) {
    return std::nullopt;
  }
  uint8_t version = 0;
  if (!ReadHex(value.substr(0, 2), absl::MakeSpan(&version, 1)) ||
      version == 0xff) {
    return std::nullopt;
  }
  if (version == 0 && value.size() != kVersion00Size) return std::nullopt;
  // A later version may append fields, after a '-'.
  if (value.size() > kVersion00Size && value[kVersion00Size] != '-') {
    return std::nullopt;
  }
  if (value[2] != '-' || value[35] != '-' || value[52] != '-') {
    return std::nullopt;
  }
  TraceContext context;
  if (!ReadHex(value.substr(3, 32), absl::MakeSpan(context.trace_id)) ||
      !ReadHex(value.substr(36, 16), absl::MakeSpan(context.span_id)) ||
      !ReadHex(value.substr(53, 2), absl::MakeSpan(&context.flags, 1))) {
    return std::nullopt;
  }
  if (AllZero(context.trace_id) || AllZero(context.span_id)) {
    return std::nullopt;
  }
  return context;
}

std::string FormatTraceparent(const TraceContext& context) {
  std::string out = "00-";
  out.append(context.TraceIdHex());
  out.push_back('-');
  out.append(context.SpanIdHex());
  out.push_back('-');
  out.append(Hex(std::array<uint8_t, 1>{context.flags}));
  return out;
}

void TraceIdRandom::Fill(absl::Span<uint8_t> out) {
  // One per thread: absl::BitGen is not thread-safe, and a shared one would
  // need the lock this class exists to avoid.
  thread_local absl::BitGen generator;
  size_t i = 0;
  while (i < out.size()) {
    const uint64_t word = absl::Uniform<uint64_t>(generator);
    const size_t n = std::min(out.size() - i, sizeof(word));
    std::memcpy(out.data() + i, &word, n);
    i += n;
  }
}

TraceContext ContinueOrStartTrace(const std::optional<TraceContext>& parent,
                                  RandomSource& random) {
  TraceContext context;
  if (parent.has_value()) {
    context.trace_id = parent->trace_id;
    context.parent_span_id = parent->span_id;
    context.flags = parent->flags;
  } else {
    do {
      random.Fill(absl::MakeSpan(context.trace_id));
    } while (AllZero(context.trace_id));
  }
  do {
    random.Fill(absl::MakeSpan(context.span_id));
  } while (AllZero(context.span_id));
  return context;
}

const TraceContext* CurrentTrace() {
  return t_current.has_value() ? &*t_current : nullptr;
}

ScopedTrace::ScopedTrace(const TraceContext& context) : previous_(t_current) {
  t_current = context;
}

ScopedTrace::ScopedTrace(const std::optional<TraceContext>& context)
    : previous_(t_current) {
  t_current = context;
}

ScopedTrace::~ScopedTrace() { t_current = previous_; }

}  // namespace smz
