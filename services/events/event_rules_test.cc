// The events rules and the iCalendar writer without I/O: validation naming
// every bad field, recurrence expansion across zones, the lifecycle table,
// slots and internal conflicts, person keys, text escaping and folding.
#include "services/events/event_rules.h"

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "services/events/icalendar.h"

namespace smz::events {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::UnorderedElementsAre;

absl::Time At(absl::string_view zone, int y, int m, int d, int hh, int mm = 0) {
  return absl::FromCivil(absl::CivilSecond(y, m, d, hh, mm, 0),
                         *LoadZone(zone));
}

Event Valid() {
  Event event;
  event.set_type(v1::BRIEFING_SESSION);
  (*event.mutable_title())["ko"] = "몽골 울란바토르 의료관광 설명회";
  (*event.mutable_title())["en"] = "Medical tourism briefing, Ulaanbaatar";
  event.set_time_zone("Asia/Ulaanbaatar");
  event.set_country("mn");
  *event.mutable_start_time() =
      ToTimestamp(At("Asia/Ulaanbaatar", 2026, 5, 23, 10));
  *event.mutable_end_time() =
      ToTimestamp(At("Asia/Ulaanbaatar", 2026, 5, 23, 17));
  event.set_venue("Shangri-La Ulaanbaatar");
  event.set_room("Ballroom");
  NormalizeEvent(&event);
  return event;
}

std::vector<std::string> Fields(const FieldViolations& violations) {
  std::vector<std::string> fields;
  for (const FieldViolation& v : violations.violations()) {
    fields.push_back(v.field);
  }
  return fields;
}

TEST(ValidateEventTest, ValidEventHasNoViolations) {
  FieldViolations violations;
  ValidateEvent(Valid(), &violations);
  EXPECT_TRUE(violations.empty()) << violations.ToStatus();
}

TEST(ValidateEventTest, NamesEveryBadField) {
  Event event = Valid();
  event.clear_type();
  event.mutable_title()->clear();
  (*event.mutable_title())["xx"] = "?";
  event.set_time_zone("Asia/Atlantis");
  *event.mutable_end_time() = event.start_time();
  event.set_capacity(-1);
  event.set_country("ZZ");
  event.add_target_languages("klingon");
  event.add_host_partner_ids(0);
  FieldViolations violations;
  ValidateEvent(event, &violations);
  EXPECT_THAT(Fields(violations),
              UnorderedElementsAre("event.type", "event.title",
                                   "event.title[xx]", "event.time_zone",
                                   "event.end_time", "event.capacity",
                                   "event.country", "event.target_languages[0]",
                                   "event.host_partner_ids[0]"));
}

TEST(ValidateEventTest, SessionOutsideEventAndInternalConflicts) {
  Event event = Valid();
  v1::Session* late = event.add_sessions();
  *late->mutable_start_time() =
      ToTimestamp(At("Asia/Ulaanbaatar", 2026, 5, 23, 16));
  *late->mutable_end_time() =
      ToTimestamp(At("Asia/Ulaanbaatar", 2026, 5, 23, 18));
  FieldViolations violations;
  ValidateEvent(event, &violations);
  EXPECT_THAT(Fields(violations), ElementsAre("event.sessions[0]"));

  // Two overlapping sessions in the same room, two overlapping visits to
  // one hospital: both refused, naming the second item.
  event = Valid();
  for (int i = 0; i < 2; ++i) {
    v1::Session* s = event.add_sessions();
    *s->mutable_start_time() =
        ToTimestamp(At("Asia/Ulaanbaatar", 2026, 5, 23, 10 + i));
    *s->mutable_end_time() =
        ToTimestamp(At("Asia/Ulaanbaatar", 2026, 5, 23, 12 + i));
  }
  for (int i = 0; i < 2; ++i) {
    v1::Session* s = event.add_sessions();
    s->set_kind(v1::VISIT);
    s->set_venue(i == 0 ? "Hospital A" : "Hospital A annex");
    s->set_host_partner_id(7);
    *s->mutable_start_time() =
        ToTimestamp(At("Asia/Ulaanbaatar", 2026, 5, 23, 14, i * 30));
    *s->mutable_end_time() =
        ToTimestamp(At("Asia/Ulaanbaatar", 2026, 5, 23, 15, i * 30));
  }
  violations = FieldViolations();
  ValidateEvent(event, &violations);
  ASSERT_THAT(Fields(violations),
              ElementsAre("event.sessions[1]", "event.sessions[3]"));
  EXPECT_THAT(violations.violations()[0].description,
              HasSubstr("room 'Shangri-La Ulaanbaatar / Ballroom'"));
  EXPECT_THAT(violations.violations()[1].description,
              HasSubstr("partner 7 already hosts event.sessions[2]"));
}

TEST(LifecycleTest, OnlyTheDocumentedTransitions) {
  using v1::EventState;
  const EventState all[] = {v1::DRAFT, v1::PUBLISHED, v1::COMPLETED,
                            v1::CANCELLED, v1::POSTPONED};
  std::vector<std::string> allowed;
  for (EventState from : all) {
    for (EventState to : all) {
      if (TransitionAllowed(from, to)) {
        allowed.push_back(absl::StrCat(v1::EventState_Name(from), ">",
                                       v1::EventState_Name(to)));
      }
    }
  }
  EXPECT_THAT(allowed,
              UnorderedElementsAre("DRAFT>PUBLISHED", "DRAFT>CANCELLED",
                                   "PUBLISHED>COMPLETED", "PUBLISHED>CANCELLED",
                                   "PUBLISHED>POSTPONED", "POSTPONED>PUBLISHED",
                                   "POSTPONED>COMPLETED", "POSTPONED>CANCELLED",
                                   "POSTPONED>POSTPONED"));
}

TEST(RecurrenceTest, WeeklyWithExceptionKeepsLocalTime) {
  v1::Recurrence r;
  r.set_rule("FREQ=WEEKLY;BYDAY=TU,TH;COUNT=6");
  // Tuesday 2026-09-01 19:00 Seoul.
  *r.mutable_first_start_time() = ToTimestamp(At("Asia/Seoul", 2026, 9, 1, 19));
  *r.mutable_first_end_time() = ToTimestamp(At("Asia/Seoul", 2026, 9, 1, 21));
  r.add_exception_dates("2026-09-08");
  absl::StatusOr<std::vector<v1::Session>> o =
      ExpandRecurrence(r, *LoadZone("Asia/Seoul"));
  ASSERT_TRUE(o.ok()) << o.status();
  std::vector<std::string> starts;
  for (const v1::Session& s : *o) {
    starts.push_back(
        LocalDateTime(ToTime(s.start_time()), *LoadZone("Asia/Seoul")));
  }
  EXPECT_THAT(starts, ElementsAre("2026-09-01T19:00", "2026-09-03T19:00",
                                  "2026-09-10T19:00", "2026-09-15T19:00",
                                  "2026-09-17T19:00"));
  EXPECT_EQ((*o)[2].occurrence(), 4);  // numbering counts the exception
}

TEST(RecurrenceTest, LocalTimeKeptAcrossDaylightSaving) {
  v1::Recurrence r;
  r.set_rule("FREQ=WEEKLY;UNTIL=20261110");
  *r.mutable_first_start_time() =
      ToTimestamp(At("Europe/Berlin", 2026, 10, 20, 10));
  *r.mutable_first_end_time() =
      ToTimestamp(At("Europe/Berlin", 2026, 10, 20, 11));
  absl::StatusOr<std::vector<v1::Session>> o =
      ExpandRecurrence(r, *LoadZone("Europe/Berlin"));
  ASSERT_TRUE(o.ok()) << o.status();
  ASSERT_EQ(o->size(), 4u);
  // 10:00 CEST is 08:00 UTC; after 25 October 10:00 CET is 09:00 UTC.
  EXPECT_EQ(absl::FormatTime("%H:%M", ToTime((*o)[0].start_time()),
                             absl::UTCTimeZone()),
            "08:00");
  EXPECT_EQ(absl::FormatTime("%H:%M", ToTime((*o)[3].start_time()),
                             absl::UTCTimeZone()),
            "09:00");
}

TEST(RecurrenceTest, BadRulesAreNamed) {
  for (const char* rule :
       {"", "FREQ=YEARLY;COUNT=2", "FREQ=WEEKLY",
        "FREQ=WEEKLY;COUNT=2;UNTIL=20260101", "FREQ=DAILY;BYDAY=MO;COUNT=3",
        "FREQ=WEEKLY;COUNT=1000", "FREQ=WEEKLY;BYDAY=XX;COUNT=2",
        "FREQ=WEEKLY;BYSETPOS=1;COUNT=2"}) {
    EXPECT_FALSE(ParseRecurrenceRule(rule).ok()) << rule;
  }
  v1::Recurrence r;
  r.set_rule("FREQ=DAILY;COUNT=3");
  *r.mutable_first_start_time() = ToTimestamp(At("Asia/Seoul", 2026, 9, 1, 9));
  *r.mutable_first_end_time() = ToTimestamp(At("Asia/Seoul", 2026, 9, 1, 10));
  r.add_exception_dates("2026-09-09");
  absl::Status status = ExpandRecurrence(r, *LoadZone("Asia/Seoul")).status();
  ASSERT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(GetFieldViolations(status)[0].field,
              "event.recurrence.exception_dates");
}

TEST(RecurrenceTest, MebibyteRulesAndZonesAreRefusedQuickly) {
  const std::string huge(1 << 20, 'A');
  EXPECT_FALSE(ParseRecurrenceRule(huge).ok());
  EXPECT_FALSE(ParseRecurrenceRule(absl::StrCat("FREQ=", huge)).ok());
  EXPECT_FALSE(
      ParseRecurrenceRule(
          absl::StrCat(
              "FREQ=WEEKLY;COUNT=2;BYDAY=",
              absl::StrJoin(std::vector<std::string>(200000, "MO"), ",")))
          .ok());
  EXPECT_FALSE(ParseRecurrenceRule("FREQ=WEEKLY;COUNT=2;BYDAY=MO,MO").ok());
  EXPECT_FALSE(LoadZone(huge).ok());
  EXPECT_FALSE(LoadZone(std::string(1 << 20, '/')).ok());
  EXPECT_FALSE(LoadZone("../../../../etc/passwd").ok());
  EXPECT_FALSE(LoadZone("Asia/Atlantis").ok());
  EXPECT_TRUE(LoadZone("Asia/Seoul").ok());
  EXPECT_TRUE(LoadZone("UTC").ok());
  Event event = Valid();
  event.set_time_zone(huge);
  FieldViolations violations;
  ValidateEvent(event, &violations);
  ASSERT_THAT(Fields(violations), ElementsAre("event.time_zone"));
  EXPECT_LE(violations.violations()[0].description.size(),
            kMaxDescriptionBytes);
}

TEST(RecurrenceTest, FirstStartOutsideByDayIsRefused) {
  // iCalendar counts DTSTART as an occurrence even when BYDAY skips its
  // day, so a Monday start of a Tuesday-only rule cannot be exported as
  // stored: it is refused with the field named.
  v1::Recurrence r;
  r.set_rule("FREQ=WEEKLY;BYDAY=TU;COUNT=3");
  *r.mutable_first_start_time() =
      ToTimestamp(At("Asia/Seoul", 2026, 8, 31, 19));  // a Monday
  *r.mutable_first_end_time() = ToTimestamp(At("Asia/Seoul", 2026, 8, 31, 21));
  absl::Status status = ExpandRecurrence(r, *LoadZone("Asia/Seoul")).status();
  ASSERT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(GetFieldViolations(status)[0].field,
            "event.recurrence.first_start_time");
  EXPECT_THAT(std::string(status.message()), HasSubstr("MO"));
}

TEST(RegistrationRulesTest, OverlappingSessionsAndBadFields) {
  Event event = Valid();
  event.set_id(3);
  for (int i = 0; i < 2; ++i) {
    v1::Session* s = event.add_sessions();
    s->set_id(i + 1);
    s->set_room(absl::StrCat("Room ", i));
    *s->mutable_start_time() =
        ToTimestamp(At("Asia/Ulaanbaatar", 2026, 5, 23, 10));
    *s->mutable_end_time() =
        ToTimestamp(At("Asia/Ulaanbaatar", 2026, 5, 23, 11));
  }
  Registration r;
  r.set_event_id(3);
  r.set_email("a@b@c.kr");  // two @: the shared e-mail check refuses it
  r.set_country("XX");
  r.add_session_ids(1);
  r.add_session_ids(2);
  r.add_session_ids(9);
  FieldViolations violations;
  ValidateRegistration(r, event, &violations);
  EXPECT_THAT(Fields(violations),
              ElementsAre("registration.name", "registration.country",
                          "registration.email", "registration.session_ids[1]",
                          "registration.session_ids[2]"));
}

TEST(RegistrationRulesTest, PersonKeyIgnoresCaseAndSpacing) {
  Registration a;
  a.set_email("Bat.Erdene@Example.MN ");
  Registration b;
  b.set_email("bat.erdene@example.mn");
  EXPECT_EQ(PersonKey(a), PersonKey(b));
  Registration c;
  c.set_name("Bat  Erdene");
  c.set_organization("Mongol Travel");
  Registration d;
  d.set_name("bat erdene");
  d.set_organization("MONGOL TRAVEL");
  EXPECT_EQ(PersonKey(c), PersonKey(d));
  EXPECT_NE(PersonKey(a), PersonKey(c));
}

TEST(IcalendarTest, EscapesAndFoldsWithoutSplittingCharacters) {
  EXPECT_EQ(EscapeText("a,b;c\\d\ne"), "a\\,b\\;c\\\\d\\ne");
  // Other control characters would break the line structure: dropped.
  EXPECT_EQ(EscapeText("a\x01"
                       "b\x1b[0m\tc\x7f"),
            "ab[0m\tc");
  std::string out;
  AppendFolded(std::string("SUMMARY:") + std::string(40, 'x') +
                   "영등포스마트메디컬특구설명회",
               &out);
  for (absl::string_view line : absl::StrSplit(out, "\r\n")) {
    EXPECT_LE(line.size(), 75u);
  }
  // Unfolding restores the line exactly.
  std::string unfolded = out;
  for (size_t p; (p = unfolded.find("\r\n ")) != std::string::npos;) {
    unfolded.erase(p, 3);
  }
  EXPECT_EQ(unfolded, std::string("SUMMARY:") + std::string(40, 'x') +
                          "영등포스마트메디컬특구설명회\r\n");
}

TEST(IcalendarTest, CancelledEventInItsZone) {
  Event event = Valid();
  event.set_id(12);
  event.set_state(v1::CANCELLED);
  event.set_revision(3);
  std::string ics = RenderCalendar({event}, absl::UnixEpoch(), "test");
  EXPECT_THAT(ics, HasSubstr("STATUS:CANCELLED\r\n"));
  EXPECT_THAT(ics, HasSubstr("DTSTART;TZID=Asia/Ulaanbaatar:20260523T100000"));
  EXPECT_THAT(ics, HasSubstr("BEGIN:VTIMEZONE\r\nTZID:Asia/Ulaanbaatar\r\n"));
  EXPECT_THAT(ics, HasSubstr("TZOFFSETTO:+0800"));
  EXPECT_THAT(ics, HasSubstr("UID:event-12@"));
  EXPECT_THAT(ics, HasSubstr("SEQUENCE:3"));
}

TEST(RegistrationWindowTest, OpenOnlyWhilePublishedAndBetweenItsTimes) {
  v1::Event event;
  event.set_id(3);
  event.set_state(v1::PUBLISHED);
  event.set_time_zone("Asia/Seoul");
  const absl::Time start = absl::FromUnixSeconds(1'780'000'000);
  *event.mutable_start_time() = ToTimestamp(start);
  *event.mutable_registration_opens() = ToTimestamp(start - absl::Hours(48));
  EXPECT_TRUE(CheckRegistrationWindow(event, start - absl::Hours(1)).ok());
  absl::Status early = CheckRegistrationWindow(event, start - absl::Hours(72));
  EXPECT_TRUE(absl::IsFailedPrecondition(early));
  EXPECT_THAT(early.message(), HasSubstr("event.registration_opens"));
  // Closed at the start unless registration_closes says otherwise.
  EXPECT_THAT(CheckRegistrationWindow(event, start).message(),
              HasSubstr("event.registration_closes"));
  event.set_state(v1::DRAFT);
  EXPECT_THAT(CheckRegistrationWindow(event, start - absl::Hours(1)).message(),
              HasSubstr("DRAFT"));
}

}  // namespace
}  // namespace smz::events
