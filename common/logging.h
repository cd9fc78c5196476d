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
//
// Lines at info and debug are written in batches: when 64 KiB have
// gathered, else about 100 ms after the first of them was logged (later on
// a machine too busy to run the flusher on time). Among them is the "rpc"
// line of every call that succeeded or failed with INVALID_ARGUMENT or
// NOT_FOUND; other failures are warnings. A warning or an error is written
// at once, after every line logged before it, so this process's lines keep
// their order ("ts" is when a line was logged, not written). Other writers
// to stderr (gRPC, Abseil) are not batched: to order lines across them,
// sort by "ts".
//
// What is buffered is written by FlushLog(), by SetLogSink() and at exit
// (return from main, std::exit); from exit on, every line is written at
// once. A thread logging an info line waits for no write unless the buffer
// is full. A crash, abort(), _exit or SIGKILL writes nothing more: the info
// lines of about the last 100 ms (at most 64 KiB) are lost, often the "rpc"
// lines of the calls that led to it. Warnings and errors are never held
// back. A forked child must exec (or _exit): it would inherit a copy of the
// buffer and no thread to write it.
//
// Why batch: a write per line took about 3% of all CPU at 16 callers of
// the registry's WhoAmI ("Trace ids and log lines without a system call
// each", PERFORMANCE.md); glog and Envoy's access logs buffer likewise.
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

// Redirects log output (tests, benchmarks); nullptr restores stderr. Lines
// still buffered are written to the old sink first, so the old sink may be
// closed once this returns. Never close the sink while it is set: buffered
// lines are written to it later, from another thread or at exit.
void SetLogSink(std::FILE* sink);

// Writes out the lines still buffered (done by itself at exit).
void FlushLog();

// JSON string escaping, shared with other JSON writers.
void AppendJsonEscaped(std::string* out, absl::string_view text);

}  // namespace smz

#endif  // SMZ_COMMON_LOGGING_H_
