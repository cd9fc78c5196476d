#include "services/stats/zone_comparison.h"

#include <map>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "common/request_fields.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace smz::stats {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;

constexpr int64_t kOwn = 1;  // the hospital asking

// One hospital's cell of a month: visits and new patients by nationality.
AggregateGroup Cell(int month, const std::string& nationality, int64_t partner,
                    int64_t visits, int64_t new_patients = 0) {
  AggregateGroup g;
  g.bucket = month;
  g.nationality = nationality;
  g.partner_id = partner;
  for (auto [figures, value] : {std::pair{&g.visits, visits},
                                std::pair{&g.new_patients, new_patients}}) {
    if (value == 0) continue;
    figures->present = true;
    figures->value = value;
  }
  return g;
}

// A revenue figure of one hospital's month.
AggregateGroup Revenue(int month, int64_t partner, int64_t krw) {
  AggregateGroup g;
  g.bucket = month;
  g.partner_id = partner;
  g.revenue.present = true;
  g.revenue.value = krw;
  return g;
}

ComparisonSpec Spec(int start, int end, v1::Bucket bucket,
                    v1::Dimension dimension) {
  ComparisonSpec spec;
  spec.partner_id = kOwn;
  spec.start_period = start;
  spec.end_period = end;
  spec.bucket = bucket;
  spec.dimension = dimension;
  spec.applicable.revenue = dimension == v1::DIMENSION_UNSPECIFIED;
  return spec;
}

// Without a dimension the store answers by month and partner only: the
// cells are each hospital's month.
std::vector<AggregateGroup> Undivided(std::vector<AggregateGroup> cells) {
  std::map<std::pair<int, int64_t>, AggregateGroup> months;
  for (const AggregateGroup& c : cells) {
    AggregateGroup& m = months[{c.bucket, c.partner_id}];
    m.bucket = c.bucket;
    m.partner_id = c.partner_id;
    m.visits.Add(c.visits);
    m.new_patients.Add(c.new_patients);
    m.revenue.Add(c.revenue);
  }
  std::vector<AggregateGroup> out;
  for (auto& [key, g] : months) out.push_back(g);
  return out;
}

v1::ZoneComparison Compare(const std::vector<AggregateGroup>& cells,
                           const ComparisonSpec& spec) {
  absl::StatusOr<v1::ZoneComparison> answer = CompareWithZone(
      spec.dimension == v1::DIMENSION_UNSPECIFIED ? Undivided(cells) : cells,
      spec);
  EXPECT_TRUE(answer.ok()) << answer.status();
  return answer.ok() ? *answer : v1::ZoneComparison();
}

const v1::AggregateRow* Row(const v1::AggregateResponse& response,
                            const std::string& bucket,
                            const std::string& nationality) {
  for (const v1::AggregateRow& row : response.rows()) {
    if (row.bucket() == bucket && row.nationality() == nationality) return &row;
  }
  return nullptr;
}

// The hidden-field test's data (stats_service_test): the asking hospital
// has Thai and Mongolian patients, one other hospital Mongolian and Chinese
// ones, a third Chinese ones. Two others are too few to show anything of
// them: the hospital would subtract its own part and see theirs.
TEST(ZoneComparisonTest, TwoOtherHospitalsShowNothingOfTheirs) {
  const std::vector<AggregateGroup> cells = {
      Cell(202004, "TH", kOwn, 2, 2), Cell(202004, "MN", kOwn, 1, 1),
      Cell(202004, "MN", 2, 2, 2), Cell(202004, "CN", 2, 25, 20),
      Cell(202004, "CN", 3, 10)};
  const v1::ZoneComparison answer =
      Compare(cells, Spec(202004, 202004, v1::WHOLE_RANGE, v1::NATIONALITY));
  const std::string range = "2020-04..2020-04";
  EXPECT_EQ(Row(answer.own(), range, "TH")->visits().value(), 2);
  EXPECT_EQ(Row(answer.own(), range, "MN")->visits().value(), 1);
  EXPECT_EQ(Row(answer.own(), range, "CN"), nullptr);
  EXPECT_EQ(answer.own().total().visits().value(), 3);
  // Thai patients are the hospital's alone: the zone's are its own.
  EXPECT_FALSE(Row(answer.zone(), range, "TH")->visits().suppressed());
  EXPECT_EQ(Row(answer.zone(), range, "TH")->visits().value(), 2);
  EXPECT_TRUE(Row(answer.zone(), range, "MN")->visits().suppressed());
  EXPECT_TRUE(Row(answer.zone(), range, "CN")->visits().suppressed());
  EXPECT_TRUE(answer.zone().total().visits().suppressed());
  EXPECT_THAT(answer.zone().withheld_periods(), ElementsAre("2020-04"));
}

