// W3C Trace Context (https://www.w3.org/TR/trace-context/) across smz: the
// `traceparent` a call arrives with is continued, or a trace is started, and
// every log line written while handling it carries its `trace_id`, so that
// the dozen backend calls of one council report can be joined with `jq`.
//
// The trace of the running call is thread-local: RpcRunner installs it for
// a handler, the client interceptor (common/clients/call_interceptor.h) sends
// it on every
// call the handler makes, and Log() writes it. Work handed to another
// thread takes it along with AsyncInTrace.
//
//   TraceIdRandom random;  // one per server, shared by its threads
//   std::optional<TraceContext> parent = ParseTraceparent(header);
//   ScopedTrace scope(ContinueOrStartTrace(parent, random));
//   Log(LogLevel::kInfo, "rpc");  // ..."trace_id":"4bf92f35...","span_id":...
//                                 // ,"parent_span_id":... (when continued)
//   auto part = AsyncInTrace([&] { return stub->Call(...); });  // same trace
#ifndef SMZ_COMMON_TRACING_TRACE_CONTEXT_H_
#define SMZ_COMMON_TRACING_TRACE_CONTEXT_H_

#include <array>
#include <cstdint>
#include <future>
#include <optional>
#include <string>
#include <type_traits>
#include <utility>

#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "common/auth/token.h"

namespace smz {

// The header and the gRPC metadata key (lowercase, as gRPC wants it).
inline constexpr absl::string_view kTraceparentHeader = "traceparent";

struct TraceContext {
  std::array<uint8_t, 16> trace_id{};  // never all zero
  std::array<uint8_t, 8> span_id{};    // this process's span; never all zero
  // The span that called this one; all zero when the trace started here.
  std::array<uint8_t, 8> parent_span_id{};
  uint8_t flags = 0;  // bit 0: sampled (passed on as given)

  // 32 and 16 lowercase hex digits.
  std::string TraceIdHex() const;
  std::string SpanIdHex() const;
  // "" when the trace started here.
  std::string ParentSpanIdHex() const;
};

// A `traceparent` value, or nullopt when it is not one (then a new trace
// starts; the W3C rule). Version 00 must be exactly
// "00-<32 hex>-<16 hex>-<2 hex>" in lowercase; a later version (not "ff")
// is read by its first four fields when they are followed by '-' or end the
// value. Bounded: anything over 512 characters is refused unread.
// The returned span_id is the caller's (the parent's).
std::optional<TraceContext> ParseTraceparent(absl::string_view value);

// "00-<trace_id>-<span_id>-<flags>": what this process sends on, naming its
// own span as the parent of the next.
std::string FormatTraceparent(const TraceContext& context);

// Bytes for trace and span ids, which need only be unique across all
// processes (W3C: random) and are no secret (they travel in headers and
// logs). A generator per thread (absl::BitGen, seeded from the operating
// system) costs no lock and no system call per id; OpenSSL's RAND_bytes
// (SecureRandom) took 3.6% of all CPU at 16 callers of the registry's
// WhoAmI ("Trace ids and log lines without a system call each",
// PERFORMANCE.md). Its output is not cryptographically unpredictable:
// never use it for tokens, codes or anything an attacker must not guess
// (SecureRandom is for those). A forked child that does not exec repeats
// its parent's ids.
class TraceIdRandom : public RandomSource {
 public:
  void Fill(absl::Span<uint8_t> out) override;
};

// A span of `parent`'s trace (its flags kept, its span the parent), or of a
// new trace when there is none, with a fresh span id.
TraceContext ContinueOrStartTrace(const std::optional<TraceContext>& parent,
                                  RandomSource& random);

// The trace of the call this thread works for; nullptr outside any.
const TraceContext* CurrentTrace();

// Makes `context` this thread's trace until destroyed (then the previous
// one, so scopes nest).
class ScopedTrace {
 public:
  explicit ScopedTrace(const TraceContext& context);
  // No trace when `context` is nullopt (e.g. AsyncInTrace outside a call).
  explicit ScopedTrace(const std::optional<TraceContext>& context);
  ~ScopedTrace();
  ScopedTrace(const ScopedTrace&) = delete;
  ScopedTrace& operator=(const ScopedTrace&) = delete;

 private:
  std::optional<TraceContext> previous_;
};

// std::async(std::launch::async, fn) that runs `fn` in the caller's trace.
template <typename Fn>
auto AsyncInTrace(Fn&& fn) -> std::future<std::invoke_result_t<Fn&>> {
  std::optional<TraceContext> trace;
  if (const TraceContext* current = CurrentTrace()) trace = *current;
  return std::async(std::launch::async,
                    [trace, fn = std::forward<Fn>(fn)]() mutable {
                      ScopedTrace scope(trace);
                      return fn();
                    });
}

}  // namespace smz

#endif  // SMZ_COMMON_TRACING_TRACE_CONTEXT_H_
