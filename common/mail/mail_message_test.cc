#include "common/mail/mail_message.h"

#include <string>

#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_split.h"
#include "absl/time/civil_time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace smz {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

MailMessage Mongolian() {
  MailMessage mail;
  mail.from = "smz@yeongdeungpo.example";
  mail.from_name = "영등포 스마트메디컬특구";
  mail.to = "agency@example.mn";
  mail.subject = "Бүртгэл баталгаажлаа: Улаанбаатар дахь танилцуулга 2026";
  mail.text = "Сайн байна уу.\n.a line that starts with a dot\n";
  mail.html = "<p>Сайн байна уу.</p>";
  mail.message_id = "registration-17.events@smz.example";
  mail.language = "mn";
  return mail;
}

const absl::Time kDate = absl::FromCivil(
    absl::CivilSecond(2026, 12, 3, 9, 5, 0), absl::UTCTimeZone());

TEST(MailMessageTest, LinesAreShortAndEndInCrLf) {
  absl::StatusOr<std::string> mime = FormatMime(Mongolian(), kDate);
  ASSERT_TRUE(mime.ok()) << mime.status();
  EXPECT_THAT(*mime, HasSubstr("Date: Thu, 03 Dec 2026 09:05:00 +0000\r\n"));
  EXPECT_THAT(*mime,
              HasSubstr("Message-ID: <registration-17.events@smz.example>"));
  EXPECT_THAT(*mime, HasSubstr("Content-Language: mn\r\n"));
  EXPECT_THAT(*mime, HasSubstr("Auto-Submitted: auto-generated\r\n"));
  EXPECT_TRUE(absl::EndsWith(*mime, "\r\n"));
  for (absl::string_view line : absl::StrSplit(*mime, "\r\n")) {
    EXPECT_LE(line.size(), 78u) << line;
    EXPECT_THAT(line, Not(HasSubstr("\n"))) << "a bare LF";
  }
}

// Each encoded word holds whole characters: a word cut inside a Cyrillic
// or Hangul letter would not decode on its own.
TEST(MailMessageTest, EncodedWordsHoldWholeCharacters) {
  absl::StatusOr<std::string> mime = FormatMime(Mongolian(), kDate);
  ASSERT_TRUE(mime.ok());
  std::string subject;
  size_t at = 0;
  while ((at = mime->find("=?UTF-8?B?", at)) != std::string::npos) {
    const size_t end = mime->find("?=", at + 10);
    std::string word;
    ASSERT_TRUE(
        absl::Base64Unescape(mime->substr(at + 10, end - at - 10), &word));
    // A whole UTF-8 sequence: no continuation byte first.
    ASSERT_FALSE(word.empty());
    EXPECT_NE(static_cast<unsigned char>(word[0]) & 0xC0, 0x80);
    subject += word;
    at = end;
  }
  EXPECT_THAT(subject, HasSubstr(Mongolian().subject));
  EXPECT_THAT(subject, HasSubstr(Mongolian().from_name));
}

TEST(MailMessageTest, HeaderInjectionAndBadFieldsAreRefusedTogether) {
  MailMessage mail = Mongolian();
  mail.to = "agency@example.mn\r\nBcc: everyone@example.com";
  mail.subject = "hello\r\nBcc: everyone@example.com";
  mail.from_name = "x\ny";
  mail.message_id = "<no brackets>";
  mail.text.clear();
  mail.language = "not a tag";
  const absl::Status status = ValidateMail(mail);
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  for (const char* field :
       {"to", "subject", "from_name", "message_id", "text", "language"}) {
    EXPECT_THAT(std::string(status.message()), HasSubstr(field));
  }
  EXPECT_FALSE(FormatMime(mail, kDate).ok());
}

