// Writes a table as an XLSX workbook of one sheet, through Debian's
// libxlsxwriter: the same cells a CsvWriter takes (common/csv.h), numbers
// as numbers and text as text (a spreadsheet never evaluates it, so no
// neutralising is needed), the first row bold and frozen as the header.
//
//   XlsxWriter xlsx("aggregate");
//   xlsx.Row({"bucket", "visits"});
//   xlsx.Row({"2020-07", int64_t{42}});
//   absl::StatusOr<std::string> bytes = std::move(xlsx).Finish();
#ifndef SMZ_COMMON_XLSX_WRITER_H_
#define SMZ_COMMON_XLSX_WRITER_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "common/csv.h"

namespace smz {

// What one sheet holds (Excel's own limit is 1,048,576 rows).
inline constexpr size_t kMaxXlsxRows = 1'000'000;

class XlsxWriter {
 public:
  explicit XlsxWriter(std::string sheet_name, size_t max_rows = kMaxXlsxRows);
  // Rows beyond max_rows are not kept (Finish then refuses).
  void Row(const std::vector<CsvCell>& cells);

  // The workbook's bytes; INVALID_ARGUMENT beyond max_rows rows,
  // INTERNAL when the library cannot write (it writes through a private
  // temporary directory, removed before this returns).
  absl::StatusOr<std::string> Finish() &&;

 private:
  std::string sheet_name_;
  size_t max_rows_;
  size_t row_count_ = 0;
  std::vector<std::vector<CsvCell>> rows_;
};

}  // namespace smz

#endif  // SMZ_COMMON_XLSX_WRITER_H_
