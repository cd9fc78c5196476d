#include "services/stats/report_rules.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <numeric>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/civil_time.h"
#include "common/clock.h"
#include "common/request_fields.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace smz::stats {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;
using ::testing::UnorderedElementsAre;

ReportContext Context() {
  return ReportContext{absl::CivilMonth(2020, 12), absl::CivilMonth(2018, 1)};
}

Report Sample() {
  Report report;
  report.set_partner_id(3);
  report.set_period("2020-07");
  v1::NewPatientCell* n = report.add_new_patients();
  n->set_nationality("MN");
  n->set_count(3);
  v1::VisitCell* v = report.add_visits();
  v->set_nationality("MN");
  v->set_department("dermatology");
  v->set_care_type(v1::OUTPATIENT);
  v->set_count(2);
  v = report.add_visits();
  v->set_nationality("MN");
  v->set_department("plastic_surgery");
  v->set_care_type(v1::OUTPATIENT);
  v->set_count(1);
  return report;
}

std::vector<std::string> Fields(const FieldViolations& violations) {
  std::vector<std::string> fields;
  for (const FieldViolation& v : violations.violations()) {
    fields.push_back(v.field);
  }
  return fields;
}

TEST(ReportRulesTest, OnePatientInTwoDepartmentsIsOneNewPatientAndTwoVisits) {
  Report report = Sample();
  report.mutable_new_patients(0)->set_count(1);
  FieldViolations violations;
  std::vector<Cell> cells = CanonicalCells(report, Context(), &violations);
  EXPECT_TRUE(violations.empty()) << violations.ToStatus();
  ASSERT_EQ(cells.size(), 3u);
  EXPECT_EQ(cells[0].measure, Measure::kNewPatients);
  EXPECT_EQ(cells[0].value, 1);
}

TEST(ReportRulesTest, MoreNewPatientsThanVisitsIsRejected) {
  FieldViolations violations;
  CanonicalCells(Sample(), Context(), &violations);  // 3 new, 3 visits: fine
  EXPECT_TRUE(violations.empty());
  Report report = Sample();
  report.mutable_new_patients(0)->set_count(4);
  CanonicalCells(report, Context(), &violations);
  EXPECT_THAT(Fields(violations), ElementsAre("report.new_patients[0]"));
}

TEST(ReportRulesTest, NamesEveryBadCell) {
  Report report = Sample();
  report.set_period("2021-01");  // after the current month
  report.mutable_new_patients(0)->set_nationality("XX");
  report.mutable_visits(0)->set_department("astrology");
  report.mutable_visits(0)->set_count(-2);
  report.mutable_visits(1)->set_care_type(v1::CARE_TYPE_UNSPECIFIED);
  report.set_revenue_krw(-1);
  FieldViolations violations;
  CanonicalCells(report, Context(), &violations);
  EXPECT_THAT(Fields(violations),
              UnorderedElementsAre(
                  "report.period", "report.new_patients[0].nationality",
                  "report.visits[0].department", "report.visits[0].count",
                  "report.visits[1].care_type", "report.revenue_krw",
                  // XX has 3 new patients and no visits
                  "report.new_patients[0]"));
}

TEST(ReportRulesTest, PeriodBeforeDesignationAndMalformed) {
  Report report = Sample();
  report.set_period("2017-12");
  FieldViolations violations;
  CanonicalCells(report, Context(), &violations);
  ASSERT_EQ(violations.size(), 1u);
  EXPECT_THAT(violations.violations()[0].description,
              ::testing::HasSubstr("before the partner's designation"));
  for (const char* bad : {"2020-13", "2020-7", "20-07", ""}) {
    FieldViolations v;
    report.set_period(bad);
    CanonicalCells(report, Context(), &v);
    EXPECT_THAT(Fields(v), ElementsAre("report.period")) << bad;
  }
}

TEST(ReportRulesTest, DuplicateCellsAreNamed) {
  Report report = Sample();
  *report.add_visits() = report.visits(0);
  FieldViolations violations;
  CanonicalCells(report, Context(), &violations);
  EXPECT_THAT(Fields(violations), ElementsAre("report.visits[2]"));
}

