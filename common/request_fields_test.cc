#include "common/request_fields.h"

#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace smz {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;

std::vector<std::string> Fields(const FieldViolations& violations) {
  std::vector<std::string> fields;
  for (const FieldViolation& v : violations.violations()) {
    fields.push_back(v.field);
  }
  return fields;
}

TEST(RequestFieldsTest, LocalizedTextsNeedKoreanOrEnglishAndNameEachBadEntry) {
  google::protobuf::Map<std::string, std::string> texts;
  FieldViolations violations;
  ValidateLocalizedTexts(texts, "event.title", 10, /*required=*/false,
                         &violations);
  EXPECT_THAT(Fields(violations), IsEmpty());
  ValidateLocalizedTexts(texts, "event.title", 10, /*required=*/true,
                         &violations);
  EXPECT_THAT(Fields(violations), ElementsAre("event.title"));

  texts["vi"] = "Hội thảo";
  texts["zz"] = "x";
  texts["ko"] = "   ";
  texts["en"] = "far longer than ten bytes";
  FieldViolations bad;
  ValidateLocalizedTexts(texts, "event.title", 10, /*required=*/true, &bad);
  // In locale order; "zz" is no language; "vi" (11 bytes in UTF-8) too long.
  EXPECT_THAT(Fields(bad), ElementsAre("event.title[en]", "event.title[ko]",
                                       "event.title[vi]", "event.title[zz]"));
}

TEST(RequestFieldsTest, LocalizedTextsHaveAtMostTwelveLanguages) {
  google::protobuf::Map<std::string, std::string> texts;
  for (const char* code : {"ko", "en", "zh", "mn", "ru", "vi", "ja", "kk", "uz",
                           "th", "id", "fr"}) {
    texts[code] = "설명회";
  }
  FieldViolations twelve;
  ValidateLocalizedTexts(texts, "event.title", 100, true, &twelve);
  EXPECT_THAT(Fields(twelve), IsEmpty());
  texts["de"] = "Infoveranstaltung";
  FieldViolations thirteen;
  ValidateLocalizedTexts(texts, "event.title", 100, true, &thirteen);
  EXPECT_THAT(Fields(thirteen), ElementsAre("event.title"));
}

TEST(RequestFieldsTest, DatesAndMonthsRoundTripAndRejectNonsense) {
  ASSERT_TRUE(ParseDate("2024-02-29").has_value());
  EXPECT_EQ(FormatDate(*ParseDate("2024-02-29")), "2024-02-29");
  EXPECT_FALSE(ParseDate("2023-02-29").has_value());
  EXPECT_FALSE(ParseDate("2023-2-1").has_value());
  ASSERT_TRUE(ParseMonth("2020-07").has_value());
  EXPECT_EQ(FormatMonth(*ParseMonth("2020-07")), "2020-07");
  EXPECT_FALSE(ParseMonth("2020-13").has_value());
}

}  // namespace
}  // namespace smz
