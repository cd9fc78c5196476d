#include "services/programme/programme_rules.h"

#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace smz::programme {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Optional;
using ::testing::SizeIs;

constexpr int64_t kThousand = 1000;
constexpr int64_t kMillion = 1000 * 1000;

v1::Project P(int64_t id, int64_t parent, const std::string& code, int order,
              v1::ProjectKind kind = v1::UNIT_PROJECT) {
  v1::Project p;
  p.set_id(id);
  p.set_parent_id(parent);
  p.set_code(code);
  p.set_kind(kind);
  p.set_sort_order(order);
  (*p.mutable_name())["en"] = code;
  return p;
}

v1::BudgetLine L(int64_t project, int32_t year, v1::FundingSource source,
                 int64_t amount, int64_t executed = 0) {
  static int64_t next_id = 1;
  v1::BudgetLine l;
  l.set_id(next_id++);
  l.set_project_id(project);
  l.set_year(year);
  l.set_funding_source(source);
  l.set_amount_krw(amount);
  l.set_executed_krw(executed);
  return l;
}

TEST(RatesTest, RoundHalfUpToOneDecimalAsTheCouncilPrints) {
  // The 2022 division budget (thousand KRW), as printed.
  EXPECT_THAT(ExecutionRatePercent(623784, 1070404), Optional(58.3));
  EXPECT_THAT(ExecutionRatePercent(90527, 198888), Optional(45.5));
  EXPECT_THAT(ExecutionRatePercent(102920, 190400), Optional(54.1));
  EXPECT_THAT(ExecutionRatePercent(258672, 487492), Optional(53.1));
  EXPECT_THAT(ExecutionRatePercent(61665, 83624), Optional(73.7));
  EXPECT_THAT(ExecutionRatePercent(173792, 391300), Optional(44.4));
  EXPECT_THAT(ExecutionRatePercent(84873, 96192), Optional(88.2));
  EXPECT_THAT(ExecutionRatePercent(10000, 10000), Optional(100.0));
  EXPECT_THAT(ExecutionRatePercent(1, 2000), Optional(0.1));  // 0.05 -> 0.1
  EXPECT_EQ(ExecutionRatePercent(5, 0), std::nullopt);
  // Won amounts of a whole programme do not overflow.
  EXPECT_THAT(ExecutionRatePercent(900'000'000'000, 1'000'000'000'000),
              Optional(90.0));
}

TEST(RatesTest, AchievementCappedAndUncapped) {
  // Five briefing sessions against four planned: the council prints 100%.
  EXPECT_THAT(AchievementPercent(5, 4, /*capped=*/true), Optional(100.0));
  EXPECT_THAT(AchievementPercent(5, 4, /*capped=*/false), Optional(125.0));
  EXPECT_THAT(AchievementPercent(19237, 10000, false), Optional(192.4));
  EXPECT_THAT(AchievementPercent(6578, 7000, true), Optional(94.0));
}

// The 2022 budget of the division (seed 002, thousand KRW, executed as of
// 2022-10-31): every unit adds up except the executed figure of medical
// tourism, whose two detail projects add up to 7 thousand less.
TEST(BudgetTableTest, DivisionBudget2022ReconcilesExceptOneExecutedFigure) {
  std::vector<v1::Project> projects = {
      P(1, 0, "vision", 0, v1::DIVISION),
      P(2, 1, "external-exchange", 1),
      P(3, 1, "health-zone", 2),
      P(4, 1, "finance-zone", 3),
      P(5, 1, "medical-tourism", 4),
      P(6, 1, "basic-expenses", 5),
      P(7, 1, "fund-transfer", 6),
      P(8, 5, "zone-promotion", 1, v1::DETAIL_PROJECT),
      P(9, 5, "tourism-infrastructure", 2, v1::DETAIL_PROJECT),
  };
  auto k = [](int64_t thousands) { return thousands * kThousand; };
  std::vector<v1::BudgetLine> lines = {
      L(1, 2022, v1::ALL_SOURCES, k(1070404), k(623784)),
      L(2, 2022, v1::ALL_SOURCES, k(198888), k(90527)),
      L(3, 2022, v1::ALL_SOURCES, k(10000), k(10000)),
      L(4, 2022, v1::ALL_SOURCES, k(190400), k(102920)),
      L(5, 2022, v1::ALL_SOURCES, k(487492), k(258672)),
      L(6, 2022, v1::ALL_SOURCES, k(83624), k(61665)),
      L(7, 2022, v1::ALL_SOURCES, k(100000), k(100000)),
      L(8, 2022, v1::ALL_SOURCES, k(391300), k(173792)),
      L(9, 2022, v1::ALL_SOURCES, k(96192), k(84873)),
      L(5, 2021, v1::ALL_SOURCES, k(1), 0),  // another year: not shown
  };
  v1::BudgetTable table =
      BuildBudgetTable(2022, "2022-10-31", projects, lines, 0);
  std::vector<std::string> order;
  for (const v1::BudgetRow& row : table.rows()) {
    order.push_back(absl::StrCat(row.depth(), ":", row.project_code()));
  }
  EXPECT_THAT(order,
              ElementsAre("0:vision", "1:external-exchange", "1:health-zone",
                          "1:finance-zone", "1:medical-tourism",
                          "2:zone-promotion", "2:tourism-infrastructure",
                          "1:basic-expenses", "1:fund-transfer"));
  EXPECT_THAT(table.rows(0).execution_rate_percent(), 58.3);
  ASSERT_THAT(table.findings(), SizeIs(1));
  const v1::ReconciliationFinding& f = table.findings(0);
  EXPECT_EQ(f.project_code(), "medical-tourism");
  EXPECT_EQ(f.figure(), v1::ReconciliationFinding::EXECUTED);
  EXPECT_EQ(f.stated_krw(), k(258672));
  EXPECT_EQ(f.sum_of_details_krw(), k(258665));
  EXPECT_EQ(f.difference_krw(), k(7));
  EXPECT_THAT(f.message(), HasSubstr("difference 7000 KRW"));

  // The subtree of one unit project only.
  v1::BudgetTable unit =
      BuildBudgetTable(2022, "2022-10-31", projects, lines, 5);
  ASSERT_THAT(unit.rows(), SizeIs(3));
  EXPECT_EQ(unit.rows(0).depth(), 0);
  EXPECT_THAT(unit.findings(), SizeIs(1));
}

// The programme budget 2018-2022 (seed 000, million KRW): sources add up to
// the totals, sub-projects to the programme, private lines apart.
TEST(BudgetTableTest, ProgrammeBudgetAddsUpAndABrokenFigureIsFlagged) {
  std::vector<v1::Project> projects = {
      P(1, 0, "smz", 0, v1::PROGRAMME),
      P(2, 1, "smz/infrastructure", 1, v1::SUB_PROJECT),
      P(3, 1, "smz/promotion", 2, v1::SUB_PROJECT),
  };
  auto m = [](int64_t millions) { return millions * kMillion; };
  std::vector<v1::BudgetLine> lines = {
      L(1, 2020, v1::ALL_SOURCES, m(560)), L(1, 2020, v1::DISTRICT, m(485)),
      L(1, 2020, v1::CITY, m(60)),         L(1, 2020, v1::NATIONAL, m(15)),
      L(2, 2020, v1::ALL_SOURCES, m(203)), L(3, 2020, v1::ALL_SOURCES, m(357)),
      L(1, 2020, v1::PRIVATE, m(910)),     L(2, 2020, v1::PRIVATE, m(375)),
      L(3, 2020, v1::PRIVATE, m(535)),
  };
  v1::BudgetTable table = BuildBudgetTable(2020, "", projects, lines, 0);
  EXPECT_THAT(table.rows(), SizeIs(9));
  EXPECT_THAT(table.findings(), IsEmpty());
  EXPECT_FALSE(table.rows(0).has_execution_rate_percent() &&
               table.rows(0).execution_rate_percent() != 0.0);

  lines[3].set_amount_krw(m(16));  // national 16 instead of 15
  table = BuildBudgetTable(2020, "", projects, lines, 0);
  ASSERT_THAT(table.findings(), SizeIs(1));
  EXPECT_EQ(table.findings(0).funding_source(), v1::ALL_SOURCES);
  EXPECT_EQ(table.findings(0).difference_krw(), -m(1));
  EXPECT_THAT(table.findings(0).details(), HasSubstr("funding sources"));
}

TEST(ValidationTest, EveryBadFieldIsNamed) {
  v1::Indicator bad;
  bad.set_code("Bad Code");
  bad.set_source(v1::COMPLETED_EVENTS);
  bad.set_event_type("PICNIC");
  (*bad.mutable_yearly_plans())[1999] = 1;
  (*bad.mutable_manual_results())[2020].set_value(1);
  FieldViolations v;
  ValidateIndicator(bad, &v);
  std::vector<std::string> fields;
  for (const FieldViolation& f : v.violations()) fields.push_back(f.field);
  EXPECT_THAT(
      fields,
      ElementsAre("indicator.project_id", "indicator.code", "indicator.name",
                  "indicator.unit", "indicator.target_total",
                  "indicator.yearly_plans[1999]", "indicator.manual_results",
                  "indicator.event_type"));

  v1::Indicator manual;
  manual.set_project_id(1);
  manual.set_code("smz/centre");
  (*manual.mutable_name())["ko"] = "안내센터 및 홈페이지 구축";
  manual.set_unit(v1::PERCENT);
  manual.set_target_total(100);
  manual.set_source(v1::MANUAL);
  (*manual.mutable_manual_results())[2019].set_value(100);
  FieldViolations missing_evidence;
  ValidateIndicator(manual, &missing_evidence);
  ASSERT_THAT(missing_evidence.violations(), SizeIs(1));
  EXPECT_EQ(missing_evidence.violations()[0].field,
            "indicator.manual_results[2019].evidence");

  v1::ExecutionEntry entry;
  entry.set_amount_krw(0);
  entry.set_date("2022-02-30");
  FieldViolations e;
  ValidateExecution(entry, &e);
  EXPECT_THAT(e.violations(), SizeIs(4));
}

TEST(ValidationTest, MebibyteCodesAndTextsAreRefusedQuickly) {
  const std::string huge(1 << 20, 'a');
  EXPECT_FALSE(IsValidCode(huge));
  v1::Project project;
  project.set_kind(v1::SUB_PROJECT);
  project.set_code(huge);
  (*project.mutable_name())[huge] = huge;
  FieldViolations v;
  ValidateProject(project, &v);
  std::vector<std::string> fields;
  for (const FieldViolation& f : v.violations()) {
    fields.push_back(f.field);
    EXPECT_LE(f.field.size(), kMaxFieldBytes);
    EXPECT_LE(f.description.size(), kMaxDescriptionBytes);
  }
  EXPECT_THAT(fields, ::testing::Contains("project.code"));
}

}  // namespace
}  // namespace smz::programme