TEST(ReportRulesTest, NoActivityIsExplicitAndExclusive) {
  Report empty;
  empty.set_partner_id(3);
  empty.set_period("2020-07");
  FieldViolations violations;
  CanonicalCells(empty, Context(), &violations);
  EXPECT_THAT(Fields(violations), ElementsAre("report.no_activity"));

  empty.set_no_activity(true);
  FieldViolations ok;
  EXPECT_THAT(CanonicalCells(empty, Context(), &ok), IsEmpty());
  EXPECT_TRUE(ok.empty());

  Report both = Sample();
  both.set_no_activity(true);
  FieldViolations conflict;
  CanonicalCells(both, Context(), &conflict);
  EXPECT_THAT(Fields(conflict), ElementsAre("report.no_activity"));
}

TEST(ReportRulesTest, DiffCountsCreatedUpdatedUnchangedDeleted) {
  FieldViolations violations;
  std::vector<Cell> before = CanonicalCells(Sample(), Context(), &violations);
  Report next = Sample();
  next.mutable_visits(0)->set_count(5);      // updated
  next.mutable_visits()->RemoveLast();       // deleted
  v1::VisitCell* added = next.add_visits();  // created
  added->set_nationality("VN");
  added->set_department("checkup_center");
  added->set_care_type(v1::HEALTH_CHECKUP);
  added->set_count(1);
  std::vector<Cell> after = CanonicalCells(next, Context(), &violations);
  ASSERT_TRUE(violations.empty()) << violations.ToStatus();
  CellDiff diff = DiffCells(before, after);
  EXPECT_EQ(diff.created, 1);
  EXPECT_EQ(diff.updated, 1);
  EXPECT_EQ(diff.unchanged, 1);
  EXPECT_EQ(diff.deleted, 1);
  EXPECT_EQ(diff.changes.size(), 3u);
  EXPECT_EQ(DiffCells(after, after).changes.size(), 0u);
  EXPECT_EQ(ContentDigest(after, false), ContentDigest(after, false));
  EXPECT_NE(ContentDigest(before, false), ContentDigest(after, false));
}

TEST(ReportRulesTest, DeadlineIsStartOfDayAfterMonthEndPlusDays) {
  const absl::Time deadline = PeriodDeadline(absl::CivilMonth(2020, 2), 10);
  EXPECT_EQ(deadline,
            absl::FromCivil(absl::CivilDay(2020, 3, 11), SeoulTimeZone()));
  EXPECT_EQ(PeriodDeadline(absl::CivilMonth(2020, 12), 0),
            absl::FromCivil(absl::CivilDay(2021, 1, 1), SeoulTimeZone()));
}

TEST(ReportRulesTest, ModifiedZScoreFlagsOutliersOnly) {
  EXPECT_FALSE(ModifiedZScore({10, 11, 12}, 500).has_value());  // too short
  std::optional<ZScore> usual =
      ModifiedZScore({10, 12, 11, 9, 10, 13, 11, 10}, 12);
  ASSERT_TRUE(usual.has_value());
  EXPECT_LT(std::abs(usual->score), kOutlierZScore);
  std::optional<ZScore> spike =
      ModifiedZScore({10, 12, 11, 9, 10, 13, 11, 10}, 110);
  ASSERT_TRUE(spike.has_value());
  EXPECT_GT(spike->score, kOutlierZScore);
  EXPECT_DOUBLE_EQ(spike->median, 10.5);
  // Constant history: any change is an outlier.
  std::optional<ZScore> flat = ModifiedZScore({4, 4, 4, 4, 4, 4}, 40);
  ASSERT_TRUE(flat.has_value());
  EXPECT_TRUE(std::isinf(flat->score));
}

TEST(ReportRulesTest, ImportCsvGroupsRowsAndReportsRowErrors) {
  const char* csv =
      "partner_id,period,record,nationality,department,care_type,sex,"
      "age_band,value\n"
      "3,2020-07,new_patients,mn,,,female,AGE_20_29,2\n"
      "3,2020-07,visits,MN,dermatology,OUTPATIENT,,,4\n"
      "3,2020-08,no_activity,,,,,,\n"
      "x,2020-08,visits,MN,dermatology,OUTPATIENT,,,1\n"
      "3,2020-09,visits,MN,dermatology,WALK_IN,,,one\n";
  std::vector<v1::RowError> errors;
  std::vector<ParsedImportReport> reports = ParseImportCsv(csv, &errors);
  ASSERT_EQ(reports.size(), 2u);
  EXPECT_EQ(reports[0].report.new_patients(0).nationality(), "MN");
  EXPECT_EQ(reports[0].report.new_patients(0).sex(), v1::FEMALE);
  EXPECT_EQ(reports[0].visit_lines, std::vector<int>{3});
  EXPECT_TRUE(reports[1].report.no_activity());
  std::vector<std::string> where;
  for (const v1::RowError& e : errors) {
    where.push_back(absl::StrCat(e.line(), ":", e.field()));
  }
  EXPECT_THAT(where, ElementsAre("5:partner_id", "6:value", "6:care_type"));
}

