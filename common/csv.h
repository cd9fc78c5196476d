// A small RFC 4180 CSV reader for the spreadsheets partners and the district
// keep: quoted fields with commas, doubled quotes and line breaks; CRLF or LF;
// lines starting with '#' outside quotes are comments; a UTF-8 BOM is skipped.
//
//   absl::StatusOr<smz::CsvTable> table = smz::ParseCsv(text);
//   for (const smz::CsvRow& row : table->rows) {
//     absl::string_view name = table->Get(row, "name_ko");
//   }
#ifndef SMZ_COMMON_CSV_H_
#define SMZ_COMMON_CSV_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace smz {

struct CsvRow {
  int line = 0;  // 1-based line where the row starts, for error messages
  std::vector<std::string> fields;
};

struct CsvTable {
  std::vector<std::string> header;
  std::vector<CsvRow> rows;
  // The field under `column`, "" when the column or the field is missing.
  absl::string_view Get(const CsvRow& row, absl::string_view column) const;
};

// Parses a CSV document whose first non-comment record is the header.
absl::StatusOr<CsvTable> ParseCsv(absl::string_view text);

}  // namespace smz

#endif  // SMZ_COMMON_CSV_H_
