// CSV as the spreadsheets partners and the district keep it (RFC 4180).
//
// The reader: quoted fields with commas, doubled quotes and line breaks;
// CRLF or LF; lines starting with '#' outside quotes are comments; a UTF-8
// BOM is skipped.
//
//   absl::StatusOr<smz::CsvTable> table = smz::ParseCsv(text);
//   for (const smz::CsvRow& row : table->rows) {
//     absl::string_view name = table->Get(row, "name_ko");
//   }
//
// The writer, for every CSV smz hands out: a UTF-8 BOM first (Korean Excel
// otherwise reads the file as CP949), CRLF, quoting where needed (and for a
// leading '#', which readers take for a comment), and text that a
// spreadsheet would run as a formula (a cell starting with = + - @, tab or
// CR, as in a hospital named "=HYPERLINK(...)") prefixed with ' so that it
// stays text. Numbers are written as numbers. What it writes, ParseCsv
// reads back cell for cell.
//
//   smz::CsvWriter csv;
//   csv.Row({"nationality", "count"});
//   csv.Row({"MN", int64_t{12}});
//   csv.Row({"=cmd()", smz::CsvCell::Decimal(-12.5, 1)});  // '=cmd(),-12.5
//   std::string file = std::move(csv).Finish();
#ifndef SMZ_COMMON_CSV_H_
#define SMZ_COMMON_CSV_H_

#include <cstdint>
#include <initializer_list>
#include <optional>
#include <string>
#include <utility>
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

// One cell to write: text (neutralised and quoted as needed) or a number.
// It also keeps what it holds as such, for the same table written as XLSX
// (common/xlsx_writer.h).
class CsvCell {
 public:
  CsvCell(absl::string_view text);   // NOLINT: cells are written as literals
  CsvCell(const std::string& text);  // NOLINT
  CsvCell(const char* text);         // NOLINT
  CsvCell(int64_t number);           // NOLINT
  CsvCell(int number);               // NOLINT
  // A number with `decimals` digits after the point, e.g. -12.5.
  static CsvCell Decimal(double value, int decimals);
  const std::string& encoded() const { return encoded_; }
  // The text as given (not neutralised: XLSX keeps text as text), or the
  // number.
  const std::string& text() const { return text_; }
  const std::optional<double>& number() const { return number_; }

 private:
  struct Raw {};
  CsvCell(Raw, std::string encoded, double number)
      : encoded_(std::move(encoded)), number_(number) {}
  std::string encoded_;
  std::string text_;
  std::optional<double> number_;
};

class CsvWriter {
 public:
  CsvWriter();  // writes the BOM
  // A "# ..." line that ParseCsv skips; line breaks become spaces, and no
  // comma-separated piece of it starts a formula.
  void Comment(absl::string_view text);
  void Row(std::initializer_list<CsvCell> cells);
  void Row(const std::vector<CsvCell>& cells);
  std::string Finish() && { return std::move(out_); }

 private:
  std::string out_;
};

}  // namespace smz

#endif  // SMZ_COMMON_CSV_H_
