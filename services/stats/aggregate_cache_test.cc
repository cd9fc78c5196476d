#include "services/stats/aggregate_cache.h"

#include "gtest/gtest.h"

namespace smz::stats {
namespace {

Principal As(auth::v1::Role role) {
  Principal caller;
  caller.set_role(role);
  return caller;
}

v1::AggregateRequest ByNationality(const std::string& year) {
  v1::AggregateRequest request;
  request.set_start_period(year + "-01");
  request.set_end_period(year + "-12");
  request.add_group_by(v1::NATIONALITY);
  return request;
}

v1::AggregateResponse Answer(const std::string& source) {
  v1::AggregateResponse answer;
  answer.set_source(source);
  return answer;
}

TEST(AggregateCacheTest, OnlyAggregatesFromTheRollupsAreKept) {
  EXPECT_TRUE(AggregateCache::Cacheable(ByNationality("2025")));
  v1::AggregateRequest by_partner = ByNationality("2025");
  by_partner.add_group_by(v1::PARTNER);
  EXPECT_FALSE(AggregateCache::Cacheable(by_partner));
  v1::AggregateRequest one_hospital = ByNationality("2025");
  one_hospital.mutable_filter()->add_partner_ids(7);
  EXPECT_FALSE(AggregateCache::Cacheable(one_hospital));
}

TEST(AggregateCacheTest, EachRoleAndRequestHasItsOwnAnswer) {
  const v1::AggregateRequest request = ByNationality("2025");
  EXPECT_EQ(AggregateCache::KeyOf(As(auth::v1::COUNCIL), request),
            AggregateCache::KeyOf(As(auth::v1::COUNCIL), request));
  EXPECT_NE(AggregateCache::KeyOf(As(auth::v1::COUNCIL), request),
            AggregateCache::KeyOf(As(auth::v1::ADMIN), request));
  EXPECT_NE(
      AggregateCache::KeyOf(As(auth::v1::COUNCIL), request),
      AggregateCache::KeyOf(As(auth::v1::COUNCIL), ByNationality("2024")));
}

TEST(AggregateCacheTest, AnswersOnlyAtTheStampTheyWereComputedAt) {
  AggregateCache cache(1 << 20);
  EXPECT_FALSE(cache.Find("k", "s1").has_value());
  cache.Insert("k", "s1", Answer("rollup_nationality"));
  ASSERT_TRUE(cache.Find("k", "s1").has_value());
  EXPECT_EQ(cache.Find("k", "s1")->source(), "rollup_nationality");
  EXPECT_EQ(cache.hits(), 2);
  EXPECT_FALSE(cache.Find("k", "s2").has_value());
  EXPECT_FALSE(cache.Find("other", "s1").has_value());

  // A newer stamp's answer replaces every answer of the old one.
  cache.Insert("k2", "s2", Answer("rollup_department"));
  EXPECT_EQ(cache.entries(), 1u);
  EXPECT_FALSE(cache.Find("k", "s1").has_value());
  EXPECT_FALSE(cache.Find("k", "s2").has_value());
  EXPECT_TRUE(cache.Find("k2", "s2").has_value());
}

TEST(AggregateCacheTest, StaysWithinItsBudget) {
  v1::AggregateResponse big;
  big.set_source(std::string(600, 'x'));
  AggregateCache cache(16000);
  for (int i = 0; i < 40; ++i) cache.Insert(std::to_string(i), "s", big);
  // ~600 bytes each: room for 26, the others dropped, the newest kept.
  EXPECT_LE(cache.entries(), 26u);
  EXPECT_GE(cache.entries(), 20u);
  EXPECT_TRUE(cache.Find("39", "s").has_value());
  v1::AggregateResponse huge;
  huge.set_source(std::string(1100, 'x'));  // over a sixteenth: never kept
  cache.Insert("huge", "s", huge);
  EXPECT_FALSE(cache.Find("huge", "s").has_value());
  EXPECT_TRUE(cache.Find("39", "s").has_value());
}

TEST(AggregateCacheTest, NoStampNoMemory) {
  AggregateCache cache(1 << 20);
  cache.Insert("k", "", Answer("rollup_nationality"));
  EXPECT_EQ(cache.entries(), 0u);
  EXPECT_FALSE(cache.Find("k", "").has_value());
}

TEST(AggregateCacheTest, HostileRequestsAreNotKeysOfTheirOwn) {
  // Fields this release does not know do not make another key ...
  v1::AggregateRequest padded = ByNationality("2025");
  padded.GetReflection()->MutableUnknownFields(&padded)->AddVarint(100, 5);
  EXPECT_EQ(
      AggregateCache::KeyOf(As(auth::v1::COUNCIL), padded),
      AggregateCache::KeyOf(As(auth::v1::COUNCIL), ByNationality("2025")));
  // ... and a request far larger than a real one is never kept.
  v1::AggregateRequest large = ByNationality("2025");
  for (int i = 0; i < 2000; ++i)
    large.mutable_filter()->add_nationalities("MN");
  EXPECT_FALSE(AggregateCache::Cacheable(large));
}

}  // namespace
}  // namespace smz::stats
