#include "services/gateway/http_rule.h"

#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace smz::gateway {
namespace {

using ::testing::ElementsAre;
using ::testing::Pair;

PathTemplate Parsed(const std::string& text) {
  absl::StatusOr<PathTemplate> path = PathTemplate::Parse(text);
  EXPECT_TRUE(path.ok()) << path.status();
  return *path;
}

TEST(PathTemplateTest, BindsEachVariableFromItsOwnSegment) {
  const PathTemplate reports = Parsed("/v1/partners/{partner_id}/reports");
  EXPECT_THAT(reports.Fields(), ElementsAre("partner_id"));
  EXPECT_THAT(*reports.Match("/v1/partners/7/reports"),
              ElementsAre(Pair("partner_id", "7")));
  EXPECT_FALSE(reports.Match("/v1/partners/7").has_value());
  EXPECT_FALSE(reports.Match("/v1/partners//reports").has_value());
  EXPECT_FALSE(reports.Match("/v1/partners/7/reports/").has_value());
  EXPECT_FALSE(reports.Match("/v1/partners/7/8/reports").has_value());
  EXPECT_FALSE(reports.Match("v1/partners/7/reports").has_value());

  const PathTemplate report =
      Parsed("/v1/partners/{partner_id}/reports/{period}");
  EXPECT_THAT(*report.Match("/v1/partners/3/reports/2020-07"),
              ElementsAre(Pair("partner_id", "3"), Pair("period", "2020-07")));
}

TEST(PathTemplateTest, CustomVerbsFollowTheLastSegment) {
  const PathTemplate publish = Parsed("/v1/events/{id}:publish");
  EXPECT_EQ(publish.verb(), "publish");
  EXPECT_THAT(*publish.Match("/v1/events/12:publish"),
              ElementsAre(Pair("id", "12")));
  EXPECT_FALSE(publish.Match("/v1/events/12").has_value());
  EXPECT_FALSE(publish.Match("/v1/events/12:cancel").has_value());

  const PathTemplate get = Parsed("/v1/events/{id}");
  EXPECT_FALSE(get.Match("/v1/events/12:publish").has_value());

  const PathTemplate import = Parsed("/v1/reports:import");
  EXPECT_TRUE(import.Match("/v1/reports:import").has_value());
  EXPECT_FALSE(import.Match("/v1/reports").has_value());
}

TEST(PathTemplateTest, SegmentsArePercentDecodedOneByOne) {
  const PathTemplate get = Parsed("/v1/partners/{id}");
  EXPECT_THAT(*get.Match("/v1/partners/%EB%B3%91%EC%9B%90"),
              ElementsAre(Pair("id", "병원")));
  // An encoded slash stays inside its segment.
  EXPECT_THAT(*get.Match("/v1/partners/a%2Fb"), ElementsAre(Pair("id", "a/b")));
  EXPECT_FALSE(get.Match("/v1/partners/%2").has_value());
  EXPECT_FALSE(get.Match("/v1/partners/%zz").has_value());
  EXPECT_FALSE(get.Match("/v1/partners/a%00b").has_value());
  EXPECT_FALSE(get.Match("/v1/partner%73/1").has_value());  // literals exact
}

TEST(PathTemplateTest, RefusesTemplatesOutsideTheGrammar) {
  for (const char* bad :
       {"", "/", "v1/partners", "/v1/partners/{}", "/v1/partners/{Id}",
        "/v1/partners/{id", "/v1/{a..b}", "/v1/{.a}", "/v1/**",
        "/v1/partners/{id}:", "/v1/partners/{id}:pub/lish", "/v1/a b"}) {
    EXPECT_FALSE(PathTemplate::Parse(bad).ok()) << bad;
  }
  EXPECT_TRUE(PathTemplate::Parse("/v1/partners/{partner.id=*}").ok());
}

TEST(PathTemplateTest, HostilePathsNeverMatch) {
  const PathTemplate get = Parsed("/v1/partners/{id}");
  EXPECT_FALSE(get.Match(std::string(kMaxPathBytes + 1, '/')).has_value());
  EXPECT_FALSE(get.Match("").has_value());
  std::string deep = "/v1/partners";
  for (int i = 0; i < 1000; ++i) deep += "/x";
  EXPECT_FALSE(get.Match(deep).has_value());
}

}  // namespace
}  // namespace smz::gateway