// Four others, one of them alone with Vietnamese patients: that cell goes,
// and with it the smallest other, so the total less the shown cells is a
// sum of at least three hospitals.
TEST(ZoneComparisonTest, AHiddenCellTakesTheSmallestWithIt) {
  const std::vector<AggregateGroup> cells = {
      Cell(202004, "MN", kOwn, 4), Cell(202004, "VN", 2, 7),
      Cell(202004, "CN", 2, 9),    Cell(202004, "CN", 3, 9),
      Cell(202004, "CN", 4, 9),    Cell(202004, "RU", 3, 5),
      Cell(202004, "RU", 4, 5),    Cell(202004, "RU", 5, 5)};
  const v1::ZoneComparison answer =
      Compare(cells, Spec(202004, 202004, v1::MONTH, v1::NATIONALITY));
  EXPECT_TRUE(Row(answer.zone(), "2020-04", "VN")->visits().suppressed());
  EXPECT_TRUE(Row(answer.zone(), "2020-04", "RU")->visits().suppressed());
  EXPECT_EQ(Row(answer.zone(), "2020-04", "CN")->visits().value(), 27);
  EXPECT_EQ(Row(answer.zone(), "2020-04", "MN")->visits().value(), 4);
  EXPECT_EQ(answer.zone().total().visits().value(), 4 + 7 + 27 + 15);
  EXPECT_THAT(answer.zone().withheld_periods(), IsEmpty());
}

// Entering patients of its own does not make another hospital's small
// figure appear: only the others' part counts.
TEST(ZoneComparisonTest, OwnEntriesDoNotUncoverAnothersFigure) {
  const std::vector<AggregateGroup> cells = {
      Cell(202004, "MN", kOwn, 1), Cell(202004, "MN", 2, 3),
      Cell(202004, "CN", 3, 9), Cell(202004, "CN", 4, 9),
      Cell(202004, "CN", 5, 9)};
  const v1::ZoneComparison answer =
      Compare(cells, Spec(202004, 202004, v1::MONTH, v1::NATIONALITY));
  EXPECT_TRUE(Row(answer.zone(), "2020-04", "MN")->visits().suppressed());
}

// A month that shows a cell and a month that hides it: the quarter hides
// it too, else the quarter less the shown month would be the hidden one.
TEST(ZoneComparisonTest, AHiddenMonthHidesItsQuarter) {
  std::vector<AggregateGroup> cells;
  for (int64_t p : {2, 3, 4, 5}) cells.push_back(Cell(202001, "CN", p, 9));
  cells.push_back(Cell(202001, "TH", 2, 2));
  for (int64_t p : {3, 4, 5}) {
    cells.push_back(Cell(202002, "CN", p, 9));
    cells.push_back(Cell(202002, "TH", p, 3));
  }
  const v1::ZoneComparison months =
      Compare(cells, Spec(202001, 202003, v1::MONTH, v1::NATIONALITY));
  EXPECT_TRUE(Row(months.zone(), "2020-01", "TH")->visits().suppressed());
  EXPECT_EQ(Row(months.zone(), "2020-02", "TH")->visits().value(), 9);
  const v1::ZoneComparison quarter =
      Compare(cells, Spec(202001, 202003, v1::QUARTER, v1::NATIONALITY));
  EXPECT_TRUE(Row(quarter.zone(), "2020-Q1", "TH")->visits().suppressed());
}

// Revenue is shown for three other hospitals and more, whatever the sum.
TEST(ZoneComparisonTest, RevenueNeedsThreeOtherHospitals) {
  std::vector<AggregateGroup> cells = {Revenue(202004, kOwn, 1'000'000),
                                       Revenue(202004, 2, 20'000'000),
                                       Revenue(202004, 3, 300'000'000)};
  const ComparisonSpec spec =
      Spec(202004, 202004, v1::MONTH, v1::DIMENSION_UNSPECIFIED);
  v1::ZoneComparison answer = Compare(cells, spec);
  EXPECT_TRUE(answer.zone().rows(0).revenue_krw().suppressed());
  EXPECT_TRUE(answer.zone().total().revenue_krw().suppressed());
  EXPECT_EQ(answer.own().rows(0).revenue_krw().value(), 1'000'000);
  cells.push_back(Revenue(202004, 4, 5'000'000));
  answer = Compare(cells, spec);
  EXPECT_EQ(answer.zone().rows(0).revenue_krw().value(), 326'000'000);
}

