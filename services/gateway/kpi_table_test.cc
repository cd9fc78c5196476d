#include "services/gateway/kpi_table.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace smz::gateway {
namespace {

using ::testing::SizeIs;

pv1::Indicator Indicator(int64_t id, const std::string& code,
                         pv1::IndicatorUnit unit, int64_t target,
                         pv1::IndicatorSource source) {
  pv1::Indicator i;
  i.set_id(id);
  i.set_project_id(2);
  i.set_code(code);
  i.set_unit(unit);
  i.set_target_total(target);
  i.set_source(source);
  i.set_sort_order(static_cast<int32_t>(id));
  return i;
}

const v1::KpiYear& Year(const v1::KpiRow& row, int32_t year) {
  for (const v1::KpiYear& y : row.years()) {
    if (y.year() == year) return y;
  }
  static const v1::KpiYear* none = new v1::KpiYear();
  return *none;
}

// The 2020 council report's table (seed 000) with live figures as the demo
// data gives them.
TEST(KpiTableTest, SeedIndicatorsLiveRecordedManualAndCapping) {
  pv1::Project programme;
  programme.set_id(1);
  programme.set_code("smz-2018");
  programme.set_first_year(2018);
  programme.set_last_year(2022);
  pv1::Project sub;
  sub.set_id(2);
  sub.set_parent_id(1);
  sub.set_code("smz-2018/promotion");

  pv1::Indicator centre =
      Indicator(1, "centre", pv1::PERCENT, 100, pv1::MANUAL);
  (*centre.mutable_yearly_plans())[2019] = 100;
  (*centre.mutable_manual_results())[2019].set_value(100);
  (*centre.mutable_recorded_results())[2019] = 100;
  pv1::Indicator training =
      Indicator(2, "training", pv1::TIMES, 4, pv1::COMPLETED_EVENTS);
  (*training.mutable_yearly_plans())[2019] = 1;
  (*training.mutable_recorded_results())[2019] = 2;
  (*training.mutable_recorded_results())[2020] = 2;
  training.set_recorded_total(4);
  pv1::Indicator briefing =
      Indicator(3, "briefing", pv1::TIMES, 4, pv1::COMPLETED_EVENTS);
  (*briefing.mutable_yearly_plans())[2019] = 1;
  (*briefing.mutable_yearly_plans())[2020] = 1;
  (*briefing.mutable_recorded_results())[2019] = 2;
  (*briefing.mutable_recorded_results())[2020] = 3;
  briefing.set_recorded_total(5);
  pv1::Indicator patients =
      Indicator(4, "patients", pv1::PERSONS, 10000, pv1::FOREIGN_PATIENTS);
  (*patients.mutable_yearly_plans())[2019] = 7000;
  (*patients.mutable_yearly_plans())[2020] = 8000;
  (*patients.mutable_recorded_results())[2019] = 6578;
  (*patients.mutable_recorded_results())[2020] = 19237;
  patients.set_recorded_total(19237);

  LiveFigures live;
  live.values[2] = {{2018, 1}, {2019, 4}, {2020, 2}};
  live.values[3] = {{2019, 2}, {2020, 3}};
  live.unavailable[4] = "stats: UNAVAILABLE: connection refused";

  v1::KpiTable table = BuildKpiTable(programme, {programme, sub},
                                     {patients, briefing, training, centre},
                                     live, absl::CivilDay(2020, 12, 31));
  ASSERT_THAT(table.rows(), SizeIs(4));
  EXPECT_EQ(table.rows(0).indicator().code(), "centre");  // sort order

  const v1::KpiRow& c = table.rows(0);
  EXPECT_EQ(Year(c, 2019).origin(), v1::KpiYear::MANUAL);
  EXPECT_EQ(c.total_result(), 100);
  EXPECT_EQ(c.achievement_percent_capped(), 100.0);

  // Training: the events service counts 4 in 2019 where the report printed
  // 2 — both shown, flagged; the total differs from the printed 4.
  const v1::KpiRow& t = table.rows(1);
  EXPECT_EQ(Year(t, 2019).live(), 4);
  EXPECT_EQ(Year(t, 2019).recorded(), 2);
  EXPECT_TRUE(Year(t, 2019).differs());
  EXPECT_EQ(Year(t, 2019).achievement_percent_capped(), 100.0);
  EXPECT_EQ(Year(t, 2019).achievement_percent(), 400.0);
  EXPECT_EQ(t.total_result(), 7);
  EXPECT_TRUE(t.total_differs());

  // Briefings agree with the report: 5 against 4 is 100% as printed, 125%
  // uncapped.
  const v1::KpiRow& b = table.rows(2);
  EXPECT_FALSE(Year(b, 2019).differs());
  EXPECT_EQ(b.total_result(), 5);
  EXPECT_FALSE(b.total_differs());
  EXPECT_EQ(b.achievement_percent_capped(), 100.0);
  EXPECT_EQ(b.achievement_percent(), 125.0);
  EXPECT_FALSE(Year(b, 2021).has_result());
  EXPECT_FALSE(Year(b, 2021).has_achievement_percent());

  // Patients: stats is down, so the recorded figures stand, with the reason.
  const v1::KpiRow& p = table.rows(3);
  EXPECT_EQ(p.live_unavailable_reason(),
            "stats: UNAVAILABLE: connection refused");
  EXPECT_EQ(Year(p, 2020).origin(), v1::KpiYear::RECORDED);
  EXPECT_EQ(Year(p, 2019).achievement_percent(), 94.0);
  EXPECT_EQ(Year(p, 2020).achievement_percent_capped(), 100.0);
  EXPECT_EQ(p.total_result(), 19237);  // a level: the highest year
  EXPECT_EQ(p.achievement_percent(), 192.4);
  EXPECT_FALSE(p.total_differs());
}

}  // namespace
}  // namespace smz::gateway
