#include "common/text_checks.h"

#include <string>

#include "common/request_fields.h"
#include "gtest/gtest.h"

namespace smz {
namespace {

// A caller may send a megabyte where a field expects a few bytes: every
// check must answer, quickly and without recursing per character.
std::string Mebibyte(char fill) { return std::string(1 << 20, fill); }

std::string MebibyteOf(absl::string_view head, char fill,
                       absl::string_view tail) {
  std::string text(head.data(), head.size());
  text.append((1 << 20) - head.size() - tail.size(), fill);
  text.append(tail.data(), tail.size());
  return text;
}

TEST(Utf8Test, AcceptsWellFormedText) {
  EXPECT_TRUE(IsValidUtf8(""));
  EXPECT_TRUE(IsValidUtf8("Seoul"));
  EXPECT_TRUE(IsValidUtf8("영등포 스마트메디컬특구"));
  EXPECT_TRUE(IsValidUtf8("\xF0\x9F\x8F\xA5"));  // U+1F3E5 hospital
  EXPECT_EQ(Utf8Length("영등포"), 3u);
}

TEST(Utf8Test, RefusesWhatMysqlRefuses) {
  EXPECT_FALSE(IsValidUtf8("\xFF"));
  EXPECT_FALSE(IsValidUtf8("\xC0\xAF"));          // overlong '/'
  EXPECT_FALSE(IsValidUtf8("\xE0\x80\xAF"));      // overlong
  EXPECT_FALSE(IsValidUtf8("\xED\xA0\x80"));      // surrogate U+D800
  EXPECT_FALSE(IsValidUtf8("\xF4\x90\x80\x80"));  // above U+10FFFF
  EXPECT_FALSE(IsValidUtf8("\xEC\x98"));          // cut short
  EXPECT_FALSE(IsValidUtf8("abc\x80"));           // stray continuation
}

TEST(Utf8Test, MebibyteInputs) {
  EXPECT_TRUE(IsValidUtf8(Mebibyte('a')));
  EXPECT_FALSE(IsValidUtf8(MebibyteOf("", 'a', "\xFF")));
  EXPECT_EQ(Utf8Length(Mebibyte('a')), size_t{1} << 20);
}

TEST(AbbreviateTest, CutsAtCharacterBoundariesAndHidesControls) {
  EXPECT_EQ(Abbreviate("short", 64), "short");
  EXPECT_EQ(Abbreviate("a\nb\x01", 64), "a?b?");
  EXPECT_EQ(Abbreviate("bad\xFF", 64), "bad?");
  const std::string cut = Abbreviate("영등포구청", 10);  // 3 bytes each
  EXPECT_EQ(cut, "영등\xE2\x80\xA6");
  EXPECT_TRUE(IsValidUtf8(cut));
  const std::string long_one = Abbreviate(Mebibyte('x'), 64);
  EXPECT_LE(long_one.size(), 64u);
  EXPECT_TRUE(IsValidUtf8(Abbreviate(MebibyteOf("", '\xEC', ""), 100)));
}

TEST(LocaleTagTest, CommonShapes) {
  for (const char* ok : {"ko", "en", "zh-Hans", "pt-BR", "mn", "kaz"}) {
    EXPECT_TRUE(IsLocaleTag(ok)) << ok;
  }
  for (const char* bad : {"", "k", "KO", "english", "zh-", "zh--Hans",
                          "zh-Hansxxxxx", "ko_KR", "ko-한"}) {
    EXPECT_FALSE(IsLocaleTag(bad)) << bad;
  }
  EXPECT_FALSE(IsLocaleTag(Mebibyte('a')));
  EXPECT_FALSE(IsLocaleTag(MebibyteOf("ko", '-', "")));
}

TEST(EmailTest, AddressesAndNot) {
  for (const char* ok :
       {"intl@kimeye.kr", "a.b+c@hospital.co.kr", "담당자@병원.한국"}) {
    EXPECT_TRUE(IsEmailAddress(ok)) << ok;
  }
  for (const char* bad :
       {"", "intl", "@kimeye.kr", "intl@", "intl@kr", "intl@kimeye.",
        "intl@.kr", "a@b@c.kr", "a b@c.kr", "a@b.kr\n", "a\t@b.kr"}) {
    EXPECT_FALSE(IsEmailAddress(bad)) << bad;
  }
  // The input that overflowed std::regex's stack, and its relatives.
  EXPECT_FALSE(IsEmailAddress(MebibyteOf("a", 'a', "@example.kr")));
  EXPECT_FALSE(IsEmailAddress(MebibyteOf("a@", 'b', ".kr")));
  EXPECT_FALSE(IsEmailAddress(Mebibyte('@')));
}

TEST(PhoneTest, NumbersAndNot) {
  EXPECT_TRUE(IsPhoneNumber("+82 2-2670-3114"));
  EXPECT_TRUE(IsPhoneNumber("(02) 2670.3114"));
  EXPECT_FALSE(IsPhoneNumber("12345"));
  EXPECT_FALSE(IsPhoneNumber("02-2670-3114 ext"));
  EXPECT_FALSE(IsPhoneNumber(Mebibyte('1')));
}

TEST(RegistrationNumberTest, NumbersAndNot) {
  EXPECT_TRUE(IsRegistrationNumber("SEOUL-2019-0042"));
  EXPECT_FALSE(IsRegistrationNumber("-2019"));
  EXPECT_FALSE(IsRegistrationNumber("ab"));
  EXPECT_FALSE(IsRegistrationNumber("SEOUL 2019"));
  EXPECT_FALSE(IsRegistrationNumber(Mebibyte('A')));
}

TEST(RequestIdTest, IdsAndNot) {
  EXPECT_TRUE(IsRequestId("kim-2026-11"));
  EXPECT_TRUE(IsRequestId("a.b_c:d-e"));
  EXPECT_FALSE(IsRequestId(""));
  EXPECT_FALSE(IsRequestId("a/b"));
  EXPECT_FALSE(IsRequestId(std::string(65, 'a')));
  EXPECT_FALSE(IsRequestId(Mebibyte('a')));
  FieldViolations violations;
  ValidateRequestId(Mebibyte('a'), &violations);
  EXPECT_EQ(violations.size(), 1u);
}

TEST(TimeZoneNameTest, ShapesAndNot) {
  for (const char* ok : {"Asia/Seoul", "UTC", "Etc/GMT+9", "Etc/GMT-9",
                         "America/Argentina/Buenos_Aires"}) {
    EXPECT_TRUE(IsTimeZoneName(ok)) << ok;
  }
  for (const char* bad : {"", "/Asia", "Asia/", "Asia//Seoul", "../etc/passwd",
                          "Asia/Seoul\n", "a/b/c/d/e", "Asia/-Seoul"}) {
    EXPECT_FALSE(IsTimeZoneName(bad)) << bad;
  }
  EXPECT_FALSE(IsTimeZoneName(Mebibyte('a')));
  EXPECT_FALSE(IsTimeZoneName(Mebibyte('/')));
}

TEST(DatesTest, MebibyteInputs) {
  EXPECT_TRUE(ParseDate("2022-10-31").has_value());
  EXPECT_FALSE(ParseDate("2022-02-30").has_value());
  EXPECT_FALSE(ParseDate("2022-1-031").has_value());
  EXPECT_FALSE(ParseDate("+022-10-31").has_value());
  EXPECT_FALSE(ParseDate(MebibyteOf("2022-10-31", '1', "")).has_value());
  EXPECT_TRUE(ParseMonth("2020-07").has_value());
  EXPECT_FALSE(ParseMonth("2020-13").has_value());
  EXPECT_FALSE(ParseMonth("2020-00").has_value());
  EXPECT_FALSE(ParseMonth("1899-12").has_value());
  EXPECT_FALSE(ParseMonth(MebibyteOf("2020-07", '1', "")).has_value());
  EXPECT_FALSE(ParseMonth(Mebibyte('9')).has_value());
}

}  // namespace
}  // namespace smz
