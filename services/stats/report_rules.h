// The statistics service's domain rules, free of storage and transport: what
// a valid monthly report is, its canonical cells, how two revisions differ,
// when a period locks, and the plausibility check of a figure against the
// partner's own history.
//
//   smz::FieldViolations violations;
//   std::vector<Cell> cells = smz::stats::CanonicalCells(report, context,
//                                                        &violations);
//   if (!violations.empty()) return violations.ToStatus();
//   CellDiff diff = smz::stats::DiffCells(stored_cells, cells);
//
// Cells are stored sparsely: a zero cell is the same as an absent one.
#ifndef SMZ_SERVICES_STATS_REPORT_RULES_H_
#define SMZ_SERVICES_STATS_REPORT_RULES_H_

#include <cstdint>
#include <optional>
#include <string>
#include <tuple>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/string_view.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "common/status_util.h"
#include "smz/stats/v1/stats.pb.h"

namespace smz::stats {

using ::smz::stats::v1::Report;

// What a cell counts. Stored as these numbers: never renumber.
enum class Measure : int { kNewPatients = 1, kVisits = 2, kRevenueKrw = 3 };

// One figure of a report. New-patient cells use nationality/sex/age_band;
// visit cells nationality/department/care_type; the revenue cell none.
struct Cell {
  Measure measure = Measure::kVisits;
  std::string nationality;
  std::string department;
  int care_type = 0;
  int sex = 0;
  int age_band = 0;
  int64_t value = 0;

  // Everything but the value, as a comparable tuple.
  auto Key() const {
    return std::tie(measure, nationality, department, care_type, sex, age_band);
  }
  bool SameKey(const Cell& other) const { return Key() == other.Key(); }
  bool operator==(const Cell& other) const {
    return SameKey(other) && value == other.value;
  }
};

// "visits[CN/dermatology/OUTPATIENT]", "new_patients[MN/FEMALE/AGE_20_29]",
// "revenue_krw": how audit entries and warnings name a cell.
std::string CellName(const Cell& cell);

// What validation needs to know besides the report itself.
struct ReportContext {
  // The current month in Asia/Seoul: later periods are in the future.
  absl::CivilMonth current_month;
  // The month of the partner's first designation, if it has one.
  std::optional<absl::CivilMonth> designated_since;
};

// Validates `report` (period, cells, no_activity, revenue) and returns its
// canonical cells: sorted by key, zero cells dropped. Violations name the
// request fields: "report.visits[3].department", "report.period", ...
std::vector<Cell> CanonicalCells(const Report& report,
                                 const ReportContext& context,
                                 FieldViolations* violations);

// Cells back into a report's repeated fields (and revenue_krw).
void SetReportCells(const std::vector<Cell>& cells, Report* report);

// A stable digest of a report's content (cells and no_activity), to tell an
// identical resubmission from a correction.
std::string ContentDigest(const std::vector<Cell>& cells, bool no_activity);

struct CellChange {
  Cell cell;  // key and new value (0 when deleted)
  int64_t old_value = 0;
};

struct CellDiff {
  int created = 0;
  int updated = 0;
  int unchanged = 0;
  int deleted = 0;
  std::vector<CellChange> changes;  // created, updated and deleted cells
};

// Both inputs sorted by key (as CanonicalCells returns them).
CellDiff DiffCells(const std::vector<Cell>& before,
                   const std::vector<Cell>& after);

// The instant a period's submissions close: the start of the day after
// (month end + deadline_days), Asia/Seoul.
absl::Time PeriodDeadline(absl::CivilMonth period, int deadline_days);

// The modified z-score (Iglewicz and Hoaglin) of `value` against `history`;
// nullopt when the history is too short (< kMinHistoryMonths) to judge.
// When the median absolute deviation is 0 it falls back to the mean absolute
// deviation (scaled by 1.2533), and to "any change is an outlier" when that
// is 0 too (returned as +-infinity).
inline constexpr int kMinHistoryMonths = 6;
inline constexpr double kOutlierZScore = 3.5;
struct ZScore {
  double median = 0;
  double score = 0;
};
std::optional<ZScore> ModifiedZScore(std::vector<int64_t> history,
                                     int64_t value);

// The figures the plausibility check compares, month by month, over a
// partner's earlier counted months: each nationality's new patients (all
// sexes and ages) and each visit cell (nationality, department, care type);
// revenue is not checked. A submission reads up to 24 such months, so a
// month is added straight from its stored cells, without copying or
// sorting them into Cells.
//
//   PlausibilityHistory history;
//   for (const Report& earlier : months) history.AddMonth(earlier);
//   std::vector<v1::Warning> warnings = history.WarningsFor(
//       partner_id, month, revision, cells, min_difference);
class PlausibilityHistory {
 public:
  // One earlier month, as stored (its revenue is never read) or as cells.
  void AddMonth(const Report& earlier_month);
  void AddMonth(const std::vector<Cell>& earlier_month);

