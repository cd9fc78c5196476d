#include "services/stats/report_rules.h"

#include <algorithm>
#include <cassert>
#include <cmath>
#include <limits>
#include <map>

#include "absl/container/flat_hash_map.h"
#include "absl/hash/hash.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/clock.h"
#include "common/csv.h"
#include "common/departments.h"
#include "common/iso_codes.h"
#include "common/request_fields.h"

namespace smz::stats {
namespace {

// Far above any hospital's month; catches typos such as an extra digit
// group before they distort a year's total.
constexpr int64_t kMaxCount = 10'000'000;
constexpr int kMaxCells = 5000;
// A trillion won in a month is beyond any hospital's foreign-patient
// revenue. The bound is what keeps the zone's rollups exact: one hospital's
// figure, however wrong, can never overflow a sum shared with others
// (9.2 million hospitals at this figure would).
constexpr int64_t kMaxRevenueKrw = 1'000'000'000'000;

std::string Indexed(absl::string_view repeated, int index,
                    absl::string_view field) {
  return absl::StrCat("report.", repeated, "[", index, "]",
                      field.empty() ? "" : ".", field);
}

void CheckCount(int64_t count, const std::string& field,
                FieldViolations* violations) {
  if (count < 0) {
    violations->Add(field, absl::StrCat("must be >= 0, got ", count));
  } else if (count > kMaxCount) {
    violations->Add(field, absl::StrCat("must be <= ", kMaxCount, ", got ",
                                        count, " (a typing error?)"));
  }
}

void CheckNationality(absl::string_view code, const std::string& field,
                      FieldViolations* violations) {
  if (!IsCountryCode(code)) {
    violations->Add(field, absl::StrCat("unknown nationality '", code,
                                        "': use ISO 3166-1 alpha-2, e.g. MN"));
  }
}

}  // namespace

std::string CellName(const Cell& cell) {
  switch (cell.measure) {
    case Measure::kNewPatients:
      return absl::StrCat(
          "new_patients[", cell.nationality, "/",
          v1::Sex_Name(static_cast<v1::Sex>(cell.sex)), "/",
          v1::AgeBand_Name(static_cast<v1::AgeBand>(cell.age_band)), "]");
    case Measure::kVisits:
      return absl::StrCat(
          "visits[", cell.nationality, "/", cell.department, "/",
          v1::CareType_Name(static_cast<v1::CareType>(cell.care_type)), "]");
    case Measure::kRevenueKrw:
      return "revenue_krw";
  }
  return "cell";
}

// Long by design: one check per cell and field, in order, so that every bad
// cell is named at once.
std::vector<Cell> CanonicalCells(const Report& report,
                                 const ReportContext& context,
                                 FieldViolations* violations) {
  if (report.partner_id() <= 0) {
    violations->Add("report.partner_id", "is required");
  }
  if (report.period().empty()) {
    violations->Add("report.period", "is required (YYYY-MM)");
  } else if (std::optional<absl::CivilMonth> period =
                 ParseMonth(report.period());
             !period.has_value()) {
    violations->Add("report.period",
                    absl::StrCat("'", report.period(), "' is not YYYY-MM"));
  } else if (*period > context.current_month) {
    violations->Add("report.period",
                    absl::StrCat(report.period(), " is in the future (now ",
                                 FormatMonth(context.current_month), ")"));
  } else if (context.designated_since.has_value() &&
             *period < *context.designated_since) {
    violations->Add(
        "report.period",
        absl::StrCat(report.period(), " is before the partner's designation (",
                     FormatMonth(*context.designated_since), ")"));
  }

  const int total_cells = report.new_patients_size() + report.visits_size();
  if (total_cells > kMaxCells) {
    violations->Add("report", absl::StrCat("has ", total_cells,
                                           " cells; at most ", kMaxCells));
    return {};
  }

  std::vector<Cell> cells;
  cells.reserve(total_cells + 1);
  // Which request index first used each key, to name duplicates.
  std::map<std::tuple<Measure, std::string, std::string, int, int, int>,
           std::string>
      first_use;
  auto remember = [&](const Cell& cell, const std::string& field) {
    auto key = std::make_tuple(cell.measure, cell.nationality, cell.department,
                               cell.care_type, cell.sex, cell.age_band);
    auto [it, inserted] = first_use.emplace(key, field);
    if (!inserted) {
      violations->Add(
          field, absl::StrCat("duplicates ", it->second, " (same cell twice)"));
    }
  };

  // new patients / visits per nationality, for the arithmetic check.
  std::map<std::string, int64_t> new_by_nationality;
  std::map<std::string, int64_t> visits_by_nationality;
  std::map<std::string, int> first_new_index;

  for (int i = 0; i < report.new_patients_size(); ++i) {
    const v1::NewPatientCell& in = report.new_patients(i);
    CheckNationality(in.nationality(),
                     Indexed("new_patients", i, "nationality"), violations);
    if (!v1::Sex_IsValid(in.sex())) {
      violations->Add(Indexed("new_patients", i, "sex"), "unknown value");
    }
    if (!v1::AgeBand_IsValid(in.age_band())) {
      violations->Add(Indexed("new_patients", i, "age_band"), "unknown value");
    }
    CheckCount(in.count(), Indexed("new_patients", i, "count"), violations);
    Cell cell{Measure::kNewPatients, in.nationality(), "", 0, in.sex(),
              in.age_band(),         in.count()};
    remember(cell, Indexed("new_patients", i, ""));
    // Clamped, so that the sums stay defined while bad counts are named.
    new_by_nationality[in.nationality()] +=
        std::clamp<int64_t>(in.count(), 0, kMaxCount + 1);
    first_new_index.emplace(in.nationality(), i);
    cells.push_back(std::move(cell));
  }
  for (int i = 0; i < report.visits_size(); ++i) {
    const v1::VisitCell& in = report.visits(i);
    CheckNationality(in.nationality(), Indexed("visits", i, "nationality"),
                     violations);
    if (!IsDepartmentCode(in.department())) {
      violations->Add(Indexed("visits", i, "department"),
                      absl::StrCat("unknown department '", in.department(),
                                   "' (see the department code list)"));
    }
    if (in.care_type() == v1::CARE_TYPE_UNSPECIFIED ||
        !v1::CareType_IsValid(in.care_type())) {
      violations->Add(Indexed("visits", i, "care_type"),
                      "must be OUTPATIENT, INPATIENT or HEALTH_CHECKUP");
    }
    CheckCount(in.count(), Indexed("visits", i, "count"), violations);
    Cell cell{Measure::kVisits,
              in.nationality(),
              in.department(),
              in.care_type(),
              0,
              0,
              in.count()};
    remember(cell, Indexed("visits", i, ""));
    visits_by_nationality[in.nationality()] +=
        std::clamp<int64_t>(in.count(), 0, kMaxCount + 1);
    cells.push_back(std::move(cell));
  }
  if (report.has_revenue_krw()) {
    if (report.revenue_krw() < 0 || report.revenue_krw() > kMaxRevenueKrw) {
      violations->Add("report.revenue_krw",
                      absl::StrCat("must be 0..", kMaxRevenueKrw, " KRW, got ",
                                   report.revenue_krw(), " (a typing error?)"));
    }
    cells.push_back(
        Cell{Measure::kRevenueKrw, "", "", 0, 0, 0, report.revenue_krw()});
  }

  // Every new patient of the month had a first visit in the month, so a
  // nationality can never have more new patients than visits.
  for (const auto& [nationality, new_patients] : new_by_nationality) {
    const int64_t visits = visits_by_nationality[nationality];
    if (new_patients > visits) {
      violations->Add(
          Indexed("new_patients", first_new_index[nationality], ""),
          absl::StrCat(new_patients, " new patients from ", nationality,
                       " but only ", visits,
                       " visits: each new patient has at least one visit in "
                       "the month of their first visit"));
    }
  }

  cells.erase(std::remove_if(cells.begin(), cells.end(),
                             [](const Cell& c) { return c.value == 0; }),
              cells.end());
  const bool has_patients = std::any_of(
      cells.begin(), cells.end(),
      [](const Cell& c) { return c.measure != Measure::kRevenueKrw; });
  if (report.no_activity() && has_patients) {
    violations->Add("report.no_activity",
                    "a no-activity report must not have non-zero cells");
  } else if (!report.no_activity() && !has_patients) {
    violations->Add("report.no_activity",
                    "a report without patients must say so: set no_activity "
                    "(zero foreign patients this month)");
  }
  std::sort(cells.begin(), cells.end(),
            [](const Cell& a, const Cell& b) { return a.Key() < b.Key(); });
  return cells;
}

void SetReportCells(const std::vector<Cell>& cells, Report* report) {
  report->clear_new_patients();
  report->clear_visits();
  report->clear_revenue_krw();
  for (const Cell& cell : cells) {
    switch (cell.measure) {
      case Measure::kNewPatients: {
        v1::NewPatientCell* out = report->add_new_patients();
        out->set_nationality(cell.nationality);
        out->set_sex(static_cast<v1::Sex>(cell.sex));
        out->set_age_band(static_cast<v1::AgeBand>(cell.age_band));
        out->set_count(cell.value);
        break;
      }
      case Measure::kVisits: {
        v1::VisitCell* out = report->add_visits();
        out->set_nationality(cell.nationality);
        out->set_department(cell.department);
        out->set_care_type(static_cast<v1::CareType>(cell.care_type));
        out->set_count(cell.value);
        break;
      }
      case Measure::kRevenueKrw:
        report->set_revenue_krw(cell.value);
        break;
    }
  }
}

std::string ContentDigest(const std::vector<Cell>& cells, bool no_activity) {
  std::string digest = no_activity ? "N" : "A";
  for (const Cell& cell : cells) {
    absl::StrAppend(&digest, "|", static_cast<int>(cell.measure), ",",
                    cell.nationality, ",", cell.department, ",", cell.care_type,
                    ",", cell.sex, ",", cell.age_band, "=", cell.value);
  }
  return digest;
}

CellDiff DiffCells(const std::vector<Cell>& before,
                   const std::vector<Cell>& after) {
  CellDiff diff;
  size_t i = 0;
  size_t j = 0;
  while (i < before.size() || j < after.size()) {
    if (j == after.size() ||
        (i < before.size() && before[i].Key() < after[j].Key())) {
      Cell gone = before[i];
      gone.value = 0;
      diff.changes.push_back({std::move(gone), before[i].value});
      ++diff.deleted;
      ++i;
    } else if (i == before.size() || after[j].Key() < before[i].Key()) {
      diff.changes.push_back({after[j], 0});
      ++diff.created;
      ++j;
    } else {
      if (before[i].value == after[j].value) {
        ++diff.unchanged;
      } else {
        diff.changes.push_back({after[j], before[i].value});
        ++diff.updated;
      }
      ++i;
      ++j;
    }
  }
  return diff;
}

absl::Time PeriodDeadline(absl::CivilMonth period, int deadline_days) {
  const absl::CivilDay month_end = absl::CivilDay(period + 1) - 1;
  return absl::FromCivil(month_end + deadline_days + 1, SeoulTimeZone());
}

namespace {

// Partially sorts `values` (not empty). Selection rather than a sort: the
// check takes two medians of every figure of every submission.
double Median(std::vector<double>& values) {
  assert(!values.empty());
  const size_t n = values.size();
  const auto upper = values.begin() + n / 2;
  std::nth_element(values.begin(), upper, values.end());
  if (n % 2 == 1) return *upper;
  // Everything before `upper` is now <= it: their largest is the other
  // middle value.
  return (*std::max_element(values.begin(), upper) + *upper) / 2;
}

}  // namespace

std::optional<ZScore> ModifiedZScore(std::vector<int64_t> history,
                                     int64_t value) {
  if (static_cast<int>(history.size()) < kMinHistoryMonths) return std::nullopt;
  std::vector<double> values(history.begin(), history.end());
  const double median = Median(values);
  std::vector<double> deviations;
  deviations.reserve(values.size());
  double mean_deviation = 0;
  for (double v : values) {
    deviations.push_back(std::abs(v - median));
    mean_deviation += std::abs(v - median);
  }
  mean_deviation /= values.size();
  const double mad = Median(deviations);
  const double distance = static_cast<double>(value) - median;
  ZScore z{median, 0};
  if (mad > 0) {
    z.score = 0.6745 * distance / mad;
  } else if (mean_deviation > 0) {
    z.score = distance / (1.253314 * mean_deviation);
  } else if (distance != 0) {
    z.score = distance > 0 ? std::numeric_limits<double>::infinity()
                           : -std::numeric_limits<double>::infinity();
  }
  return z;
}

namespace {

template <typename Enum>
bool ParseEnumColumn(absl::string_view text,
                     bool (*parse)(const std::string&, Enum*), Enum* out) {
  if (text.empty()) {
    *out = static_cast<Enum>(0);
    return true;
  }
  return parse(absl::AsciiStrToUpper(text), out);
}

}  // namespace

// Long by design: a line-by-line parser whose states share the report being
// read.
std::vector<ParsedImportReport> ParseImportCsv(
    absl::string_view csv, std::vector<v1::RowError>* errors) {
  auto error = [&](int line, absl::string_view field, std::string message) {
    v1::RowError& row_error = errors->emplace_back();
    row_error.set_line(line);
    row_error.set_field(std::string(field));
    row_error.set_message(std::move(message));
  };
  std::vector<ParsedImportReport> reports;
  absl::StatusOr<CsvTable> table = ParseCsv(csv);
  if (!table.ok()) {
    error(0, "csv", std::string(table.status().message()));
    return reports;
  }
  // The templates hospitals download head their columns in Korean
  // (web/import_template.*); each name means its English column.
  static constexpr std::pair<absl::string_view, absl::string_view>
      kKoreanColumns[] = {{"기관번호", "partner_id"},
                          {"보고월", "period"},
                          {"구분", "record"},
                          {"국적", "nationality"},
                          {"진료과", "department"},
                          {"진료유형", "care_type"},
                          {"성별", "sex"},
                          {"연령대", "age_band"},
                          {"값", "value"}};
  for (std::string& name : table->header) {
    const std::string trimmed(absl::StripAsciiWhitespace(name));
    for (const auto& [korean, english] : kKoreanColumns) {
      if (trimmed == korean) name = std::string(english);
    }
  }
  for (absl::string_view column :
       {"partner_id", "period", "record", "nationality", "department",
        "care_type", "sex", "age_band", "value"}) {
    const auto count =
        std::count(table->header.begin(), table->header.end(), column);
    if (count == 0) error(0, column, "missing column");
    // Korean and English names of one column would otherwise leave one
    // silently unread.
    if (count > 1) error(0, column, "column given twice");
  }
  if (!errors->empty()) return reports;

  std::map<std::pair<int64_t, std::string>, size_t> index;
  for (const CsvRow& row : table->rows) {
    const int line = row.line;
    int64_t partner_id = 0;
    int64_t value = 0;
    const absl::string_view record = table->Get(row, "record");
    const absl::string_view period = table->Get(row, "period");
    bool ok = true;
    if (!absl::SimpleAtoi(table->Get(row, "partner_id"), &partner_id) ||
        partner_id <= 0) {
      error(line, "partner_id", "must be a partner id");
      ok = false;
    }
    if (!ParseMonth(period)) {
      error(line, "period", absl::StrCat("'", period, "' is not YYYY-MM"));
      ok = false;
    }
    const absl::string_view value_text = table->Get(row, "value");
    if (record != "no_activity" &&
        !absl::SimpleAtoi(absl::StripAsciiWhitespace(value_text), &value)) {
      error(line, "value",
            absl::StrCat("'", value_text, "' is not a whole number"));
      ok = false;
    }
    v1::CareType care_type = v1::CARE_TYPE_UNSPECIFIED;
    v1::Sex sex = v1::SEX_UNSPECIFIED;
    v1::AgeBand age_band = v1::AGE_BAND_UNSPECIFIED;
    if (!ParseEnumColumn(table->Get(row, "care_type"), &v1::CareType_Parse,
                         &care_type)) {
      error(line, "care_type",
            "must be OUTPATIENT, INPATIENT or "
            "HEALTH_CHECKUP");
      ok = false;
    }
    if (!ParseEnumColumn(table->Get(row, "sex"), &v1::Sex_Parse, &sex)) {
      error(line, "sex", "must be FEMALE, MALE or empty");
      ok = false;
    }
    if (!ParseEnumColumn(table->Get(row, "age_band"), &v1::AgeBand_Parse,
                         &age_band)) {
      error(line, "age_band", "must be AGE_0_9 ... AGE_60_PLUS or empty");
      ok = false;
    }
    if (record != "new_patients" && record != "visits" &&
        record != "revenue_krw" && record != "no_activity") {
      error(line, "record",
            absl::StrCat("'", record,
                         "' is not new_patients, visits, revenue_krw or "
                         "no_activity"));
      ok = false;
    }
    if (!ok) continue;

    auto [it, inserted] = index.emplace(
        std::make_pair(partner_id, std::string(period)), reports.size());
    if (inserted) {
      ParsedImportReport& fresh = reports.emplace_back();
      fresh.report.set_partner_id(partner_id);
      fresh.report.set_period(std::string(period));
      fresh.first_line = line;
    }
    ParsedImportReport& parsed = reports[it->second];
    const std::string nationality =
        absl::AsciiStrToUpper(table->Get(row, "nationality"));
    if (record == "new_patients") {
      v1::NewPatientCell* cell = parsed.report.add_new_patients();
      cell->set_nationality(nationality);
      cell->set_sex(sex);
      cell->set_age_band(age_band);
      cell->set_count(value);
      parsed.new_patient_lines.push_back(line);
    } else if (record == "visits") {
      v1::VisitCell* cell = parsed.report.add_visits();
      cell->set_nationality(nationality);
      cell->set_department(std::string(table->Get(row, "department")));
      cell->set_care_type(care_type);
      cell->set_count(value);
      parsed.visit_lines.push_back(line);
    } else if (record == "revenue_krw") {
      if (parsed.revenue_line != 0) {
        error(line, "record",
              absl::StrCat("second revenue_krw row for this report (first on "
                           "line ",
                           parsed.revenue_line, ")"));
        continue;
      }
      parsed.report.set_revenue_krw(value);
      parsed.revenue_line = line;
    } else {
      parsed.report.set_no_activity(true);
      parsed.no_activity_line = line;
    }
  }
  return reports;
}

int LineOfViolation(const ParsedImportReport& parsed, absl::string_view field) {
  auto index_after = [&](absl::string_view prefix) -> std::optional<size_t> {
    if (!absl::StartsWith(field, prefix)) return std::nullopt;
    absl::string_view rest = field.substr(prefix.size());
    const size_t close = rest.find(']');
    size_t i = 0;
    if (close == absl::string_view::npos ||
        !absl::SimpleAtoi(rest.substr(0, close), &i)) {
      return std::nullopt;
    }
    return i;
  };
  if (std::optional<size_t> i = index_after("report.new_patients[");
      i && *i < parsed.new_patient_lines.size()) {
    return parsed.new_patient_lines[*i];
  }
  if (std::optional<size_t> i = index_after("report.visits[");
      i && *i < parsed.visit_lines.size()) {
    return parsed.visit_lines[*i];
  }
  if (field == "report.revenue_krw" && parsed.revenue_line != 0) {
    return parsed.revenue_line;
  }
  if (field == "report.no_activity" && parsed.no_activity_line != 0) {
    return parsed.no_activity_line;
  }
  return parsed.first_line;
}

PlausibilityHistory::FigureView PlausibilityHistory::ViewOf(const Cell& cell) {
  if (cell.measure == Measure::kNewPatients) {
    return FigureView{Measure::kNewPatients, cell.nationality, "", 0};
  }
  return FigureView{cell.measure, cell.nationality, cell.department,
                    cell.care_type};
}

size_t PlausibilityHistory::FigureHash::operator()(const FigureView& f) const {
  return absl::HashOf(static_cast<int>(f.measure), f.nationality, f.department,
                      f.care_type);
}

size_t PlausibilityHistory::FigureHash::operator()(const Figure& f) const {
  return (*this)(
      FigureView{f.measure, f.nationality, f.department, f.care_type});
}

void PlausibilityHistory::Add(const FigureView& figure, int64_t value) {
  auto found = index_.find(figure);
  size_t i;
  if (found != index_.end()) {
    i = found->second;
  } else {
    i = figures_.size();
    figures_.push_back(Figure{figure.measure, std::string(figure.nationality),
                              std::string(figure.department),
                              figure.care_type});
    index_.emplace(figures_.back(), i);
    values_.emplace_back();
  }
  std::vector<int64_t>& values = values_[i];
  if (static_cast<int>(values.size()) < months_) values.resize(months_, 0);
  values[months_ - 1] += value;
}

void PlausibilityHistory::AddMonth(const Report& earlier_month) {
  ++months_;
  // The same figures as ViewOf (the reference test compares both paths).
  for (const v1::NewPatientCell& c : earlier_month.new_patients()) {
    Add(FigureView{Measure::kNewPatients, c.nationality(), "", 0}, c.count());
  }
  for (const v1::VisitCell& c : earlier_month.visits()) {
    Add(FigureView{Measure::kVisits, c.nationality(), c.department(),
                   c.care_type()},
        c.count());
  }
}

void PlausibilityHistory::AddMonth(const std::vector<Cell>& earlier_month) {
  ++months_;
  for (const Cell& cell : earlier_month) {
    if (cell.measure == Measure::kRevenueKrw) continue;
    Add(ViewOf(cell), cell.value);
  }
}

std::vector<v1::Warning> PlausibilityHistory::WarningsFor(
    int64_t partner_id, absl::CivilMonth month, int revision,
    const std::vector<Cell>& checked_cells, int64_t min_difference) const {
  std::vector<v1::Warning> warnings;
  if (months_ < kMinHistoryMonths) return warnings;
  // The checked month's value of each figure of the history, and of the
  // figures the history never had (their earlier months all 0). The views
  // borrow checked_cells' text, which outlives this call.
  std::vector<int64_t> current(figures_.size(), 0);
  absl::flat_hash_map<FigureView, int64_t, FigureHash, FigureEq> new_figures;
  std::vector<FigureView> new_order;  // first seen first: a stable order
  for (const Cell& cell : checked_cells) {
    if (cell.measure == Measure::kRevenueKrw) continue;
    const FigureView figure = ViewOf(cell);
    if (auto found = index_.find(figure); found != index_.end()) {
      current[found->second] += cell.value;
      continue;
    }
    auto [it, inserted] = new_figures.try_emplace(figure, 0);
    if (inserted) new_order.push_back(figure);
    it->second += cell.value;
  }
  auto check = [&](const FigureView& figure, std::vector<int64_t> values,
                   int64_t value) {
    values.resize(months_, 0);  // the months since the figure last appeared
    std::optional<ZScore> z = ModifiedZScore(std::move(values), value);
    if (!z.has_value() || std::abs(z->score) <= kOutlierZScore ||
        std::abs(static_cast<double>(value) - z->median) < min_difference) {
      return;
    }
    v1::Warning& warning = warnings.emplace_back();
    warning.set_partner_id(partner_id);
    warning.set_period(FormatMonth(month));
    warning.set_cell(
        figure.measure == Measure::kNewPatients
            ? absl::StrCat("new_patients[", figure.nationality, "]")
            : CellName(Cell{figure.measure, std::string(figure.nationality),
                            std::string(figure.department), figure.care_type, 0,
                            0, 0}));
    warning.set_value(value);
    warning.set_history_median(z->median);
    warning.set_modified_z_score(
        std::isfinite(z->score) ? z->score : (z->score > 0 ? 99.0 : -99.0));
    warning.set_history_months(months_);
    warning.set_revision(revision);
    warning.set_message(
        absl::StrCat(value, " is far from this partner's usual ", z->median,
                     " (median of ", months_, " months, modified z-score ",
                     absl::SixDigits(warning.modified_z_score()),
                     "); please check it, or confirm it is right"));
  };
  for (size_t i = 0; i < figures_.size(); ++i) {
    const Figure& f = figures_[i];
    check(FigureView{f.measure, f.nationality, f.department, f.care_type},
          values_[i], current[i]);
  }
  for (const FigureView& figure : new_order) {
    check(figure, {}, new_figures[figure]);
  }
  // Warnings were always returned in cell-name order (the page and the
  // stored rows show them so); the maps above have no order. Names are one
  // per figure for cells validation accepts; stable for any others.
  std::stable_sort(warnings.begin(), warnings.end(),
                   [](const v1::Warning& a, const v1::Warning& b) {
                     return a.cell() < b.cell();
                   });
  return warnings;
}

std::vector<v1::Warning> PlausibilityWarnings(
    int64_t partner_id, absl::CivilMonth month, int revision,
    const std::vector<Cell>& cells,
    const std::vector<std::vector<Cell>>& history, int64_t min_difference) {
  PlausibilityHistory months;
  for (const std::vector<Cell>& earlier : history) months.AddMonth(earlier);
  return months.WarningsFor(partner_id, month, revision, cells, min_difference);
}

}  // namespace smz::stats
