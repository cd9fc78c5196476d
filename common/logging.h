// Structured logs: one JSON object per line on stderr, so that log shippers
// and `jq` can read them. Values are always escaped; callers must never pass
// secrets (tokens, passwords, request bodies) as fields.
//
//   smz::Log(smz::LogLevel::kInfo, "server started",
//            {{"listen", "127.0.0.1:50051"}, {"service", "registry"}});
//
// prints
//   {"ts":"2026-11-23T07:00:00.123456Z","level":"info","msg":"server started",
//    "listen":"127.0.0.1:50051","service":"registry"}
// and, written while a call is handled, its "trace_id" and "span_id" after
// "msg" (common/tracing/trace_context.h).
#ifndef SMZ_COMMON_LOGGING_H_
#define SMZ_COMMON_LOGGING_H_

#include <cstdio>
#include <initializer_list>
#include <string>
#include <utility>

#include "absl/strings/string_view.h"

namespace smz {

enum class LogLevel { kDebug, kInfo, kWarning, kError };

using LogField = std::pair<absl::string_view, absl::string_view>;

void Log(LogLevel level, absl::string_view message,
         std::initializer_list<LogField> fields = {});

// Formats one log line (without writing it); exposed for tests.
std::string FormatLogLine(LogLevel level, absl::string_view message,
                          std::initializer_list<LogField> fields);

// Redirects log output (tests, benchmarks); nullptr restores stderr.
void SetLogSink(std::FILE* sink);

// JSON string escaping, shared with other JSON writers.
void AppendJsonEscaped(std::string* out, absl::string_view text);

}  // namespace smz

#endif  // SMZ_COMMON_LOGGING_H_
