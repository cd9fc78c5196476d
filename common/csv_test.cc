#include "common/csv.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace smz {
namespace {

using ::testing::ElementsAre;

TEST(CsvTest, ParsesQuotesCommentsAndCrlf) {
  const std::string text =
      "\xEF\xBB\xBF# a comment\r\n"
      "name_ko,address,area\r\n"
      "김안과병원,영신로 136,3526.6\r\n"
      "계피부과의원,\"영중로 68(본관), 60-1(별관)\",829.8\r\n"
      "\"say \"\"hi\"\"\",\"two\nlines\",\r\n";
  absl::StatusOr<CsvTable> table = ParseCsv(text);
  ASSERT_TRUE(table.ok()) << table.status();
  EXPECT_THAT(table->header, ElementsAre("name_ko", "address", "area"));
  ASSERT_EQ(table->rows.size(), 3u);
  EXPECT_EQ(table->Get(table->rows[1], "address"),
            "영중로 68(본관), 60-1(별관)");
  EXPECT_EQ(table->rows[1].line, 4);
  EXPECT_EQ(table->Get(table->rows[2], "name_ko"), "say \"hi\"");
  EXPECT_EQ(table->Get(table->rows[2], "address"), "two\nlines");
  EXPECT_EQ(table->Get(table->rows[2], "area"), "");
  EXPECT_EQ(table->Get(table->rows[0], "missing"), "");
}

TEST(CsvTest, RejectsUnclosedQuote) {
  absl::StatusOr<CsvTable> table = ParseCsv("a,b\n\"open,2\n");
  EXPECT_EQ(table.status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(CsvTest, RejectsEmptyDocument) {
  EXPECT_FALSE(ParseCsv("# only a comment\n").ok());
}

TEST(CsvWriterTest, NeutralisesFormulasAndStartsWithABom) {
  CsvWriter csv;
  csv.Row({"국적", "count"});
  csv.Row({"=HYPERLINK(\"http://evil\",\"x\")", int64_t{-3}});
  csv.Row({"+1+1", "-1-1", "@SUM(A1)", "\tx", "\rx", "a,b", "<5",
           CsvCell::Decimal(-12.54, 1), "-", "-12.5%", "+3"});
  // After spaces, and in the full-width forms an IME types.
  csv.Row({"  =1+1",
           "\xEF\xBC\x9D"
           "1+1",
           "\xEF\xBC\xA0"
           "SUM(A1)",
           " -3"});
  const std::string file = std::move(csv).Finish();
  EXPECT_EQ(file,
            "\xEF\xBB\xBF국적,count\r\n"
            "\"'=HYPERLINK(\"\"http://evil\"\",\"\"x\"\")\",-3\r\n"
            "'+1+1,'-1-1,'@SUM(A1),'\tx,\"'\rx\",\"a,b\",<5,-12.5,-,-12.5%,+3"
            "\r\n"
            "'  =1+1,'\xEF\xBC\x9D"
            "1+1,'\xEF\xBC\xA0"
            "SUM(A1), -3\r\n");
  // A comment stays one line, and no piece of it is a formula.
  CsvWriter annual;
  annual.Comment("병원, =HYPERLINK(\"x\")\r\nnext");
  annual.Row({"#not a comment", "b"});
  const std::string with_comment = std::move(annual).Finish();
  EXPECT_EQ(with_comment,
            "\xEF\xBB\xBF# 병원,' =HYPERLINK(\"x\")  next\r\n"
            "\"#not a comment\",b\r\n");
  absl::StatusOr<CsvTable> header_only = ParseCsv(with_comment);
  ASSERT_TRUE(header_only.ok());
  EXPECT_EQ(header_only->header[0], "#not a comment");
  // It reads back as written, the BOM skipped.
  absl::StatusOr<CsvTable> table = ParseCsv(file);
  ASSERT_TRUE(table.ok()) << table.status();
  EXPECT_EQ(table->header[0], "국적");
  EXPECT_EQ(table->rows[1].fields[5], "a,b");
}

}  // namespace
}  // namespace smz
