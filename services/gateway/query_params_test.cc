#include "services/gateway/query_params.h"

#include <string>
#include <vector>

#include "common/status_util.h"
#include "gmock/gmock.h"
#include "google/protobuf/util/json_util.h"
#include "gtest/gtest.h"
#include "smz/events/v1/events.pb.h"
#include "smz/gateway/v1/gateway.pb.h"
#include "smz/registry/v1/registry.pb.h"
#include "smz/stats/v1/stats.pb.h"

namespace smz::gateway {
namespace {

using ::testing::ElementsAre;

std::vector<std::string> BadFields(const absl::Status& status) {
  std::vector<std::string> fields;
  for (const FieldViolation& v : GetFieldViolations(status)) {
    fields.push_back(v.field);
  }
  return fields;
}

TEST(QueryParamsTest, ValuesTakeTheFieldsTypes) {
  v1::GetKpiTableRequest kpi;
  ASSERT_TRUE(MergeQueryParameters(
                  {{"programme_code", "2018"}, {"asOf", "2020-12-31"}}, &kpi)
                  .ok());
  EXPECT_EQ(kpi.programme_code(), "2018");
  EXPECT_EQ(kpi.as_of(), "2020-12-31");
  v1::GetCouncilReportRequest report;
  ASSERT_TRUE(
      MergeQueryParameters(
          {{"year", "2020"}, {"format", "CSV"}, {"table", "2"}}, &report)
          .ok());
  EXPECT_EQ(report.year(), 2020);
  EXPECT_EQ(report.format(), v1::GetCouncilReportRequest::CSV);
  EXPECT_EQ(static_cast<int>(report.table()), 2);
}

TEST(QueryParamsTest, NestedAndRepeatedFields) {
  stats::v1::AggregateRequest aggregate;
  ASSERT_TRUE(MergeQueryParameters({{"start_period", "2020-01"},
                                    {"filter.regions", "DAERIM"},
                                    {"filter.regions", "YEOUIDO"},
                                    {"group_by", "NATIONALITY"},
                                    {"year_over_year", "true"}},
                                   &aggregate)
                  .ok());
  EXPECT_EQ(aggregate.filter().regions_size(), 2);
  EXPECT_TRUE(aggregate.year_over_year());
  EXPECT_EQ(aggregate.group_by_size(), 1);
}

TEST(QueryParamsTest, EveryBadParameterIsNamed) {
  v1::GetCouncilReportRequest report;
  const absl::Status status =
      MergeQueryParameters({{"year", "twenty"},
                            {"year", "2020"},
                            {"format", "PDF"},
                            {"nope", "1"},
                            {"year.inner", "1"},
                            {"language", std::string("\xFF", 1)}},
                           &report);
  // "year" twice: "twenty" is no number, and the second is one too many.
  EXPECT_THAT(BadFields(status), ElementsAre("year", "year", "format", "nope",
                                             "year.inner", "language"));
}

TEST(QueryParamsTest, RepeatedSingularValueIsRefused) {
  v1::GetZoneOverviewRequest overview;
  const absl::Status status =
      MergeQueryParameters({{"year", "2019"}, {"year", "2020"}}, &overview);
  EXPECT_THAT(BadFields(status), ElementsAre("year"));
}

TEST(QueryParamsTest, TimestampsAndMasksAreTheirJsonStrings) {
  events::v1::ListDueRemindersRequest reminders;
  ASSERT_TRUE(
      MergeQueryParameters({{"at", "2026-01-31T09:00:00+09:00"}}, &reminders)
          .ok());
  EXPECT_EQ(reminders.at().seconds(), 1769817600);
  for (const std::string& bad :
       {std::string("0001-01-01T00:00:00+01:00"), std::string("yesterday"),
        std::string("2020-01-01T00:00:00Z\0junk", 25),
        std::string("10000-01-01T00:00:00Z")}) {
    events::v1::ListDueRemindersRequest request;
    absl::Status merged = MergeQueryParameters({{"at", bad}}, &request);
    EXPECT_EQ(merged.code(), absl::StatusCode::kInvalidArgument) << bad;
    EXPECT_EQ(request.at().seconds(), 0) << bad;
  }
  // The same times in a JSON body: protobuf's parser takes some of them
  // (as a gRPC client may send any seconds), but never asserts on them.
  for (const char* json : {R"({"at":"0001-01-01T00:00:00+01:00"})",
                           R"({"at":"9999-12-31T23:59:59-01:00"})",
                           R"({"at":"10000-01-01T00:00:00Z"})"}) {
    events::v1::ListDueRemindersRequest request;
    EXPECT_NO_THROW(
        (void)google::protobuf::util::JsonStringToMessage(json, &request))
        << json;
  }
  registry::v1::UpdatePartnerRequest update;
  ASSERT_TRUE(
      MergeQueryParameters({{"updateMask", "address,contacts"}}, &update).ok());
  EXPECT_THAT(update.update_mask().paths(),
              ::testing::ElementsAre("address", "contacts"));
}

TEST(QueryParamsTest, LimitsAndExtremes) {
  v1::GetZoneOverviewRequest overview;
  EXPECT_FALSE(
      MergeQueryParameters({{"year", "99999999999999999999"}}, &overview).ok());
  EXPECT_FALSE(MergeQueryParameters({{"year", "-2147483649"}}, &overview).ok());
  std::vector<QueryParameter> many(kMaxQueryParameters + 1, {"year", "1"});
  EXPECT_FALSE(MergeQueryParameters(many, &overview).ok());
  EXPECT_FALSE(
      MergeQueryParameters({{std::string(1 << 20, 'y'), "1"}}, &overview).ok());
  EXPECT_FALSE(
      MergeQueryParameters({{"year", std::string(1 << 20, '1')}}, &overview)
          .ok());
  std::string deep = "a";
  for (int i = 0; i < 100; ++i) deep += ".a";
  EXPECT_FALSE(MergeQueryParameters({{deep, "1"}}, &overview).ok());
  stats::v1::AggregateRequest aggregate;
  EXPECT_FALSE(
      MergeQueryParameters({{"filter", "x"}}, &aggregate).ok());  // a message
}

}  // namespace
}  // namespace smz::gateway