TEST(ReportRulesTest, ImportCsvTakesTheTemplatesKoreanColumnNames) {
  const char* csv =
      "\xEF\xBB\xBF기관번호,보고월,구분,국적,진료과,진료유형,성별,연령대,값\n"
      "# 구분: new_patients, visits, revenue_krw, no_activity\n"
      "3,2020-07,visits,MN,dermatology,OUTPATIENT,,,4\n";
  std::vector<v1::RowError> errors;
  std::vector<ParsedImportReport> reports = ParseImportCsv(csv, &errors);
  EXPECT_THAT(errors, ::testing::IsEmpty());
  ASSERT_EQ(reports.size(), 1u);
  EXPECT_EQ(reports[0].report.visits(0).count(), 4);
  EXPECT_EQ(reports[0].visit_lines, std::vector<int>{3});

  // One column under both names is refused, not half read.
  errors.clear();
  ParseImportCsv(
      "기관번호,partner_id,보고월,구분,국적,진료과,진료유형,성별,연령대,값\n",
      &errors);
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0].field(), "partner_id");
  EXPECT_EQ(errors[0].message(), "column given twice");
}

TEST(PlausibilityWarningsTest, FlagsAnOutlierAgainstEnoughHistoryOnly) {
  const Cell usual{Measure::kNewPatients, "MN", "", 0, 0, 0, 10};
  std::vector<std::vector<Cell>> history;
  for (int i = 0; i < kMinHistoryMonths; ++i) history.push_back({usual});
  Cell spike = usual;
  spike.value = 400;
  const absl::CivilMonth month(2026, 2);
  std::vector<v1::Warning> warnings =
      PlausibilityWarnings(7, month, 2, {spike}, history, 5);
  ASSERT_EQ(warnings.size(), 1u);
  EXPECT_EQ(warnings[0].cell(), "new_patients[MN]");
  EXPECT_EQ(warnings[0].value(), 400);
  EXPECT_EQ(warnings[0].history_median(), 10);
  EXPECT_EQ(warnings[0].period(), "2026-02");
  EXPECT_EQ(warnings[0].revision(), 2);
  // Usual figures, and too short a history, warn of nothing.
  EXPECT_THAT(PlausibilityWarnings(7, month, 2, {usual}, history, 5),
              IsEmpty());
  history.pop_back();
  EXPECT_THAT(PlausibilityWarnings(7, month, 2, {spike}, history, 5),
              IsEmpty());
}

// The check as first written, kept as the reference PlausibilityHistory
// must agree with: medians by a full sort, and a map from each figure's
// name to its months.
double ReferenceMedian(std::vector<double> values) {
  std::sort(values.begin(), values.end());
  const size_t n = values.size();
  return n % 2 == 1 ? values[n / 2] : (values[n / 2 - 1] + values[n / 2]) / 2;
}

// Iglewicz and Hoaglin's modified z-score, written out from its definition.
std::optional<ZScore> ReferenceZScore(const std::vector<int64_t>& history,
                                      int64_t value) {
  if (static_cast<int>(history.size()) < kMinHistoryMonths) return std::nullopt;
  const std::vector<double> x(history.begin(), history.end());
  const double m = ReferenceMedian(x);
  std::vector<double> d;
  for (double v : x) d.push_back(std::abs(v - m));
  const double mad = ReferenceMedian(d);
  const double mean_ad = std::accumulate(d.begin(), d.end(), 0.0) / d.size();
  const double diff = static_cast<double>(value) - m;
  double score = 0;
  if (mad > 0) {
    score = 0.6745 * diff / mad;
  } else if (mean_ad > 0) {
    score = diff / (1.253314 * mean_ad);
  } else if (diff != 0) {
    score = std::copysign(std::numeric_limits<double>::infinity(), diff);
  }
  return ZScore{m, score};
}

