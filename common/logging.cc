#include "common/logging.h"

#include <atomic>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "common/tracing/trace_context.h"

namespace smz {
namespace {

std::atomic<std::FILE*> g_sink{nullptr};

absl::string_view LevelName(LogLevel level) {
  switch (level) {
    case LogLevel::kDebug:
      return "debug";
    case LogLevel::kInfo:
      return "info";
    case LogLevel::kWarning:
      return "warning";
    case LogLevel::kError:
      return "error";
  }
  return "info";
}

}  // namespace

void AppendJsonEscaped(std::string* out, absl::string_view text) {
  for (unsigned char c : text) {
    switch (c) {
      case '"':
        out->append("\\\"");
        break;
      case '\\':
        out->append("\\\\");
        break;
      case '\n':
        out->append("\\n");
        break;
      case '\r':
        out->append("\\r");
        break;
      case '\t':
        out->append("\\t");
        break;
      default:
        if (c < 0x20) {
          absl::StrAppendFormat(out, "\\u%04x", c);
        } else {
          out->push_back(static_cast<char>(c));
        }
    }
  }
}

std::string FormatLogLine(LogLevel level, absl::string_view message,
                          std::initializer_list<LogField> fields) {
  std::string line = "{\"ts\":\"";
  line.append(absl::FormatTime("%Y-%m-%dT%H:%M:%E6SZ", absl::Now(),
                               absl::UTCTimeZone()));
  line.append("\",\"level\":\"");
  absl::StrAppend(&line, LevelName(level));
  line.append("\",\"msg\":\"");
  AppendJsonEscaped(&line, message);
  line.push_back('"');
  if (const TraceContext* trace = CurrentTrace()) {
    absl::StrAppend(&line, ",\"trace_id\":\"", trace->TraceIdHex(),
                    "\",\"span_id\":\"", trace->SpanIdHex(), "\"");
    if (const std::string parent = trace->ParentSpanIdHex(); !parent.empty()) {
      absl::StrAppend(&line, ",\"parent_span_id\":\"", parent, "\"");
    }
  }
  for (const auto& [key, value] : fields) {
    line.append(",\"");
    AppendJsonEscaped(&line, key);
    line.append("\":\"");
    AppendJsonEscaped(&line, value);
    line.push_back('"');
  }
  line.append("}\n");
  return line;
}

void Log(LogLevel level, absl::string_view message,
         std::initializer_list<LogField> fields) {
  const std::string line = FormatLogLine(level, message, fields);
  std::FILE* sink = g_sink.load(std::memory_order_relaxed);
  if (sink == nullptr) sink = stderr;
  // One fwrite per line: stdio locks the stream, so concurrent lines never
  // interleave.
  std::fwrite(line.data(), 1, line.size(), sink);
  std::fflush(sink);
}

void SetLogSink(std::FILE* sink) { g_sink.store(sink); }

}  // namespace smz
