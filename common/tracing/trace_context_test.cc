#include "common/tracing/trace_context.h"

#include <array>
#include <cstdio>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "common/logging.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace smz {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

// Bytes from a script, so that ids are known (and zeros can be forced).
class ScriptedRandom : public RandomSource {
 public:
  explicit ScriptedRandom(std::vector<uint8_t> bytes)
      : bytes_(std::move(bytes)) {}
  void Fill(absl::Span<uint8_t> out) override {
    for (uint8_t& b : out) b = bytes_.empty() ? 0x11 : Next();
  }

 private:
  uint8_t Next() {
    const uint8_t b = bytes_.front();
    bytes_.erase(bytes_.begin());
    return b;
  }
  std::vector<uint8_t> bytes_;
};

constexpr char kExample[] =
    "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

TEST(TraceparentTest, ReadsTheW3cExampleAndWritesItBack) {
  std::optional<TraceContext> trace = ParseTraceparent(kExample);
  ASSERT_TRUE(trace.has_value());
  EXPECT_EQ(trace->TraceIdHex(), "4bf92f3577b34da6a3ce929d0e0e4736");
  EXPECT_EQ(trace->SpanIdHex(), "00f067aa0ba902b7");
  EXPECT_EQ(trace->flags, 1);
  EXPECT_EQ(FormatTraceparent(*trace), kExample);
}

TEST(TraceparentTest, LaterVersionsAreReadByTheirFirstFields) {
  const std::string future =
      "cc-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
  EXPECT_TRUE(ParseTraceparent(future).has_value());
  EXPECT_TRUE(ParseTraceparent(future + "-whatever-comes").has_value());
  EXPECT_FALSE(ParseTraceparent(future + "x").has_value());
}

TEST(TraceparentTest, RefusesWhatIsNotOne) {
  const std::string good = kExample;
  for (const std::string& bad : std::vector<std::string>{
           std::string(),
           good.substr(0, 54),
           good + "-",             // version 00 has exactly four fields
           "ff" + good.substr(2),  // version ff is forbidden
           "0g" + good.substr(2),
           "00-00000000000000000000000000000000-00f067aa0ba902b7-01",
           "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",
           "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01",
           "00_4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
           "00-4bf92f3577b34da6a3ce929d0e0e4736_00f067aa0ba902b7-01",
           "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7_01",
           "00-4bf92f3577b34da6a3ce929d0e0e473 -00f067aa0ba902b7-01",
           "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-0z",
           "cc-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-" +
               std::string(600, 'a'),
       }) {
    EXPECT_FALSE(ParseTraceparent(bad).has_value()) << bad;
  }
}

TEST(TraceparentTest, ContinuesTheParentsTraceWithANewSpan) {
  ScriptedRandom random({});
  const TraceContext child =
      ContinueOrStartTrace(ParseTraceparent(kExample), random);
  EXPECT_EQ(child.TraceIdHex(), "4bf92f3577b34da6a3ce929d0e0e4736");
  EXPECT_EQ(child.SpanIdHex(), "1111111111111111");
  EXPECT_EQ(child.ParentSpanIdHex(), "00f067aa0ba902b7");
  EXPECT_EQ(child.flags, 1);
}

TEST(TraceparentTest, ANewTraceIsNeverAllZero) {
  // The first 16 bytes are zeros: drawn again.
  ScriptedRandom random(std::vector<uint8_t>(16, 0));
  const TraceContext fresh = ContinueOrStartTrace(std::nullopt, random);
  EXPECT_EQ(fresh.TraceIdHex(), std::string(32, '1'));
  EXPECT_EQ(fresh.ParentSpanIdHex(), "");
  EXPECT_EQ(fresh.flags, 0);
  SecureRandom secure;
  EXPECT_NE(ContinueOrStartTrace(std::nullopt, secure).TraceIdHex(),
            ContinueOrStartTrace(std::nullopt, secure).TraceIdHex());
}

