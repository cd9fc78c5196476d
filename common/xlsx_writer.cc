#include "common/xlsx_writer.h"

#include <stdlib.h>
#include <unistd.h>

#include <fstream>

#include "absl/strings/str_cat.h"
#include "xlsxwriter.h"

namespace smz {

XlsxWriter::XlsxWriter(std::string sheet_name, size_t max_rows)
    : sheet_name_(std::move(sheet_name)), max_rows_(max_rows) {}

void XlsxWriter::Row(const std::vector<CsvCell>& cells) {
  if (++row_count_ <= max_rows_) rows_.push_back(cells);
}

absl::StatusOr<std::string> XlsxWriter::Finish() && {
  if (row_count_ > max_rows_) {
    return absl::InvalidArgumentError(
        absl::StrCat("the table has ", row_count_,
                     " rows; an XLSX sheet here holds at most ", max_rows_,
                     ": narrow the query or take the CSV"));
  }
  // libxlsxwriter 1.1 writes only to a file: one in a directory of our own
  // (under $TMPDIR when set).
  const char* tmp = getenv("TMPDIR");
  std::string directory_template = absl::StrCat(
      tmp != nullptr && *tmp != '\0' ? tmp : "/tmp", "/smz-xlsx-XXXXXX");
  char* directory = directory_template.data();
  if (mkdtemp(directory) == nullptr) {
    return absl::InternalError("cannot make a temporary directory for XLSX");
  }
  const std::string path = absl::StrCat(directory, "/table.xlsx");
  lxw_workbook_options options = {};
  options.tmpdir = directory;
  // Rows go to the file as they are written, not all held in memory.
  options.constant_memory = LXW_TRUE;
  lxw_workbook* workbook = workbook_new_opt(path.c_str(), &options);
  lxw_error written = LXW_ERROR_MEMORY_MALLOC_FAILED;
  lxw_worksheet* sheet =
      workbook == nullptr
          ? nullptr
          : workbook_add_worksheet(workbook, sheet_name_.c_str());
  lxw_format* bold =
      workbook == nullptr ? nullptr : workbook_add_format(workbook);
  if (sheet == nullptr || bold == nullptr) {
    if (workbook != nullptr) workbook_close(workbook);
  } else {
    format_set_bold(bold);
    for (size_t r = 0; r < rows_.size(); ++r) {
      lxw_format* format = r == 0 ? bold : nullptr;
      for (size_t c = 0; c < rows_[r].size(); ++c) {
        const CsvCell& cell = rows_[r][c];
        if (cell.number().has_value()) {
          worksheet_write_number(sheet, r, c, *cell.number(), format);
        } else if (!cell.text().empty()) {
          worksheet_write_string(sheet, r, c, cell.text().c_str(), format);
        }
      }
    }
    if (!rows_.empty()) worksheet_freeze_panes(sheet, 1, 0);
    written = workbook_close(workbook);
  }
  std::string bytes;
  if (written == LXW_NO_ERROR) {
    std::ifstream in(path, std::ios::binary | std::ios::ate);
    const std::streamsize size = in.tellg();
    if (size > 0) {
      bytes.resize(static_cast<size_t>(size));
      in.seekg(0);
      in.read(bytes.data(), size);
      if (!in) bytes.clear();
    }
  }
  unlink(path.c_str());
  rmdir(directory);
  if (written != LXW_NO_ERROR || bytes.empty()) {
    return absl::InternalError(
        absl::StrCat("libxlsxwriter: ", lxw_strerror(written)));
  }
  return bytes;
}

}  // namespace smz
