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

// Vietnamese patients of one other hospital: that cell goes, and with it
// the smallest shown one, so that the month's total less the shown cells is
// a sum of enough hospitals, still large without its two largest parts.
TEST(ZoneComparisonTest, AHiddenCellTakesTheSmallestWithIt) {
  std::vector<AggregateGroup> cells = {Cell(202004, "MN", kOwn, 4),
                                       Cell(202004, "VN", 2, 7)};
  for (int64_t p : {2, 3, 4, 5}) cells.push_back(Cell(202004, "CN", p, 9));
  for (int64_t p : {3, 4, 5, 6}) cells.push_back(Cell(202004, "RU", p, 5));
  const v1::ZoneComparison answer =
      Compare(cells, Spec(202004, 202004, v1::MONTH, v1::NATIONALITY));
  EXPECT_TRUE(Row(answer.zone(), "2020-04", "VN")->visits().suppressed());
  EXPECT_TRUE(Row(answer.zone(), "2020-04", "RU")->visits().suppressed());
  EXPECT_EQ(Row(answer.zone(), "2020-04", "CN")->visits().value(), 36);
  EXPECT_EQ(Row(answer.zone(), "2020-04", "MN")->visits().value(), 4);
  EXPECT_EQ(answer.zone().total().visits().value(), 4 + 7 + 36 + 20);
  EXPECT_THAT(answer.zone().withheld_periods(), IsEmpty());
}

// Three other hospitals are not enough: two of them, pooling what they
// know, would see the third's figure.
TEST(ZoneComparisonTest, ThreeOtherHospitalsAreTooFewForAPair) {
  std::vector<AggregateGroup> cells;
  for (int64_t p : {2, 3, 4}) cells.push_back(Cell(202004, "CN", p, 9));
  const ComparisonSpec spec = Spec(202004, 202004, v1::MONTH, v1::NATIONALITY);
  EXPECT_TRUE(
      Row(Compare(cells, spec).zone(), "2020-04", "CN")->visits().suppressed());
  cells.push_back(Cell(202004, "CN", 5, 9));
  EXPECT_EQ(Row(Compare(cells, spec).zone(), "2020-04", "CN")->visits().value(),
            36);
}

// A cell that is one hospital's alone is hidden from the others, with a
// cover beside it, though that hospital sees it.
TEST(ZoneComparisonTest, AHospitalsOwnCellIsCoveredForTheOthers) {
  std::vector<AggregateGroup> cells = {Cell(202004, "MN", 2, 20)};
  for (int64_t p : {2, 3, 4, 5}) cells.push_back(Cell(202004, "CN", p, 9));
  for (int64_t p : {3, 4, 5, 6}) cells.push_back(Cell(202004, "RU", p, 9));
  ComparisonSpec spec = Spec(202004, 202004, v1::MONTH, v1::NATIONALITY);
  v1::ZoneComparison answer = Compare(cells, spec);  // hospital 1 asks
  EXPECT_TRUE(Row(answer.zone(), "2020-04", "MN")->visits().suppressed());
  EXPECT_EQ(Row(answer.zone(), "2020-04", "CN")->visits().suppressed() +
                Row(answer.zone(), "2020-04", "RU")->visits().suppressed(),
            1);
  spec.partner_id = 2;
  answer = Compare(cells, spec);
  EXPECT_EQ(Row(answer.zone(), "2020-04", "MN")->visits().value(), 20);
}

// Entering patients of its own does not make another hospital's small
// figure appear.
TEST(ZoneComparisonTest, OwnEntriesDoNotUncoverAnothersFigure) {
  std::vector<AggregateGroup> cells = {Cell(202004, "MN", kOwn, 1),
                                       Cell(202004, "MN", 2, 3)};
  for (int64_t p : {3, 4, 5, 6}) cells.push_back(Cell(202004, "CN", p, 9));
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
  for (int64_t p : {3, 4, 5, 6}) {
    cells.push_back(Cell(202002, "CN", p, 9));
    cells.push_back(Cell(202002, "TH", p, 3));
  }
  const v1::ZoneComparison months =
      Compare(cells, Spec(202001, 202003, v1::MONTH, v1::NATIONALITY));
  EXPECT_TRUE(Row(months.zone(), "2020-01", "TH")->visits().suppressed());
  EXPECT_EQ(Row(months.zone(), "2020-02", "TH")->visits().value(), 12);
  const v1::ZoneComparison quarter =
      Compare(cells, Spec(202001, 202003, v1::QUARTER, v1::NATIONALITY));
  EXPECT_TRUE(Row(quarter.zone(), "2020-Q1", "TH")->visits().suppressed());
}

// A nationality whose visits are hidden has its new patients hidden too:
// new patients never exceed visits, so shown new patients beside hidden
// visits would name the cell hidden for cover and bound it.
TEST(ZoneComparisonTest, NewPatientsAndVisitsAreHiddenTogether) {
  std::vector<AggregateGroup> cells = {Cell(202004, "UZ", 2, 7, 1)};
  for (int64_t p : {3, 4, 5, 6}) {
    cells.push_back(Cell(202004, "VN", p, 2, 2));
    cells.push_back(Cell(202004, "ZA", p, 3, 1));
    cells.push_back(Cell(202004, "CN", p, 9, 5));
  }
  const v1::ZoneComparison answer =
      Compare(cells, Spec(202004, 202004, v1::MONTH, v1::NATIONALITY));
  for (const v1::AggregateRow& row : answer.zone().rows()) {
    EXPECT_EQ(row.visits().suppressed(), row.new_patients().suppressed())
        << row.nationality();
  }
  EXPECT_TRUE(Row(answer.zone(), "2020-04", "UZ")->visits().suppressed());
}

