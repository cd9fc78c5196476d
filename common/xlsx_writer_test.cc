#include "common/xlsx_writer.h"

#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <string>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace smz {
namespace {

using ::testing::HasSubstr;

// The sheet's XML (strings inline), unpacked by Python's zipfile (a reader
// independent of the writer).
std::string SheetXml(const std::string& xlsx) {
  char path[] = "/tmp/xlsx-writer-test-XXXXXX";
  const int fd = mkstemp(path);
  EXPECT_GE(fd, 0);
  EXPECT_EQ(write(fd, xlsx.data(), xlsx.size()),
            static_cast<ssize_t>(xlsx.size()));
  close(fd);
  const std::string command = absl::StrCat(
      "/usr/bin/python3 -c \"import sys, zipfile; z = "
      "zipfile.ZipFile(sys.argv[1]); "
      "sys.stdout.write(z.read('xl/worksheets/sheet1.xml').decode())\" ",
      path);
  FILE* pipe = popen(command.c_str(), "r");
  std::string out;
  char buffer[4096];
  size_t n;
  while (pipe != nullptr && (n = fread(buffer, 1, sizeof(buffer), pipe)) > 0) {
    out.append(buffer, n);
  }
  if (pipe != nullptr) pclose(pipe);
  std::remove(path);
  return out;
}

TEST(XlsxWriterTest, NumbersStayNumbersAndTextStaysText) {
  XlsxWriter xlsx("aggregate");
  xlsx.Row({"bucket", "nationality", "visits"});
  xlsx.Row({"2020-07", "=HYPERLINK(\"x\")", int64_t{42}});
  xlsx.Row({"2020-08", "MN", CsvCell::Decimal(-12.5, 1)});
  absl::StatusOr<std::string> bytes = std::move(xlsx).Finish();
  ASSERT_TRUE(bytes.ok()) << bytes.status();
  EXPECT_EQ(bytes->substr(0, 2), "PK");
  const std::string xml = SheetXml(*bytes);
  EXPECT_THAT(xml, HasSubstr("<v>42</v>"));
  EXPECT_THAT(xml, HasSubstr("<v>-12.5</v>"));
  // A formula-looking text is a string (inline: the writer streams rows),
  // never a <f> formula.
  EXPECT_THAT(xml, HasSubstr("<t>=HYPERLINK(\"x\")</t>"));
  EXPECT_THAT(xml, ::testing::Not(HasSubstr("<f>")));
}

TEST(XlsxWriterTest, MoreRowsThanASheetHoldsAreRefused) {
  XlsxWriter xlsx("big", /*max_rows=*/3);
  for (int i = 0; i < 4; ++i) xlsx.Row({int64_t{1}});
  absl::StatusOr<std::string> bytes = std::move(xlsx).Finish();
  EXPECT_EQ(bytes.status().code(), absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace smz