TEST(TraceIdRandomTest, IdsDoNotRepeatWithinOrAcrossThreads) {
  // 4 threads x 5,000 traces, each a trace id and a span id: not one id
  // twice.
  constexpr int kThreads = 4;
  constexpr int kPerThread = 5000;
  std::vector<std::vector<std::string>> ids(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&ids, t] {
      TraceIdRandom random;
      for (int i = 0; i < kPerThread; ++i) {
        const TraceContext trace = ContinueOrStartTrace(std::nullopt, random);
        ids[t].push_back(trace.TraceIdHex());
        ids[t].push_back(trace.SpanIdHex());
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  std::set<std::string> distinct;
  for (const auto& of_thread : ids)
    distinct.insert(of_thread.begin(), of_thread.end());
  EXPECT_EQ(distinct.size(), 2u * kThreads * kPerThread);
}

TEST(TraceIdRandomTest, FillsEveryByteOfALengthNotAMultipleOf8) {
  // Each of 13 positions is non-zero in some of 64 draws (a byte that is
  // written is zero in all 64 with chance 2^-512).
  TraceIdRandom random;
  std::array<bool, 13> seen_non_zero{};
  for (int draw = 0; draw < 64; ++draw) {
    std::array<uint8_t, 13> bytes{};
    random.Fill(absl::MakeSpan(bytes));
    for (size_t i = 0; i < bytes.size(); ++i) {
      if (bytes[i] != 0) seen_non_zero[i] = true;
    }
  }
  for (size_t i = 0; i < seen_non_zero.size(); ++i) {
    EXPECT_TRUE(seen_non_zero[i]) << "byte " << i;
  }
}

TEST(ScopedTraceTest, NestsAndFollowsWorkToOtherThreads) {
  EXPECT_EQ(CurrentTrace(), nullptr);
  SecureRandom random;
  const TraceContext outer = ContinueOrStartTrace(std::nullopt, random);
  const TraceContext inner = ContinueOrStartTrace(outer, random);
  {
    ScopedTrace a(outer);
    EXPECT_EQ(CurrentTrace()->SpanIdHex(), outer.SpanIdHex());
    {
      ScopedTrace b(inner);
      EXPECT_EQ(CurrentTrace()->SpanIdHex(), inner.SpanIdHex());
    }
    EXPECT_EQ(CurrentTrace()->SpanIdHex(), outer.SpanIdHex());
    // A thread of its own knows no trace; AsyncInTrace takes it along.
    std::string plain = "unset";
    std::thread([&] {
      plain = CurrentTrace() == nullptr ? "" : "traced";
    }).join();
    EXPECT_EQ(plain, "");
    EXPECT_EQ(AsyncInTrace([] { return CurrentTrace()->SpanIdHex(); }).get(),
              outer.SpanIdHex());
  }
  EXPECT_EQ(CurrentTrace(), nullptr);
  EXPECT_TRUE(AsyncInTrace([] { return CurrentTrace() == nullptr; }).get());
}

TEST(ScopedTraceTest, LogLinesCarryTheTrace) {
  SecureRandom random;
  const TraceContext trace = ContinueOrStartTrace(std::nullopt, random);
  EXPECT_THAT(FormatLogLine(LogLevel::kInfo, "outside", {}),
              Not(HasSubstr("trace_id")));
  {
    ScopedTrace scope(trace);
    EXPECT_THAT(FormatLogLine(LogLevel::kInfo, "inside", {{"k", "v"}}),
                HasSubstr(absl::StrCat("\"msg\":\"inside\",\"trace_id\":\"",
                                       trace.TraceIdHex(), "\",\"span_id\":\"",
                                       trace.SpanIdHex(), "\",\"k\":\"v\"")));
  }
  // A continued trace names the span that called it.
  const TraceContext child = ContinueOrStartTrace(trace, random);
  ScopedTrace scope(child);
  EXPECT_THAT(FormatLogLine(LogLevel::kInfo, "child", {}),
              HasSubstr(absl::StrCat("\"span_id\":\"", child.SpanIdHex(),
                                     "\",\"parent_span_id\":\"",
                                     trace.SpanIdHex(), "\"")));
}

}  // namespace
}  // namespace smz
