#include "common/logging.h"

#include <pthread.h>
#include <signal.h>

#include <cstdlib>
#include <system_error>
#include <thread>
#include <utility>

#include "absl/base/thread_annotations.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "common/tracing/trace_context.h"

namespace smz {
namespace {

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

// A buffered line waits about this long, and the buffer at most this much,
// before being written.
constexpr absl::Duration kFlushInterval = absl::Milliseconds(100);
constexpr size_t kFlushBytes = 64 * 1024;

// The lines not yet written, and the one sink they go to. Two locks: `mu_`
// guards the buffer and is never held across a write, so that a thread
// logging an info line waits for no I/O while the buffer has room;
// `write_mu_` is held for a whole write, so that batches leave in the order
// their lines were logged. Order of taking: write_mu_, then mu_.
class LogLines {
 public:
  void Buffer(absl::string_view line) ABSL_LOCKS_EXCLUDED(mu_, write_mu_) {
    bool full = false;
    {
      absl::MutexLock lock(&mu_);
      pending_.append(line.data(), line.size());
      if (exiting_) {
        full = true;  // after the exit flush: nobody would write it later
      } else if (pending_.size() >= kFlushBytes) {
        full = true;
      } else if (!flusher_started_) {
        flusher_started_ = StartFlusher();
        if (!flusher_started_) full = true;  // no thread: write it now
      }
    }
    // The thread that filled the buffer writes it (and waits for a write in
    // progress first): the buffer stays near 64 KiB however stuck the sink.
    if (full) Flush();
  }

  void WriteNow(absl::string_view line) ABSL_LOCKS_EXCLUDED(mu_, write_mu_) {
    absl::MutexLock write_lock(&write_mu_);
    WriteBufferedLocked(line);
  }

  void Flush() ABSL_LOCKS_EXCLUDED(mu_, write_mu_) {
    absl::MutexLock write_lock(&write_mu_);
    WriteBufferedLocked();
  }

  void SetSink(std::FILE* sink) ABSL_LOCKS_EXCLUDED(mu_, write_mu_) {
    absl::MutexLock write_lock(&write_mu_);
    WriteBufferedLocked();  // to the old sink
    sink_ = sink;
  }

  // From the atexit handler: what is buffered is written, and so is every
  // info line logged after it (static destructors, threads still running).
  void FlushAtExit() ABSL_LOCKS_EXCLUDED(mu_, write_mu_) {
    {
      absl::MutexLock lock(&mu_);
      exiting_ = true;
    }
    Flush();
  }

 private:
  // Writes what is buffered, then `line`, in one write, in the order they
  // were logged. The buffer's lock is held only to hand the lines over to
  // `taken_` (whose capacity the buffer then reuses), not for the write.
  void WriteBufferedLocked(absl::string_view line = {})
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(write_mu_) ABSL_LOCKS_EXCLUDED(mu_) {
    {
      absl::MutexLock lock(&mu_);
      pending_.append(line.data(), line.size());
      taken_.swap(pending_);
    }
    if (taken_.empty()) return;
    std::FILE* sink = sink_ != nullptr ? sink_ : stderr;
    // A failed write (a full disk, a closed pipe) loses this batch, as it
    // lost one line before batching: there is nowhere left to report it.
    std::fwrite(taken_.data(), 1, taken_.size(), sink);
    std::fflush(sink);
    taken_.clear();
    // A burst's buffer is not kept for the rest of the process's life.
    if (taken_.capacity() > 2 * kFlushBytes) taken_.shrink_to_fit();
  }

  // The flusher, with every signal blocked from its first instruction: it
  // would otherwise inherit the mask of whichever thread logged first, and
  // a signal meant for the process (SIGTERM, which the services wait for
  // on a thread of their own) must never be delivered to it. False when no
  // thread can be made (a pids limit): the caller then writes at once.
  bool StartFlusher() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    sigset_t all, previous;
    sigfillset(&all);
    pthread_sigmask(SIG_BLOCK, &all, &previous);
    bool started = true;
    try {
      // Never joined: it sleeps until lines come, and exit ends it (the
      // atexit handler writes what it had not yet).
      std::thread([this] { FlushPeriodically(); }).detach();
    } catch (const std::system_error&) {
      started = false;
    }
    pthread_sigmask(SIG_SETMASK, &previous, nullptr);
    return started;
  }

  // Wakes when a line is buffered, lets the batch gather for
  // kFlushInterval, writes it; sleeps again while there is nothing.
  void FlushPeriodically() ABSL_LOCKS_EXCLUDED(mu_, write_mu_) {
    while (true) {
      {
        absl::MutexLock lock(&mu_);
        mu_.Await(absl::Condition(
            +[](std::string* pending) { return !pending->empty(); },
            &pending_));
      }
      absl::SleepFor(kFlushInterval);
      Flush();
    }
  }

  absl::Mutex write_mu_ ABSL_ACQUIRED_BEFORE(mu_);
  absl::Mutex mu_;
  std::string pending_ ABSL_GUARDED_BY(mu_);
  bool flusher_started_ ABSL_GUARDED_BY(mu_) = false;
  bool exiting_ ABSL_GUARDED_BY(mu_) = false;
  std::string taken_ ABSL_GUARDED_BY(write_mu_);
  std::FILE* sink_ ABSL_GUARDED_BY(write_mu_) = nullptr;  // nullptr: stderr
};

LogLines& Lines() {
  // Never destroyed, so that Log() while the process exits (other threads,
  // static destructors) is safe.
  static LogLines* const lines = [] {
    auto* created = new LogLines;
    std::atexit([] { Lines().FlushAtExit(); });
    return created;
  }();
  return *lines;
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
  if (level == LogLevel::kWarning || level == LogLevel::kError) {
    Lines().WriteNow(line);
  } else {
    Lines().Buffer(line);
  }
}

void SetLogSink(std::FILE* sink) { Lines().SetSink(sink); }

void FlushLog() { Lines().Flush(); }

}  // namespace smz
