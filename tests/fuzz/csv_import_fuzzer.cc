// ImportReports' CSV, as a hospital uploads it: parsed into reports, each
// validated as SubmitReport would, every violation mapped back to a line,
// then the errors packed into a status as the service answers.
#include <cstddef>
#include <cstdint>
#include <vector>

#include "absl/strings/string_view.h"
#include "common/status_util.h"
#include "services/stats/report_rules.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace smz::stats;
  const absl::string_view csv(reinterpret_cast<const char*>(data), size);
  std::vector<v1::RowError> errors;
  std::vector<ParsedImportReport> reports = ParseImportCsv(csv, &errors);
  ReportContext context{absl::CivilMonth(2022, 10), absl::CivilMonth(2019, 1)};
  smz::FieldViolations all;
  for (const ParsedImportReport& parsed : reports) {
    smz::FieldViolations violations;
    std::vector<Cell> cells =
        CanonicalCells(parsed.report, context, &violations);
    for (const smz::FieldViolation& v : violations.violations()) {
      all.Add(std::to_string(LineOfViolation(parsed, v.field)), v.description);
    }
    ContentDigest(cells, parsed.report.no_activity());
  }
  for (const v1::RowError& e : errors) all.Add(e.field(), e.message());
  (void)smz::ToGrpcStatus(all.ToStatus());
  return 0;
}
