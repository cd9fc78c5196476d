#include "services/stats/report_reminders.h"

#include <set>
#include <utility>
#include <vector>

#include "common/clock.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace smz::stats {
namespace {

using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::SizeIs;

absl::Time Seoul(int y, int m, int d, int hh) {
  return absl::FromCivil(absl::CivilSecond(y, m, d, hh, 0, 0), SeoulTimeZone());
}

std::vector<ReminderPartner> Zone() {
  std::vector<ReminderPartner> zone(3);
  zone[0].id = 1;
  zone[0].name = "여의도성모병원";
  zone[0].name_en = "Yeouido St. Mary's Hospital";
  zone[0].reports_from = absl::CivilMonth(2026, 1);
  zone[1].id = 2;
  zone[1].name = "대림성모병원";
  zone[1].reports_from = absl::CivilMonth(2026, 12);  // designated later
  zone[2].id = 3;
  zone[2].name = "영등포한강병원";  // reports from always
  return zone;
}

std::vector<int64_t> Ids(const std::vector<ReportReminder>& due,
                         ReminderKind kind) {
  std::vector<int64_t> ids;
  for (const ReportReminder& r : due) {
    if (r.kind == kind) ids.push_back(r.partner->id);
  }
  return ids;
}

// November's deadline with 10 days: the end of 2026-12-10 in Seoul.
TEST(ReportRemindersTest, DueInTheLastThreeDaysOverdueTheWeekAfter) {
  const std::vector<ReminderPartner> zone = Zone();
  const ReminderPolicy policy;
  const std::set<std::pair<int, int64_t>> none;
  EXPECT_THAT(RemindersDue(Seoul(2026, 12, 7, 23), policy, zone, none),
              IsEmpty());
  std::vector<ReportReminder> due =
      RemindersDue(Seoul(2026, 12, 8, 9), policy, zone, none);
  EXPECT_THAT(Ids(due, ReminderKind::kDue), ::testing::ElementsAre(1, 3));
  EXPECT_EQ(due[0].period, absl::CivilMonth(2026, 11));
  EXPECT_EQ(due[0].deadline, Seoul(2026, 12, 11, 0));
  due = RemindersDue(Seoul(2026, 12, 11, 0), policy, zone, none);
  EXPECT_THAT(Ids(due, ReminderKind::kOverdue), ::testing::ElementsAre(1, 3));
  EXPECT_THAT(Ids(due, ReminderKind::kDue), IsEmpty());
  EXPECT_THAT(RemindersDue(Seoul(2026, 12, 17, 23), policy, zone, none),
              SizeIs(2));
  EXPECT_THAT(RemindersDue(Seoul(2026, 12, 18, 0), policy, zone, none),
              IsEmpty());
}

// What the smz_stats_reports_overdue gauge counts: the latest month past
// its deadline, whoever owes it, long after the reminders stopped.
TEST(ReportRemindersTest, OverdueCountsTheLatestMonthPastItsDeadline) {
  const std::vector<ReminderPartner> zone = Zone();
  // Before November's deadline October is the latest late month.
  OverdueReports overdue =
      CountOverdueReports(Seoul(2026, 12, 10, 23), ReminderPolicy{}, zone, {});
  EXPECT_EQ(overdue.period, absl::CivilMonth(2026, 10));
  EXPECT_EQ(overdue.partners, 2);  // partner 2 reports from December only
  overdue = CountOverdueReports(Seoul(2026, 12, 11, 0), ReminderPolicy{}, zone,
                                {{202611, 3}});
  EXPECT_EQ(overdue.period, absl::CivilMonth(2026, 11));
  EXPECT_EQ(overdue.partners, 1);
  // Weeks later, with no reminders left to send, still late.
  overdue = CountOverdueReports(Seoul(2026, 12, 31, 9), ReminderPolicy{}, zone,
                                {{202611, 3}});
  EXPECT_EQ(overdue.partners, 1);
  overdue = CountOverdueReports(Seoul(2026, 12, 31, 9), ReminderPolicy{}, zone,
                                {{202611, 3}, {202611, 1}});
  EXPECT_EQ(overdue.partners, 0);
}

TEST(ReportRemindersTest, ASubmittedReportIsNotAskedFor) {
  const std::vector<ReminderPartner> zone = Zone();
  const std::set<std::pair<int, int64_t>> submitted = {{202611, 1}};
  const std::vector<ReportReminder> due =
      RemindersDue(Seoul(2026, 12, 9, 9), ReminderPolicy{}, zone, submitted);
  EXPECT_THAT(Ids(due, ReminderKind::kDue), ::testing::ElementsAre(3));
  // Another month's report does not count for this one.
  EXPECT_THAT(RemindersDue(Seoul(2026, 12, 9, 9), ReminderPolicy{}, zone,
                           {{202610, 3}}),
              SizeIs(2));
}

TEST(ReportRemindersTest, TheMailIsInTheContactsLanguageWithTheFormsLink) {
  const std::vector<ReminderPartner> zone = Zone();
  const std::vector<ReportReminder> due =
      RemindersDue(Seoul(2026, 12, 9, 9), ReminderPolicy{}, zone, {});
  registry::v1::Contact english;
  english.set_name("Jane Park");
  english.set_email("Jane.Park@Yeouido.example");
  english.add_languages("en");
  OutgoingMail mail =
      RenderReportReminder(due[0], english, "https://smz.example.org");
  EXPECT_EQ(mail.language, "en");
  EXPECT_EQ(mail.subject,
            "Due by 2026-12-10: the 2026-11 report of Yeouido St. Mary's "
            "Hospital");
  EXPECT_THAT(mail.text, HasSubstr("Dear Jane Park,"));
  EXPECT_THAT(mail.text,
              HasSubstr("https://smz.example.org/hospital/report?period="
                        "2026-11"));
  EXPECT_THAT(mail.html, HasSubstr("St. Mary&#39;s"));
  EXPECT_EQ(mail.topic, "report.due");
  EXPECT_THAT(mail.dedupe_key, ::testing::StartsWith("report.due.1.2026-11."));
  // The same person in another case is the same key.
  english.set_email("jane.park@yeouido.example");
  EXPECT_EQ(RenderReportReminder(due[0], english, "").dedupe_key,
            mail.dedupe_key);

  registry::v1::Contact korean;
  korean.set_email("desk@hangang.example");  // no name, no languages
  const std::vector<ReportReminder> late =
      RemindersDue(Seoul(2026, 12, 12, 9), ReminderPolicy{}, zone, {});
  mail = RenderReportReminder(late[1], korean, "https://smz.example.org");
  EXPECT_EQ(mail.language, "ko");
  EXPECT_EQ(mail.subject,
            "[기한 지남] 영등포한강병원 2026-11 외국인환자 유치 실적 보고");
  EXPECT_THAT(mail.text, HasSubstr("영등포한강병원님, 안녕하세요."));
  EXPECT_THAT(mail.text, HasSubstr("기한(2026-12-10)이 지났지만"));
  EXPECT_EQ(mail.topic, "report.overdue");
}

}  // namespace
}  // namespace smz::stats
