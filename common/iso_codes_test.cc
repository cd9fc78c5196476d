#include "common/iso_codes.h"

#include <algorithm>

#include "gtest/gtest.h"

namespace smz {
namespace {

TEST(IsoCodesTest, KnowsTheZonesMarketsInBothLanguages) {
  const IsoCode* mongolia = FindCountry("MN");
  ASSERT_NE(mongolia, nullptr);
  EXPECT_EQ(mongolia->name_ko, "몽골");
  EXPECT_EQ(mongolia->name_en, "Mongolia");
  ASSERT_NE(FindCountry("VN"), nullptr);
  EXPECT_EQ(FindCountry("VN")->name_ko, "베트남");
  EXPECT_TRUE(IsCountryCode("KR"));
  EXPECT_TRUE(IsCountryCode("CN"));
  EXPECT_TRUE(IsCountryCode("RU"));
  ASSERT_NE(FindLanguage("mn"), nullptr);
  EXPECT_EQ(FindLanguage("mn")->name_ko, "몽골어");
  EXPECT_TRUE(IsLanguageCode("ko"));
  EXPECT_TRUE(IsLanguageCode("vi"));
}

TEST(IsoCodesTest, RefusesUnknownAndWronglyCasedCodes) {
  EXPECT_FALSE(IsCountryCode("XX"));
  EXPECT_FALSE(IsCountryCode("kr"));
  EXPECT_FALSE(IsCountryCode("KOR"));
  EXPECT_FALSE(IsCountryCode(""));
  EXPECT_FALSE(IsLanguageCode("zz"));
  EXPECT_FALSE(IsLanguageCode("EN"));
  EXPECT_FALSE(IsLanguageCode("eng"));
}

TEST(IsoCodesTest, TablesAreSortedAndComplete) {
  auto by_code = [](const IsoCode& a, const IsoCode& b) {
    return a.code < b.code;
  };
  EXPECT_TRUE(std::is_sorted(Countries().begin(), Countries().end(), by_code));
  EXPECT_TRUE(std::is_sorted(Languages().begin(), Languages().end(), by_code));
  EXPECT_GE(Countries().size(), 249u);
  EXPECT_GE(Languages().size(), 180u);
}

}  // namespace
}  // namespace smz
