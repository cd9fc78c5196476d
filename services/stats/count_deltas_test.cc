// Count deltas as stored: a group's changes survive the row they are kept
// in, rows add up as the groups' changes would, and a damaged row is
// refused whole. Folding them into the shared rows against a real database
// is tested with the store (submissions_store_test.cc).
#include "services/stats/count_deltas.h"

#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace smz::stats {
namespace {

using ::testing::HasSubstr;

// The rows a write would touch: non-empty changes only.
template <typename Map>
Map NonEmpty(const Map& map) {
  Map out;
  for (const auto& [key, delta] : map) {
    if (!delta.Empty()) out.emplace(key, delta);
  }
  return out;
}

void ExpectSameChanges(const SharedCounts& a, const SharedCounts& b) {
  EXPECT_EQ(a.reports, b.reports);
  EXPECT_EQ(a.reporters, b.reporters);
  EXPECT_EQ(NonEmpty(a.cells), NonEmpty(b.cells));
  EXPECT_EQ(NonEmpty(a.nationality), NonEmpty(b.nationality));
  EXPECT_EQ(NonEmpty(a.department), NonEmpty(b.department));
}

// New patients from Viet Nam: women (sex 2) aged 30-39 (band 4), at
// hospitals of kind 3 in region 5. Every key field distinct, so that two
// fields swapped on the way through a row show.
const RollupCellKey kVietnameseWomen{202007, 1, "VN", "", 0, 2, 4, 3, 5};

// Two hospitals (ids 7 and 40) reporting July 2020: Vietnamese new
// patients, and visits in two departments.
SharedCounts AGroup(int64_t first_value) {
  SharedCounts counts;
  counts.reports[{202007, 7}] = 1;
  counts.reports[{202007, 40 % 16}] = 1;
  counts.reporters[{202007, 1, 2, 7}] = {1, 0};
  counts.reporters[{202007, 1, 2, 40 % 16}] = {1, 1};
  counts.AddCell(kVietnameseWomen, {first_value, 1, 7, 49});
  counts.AddCell(kVietnameseWomen, {4, 1, 40, 1600});
  counts.AddCell({202007, 2, "VN", "dermatology", 1, 0, 0, 1, 2},
                 {first_value, 1, 7, 49});
  counts.AddCell({202007, 2, "CN", "dermatology", 1, 0, 0, 1, 2},
                 {2, 1, 40, 1600});
  counts.AddCell({202007, 2, "VN", "plastic_surgery", 2, 0, 0, 1, 2},
                 {9, 1, 40, 1600});
  return counts;
}

SharedCounts ThroughARow(const SharedCounts& counts) {
  storage::CountDeltas stored;
  EXPECT_TRUE(
      stored.ParseFromString(ToCountDeltas(counts).SerializeAsString()));
  SharedCounts read;
  EXPECT_TRUE(AddCountDeltas(stored, &read).ok());
  return read;
}

TEST(CountDeltasTest, AGroupsChangesSurviveTheirRow) {
  const SharedCounts group = AGroup(3);
  const SharedCounts read = ThroughARow(group);
  ExpectSameChanges(read, group);
  // The nationality and department sums are kept from the cells alone.
  const RollupDelta vietnamese_visits =
      read.nationality.at({202007, 2, std::string("VN")});
  EXPECT_EQ(vietnamese_visits.value, 3 + 9);
  EXPECT_EQ(vietnamese_visits.contributors, 2);
  EXPECT_EQ(read.department.at({202007, 2, std::string("dermatology"), 1})
                .partner_sum,
            7 + 40);
}

TEST(CountDeltasTest, RowsAddUpAsTheirGroupsWould) {
  SharedCounts both = AGroup(3);
  SharedCounts correction;  // hospital 7 corrects 3 to 5 new patients
  correction.AddCell(kVietnameseWomen, {2, 0, 0, 0});
  both.Add(correction);

  SharedCounts folded;
  ASSERT_TRUE(AddCountDeltas(ToCountDeltas(AGroup(3)), &folded).ok());
  ASSERT_TRUE(AddCountDeltas(ToCountDeltas(correction), &folded).ok());
  ExpectSameChanges(folded, both);
  EXPECT_EQ(folded.cells.at(kVietnameseWomen).value, 3 + 4 + 2);
}

TEST(CountDeltasTest, ChangesThatCancelOutAreNotKept) {
  SharedCounts counts;
  counts.AddCell(kVietnameseWomen, {3, 1, 7, 49});
  counts.AddCell(kVietnameseWomen, {-3, -1, -7, -49});
  EXPECT_TRUE(counts.Empty());
  EXPECT_EQ(ToCountDeltas(counts).cells_size(), 0);
  // A contributor moving between partners changes the partner sums alone:
  // kept.
  SharedCounts moved;
  moved.AddCell(kVietnameseWomen, {0, 0, 16, 480});
  EXPECT_FALSE(moved.Empty());
  EXPECT_EQ(ToCountDeltas(moved).cells_size(), 1);
}

TEST(CountDeltasTest, ALargeGroupTakesSeveralRowsThatAddUpToIt) {
  SharedCounts counts = AGroup(3);
  // A large import: a hundred departments' visits.
  for (int d = 0; d < 100; ++d) {
    counts.AddCell(
        {202007, 2, "VN", absl::StrCat("department_", d), 1, 0, 0, 3, 5},
        {d + 1, 1, 7, 49});
  }
  EXPECT_EQ(ToCountDeltaRows(counts, 1 << 20).size(), 1u);
  const std::vector<storage::CountDeltas> rows = ToCountDeltaRows(counts, 400);
  ASSERT_GT(rows.size(), 5u);
  SharedCounts read;
  for (const storage::CountDeltas& row : rows) {
    EXPECT_LE(row.ByteSizeLong(), 400u + 64u);
    storage::CountDeltas stored;
    ASSERT_TRUE(stored.ParseFromString(row.SerializeAsString()));
    ASSERT_TRUE(AddCountDeltas(stored, &read).ok());
  }
  ExpectSameChanges(read, counts);
}

TEST(CountDeltasTest, ADamagedRowIsRefusedWhole) {
  const storage::CountDeltas good = ToCountDeltas(AGroup(3));
  auto expect_refused = [](const storage::CountDeltas& row) {
    SharedCounts counts;
    const absl::Status added = AddCountDeltas(row, &counts);
    EXPECT_EQ(added.code(), absl::StatusCode::kDataLoss) << added;
    EXPECT_TRUE(counts.reports.empty() && counts.reporters.empty() &&
                counts.cells.empty())
        << "half added";
  };
  storage::CountDeltas bad_shard = good;
  bad_shard.mutable_reports(1)->set_shard(16);
  expect_refused(bad_shard);
  storage::CountDeltas bad_month = good;
  bad_month.mutable_cells(2)->set_period(202013);
  expect_refused(bad_month);
  storage::CountDeltas bad_group = good;
  bad_group.mutable_reporters(0)->set_period(0);
  expect_refused(bad_group);
  storage::CountDeltas long_text = good;
  long_text.mutable_cells(0)->set_nationality(std::string(300, 'V'));
  expect_refused(long_text);

  SharedCounts counts;
  const absl::Status added = AddCountDeltas(bad_shard, &counts);
  EXPECT_THAT(std::string(added.message()), HasSubstr("report counter"));
}

}  // namespace
}  // namespace smz::stats