std::vector<v1::Warning> ReferenceWarnings(
    int64_t partner_id, absl::CivilMonth month, int revision,
    const std::vector<Cell>& cells,
    const std::vector<std::vector<Cell>>& history, int64_t min_difference) {
  std::vector<v1::Warning> warnings;
  if (static_cast<int>(history.size()) < kMinHistoryMonths) return warnings;
  std::map<std::string, std::vector<int64_t>> series;
  auto series_for = [&](const std::string& name) -> std::vector<int64_t>& {
    std::vector<int64_t>& values = series[name];
    if (values.empty()) values.assign(history.size(), 0);
    return values;
  };
  auto figure_name = [](const Cell& cell) {
    if (cell.measure == Measure::kNewPatients) {
      return absl::StrCat("new_patients[", cell.nationality, "]");
    }
    return CellName(Cell{Measure::kVisits, cell.nationality, cell.department,
                         cell.care_type, 0, 0, 0});
  };
  for (size_t i = 0; i < history.size(); ++i) {
    for (const Cell& cell : history[i]) {
      if (cell.measure == Measure::kRevenueKrw) continue;
      series_for(figure_name(cell))[i] += cell.value;
    }
  }
  std::map<std::string, int64_t> current;
  for (const Cell& cell : cells) {
    if (cell.measure == Measure::kRevenueKrw) continue;
    const std::string name = figure_name(cell);
    current[name] += cell.value;
    series_for(name);
  }
  for (const auto& [name, values] : series) {
    const int64_t value = current.count(name) ? current[name] : 0;
    std::optional<ZScore> z = ReferenceZScore(values, value);
    if (!z.has_value() || std::abs(z->score) <= kOutlierZScore ||
        std::abs(static_cast<double>(value) - z->median) < min_difference) {
      continue;
    }
    v1::Warning& warning = warnings.emplace_back();
    warning.set_partner_id(partner_id);
    warning.set_period(FormatMonth(month));
    warning.set_cell(name);
    warning.set_value(value);
    warning.set_history_median(z->median);
    warning.set_modified_z_score(
        std::isfinite(z->score) ? z->score : (z->score > 0 ? 99.0 : -99.0));
    warning.set_history_months(static_cast<int>(values.size()));
    warning.set_revision(revision);
    warning.set_message(absl::StrCat(
        value, " is far from this partner's usual ", z->median, " (median of ",
        values.size(), " months, modified z-score ",
        absl::SixDigits(warning.modified_z_score()),
        "); please check it, or confirm it is right"));
  }
  return warnings;
}

// A month's cells drawn from `random`: a few nationalities' new patients by
// sex and age, visits by department and care type, now and then revenue;
// figures come and go between months, and about one cell in ten spikes.
std::vector<Cell> RandomMonth(std::mt19937& random) {
  static const char* const kNationalities[] = {"CN", "MN", "US", "VN", "JP"};
  static const char* const kDepartments[] = {"dermatology", "orthopedics",
                                             "obstetrics_gynecology"};
  auto pick = [&](int n) {
    return std::uniform_int_distribution<int>(0, n - 1)(random);
  };
  auto count = [&]() -> int64_t {
    const int64_t usual = 5 + pick(20);
    return pick(10) == 0 ? usual * (2 + pick(30)) : usual;
  };
  std::vector<Cell> cells;
  for (const char* nationality : kNationalities) {
    if (pick(4) == 0) continue;
    for (int sex = 1; sex <= 2; ++sex) {
      if (pick(3) == 0) continue;
      cells.push_back(Cell{Measure::kNewPatients, nationality, "", 0, sex,
                           1 + pick(8), count()});
    }
    for (const char* department : kDepartments) {
      if (pick(3) == 0) continue;
      cells.push_back(Cell{Measure::kVisits, nationality, department,
                           1 + pick(3), 0, 0, count()});
    }
  }
  if (pick(2) == 0) {
    cells.push_back(Cell{Measure::kRevenueKrw, "", "", 0, 0, 0, 1000000});
  }
  // As stored: one cell per key, in key order.
  std::sort(cells.begin(), cells.end(),
            [](const Cell& a, const Cell& b) { return a.Key() < b.Key(); });
  cells.erase(
      std::unique(cells.begin(), cells.end(),
                  [](const Cell& a, const Cell& b) { return a.SameKey(b); }),
      cells.end());
  return cells;
}

std::vector<std::string> Described(const std::vector<v1::Warning>& warnings) {
  std::vector<std::string> described;
  for (const v1::Warning& w : warnings) described.push_back(w.DebugString());
  return described;
}

