#include "services/gateway/council_report.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace smz::gateway {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;
namespace pv1 = ::smz::programme::v1;

v1::CouncilReportData Sample() {
  v1::CouncilReportData data;
  data.set_year(2022);
  data.set_as_of("2022-10-31");
  v1::KpiTable& kpi = *data.mutable_kpi();
  kpi.set_first_year(2021);
  kpi.set_last_year(2022);
  v1::KpiRow& row = *kpi.add_rows();
  (*row.mutable_indicator()->mutable_name())["ko"] = "설명회 개최";
  (*row.mutable_indicator()->mutable_name())["en"] = "Briefing sessions";
  row.mutable_indicator()->set_unit(pv1::TIMES);
  row.mutable_indicator()->set_target_total(4);
  (*row.mutable_indicator()->mutable_yearly_plans())[2023] = 2;
  v1::KpiYear& y = *row.add_years();
  y.set_year(2022);
  y.set_plan(1);
  y.set_result(3);
  y.set_live(3);
  y.set_recorded(2);
  y.set_differs(true);
  row.set_total_result(5);
  row.set_achievement_percent_capped(100);
  row.set_achievement_percent(125);
  pv1::BudgetRow& b = *data.mutable_budget()->add_rows();
  (*b.mutable_project_name())["ko"] = "의료관광 활성화 <본>";
  b.set_funding_source(pv1::ALL_SOURCES);
  b.set_budget_krw(487'492'000);
  b.set_executed_krw(258'672'000);
  b.set_execution_rate_percent(53.1);
  data.mutable_budget()->add_findings()->set_message(
      "executed of medical-tourism … difference 7000 KRW");
  v1::Activity& a = *data.mutable_activities()->add_activities();
  a.set_local_start("2022-05-27T10:00");
  a.set_local_end("2022-05-29T17:00");
  (*a.mutable_title())["ko"] = "몽골 울란바토르 트래블 엑스포 참가";
  a.set_city("Ulaanbaatar");
  a.set_country("MN");
  v1::Section* down = data.mutable_overview()->add_sections();
  down->set_name("stats");
  down->set_available(false);
  down->set_reason("stats: UNAVAILABLE: connection refused");
  return data;
}

TEST(CouncilReportTest, HtmlInTheReportsOrderWithFlagsAndFindings) {
  const std::string html = RenderCouncilReportHtml(Sample(), "ko");
  const size_t s1 = html.find("Ⅰ. 일반현황");
  const size_t s2 = html.find("Ⅱ. 추진실적");
  const size_t s3 = html.find("Ⅲ. 내년도 추진계획");
  ASSERT_NE(s1, std::string::npos);
  EXPECT_LT(s1, s2);
  EXPECT_LT(s2, s3);
  EXPECT_THAT(html, HasSubstr("<html lang=\"ko\">"));
  EXPECT_THAT(html, HasSubstr("3 ※(2)"));   // live vs reported
  EXPECT_THAT(html, HasSubstr("100.0%"));   // capped
  EXPECT_THAT(html, HasSubstr("125.0%"));   // uncapped
  EXPECT_THAT(html, HasSubstr("487,492"));  // thousand KRW
  EXPECT_THAT(html, HasSubstr("53.1%"));
  EXPECT_THAT(html, HasSubstr("difference 7000 KRW"));
  EXPECT_THAT(html, HasSubstr("&lt;본&gt;"));  // escaped
  EXPECT_THAT(html, Not(HasSubstr("<본>")));
  EXPECT_THAT(html, HasSubstr("2022-05-27 ~ 2022-05-29"));
  EXPECT_THAT(html, HasSubstr("Ulaanbaatar, MN"));
  EXPECT_THAT(html, HasSubstr("stats: UNAVAILABLE: connection refused"));
  EXPECT_THAT(html, HasSubstr("(2023)"));

  const std::string en = RenderCouncilReportHtml(Sample(), "en");
  EXPECT_THAT(en, HasSubstr("<html lang=\"en\">"));
  EXPECT_THAT(en, HasSubstr("II. Achievements"));
  EXPECT_THAT(en, HasSubstr("Briefing sessions"));
}

TEST(CouncilReportTest, NamesKindsRegionsAndEventTypesInTheReadersLanguage) {
  v1::CouncilReportData data = Sample();
  v1::ZoneOverview& overview = *data.mutable_overview();
  for (const char* name : {"registry", "events"}) {
    v1::Section* up = overview.add_sections();
    up->set_name(name);
    up->set_available(true);
  }
  v1::CountByName* kind = overview.add_partners_by_kind();
  kind->set_name("SPECIALIZED_OPERATOR");
  kind->set_count(7);
  v1::CountByName* region = overview.add_partners_by_region();
  region->set_name("YEOUIDO");
  region->set_count(7);
  v1::CountByName* type = overview.add_events_held_by_type();
  type->set_name("FAM_TOUR");
  type->set_count(3);
  v1::CountByName* future = overview.add_events_held_by_type();
  future->set_name("SOMETHING_NEW");  // a type this gateway does not know
  future->set_count(1);

  const std::string ko = RenderCouncilReportHtml(data, "ko");
  EXPECT_THAT(ko, HasSubstr("특화사업자"));
  EXPECT_THAT(ko, HasSubstr("여의도권역"));
  EXPECT_THAT(ko, HasSubstr("팸투어"));
  EXPECT_THAT(ko, HasSubstr("SOMETHING_NEW"));
  for (const char* raw : {"SPECIALIZED_OPERATOR", "YEOUIDO", "FAM_TOUR"}) {
    EXPECT_THAT(ko, Not(HasSubstr(raw)));
  }
  const std::string en = RenderCouncilReportHtml(data, "en");
  EXPECT_THAT(en, HasSubstr("Specialized operators"));
  EXPECT_THAT(en, HasSubstr("Yeouido"));
  EXPECT_THAT(en, HasSubstr("Fam tours"));
}

TEST(CouncilReportTest, CsvTablesQuoteWhatNeedsIt) {
  const std::string kpi =
      RenderCouncilReportCsv(Sample(), v1::GetCouncilReportRequest::KPI, "en");
  EXPECT_THAT(kpi, HasSubstr("Indicator,Unit,Target,2021 Plan,2021 Result,"
                             "2022 Plan,2022 Result,Total,"));
  EXPECT_THAT(kpi, HasSubstr("Briefing sessions,times,4,-,-,1,3 ※(2),5,"
                             "100.0%,125.0%\r\n"));
  const std::string budget = RenderCouncilReportCsv(
      Sample(), v1::GetCouncilReportRequest::BUDGET, "ko");
  EXPECT_THAT(budget, HasSubstr("\"487,492\",\"258,672\",53.1%"));
}

TEST(CouncilReportTest, GroupsDigits) {
  EXPECT_EQ(GroupDigits(0), "0");
  EXPECT_EQ(GroupDigits(999), "999");
  EXPECT_EQ(GroupDigits(1000), "1,000");
  EXPECT_EQ(GroupDigits(1070404), "1,070,404");
  EXPECT_EQ(GroupDigits(-7000), "-7,000");
}

}  // namespace
}  // namespace smz::gateway