// Revenue is shown only when, without its two largest parts, a tenth of
// the largest part remains: no hospital's revenue is the figure give or
// take a little.
TEST(ZoneComparisonTest, RevenueIsNotOneHospitalsGiveOrTake) {
  std::vector<AggregateGroup> cells = {
      Revenue(202004, kOwn, 1'000'000), Revenue(202004, 2, 20'000'000),
      Revenue(202004, 3, 30'000'000), Revenue(202004, 4, 25'000'000)};
  const ComparisonSpec spec =
      Spec(202004, 202004, v1::MONTH, v1::DIMENSION_UNSPECIFIED);
  v1::ZoneComparison answer = Compare(cells, spec);
  EXPECT_EQ(answer.zone().rows(0).revenue_krw().value(), 76'000'000);
  EXPECT_EQ(answer.own().rows(0).revenue_krw().value(), 1'000'000);
  cells[2] = Revenue(202004, 3, 300'000'000);
  answer = Compare(cells, spec);
  EXPECT_TRUE(answer.zone().rows(0).revenue_krw().suppressed());
  EXPECT_TRUE(answer.zone().total().revenue_krw().suppressed());
  cells.pop_back();  // three hospitals
  cells[2] = Revenue(202004, 3, 30'000'000);
  EXPECT_TRUE(Compare(cells, spec).zone().rows(0).revenue_krw().suppressed());
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

// Whatever the data and whoever asks: every zone figure shown is, in each
// of its months, the asker's own alone or made up by at least four
// hospitals with at least five patients left without its two largest
// parts (so neither the asker nor a pair learns one hospital's figure);
// each month's hidden cells together are such a sum; and two hospitals
// asking see the same cells hidden, but for their own alone. Checked from
// the raw cells, not from the code's own bookkeeping, over many zones.
TEST(ZoneComparisonTest, WhatIsShownNeverIsolatesAnotherHospital) {
  const std::vector<std::string> nationalities = {"MN", "CN", "VN", "RU", "KZ"};
  const std::vector<int> months = {202001, 202002, 202003};
  std::mt19937 random(20201);
  for (int zone = 0; zone < 300; ++zone) {
    const int partners = 2 + static_cast<int>(random() % 7);
    std::vector<AggregateGroup> cells;
    // month -> nationality -> partner -> visits.
    std::map<int, std::map<std::string, std::map<int64_t, int64_t>>> visits;
    for (int month : months) {
      for (const std::string& n : nationalities) {
        for (int64_t p = 1; p <= partners; ++p) {
          if (random() % 3 == 0) continue;
          const int64_t v = 1 + static_cast<int64_t>(random() % 12);
          cells.push_back(Cell(month, n, p, v, 1 + v / 2));
          visits[month][n][p] = v;
        }
      }
    }
    auto safe_sum = [](const std::map<int64_t, int64_t>& parts, int64_t asker) {
      if (parts.empty() || (parts.size() == 1 && parts.count(asker))) {
        return true;
      }
      if (parts.size() < 4) return false;
      std::vector<int64_t> values;
      int64_t sum = 0;
      for (const auto& [p, v] : parts) {
        values.push_back(v);
        sum += v;
      }
      std::sort(values.rbegin(), values.rend());
      return sum - values[0] - values[1] >= 5;
    };
    std::map<int64_t, std::set<std::string>> hidden_by_asker;
    for (int64_t asker : {int64_t{1}, int64_t{2}}) {
      for (v1::Bucket bucket : {v1::MONTH, v1::QUARTER}) {
        ComparisonSpec spec = Spec(202001, 202003, bucket, v1::NATIONALITY);
        spec.partner_id = asker;
        const v1::ZoneComparison answer = Compare(cells, spec);
        for (const v1::AggregateRow& row : answer.zone().rows()) {
          EXPECT_EQ(row.visits().suppressed(), row.new_patients().suppressed())
              << "zone " << zone;
          if (row.visits().suppressed()) {
            if (bucket == v1::MONTH) {
              // Comparable across askers unless it is one's own alone.
              const auto& parts = visits[std::stoi(row.bucket().substr(0, 4) +
                                                   row.bucket().substr(5, 2))]
                                        [row.nationality()];
              if (!(parts.size() == 1 && parts.count(3 - asker))) {
                hidden_by_asker[asker].insert(row.bucket() + row.nationality());
              }
            }
            continue;
          }
          for (int month : months) {
            if (bucket == v1::MONTH &&
                row.bucket() != FormatMonth(PeriodMonth(month))) {
              continue;
            }
            EXPECT_TRUE(safe_sum(visits[month][row.nationality()], asker))
                << "zone " << zone << " " << row.bucket() << " "
                << row.nationality();
          }
        }
        if (bucket != v1::MONTH) continue;
        const std::set<std::string> withheld(
            answer.zone().withheld_periods().begin(),
            answer.zone().withheld_periods().end());
        for (int month : months) {
          const std::string label = FormatMonth(PeriodMonth(month));
          if (withheld.count(label) > 0) {
            EXPECT_TRUE(answer.zone().total().visits().suppressed());
            continue;
          }
          std::map<int64_t, int64_t> hidden;
          for (const v1::AggregateRow& row : answer.zone().rows()) {
            if (row.bucket() != label || !row.visits().suppressed()) continue;
            for (const auto& [p, v] : visits[month][row.nationality()]) {
              hidden[p] += v;
            }
          }
          EXPECT_TRUE(safe_sum(hidden, asker))
              << "zone " << zone << " " << label;
        }
      }
    }
    EXPECT_EQ(hidden_by_asker[1], hidden_by_asker[2]) << "zone " << zone;
  }
}

}  // namespace
}  // namespace smz::stats
