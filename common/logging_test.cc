#include "common/logging.h"

#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace smz {
namespace {

using ::testing::HasSubstr;

// Log output into a file of its own, read back by path (each batch the
// logger writes is fflush'ed, so whatever it has written is in the file).
class LoggingTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char name[] = "/tmp/smz_logging_test_XXXXXX";
    const int fd = ::mkstemp(name);
    ASSERT_GE(fd, 0);
    path_ = name;
    sink_ = ::fdopen(fd, "w");
    ASSERT_NE(sink_, nullptr);
    SetLogSink(sink_);
  }
  void TearDown() override {
    SetLogSink(nullptr);
    std::fclose(sink_);
    ::unlink(path_.c_str());
  }
  std::string Written() const {
    std::ifstream in(path_);
    std::stringstream text;
    text << in.rdbuf();
    return text.str();
  }

  std::string path_;
  std::FILE* sink_ = nullptr;
};

TEST_F(LoggingTest, AWarningOrErrorIsWrittenAtOnceAfterEarlierLines) {
  Log(LogLevel::kInfo, "first");
  Log(LogLevel::kDebug, "second");
  Log(LogLevel::kWarning, "third");
  // No FlushLog: once the warning's Log() returns, all three are written
  // (by it, or the first two by the timer before it), in order.
  const std::string written = Written();
  const size_t first = written.find("\"msg\":\"first\"");
  const size_t second = written.find("\"msg\":\"second\"");
  const size_t third = written.find("\"msg\":\"third\"");
  ASSERT_NE(first, std::string::npos) << written;
  ASSERT_NE(second, std::string::npos) << written;
  ASSERT_NE(third, std::string::npos) << written;
  EXPECT_LT(first, second);
  EXPECT_LT(second, third);
  Log(LogLevel::kError, "fourth");
  EXPECT_THAT(Written(), HasSubstr("\"level\":\"error\",\"msg\":\"fourth\""));
}

TEST_F(LoggingTest, InfoLinesArriveWithoutAFlush) {
  Log(LogLevel::kInfo, "on its own");
  // Within 100 ms as a rule; 10 s so a busy machine cannot fail it.
  const absl::Time deadline = absl::Now() + absl::Seconds(10);
  while (absl::Now() < deadline &&
         Written().find("on its own") == std::string::npos) {
    absl::SleepFor(absl::Milliseconds(10));
  }
  EXPECT_THAT(Written(), HasSubstr("\"msg\":\"on its own\""));
}

TEST_F(LoggingTest, NoMoreThan64KibIsEverLeftUnwritten) {
  // Whatever the timer does meanwhile, once a Log() call returns less than
  // 64 KiB of what was logged is waiting: about 200 KiB in lines of about
  // 1 KiB, and the file holds all but less than 64 KiB of it.
  const std::string filler(1000, 'x');
  size_t logged = 0;
  for (int i = 0; i < 200; ++i) {
    logged += FormatLogLine(LogLevel::kInfo, "bulk",
                            {{"n", absl::StrCat(i)}, {"f", filler}})
                  .size();
    Log(LogLevel::kInfo, "bulk", {{"n", absl::StrCat(i)}, {"f", filler}});
  }
  // (1 KiB of slack, should a line's size differ from the one measured.)
  EXPECT_GT(Written().size() + 64 * 1024 + 1024, logged);
}

TEST_F(LoggingTest, SetLogSinkWritesBufferedLinesToTheOldSink) {
  Log(LogLevel::kInfo, "before the switch");
  char name[] = "/tmp/smz_logging_test_XXXXXX";
  const int fd = ::mkstemp(name);
  ASSERT_GE(fd, 0);
  std::FILE* other = ::fdopen(fd, "w");
  ASSERT_NE(other, nullptr);
  SetLogSink(other);
  EXPECT_THAT(Written(), HasSubstr("before the switch"));
  Log(LogLevel::kInfo, "after the switch");
  SetLogSink(sink_);  // writes "after the switch" to `other`
  std::fclose(other);
  std::ifstream in(name);
  std::stringstream text;
  text << in.rdbuf();
  ::unlink(name);
  EXPECT_THAT(text.str(), HasSubstr("after the switch"));
  EXPECT_EQ(Written().find("after the switch"), std::string::npos);
}

TEST_F(LoggingTest, LinesFromManyThreadsStayWholeAndArriveInEachThreadsOrder) {
  // Every 500th line a warning, so that lines written at once interleave
  // with batched ones.
  constexpr int kThreads = 8;
  constexpr int kLines = 2000;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([t] {
      for (int i = 0; i < kLines; ++i) {
        Log(i % 500 == 0 ? LogLevel::kWarning : LogLevel::kInfo, "line",
            {{"thread", absl::StrCat(t)}, {"i", absl::StrCat(i)}});
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  FlushLog();
  int lines = 0;
  std::vector<int> next(kThreads, 0);  // each thread's lines in its order
  for (absl::string_view line :
       absl::StrSplit(Written(), '\n', absl::SkipEmpty())) {
    ASSERT_TRUE(absl::StartsWith(line, "{\"ts\":\"") &&
                absl::EndsWith(line, "\"}"))
        << line;
    int thread = -1, i = -1;
    ASSERT_NE(line.find("\"thread\""), absl::string_view::npos) << line;
    ASSERT_EQ(
        std::sscanf(std::string(line.substr(line.find("\"thread\""))).c_str(),
                    "\"thread\":\"%d\",\"i\":\"%d\"", &thread, &i),
        2)
        << line;
    ASSERT_GE(thread, 0);
    ASSERT_LT(thread, kThreads);
    EXPECT_EQ(i, next[thread]) << line;
    next[thread] = i + 1;
    ++lines;
  }
  EXPECT_EQ(lines, kThreads * kLines);
}

TEST(LoggingExitTest, ExitWritesTheBufferedLines) {
  // In a child process (re-run from the start, so no thread of this one is
  // copied): an info line, then exit before any timer could write it.
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_EXIT(
      {
        SetLogSink(nullptr);
        Log(LogLevel::kInfo, "said before exit");
        std::exit(0);
      },
      ::testing::ExitedWithCode(0), "said before exit");
}

}  // namespace
}  // namespace smz