  // The warnings of the month being checked (`checked_cells`), ordered by
  // cell name: each figure, in the earlier months or in `checked_cells`,
  // that is an outlier (|modified z| > kOutlierZScore) and differs from the
  // median by at least `min_difference`. None with fewer than
  // kMinHistoryMonths earlier months.
  std::vector<v1::Warning> WarningsFor(int64_t partner_id,
                                       absl::CivilMonth month, int revision,
                                       const std::vector<Cell>& checked_cells,
                                       int64_t min_difference) const;

 private:
  // A figure whose text is borrowed from the Cell or stored message it was
  // read from: lookups by it build no string.
  struct FigureView {
    Measure measure;
    absl::string_view nationality;
    absl::string_view department;
    int care_type;
  };
  // A figure as the history keeps it, owning its text.
  struct Figure {
    Measure measure;
    std::string nationality;
    std::string department;
    int care_type;
  };
  // Transparent, so that a map keyed by Figure is searched by FigureView.
  struct FigureHash {
    using is_transparent = void;
    size_t operator()(const FigureView& f) const;
    size_t operator()(const Figure& f) const;
  };
  struct FigureEq {
    using is_transparent = void;
    template <typename A, typename B>
    bool operator()(const A& a, const B& b) const {
      return a.measure == b.measure && a.care_type == b.care_type &&
             absl::string_view(a.nationality) ==
                 absl::string_view(b.nationality) &&
             absl::string_view(a.department) == absl::string_view(b.department);
    }
  };

  // The figure a cell counts towards (new patients: per nationality only).
  static FigureView ViewOf(const Cell& cell);
  void Add(const FigureView& figure, int64_t value);

  absl::flat_hash_map<Figure, size_t, FigureHash, FigureEq> index_;
  std::vector<Figure> figures_;
  // values_[i][m]: figure i in month m. A row is padded with zeros only
  // when its figure next appears (and in WarningsFor), so that adding a
  // month touches that month's cells alone, not every figure seen so far.
  std::vector<std::vector<int64_t>> values_;
  int months_ = 0;
};

// The plausibility warnings of a month's `cells` against `history` (the
// partner's earlier counted months, each as its cells): PlausibilityHistory
// over those months, for callers that hold the months as cells (tests).
std::vector<v1::Warning> PlausibilityWarnings(
    int64_t partner_id, absl::CivilMonth month, int revision,
    const std::vector<Cell>& cells,
    const std::vector<std::vector<Cell>>& history, int64_t min_difference);

// Rows of ImportReports' CSV grouped into reports (one per partner and
// period), each cell remembering its CSV line. Row errors are appended to
// `errors`.
struct ParsedImportReport {
  Report report;
  // CSV line of report.new_patients[i], report.visits[i], revenue, and of
  // the no_activity row.
  std::vector<int> new_patient_lines;
  std::vector<int> visit_lines;
  int revenue_line = 0;
  int no_activity_line = 0;
  int first_line = 0;
};
std::vector<ParsedImportReport> ParseImportCsv(
    absl::string_view csv, std::vector<v1::RowError>* errors);

// The CSV line an import violation such as "report.visits[2].count" refers
// to (the first line of the report when the field names no cell).
int LineOfViolation(const ParsedImportReport& parsed, absl::string_view field);

}  // namespace smz::stats

#endif  // SMZ_SERVICES_STATS_REPORT_RULES_H_
