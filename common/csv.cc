#include "common/csv.h"

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
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

}  // namespace smz
