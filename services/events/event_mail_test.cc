// The mail texts (event_mail.h) without a server: every kind in every
// language is filled in; the language chosen for a registration.
#include "services/events/event_mail.h"

#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "services/events/event_rules.h"

namespace smz::events {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

absl::Time Seoul(int y, int m, int d, int hh) {
  return absl::FromCivil(absl::CivilSecond(y, m, d, hh, 0, 0),
                         *LoadZone("Asia/Seoul"));
}

// The texts themselves, without a server: every kind in every language has
// its title, the person's name and no unfilled placeholder.
TEST(EventMailTest, EveryKindInEveryLanguageIsFilledIn) {
  Event event;
  event.set_id(7);
  (*event.mutable_title())["ko"] = "설명회";
  (*event.mutable_title())["en"] = "Briefing";
  event.set_time_zone("Asia/Seoul");
  event.set_venue("영등포구청");
  event.set_state_reason("typhoon");
  *event.mutable_start_time() = ToTimestamp(Seoul(2026, 9, 1, 10));
  *event.mutable_end_time() = ToTimestamp(Seoul(2026, 9, 1, 12));
  for (const char* language : {"ko", "en", "zh", "mn", "ru", "vi"}) {
    for (RegistrationMail kind :
         {RegistrationMail::kReceived, RegistrationMail::kPromoted,
          RegistrationMail::kCancelled, RegistrationMail::kEventCancelled,
          RegistrationMail::kEventPostponed, RegistrationMail::kWeekBefore,
          RegistrationMail::kDayBefore, RegistrationMail::kMovedToOtherEvent}) {
      for (v1::RegistrationState state : {v1::CONFIRMED, v1::WAITLISTED}) {
        Registration r;
        r.set_name("Ана");
        r.set_email("ana@example.org");
        r.set_language(language);
        r.set_state(state);
        r.set_waitlist_position(3);
        Event earlier = event;
        (*earlier.mutable_title())["en"] = "Earlier briefing";
        (*earlier.mutable_title())["ko"] = "먼저 한 설명회";
        *earlier.mutable_start_time() = ToTimestamp(Seoul(2026, 8, 20, 10));
        const OutgoingMail mail = RenderRegistrationMail(
            event, r, kind, Seoul(2026, 8, 1, 10), "", "", &earlier);
        const std::string what = absl::StrCat(language, " ", mail.topic);
        EXPECT_EQ(mail.language, language);
        EXPECT_THAT(mail.subject, Not(HasSubstr("{"))) << what;
        EXPECT_THAT(mail.text, Not(HasSubstr("{"))) << what;
        EXPECT_THAT(mail.text, HasSubstr("Ана")) << what;
        EXPECT_THAT(
            mail.subject,
            HasSubstr(std::string(language) == "ko" ? "설명회" : "Briefing"))
            << what;
        if (kind == RegistrationMail::kReceived && state == v1::WAITLISTED) {
          EXPECT_THAT(mail.text, HasSubstr("3")) << what;
        }
        if (kind == RegistrationMail::kEventCancelled) {
          EXPECT_THAT(mail.text, HasSubstr("typhoon")) << what;
        }
        if (kind == RegistrationMail::kEventPostponed) {
          EXPECT_THAT(mail.text, HasSubstr("2026-08-01 10:00")) << what;
        }
        if (kind == RegistrationMail::kMovedToOtherEvent) {
          // Where the person was before, by name and date.
          EXPECT_THAT(mail.text, HasSubstr("2026-08-20 10:00")) << what;
          EXPECT_THAT(mail.text, HasSubstr(std::string(language) == "ko"
                                               ? "먼저 한 설명회"
                                               : "Earlier briefing"))
              << what;
        }
      }
    }
  }
  // No language of its own: the first interpretation language smz writes.
  Registration r;
  r.add_languages("kk");
  r.add_languages("ru");
  EXPECT_EQ(MailLanguageOf(r), "ru");
  r.clear_languages();
  EXPECT_EQ(MailLanguageOf(r), "en");
}

// A title with control characters (allowed in titles) still makes a
// subject a header can carry: a registration is never refused for it.
TEST(EventMailTest, ControlCharactersNeverReachAHeader) {
  Event event;
  (*event.mutable_title())["en"] = "Brief\x0bing\x1b[31m\u2028night";
  event.set_time_zone("Asia/Seoul");
  *event.mutable_start_time() = ToTimestamp(Seoul(2026, 9, 1, 10));
  *event.mutable_end_time() = ToTimestamp(Seoul(2026, 9, 1, 12));
  Registration r;
  r.set_name("Ana\x07");
  r.set_email("ana@example.org");
  r.set_state(v1::CONFIRMED);
  const OutgoingMail mail =
      RenderRegistrationMail(event, r, RegistrationMail::kReceived);
  EXPECT_EQ(mail.subject, "Registration confirmed: Brief ing [31m night");
  EXPECT_EQ(mail.recipient_name, "Ana ");
  // A 500-byte Korean title is cut at a whole character.
  std::string long_title;
  for (int i = 0; i < 250; ++i) long_title += "가";
  (*event.mutable_title())["en"] = long_title;
  const OutgoingMail cut =
      RenderRegistrationMail(event, r, RegistrationMail::kReceived);
  EXPECT_LE(cut.subject.size(), 340u);
  EXPECT_THAT(cut.subject, HasSubstr("가…"));
}

// A hosting partner's contact: Korean unless they handle English and not
// Korean; the number confirmed is said.
TEST(EventMailTest, HostRemindersAreInTheContactsLanguage) {
  Event event;
  (*event.mutable_title())["ko"] = "팸투어";
  (*event.mutable_title())["en"] = "Fam tour";
  event.set_time_zone("Asia/Seoul");
  event.set_confirmed_count(12);
  *event.mutable_start_time() = ToTimestamp(Seoul(2026, 9, 1, 10));
  *event.mutable_end_time() = ToTimestamp(Seoul(2026, 9, 1, 12));
  registry::v1::Contact contact;
  contact.set_name("김민지");
  contact.set_email("minji@example.kr");
  OutgoingMail mail = RenderHostReminder(event, "연세병원", contact);
  EXPECT_EQ(mail.language, "ko");
  EXPECT_EQ(mail.subject, "행사 3일 전 안내: 팸투어");
  EXPECT_THAT(mail.text, HasSubstr("12명"));
  contact.add_languages("en");
  EXPECT_EQ(RenderHostReminder(event, "연세병원", contact).language, "en");
  contact.add_languages("ko");
  EXPECT_EQ(RenderHostReminder(event, "연세병원", contact).language, "ko");
}

// Every language a registration may choose has its own words (none falls
// back to English unseen), and no other language is taken.
TEST(EventMailTest, TheLanguagesTakenAreTheLanguagesWritten) {
  Event event;
  (*event.mutable_title())["en"] = "Briefing";
  event.set_time_zone("Asia/Seoul");
  *event.mutable_start_time() = ToTimestamp(Seoul(2026, 9, 1, 10));
  *event.mutable_end_time() = ToTimestamp(Seoul(2026, 9, 1, 12));
  Registration r;
  r.set_name("Ana");
  r.set_state(v1::CONFIRMED);
  r.set_language("en");
  const std::string english =
      RenderRegistrationMail(event, r, RegistrationMail::kReceived).subject;
  for (const char* language : {"ko", "zh", "mn", "ru", "vi"}) {
    EXPECT_TRUE(IsMailLanguage(language)) << language;
    r.set_language(language);
    EXPECT_NE(
        RenderRegistrationMail(event, r, RegistrationMail::kReceived).subject,
        english)
        << language;
  }
  EXPECT_TRUE(IsMailLanguage("en"));
  for (const char* other : {"", "kk", "ja", "EN", "en-US"}) {
    EXPECT_FALSE(IsMailLanguage(other)) << other;
  }
}

}  // namespace
}  // namespace smz::events
