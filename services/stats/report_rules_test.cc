#include "services/stats/report_rules.h"

#include <cmath>

#include "absl/strings/str_cat.h"
#include "absl/time/civil_time.h"
#include "common/clock.h"
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

}  // namespace
}  // namespace smz::stats
