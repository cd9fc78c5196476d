// Writes the monthly-report upload templates hospitals download from their
// upload page, at build time: one XLSX (through Debian's libxlsxwriter) and
// one CSV, from the same columns and example rows, with Korean headers that
// StatsService.ImportReports takes as its English columns. The gateway
// compiles both in (import_template_asset.cc, ImportTemplateXlsx() and
// ImportTemplateCsv()) and serves them at /static/import_template.{xlsx,csv}.
//
//   import_template_gen OUT.xlsx OUT_ASSET.cc
#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "xlsxwriter.h"

namespace {

const std::vector<std::string> kHeader = {"기관번호", "보고월", "구분",
                                          "국적",     "진료과", "진료유형",
                                          "성별",     "연령대", "값"};

// partner id, period, record, nationality, department, care type, sex, age
// band, value.
const std::vector<std::vector<std::string>> kExamples = {
    {"1", "2026-10", "new_patients", "MN", "", "", "FEMALE", "AGE_30_39", "3"},
    {"1", "2026-10", "new_patients", "VN", "", "", "", "", "2"},
    {"1", "2026-10", "visits", "MN", "dermatology", "OUTPATIENT", "", "", "5"},
    {"1", "2026-10", "visits", "VN", "ophthalmology", "INPATIENT", "", "", "2"},
    {"1", "2026-10", "revenue_krw", "", "", "", "", "", "1500000"},
};

const std::vector<std::string> kHelp = {
    "한 행에 한 칸: 기관번호(보고 현황 화면에 있는 번호), 보고월(YYYY-MM), "
    "구분, 값.",
    "구분: new_patients(신규 환자, 국적별, 성별·연령대는 선택), visits(진료 "
    "건수, 국적·진료과·진료유형), revenue_krw(진료 수입, 원), "
    "no_activity(그 달 외국인 환자 없음, 값은 비움).",
    "국적: ISO 두 글자(MN 몽골, VN 베트남, CN 중국, RU 러시아, KZ "
    "카자흐스탄...). 진료과: dermatology, ophthalmology 같은 코드.",
    "진료유형: OUTPATIENT(외래), INPATIENT(입원), HEALTH_CHECKUP(건강검진). "
    "성별: FEMALE, MALE 또는 비움. 연령대: AGE_0_9 ... AGE_60_PLUS 또는 비움.",
    "첫 시트(보고)의 머리행 아래에 씁니다. 아래는 예시입니다. 올리면 먼저 "
    "미리보기로 무엇이 바뀌는지 보여 주고, 확인해야 저장합니다.",
};

// A cell of the CSV template: quoted when it holds a comma or a quote.
std::string CsvField(const std::string& text) {
  if (text.find_first_of(",\"\n") == std::string::npos) return text;
  std::string quoted = "\"";
  for (char c : text) {
    if (c == '"') quoted += '"';
    quoted += c;
  }
  return quoted + "\"";
}

bool WriteXlsx(const char* path) {
  lxw_workbook* workbook = workbook_new(path);
  if (workbook == nullptr) return false;
  lxw_worksheet* data = workbook_add_worksheet(workbook, "보고");
  lxw_worksheet* help = workbook_add_worksheet(workbook, "설명");
  lxw_format* bold = workbook_add_format(workbook);
  format_set_bold(bold);
  // Every cell is text, so that leading zeros and codes stay as typed.
  lxw_format* text = workbook_add_format(workbook);
  format_set_num_format(text, "@");
  for (size_t c = 0; c < kHeader.size(); ++c) {
    worksheet_write_string(data, 0, c, kHeader[c].c_str(), bold);
    worksheet_set_column(data, c, c, c == 2 || c == 4 ? 16 : 12, text);
  }
  worksheet_freeze_panes(data, 1, 0);
  // The examples stand on the help sheet, never among the rows uploaded.
  worksheet_set_column(help, 0, 0, 16, nullptr);
  for (size_t r = 0; r < kHelp.size(); ++r) {
    worksheet_write_string(help, r, 0, kHelp[r].c_str(), nullptr);
  }
  const lxw_row_t first = static_cast<lxw_row_t>(kHelp.size() + 1);
  for (size_t c = 0; c < kHeader.size(); ++c) {
    worksheet_write_string(help, first, c, kHeader[c].c_str(), bold);
  }
  for (size_t r = 0; r < kExamples.size(); ++r) {
    for (size_t c = 0; c < kExamples[r].size(); ++c) {
      if (kExamples[r][c].empty()) continue;
      worksheet_write_string(help, first + 1 + r, c, kExamples[r][c].c_str(),
                             nullptr);
    }
  }
  return workbook_close(workbook) == LXW_NO_ERROR;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 3) {
    std::fprintf(stderr, "usage: %s OUT.xlsx OUT_ASSET.cc\n", argv[0]);
    return 2;
  }
  if (!WriteXlsx(argv[1])) {
    std::fprintf(stderr, "libxlsxwriter could not write %s\n", argv[1]);
    return 1;
  }
  std::ifstream in(argv[1], std::ios::binary);
  std::stringstream bytes;
  bytes << in.rdbuf();
  const std::string xlsx = bytes.str();

  // A UTF-8 byte order mark, so that spreadsheet programs read the Korean
  // headers as UTF-8; the importer skips it.
  std::string csv = "\xEF\xBB\xBF";
  std::vector<std::string> header;
  for (const std::string& name : kHeader) header.push_back(CsvField(name));
  absl::StrAppend(&csv, absl::StrJoin(header, ","), "\r\n");
  for (const std::string& line : kHelp) {
    absl::StrAppend(&csv, "# ", line, "\r\n");
  }
  // The examples as comments, so that a file sent unchanged stores nothing.
  absl::StrAppend(&csv, "# 예시:\r\n");
  for (const auto& row : kExamples) {
    std::vector<std::string> fields;
    for (const std::string& f : row) fields.push_back(CsvField(f));
    absl::StrAppend(&csv, "# ", absl::StrJoin(fields, ","), "\r\n");
  }

  std::ofstream out(argv[2]);
  out << "// Generated by import_template_gen_main.cc.\n"
         "#include \"services/gateway/import_template_asset.h\"\n"
         "namespace smz::gateway {\n"
         "namespace {\n"
         "const unsigned char kXlsx[] = {";
  for (size_t i = 0; i < xlsx.size(); ++i) {
    if (i % 16 == 0) out << "\n   ";
    out << " " << static_cast<int>(static_cast<unsigned char>(xlsx[i])) << ",";
  }
  out << "\n};\nconst char kCsv[] = {";
  for (size_t i = 0; i < csv.size(); ++i) {
    if (i % 16 == 0) out << "\n   ";
    out << " " << static_cast<int>(static_cast<signed char>(csv[i])) << ",";
  }
  out << "\n};\n}  // namespace\n"
         "absl::string_view ImportTemplateXlsx() {\n"
         "  return absl::string_view(reinterpret_cast<const char*>(kXlsx),\n"
         "                           sizeof(kXlsx));\n}\n"
         "absl::string_view ImportTemplateCsv() {\n"
         "  return absl::string_view(kCsv, sizeof(kCsv));\n}\n"
         "}  // namespace smz::gateway\n";
  return out.good() ? 0 : 1;
}