// A month no other hospital reported is the hospital's own: shown.
TEST(ZoneComparisonTest, AMonthOfNoOtherHospitalIsTheHospitalsOwn) {
  const v1::ZoneComparison answer =
      Compare({Cell(202004, "MN", kOwn, 3, 2)},
              Spec(202004, 202004, v1::MONTH, v1::DIMENSION_UNSPECIFIED));
  EXPECT_EQ(answer.zone().rows(0).visits().value(), 3);
  EXPECT_EQ(answer.zone().total().new_patients().value(), 2);
  EXPECT_THAT(answer.zone().withheld_periods(), IsEmpty());
}

TEST(ZoneComparisonTest, SumsBeyondCountingAreRefused) {
  const std::vector<AggregateGroup> cells = {Cell(202004, "MN", 2, INT64_MAX),
                                             Cell(202004, "MN", 3, INT64_MAX),
                                             Cell(202004, "MN", 4, 1)};
  EXPECT_EQ(
      CompareWithZone(cells, Spec(202004, 202004, v1::MONTH, v1::NATIONALITY))
          .status()
          .code(),
      absl::StatusCode::kOutOfRange);
}

// Whatever the data, every zone figure shown, less the hospital's own, is
// in each of its months a sum of none or at least three other hospitals
// and none or at least five patients; and each month's hidden cells
// together are such a sum, so the month's total less the shown cells gives
// no hospital away. Checked from the raw cells, not from the code's own
// bookkeeping, over many random zones.
TEST(ZoneComparisonTest, WhatIsShownNeverIsolatesAnotherHospital) {
  const std::vector<std::string> nationalities = {"MN", "CN", "VN", "RU", "KZ"};
  const std::vector<int> months = {202001, 202002, 202003};
  std::mt19937 random(20201);
  for (int zone = 0; zone < 300; ++zone) {
    const int partners = 2 + static_cast<int>(random() % 6);
    std::vector<AggregateGroup> cells;
    // month -> nationality -> partner -> visits, the others' only.
    std::map<int, std::map<std::string, std::map<int64_t, int64_t>>> others;
    for (int month : months) {
      for (const std::string& n : nationalities) {
        for (int64_t p = 1; p <= partners; ++p) {
          if (random() % 2 == 0) continue;
          const int64_t visits = 1 + static_cast<int64_t>(random() % 12);
          cells.push_back(Cell(month, n, p, visits));
          if (p != kOwn) others[month][n][p] = visits;
        }
      }
    }
    auto safe_sum = [](const std::set<int64_t>& who, int64_t sum) {
      return who.empty() || (who.size() >= 3 && (sum == 0 || sum >= 5));
    };
    auto cell_safe = [&](int month, const std::string& n) {
      std::set<int64_t> who;
      int64_t sum = 0;
      for (const auto& [p, v] : others[month][n]) {
        who.insert(p);
        sum += v;
      }
      return safe_sum(who, sum);
    };
    for (v1::Bucket bucket : {v1::MONTH, v1::QUARTER}) {
      const v1::ZoneComparison answer =
          Compare(cells, Spec(202001, 202003, bucket, v1::NATIONALITY));
      for (const v1::AggregateRow& row : answer.zone().rows()) {
        if (row.visits().suppressed()) continue;
        for (int month : months) {
          if (bucket == v1::MONTH &&
              row.bucket() != FormatMonth(PeriodMonth(month))) {
            continue;
          }
          EXPECT_TRUE(cell_safe(month, row.nationality()))
              << "zone " << zone << " " << row.bucket() << " "
              << row.nationality();
        }
      }
      if (bucket != v1::MONTH) continue;
      // Each month whose total is part of the range's: its hidden cells
      // together are a safe sum.
      const std::set<std::string> withheld(
          answer.zone().withheld_periods().begin(),
          answer.zone().withheld_periods().end());
      for (int month : months) {
        const std::string label = FormatMonth(PeriodMonth(month));
        if (withheld.count(label) > 0) {
          EXPECT_TRUE(answer.zone().total().visits().suppressed());
          continue;
        }
        std::set<int64_t> who;
        int64_t sum = 0;
        for (const v1::AggregateRow& row : answer.zone().rows()) {
          if (row.bucket() != label || !row.visits().suppressed()) continue;
          for (const auto& [p, v] : others[month][row.nationality()]) {
            who.insert(p);
            sum += v;
          }
        }
        EXPECT_TRUE(safe_sum(who, sum)) << "zone " << zone << " " << label;
      }
    }
  }
}

}  // namespace
}  // namespace smz::stats