// Addresses a header and an SMTP command would read differently, or that
// carry syntax of their own, are refused; plain ones pass.
TEST(MailMessageTest, OnlyPlainAddressesAndIdsPass) {
  MailMessage mail = Mongolian();
  for (const char* address :
       {"x>,<victim@d.example", "a\"@b.example", "a(@b.example",
        "user@пример.мн", "a..b@c.example", ".a@c.example", "a@localhost",
        "a@-bad.example", "a b@c.example", "a@b.example>"}) {
    mail.to = address;
    EXPECT_FALSE(ValidateMail(mail).ok()) << address;
  }
  for (const char* address :
       {"agency@example.mn", "o'brien+smz@mail.example.kr"}) {
    mail.to = address;
    EXPECT_TRUE(ValidateMail(mail).ok()) << address;
  }
  mail.to = "agency@example.mn";
  const std::string too_long = std::string(55, 'a') + "@b.example";
  for (const std::string& id : {std::string("..@."), std::string("a@b@c"),
                                std::string("a@"), too_long}) {
    mail.message_id = id;
    EXPECT_FALSE(ValidateMail(mail).ok()) << id;
  }
  mail.message_id = "ok@smz.example";
  mail.subject = "an \x1b escape";
  EXPECT_FALSE(ValidateMail(mail).ok());
}

TEST(MailMessageTest, PlainTextAloneIsOnePart) {
  MailMessage mail = Mongolian();
  mail.html.clear();
  absl::StatusOr<std::string> mime = FormatMime(mail, kDate);
  ASSERT_TRUE(mime.ok());
  EXPECT_THAT(*mime, Not(HasSubstr("multipart")));
  EXPECT_THAT(*mime, HasSubstr("Content-Type: text/plain; charset=utf-8"));
}

TEST(MailMessageTest, AQrCodeTravelsAsAnImageBesideTheHtml) {
  MailMessage mail = Mongolian();
  mail.qr_code = "K7Q2-M9XD-4T1P-ZR8B";
  mail.html = absl::StrCat("<p>Сайн байна уу.</p><img src=\"cid:",
                           QrContentId(mail.qr_code), "\" alt=\"\">");
  absl::StatusOr<std::string> mime = FormatMime(mail, kDate);
  ASSERT_TRUE(mime.ok()) << mime.status();
  EXPECT_THAT(*mime, HasSubstr("Content-Type: multipart/related; "
                               "type=\"text/html\";\r\n boundary="));
  EXPECT_THAT(*mime, HasSubstr("Content-Type: image/png\r\n"));
  EXPECT_THAT(*mime, HasSubstr(absl::StrCat(
                         "Content-ID: <", QrContentId(mail.qr_code), ">\r\n")));
  // Another code, another image name: mail programs keep images by it.
  EXPECT_NE(QrContentId(mail.qr_code), QrContentId("K7Q2-M9XD-4T1P-ZR8C"));
  EXPECT_THAT(QrContentId(mail.qr_code),
              ::testing::MatchesRegex("qr\\.[0-9a-f]{16}@smz"));
  // No boundary starts with another (RFC 2046 5.1.2).
  std::vector<std::string> boundaries;
  for (absl::string_view line : absl::StrSplit(*mime, "\r\n")) {
    const size_t at = line.find("boundary=\"");
    if (at != absl::string_view::npos) {
      boundaries.emplace_back(line.substr(at + 10, line.size() - at - 11));
    }
  }
  ASSERT_EQ(boundaries.size(), 2u);
  EXPECT_FALSE(absl::StartsWith(boundaries[1], boundaries[0]));
  EXPECT_FALSE(absl::StartsWith(boundaries[0], boundaries[1]));
  // The image is PNG: its base64 starts with the signature's.
  EXPECT_THAT(*mime, HasSubstr("\r\n\r\niVBORw0KGgo"));
  for (absl::string_view line : absl::StrSplit(*mime, "\r\n")) {
    EXPECT_LE(line.size(), 78u) << line;
  }
}

TEST(MailMessageTest, AQrCodeNeedsHtmlAndPrintableText) {
  MailMessage mail = Mongolian();
  mail.qr_code = "a\r\nBcc: x@example.org";
  EXPECT_THAT(ValidateMail(mail).message(), HasSubstr("qr_code"));
  mail.qr_code = std::string(257, 'A');
  EXPECT_THAT(ValidateMail(mail).message(), HasSubstr("qr_code"));
  mail.qr_code = "K7Q2";
  mail.html.clear();
  EXPECT_THAT(ValidateMail(mail).message(), HasSubstr("qr_code"));
}

}  // namespace
}  // namespace smz
