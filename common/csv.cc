#include "common/csv.h"

#include <algorithm>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/strip.h"

namespace smz {

absl::string_view CsvTable::Get(const CsvRow& row,
                                absl::string_view column) const {
  for (size_t i = 0; i < header.size(); ++i) {
    if (header[i] == column) {
      return i < row.fields.size() ? absl::string_view(row.fields[i])
                                   : absl::string_view();
    }
  }
  return {};
}

absl::StatusOr<CsvTable> ParseCsv(absl::string_view text) {
  absl::ConsumePrefix(&text, "\xEF\xBB\xBF");
  std::vector<CsvRow> records;
  size_t i = 0;
  int line = 1;
  while (i < text.size()) {
    if (text[i] == '#') {  // comment line
      while (i < text.size() && text[i] != '\n') ++i;
      ++i;
      ++line;
      continue;
    }
    if (text[i] == '\n' || (text[i] == '\r' && i + 1 < text.size() &&
                            text[i + 1] == '\n')) {  // blank line
      i += text[i] == '\r' ? 2 : 1;
      ++line;
      continue;
    }
    CsvRow row;
    row.line = line;
    std::string field;
    bool end_of_record = false;
    while (!end_of_record) {
      if (i < text.size() && text[i] == '"') {
        const int quote_line = line;
        ++i;
        while (true) {
          if (i >= text.size()) {
            return absl::InvalidArgumentError(absl::StrCat(
                "line ", quote_line, ": quoted field is never closed"));
          }
          if (text[i] == '"') {
            if (i + 1 < text.size() && text[i + 1] == '"') {
              field.push_back('"');
              i += 2;
              continue;
            }
            ++i;
            break;
          }
          if (text[i] == '\n') ++line;
          field.push_back(text[i++]);
        }
        if (i < text.size() && text[i] != ',' && text[i] != '\n' &&
            text[i] != '\r') {
          return absl::InvalidArgumentError(absl::StrCat(
              "line ", line, ": unexpected text after a quoted field"));
        }
      } else {
        while (
            i < text.size() && text[i] != ',' && text[i] != '\n' &&
            !(text[i] == '\r' && i + 1 < text.size() && text[i + 1] == '\n')) {
          field.push_back(text[i++]);
        }
      }
      row.fields.push_back(std::move(field));
      field.clear();
      if (i >= text.size()) {
        end_of_record = true;
      } else if (text[i] == ',') {
        ++i;
      } else {
        i += text[i] == '\r' ? 2 : 1;
        ++line;
        end_of_record = true;
      }
    }
    records.push_back(std::move(row));
  }
  CsvTable table;
  if (records.empty()) return absl::InvalidArgumentError("CSV has no header");
  table.header = std::move(records.front().fields);
  for (std::string& column : table.header) {
    column = std::string(absl::StripAsciiWhitespace(column));
  }
  records.erase(records.begin());
  table.rows = std::move(records);
  return table;
}

namespace {

// "-", "-12", "+3.5", "-12.5%": a sign that starts no formula.
bool IsPlainNumber(absl::string_view text) {
  if (text == "-") return true;
  size_t i = 1;  // past the sign
  size_t digits = 0;
  while (i < text.size() && absl::ascii_isdigit(text[i])) ++i, ++digits;
  if (i < text.size() && text[i] == '.') {
    ++i;
    while (i < text.size() && absl::ascii_isdigit(text[i])) ++i, ++digits;
  }
  if (i < text.size() && text[i] == '%') ++i;
  return digits > 0 && i == text.size();
}

// Whether a spreadsheet could run `text` as a formula: OWASP's CSV
// injection rule (a leading = + - @ tab or CR), also after leading spaces
// (some spreadsheets trim them) and for the full-width forms ＝＋－＠ that
// East Asian input methods type and some spreadsheets read as the ASCII
// ones.
bool LooksLikeFormula(absl::string_view text) {
  const absl::string_view trimmed =
      text.substr(std::min(text.find_first_not_of(' '), text.size()));
  if (trimmed.empty()) return false;
  const char c = trimmed[0];
  if (c == '=' || c == '@' || c == '\t' || c == '\r') return true;
  if (c == '+' || c == '-') return !IsPlainNumber(trimmed);
  for (absl::string_view wide :
       {"\xEF\xBC\x9D", "\xEF\xBC\x8B", "\xEF\xBC\x8D", "\xEF\xBC\xA0"}) {
    if (absl::StartsWith(trimmed, wide)) return true;
  }
  return false;
}

std::string EncodeText(absl::string_view text) {
  std::string cell;
  if (LooksLikeFormula(text)) cell.push_back('\'');
  cell.append(text.data(), text.size());
  // Quoted when a reader would split it, or (leading '#') take its line
  // for a comment.
  if (cell.find_first_of(",\"\r\n") == std::string::npos &&
      (cell.empty() || cell[0] != '#')) {
    return cell;
  }
  std::string quoted = "\"";
  for (char c : cell) {
    if (c == '"') quoted.push_back('"');
    quoted.push_back(c);
  }
  quoted.push_back('"');
  return quoted;
}

}  // namespace

CsvCell::CsvCell(absl::string_view text)
    : encoded_(EncodeText(text)), text_(text) {}
CsvCell::CsvCell(const std::string& text)
    : encoded_(EncodeText(text)), text_(text) {}
CsvCell::CsvCell(const char* text) : encoded_(EncodeText(text)), text_(text) {}
CsvCell::CsvCell(int64_t number)
    : encoded_(absl::StrCat(number)), number_(static_cast<double>(number)) {}
CsvCell::CsvCell(int number)
    : encoded_(absl::StrCat(number)), number_(number) {}

CsvCell CsvCell::Decimal(double value, int decimals) {
  const std::string encoded = absl::StrFormat("%.*f", decimals, value);
  double rounded = value;
  (void)absl::SimpleAtod(encoded, &rounded);
  return CsvCell(Raw{}, encoded, rounded);
}

CsvWriter::CsvWriter() : out_("\xEF\xBB\xBF") {}

void CsvWriter::Comment(absl::string_view text) {
  out_ += "# ";
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (c == '\r' || c == '\n') {
      out_.push_back(' ');
      continue;
    }
    out_.push_back(c);
    if (c != ',') continue;
    // A spreadsheet opens the line as cells: none may start a formula.
    size_t next = i + 1;
    while (next < text.size() && text[next] == ' ') ++next;
    if (next < text.size() &&
        (text[next] == '=' || text[next] == '+' || text[next] == '-' ||
         text[next] == '@' || text[next] == '\t')) {
      out_.push_back('\'');
    }
  }
  out_ += "\r\n";
}

void CsvWriter::Row(std::initializer_list<CsvCell> cells) {
  Row(std::vector<CsvCell>(cells));
}

void CsvWriter::Row(const std::vector<CsvCell>& cells) {
  for (size_t i = 0; i < cells.size(); ++i) {
    if (i > 0) out_.push_back(',');
    out_ += cells[i].encoded();
  }
  out_ += "\r\n";
}

}  // namespace smz
