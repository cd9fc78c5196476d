#include "services/stats/disclosure.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace smz::stats {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;

constexpr int kSO = 1;  // specialized operator
constexpr int kCI = 2;  // cooperating institution
constexpr int kYdp = 1, kYeouido = 2, kDaerim = 3;

TEST(PooledGroupsTest, LargeGroupsAloneAreShown) {
  EXPECT_THAT(
      PooledGroups({{{202010, kSO, kYdp}, 5}, {{202010, kCI, kYeouido}, 3}}, 3),
      IsEmpty());
}

TEST(PooledGroupsTest, SmallGroupsArePooledWhenThePoolIsLargeEnough) {
  EXPECT_THAT(PooledGroups({{{202010, kSO, kYdp}, 5},
                            {{202010, kSO, kDaerim}, 1},
                            {{202010, kCI, kYdp}, 2}},
                           3),
              ElementsAre(GroupMonth{202010, kSO, kDaerim},
                          GroupMonth{202010, kCI, kYdp}));
}

// One hospital alone in Daerim: the pool would be that hospital, so the
// smallest shown group joins it (otherwise the zone minus the shown groups
// would be its figures).
TEST(PooledGroupsTest, ThePoolIsWidenedUntilItIsLargeEnough) {
  EXPECT_THAT(PooledGroups({{{202010, kSO, kYdp}, 6},
                            {{202010, kSO, kDaerim}, 1},
                            {{202010, kCI, kYeouido}, 4}},
                           3),
              ElementsAre(GroupMonth{202010, kSO, kDaerim},
                          GroupMonth{202010, kCI, kYeouido}));
}

TEST(PooledGroupsTest, EachMonthOnItsOwn) {
  EXPECT_THAT(PooledGroups({{{202009, kSO, kYdp}, 3},
                            {{202010, kSO, kYdp}, 2},
                            {{202010, kCI, kYdp}, 4}},
                           3),
              ElementsAre(GroupMonth{202010, kSO, kYdp},
                          GroupMonth{202010, kCI, kYdp}));
  // A month of small groups only: all pooled, the zone is what is left.
  EXPECT_THAT(
      PooledGroups({{{202011, kSO, kYdp}, 1}, {{202011, kSO, kYeouido}, 1}}, 3),
      ElementsAre(GroupMonth{202011, kSO, kYdp},
                  GroupMonth{202011, kSO, kYeouido}));
}

TEST(WithheldMonthsTest, MonthsWithTooFewHospitalsInAll) {
  EXPECT_THAT(WithheldMonths({{{202009, kSO, kYdp}, 1},
                              {{202009, kCI, kYdp}, 2},
                              {{202010, kSO, kYdp}, 1},
                              {{202010, kCI, kYeouido}, 1}},
                             3),
              ElementsAre(202010));
}

}  // namespace
}  // namespace smz::stats