// Both ways in: months as cells (PlausibilityWarnings) and months as stored
// reports, parsed into one message in turn as ComputeWarnings does.
TEST(PlausibilityHistoryTest, AgreesWithTheReferenceFromCellsAndFromReports) {
  constexpr int64_t kPartnerId = 9;
  constexpr int kRevision = 3;
  constexpr int64_t kMinDifference = 5;
  std::mt19937 random(20261206);
  const absl::CivilMonth month(2026, 11);
  int warned = 0;
  Report parsed;  // reused for every month, as in ComputeWarnings
  for (int round = 0; round < 400; ++round) {
    const int months = 4 + round % 22;  // below and above kMinHistoryMonths
    std::vector<std::vector<Cell>> history;
    PlausibilityHistory from_reports;
    for (int m = 0; m < months; ++m) {
      history.push_back(RandomMonth(random));
      Report stored;
      SetReportCells(history.back(), &stored);
      ASSERT_TRUE(parsed.ParseFromString(stored.SerializeAsString()));
      from_reports.AddMonth(parsed);
    }
    const std::vector<Cell> cells = RandomMonth(random);
    const std::vector<v1::Warning> expected = ReferenceWarnings(
        kPartnerId, month, kRevision, cells, history, kMinDifference);
    warned += static_cast<int>(expected.size());
    EXPECT_EQ(Described(PlausibilityWarnings(kPartnerId, month, kRevision,
                                             cells, history, kMinDifference)),
              Described(expected))
        << "round " << round;
    EXPECT_EQ(Described(from_reports.WarningsFor(kPartnerId, month, kRevision,
                                                 cells, kMinDifference)),
              Described(expected))
        << "round " << round;
  }
  // The rounds exercised warnings, not only their absence.
  EXPECT_GT(warned, 100);
}

TEST(PlausibilityHistoryTest, ChecksFiguresOnlyTheHistoryOrOnlyTheMonthHas) {
  PlausibilityHistory history;
  const Cell usual{Measure::kVisits, "CN", "dermatology", 1, 0, 0, 40};
  for (int i = 0; i < kMinHistoryMonths; ++i) history.AddMonth({usual});
  const Cell newcomer{Measure::kNewPatients, "VN", "", 0, 1, 3, 30};
  std::vector<v1::Warning> warnings =
      history.WarningsFor(4, absl::CivilMonth(2026, 1), 1, {newcomer}, 5);
  // Dermatology stopped (0 against 40), Vietnam started (30 against 0).
  ASSERT_EQ(warnings.size(), 2u);
  EXPECT_EQ(warnings[0].cell(), "new_patients[VN]");
  EXPECT_EQ(warnings[0].value(), 30);
  EXPECT_EQ(warnings[0].history_median(), 0);
  EXPECT_EQ(warnings[1].cell(), "visits[CN/dermatology/OUTPATIENT]");
  EXPECT_EQ(warnings[1].value(), 0);
  EXPECT_EQ(warnings[1].history_median(), 40);
  EXPECT_EQ(warnings[1].history_months(), kMinHistoryMonths);
}

TEST(PlausibilityHistoryTest, ChecksEachOfManyFiguresTheHistoryNeverHad) {
  PlausibilityHistory history;
  const Cell usual{Measure::kVisits, "CN", "dermatology", 1, 0, 0, 40};
  for (int i = 0; i < kMinHistoryMonths; ++i) history.AddMonth({usual});
  // As many new figures as a large report may hold, each given twice over
  // (new patients of two sexes): each is summed once and warned of once.
  std::vector<Cell> cells = {usual};
  for (int i = 0; i < 2000; ++i) {
    const std::string nationality = absl::StrCat("N", i);
    cells.push_back(Cell{Measure::kNewPatients, nationality, "", 0, 1, 3, 20});
    cells.push_back(Cell{Measure::kNewPatients, nationality, "", 0, 2, 3, 10});
  }
  std::vector<v1::Warning> warnings =
      history.WarningsFor(4, absl::CivilMonth(2026, 1), 1, cells, 5);
  ASSERT_EQ(warnings.size(), 2000u);
  for (size_t i = 0; i < warnings.size(); ++i) {
    EXPECT_EQ(warnings[i].value(), 30) << warnings[i].cell();
    if (i > 0) EXPECT_LT(warnings[i - 1].cell(), warnings[i].cell());
  }
}

TEST(ReportRulesTest, ModifiedZScoreTakesTheMiddlesOfAnEvenHistory) {
  // Unsorted, even: median (10 + 12) / 2 = 11; deviations 1,1,1,1,3,9 -> 1.
  std::optional<ZScore> z = ModifiedZScore({20, 10, 12, 10, 12, 8}, 13);
  ASSERT_TRUE(z.has_value());
  EXPECT_DOUBLE_EQ(z->median, 11);
  EXPECT_DOUBLE_EQ(z->score, 0.6745 * 2 / 1);
}

}  // namespace
}  // namespace smz::stats
