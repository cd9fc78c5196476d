// The monthly report's reminders end to end: a private MariaDB, the
// registry with three designated hospitals and their contacts, the stats
// server with its mail worker, and a real SMTP server
// (tests/tools/smtp_capture.py). Three days before November's deadline the
// contacts of the hospitals that have not filed are reminded, in their
// language, with the form's link; the day after it the one still missing
// is told it is overdue; a hospital designated later and one that filed
// hear nothing; nothing is sent twice. The district sees the mail
// (ListStatsMail, ADMIN only). The mail is in
// build/test-artifacts/stats_mail_test/.
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/clock.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "services/stats/stats_server.h"
#include "smz/mail/v1/mail.pb.h"
#include "smz/stats/v1/stats.grpc.pb.h"
#include "tests/harness/local_stack.h"
#include "tests/harness/mail_capture.h"
#include "tests/harness/raw_http.h"

namespace smz::stats {
namespace {

using ::smz::testing::As;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::SizeIs;
namespace reg = ::smz::registry::v1;

absl::Time Seoul(int y, int m, int d, int hh) {
  return absl::FromCivil(absl::CivilSecond(y, m, d, hh, 0, 0), SeoulTimeZone());
}

const std::string& Field(const google::protobuf::Struct& mail,
                         const std::string& name) {
  return mail.fields().at(name).string_value();
}

// Long by design: one month of one zone, from before the reminders to
// after the overdue ones.
TEST(StatsMailTest, HospitalsThatHaveNotFiledAreRemindedThenToldItIsLate) {
  // 2026-12-06: November's reports are due by the end of 2026-12-10.
  FakeClock clock(Seoul(2026, 12, 6, 9));
  auto capture = testing::MailCapture::Start(
      absl::StrCat(SMZ_TEST_ARTIFACT_DIR, "/stats_mail_test"));
  ASSERT_TRUE(capture.ok()) << capture.status();
  auto stack = testing::LocalStack::Start(&clock);
  ASSERT_TRUE(stack.ok()) << stack.status();

  auto hospital = [&](const std::string& name_ko, const std::string& name_en,
                      const std::string& designated,
                      std::vector<reg::Contact> contacts) {
    reg::Partner p = testing::TestHospital(name_ko, reg::YEONGDEUNGPO,
                                           reg::SPECIALIZED_OPERATOR);
    (*p.mutable_name())["en"] = name_en;
    for (reg::Contact& c : contacts) *p.add_contacts() = c;
    auto id = (*stack)->AddPartner(p, designated, "2029-12-31");
    EXPECT_TRUE(id.ok()) << id.status();
    return id.ok() ? *id : 0;
  };
  reg::Contact park;
  park.set_name("Jane Park");
  park.set_email("jane.park@yeouido.example");
  park.add_languages("en");
  reg::Contact desk;
  desk.set_name("국제진료센터");
  desk.set_email("desk@yeouido.example");
  reg::Contact kim;
  kim.set_name("김민지");
  kim.set_email("minji@hangang.example");
  reg::Contact phone_only;
  phone_only.set_name("원무과");
  phone_only.set_phone("02-1234-5678");
  reg::Contact lee;
  lee.set_name("이대림");
  lee.set_email("lee@daerim.example");
  hospital("여의도병원", "Yeouido Hospital", "2025-03-01", {park, desk});
  const int64_t hangang =
      hospital("한강병원", "Hangang Hospital", "2025-03-01", {kim, phone_only});
  // Designated in December: it owes nothing for November.
  hospital("대림병원", "Daerim Hospital", "2026-12-01", {lee});

  auto server = (*stack)->StartStats([&](StatsServerOptions& options) {
    options.smtp = (*capture)->SmtpOptions();
    options.mail_poll = absl::Milliseconds(50);
    options.public_url = "https://smz.example.org";
    options.server.metrics_listen = "127.0.0.1:0";
  });
  ASSERT_TRUE(server.ok()) << server.status();
  auto stub =
      v1::StatsService::NewStub(testing::LoopbackChannel((*server)->port()));

  // Before the window: a sweep at start queues nothing.
  absl::SleepFor(absl::Milliseconds(500));
  EXPECT_THAT((*capture)->Received(), IsEmpty());

  // Hangang files November; then the window opens (an hour later, so the
  // worker's hourly sweep runs again).
  auto partner_token =
      (*stack)->IssueToken(auth::v1::PARTNER, "hangang clerk", hangang);
  ASSERT_TRUE(partner_token.ok());
  v1::SubmitReportRequest filed;
  filed.mutable_report()->set_partner_id(hangang);
  filed.mutable_report()->set_period("2026-11");
  filed.mutable_report()->set_no_activity(true);
  v1::SubmitReportResponse ok;
  grpc::Status s = stub->SubmitReport(As(*partner_token).get(), filed, &ok);
  ASSERT_TRUE(s.ok()) << s.error_message();
  clock.Set(Seoul(2026, 12, 8, 9));

  const auto to_park =
      (*capture)->WaitForMailTo("jane.park@yeouido.example", 1);
  ASSERT_THAT(to_park, SizeIs(1));
  EXPECT_EQ(Field(to_park[0], "subject"),
            "Due by 2026-12-10: the 2026-11 report of Yeouido Hospital");
  EXPECT_THAT(Field(to_park[0], "text"), HasSubstr("Dear Jane Park,"));
  EXPECT_THAT(Field(to_park[0], "text"),
              HasSubstr("https://smz.example.org/hospital/report?period="
                        "2026-11"));
  const auto to_desk = (*capture)->WaitForMailTo("desk@yeouido.example", 1);
  ASSERT_THAT(to_desk, SizeIs(1));
  EXPECT_EQ(Field(to_desk[0], "subject"),
            "[2026-12-10까지] 여의도병원 2026-11 외국인환자 유치 실적 보고");
  EXPECT_EQ(Field(to_desk[0], "content_language"), "ko");

  // A day later, and again: the keys keep it to one reminder each.
  clock.Set(Seoul(2026, 12, 9, 10));
  absl::SleepFor(absl::Milliseconds(500));
  clock.Set(Seoul(2026, 12, 10, 11));
  absl::SleepFor(absl::Milliseconds(500));
  EXPECT_THAT((*capture)->WaitForMailTo("jane.park@yeouido.example", 1),
              SizeIs(1));

  // After the deadline: overdue, to Yeouido only.
  clock.Set(Seoul(2026, 12, 11, 9));
  const auto late = (*capture)->WaitForMailTo("desk@yeouido.example", 2);
  ASSERT_THAT(late, SizeIs(2));
  EXPECT_EQ(Field(late[1], "subject"),
            "[기한 지남] 여의도병원 2026-11 외국인환자 유치 실적 보고");
  EXPECT_THAT(Field(late[1], "text"), HasSubstr("늦은 보고로 표시됩니다"));
  EXPECT_THAT((*capture)->WaitForMailTo("jane.park@yeouido.example", 2),
              SizeIs(2));
  // Hangang filed; Daerim owed nothing.
  EXPECT_THAT((*capture)->WaitForMailTo("minji@hangang.example", 1,
                                        absl::Milliseconds(300)),
              IsEmpty());
  EXPECT_THAT((*capture)->WaitForMailTo("lee@daerim.example", 1,
                                        absl::Milliseconds(300)),
              IsEmpty());
  EXPECT_THAT((*capture)->Received(), SizeIs(4));
  EXPECT_THAT((*capture)->Duplicates(), IsEmpty());
  // The sweep's count for the alert: Yeouido owes November (it owed
  // October too, before November's deadline).
  std::string metrics;
  for (int i = 0;
       i < 50 && !absl::StrContains(metrics, "\nsmz_stats_reports_overdue 1\n");
       ++i) {
    absl::SleepFor(absl::Milliseconds(100));
    metrics = testing::HttpRoundtrip(
        (*server)->metrics_port(),
        "GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  }
  EXPECT_THAT(metrics, HasSubstr("\nsmz_stats_reports_overdue 1\n"));

  // The district sees it; a hospital does not.
  mail::v1::ListMailRequest list;
  mail::v1::ListMailResponse listed;
  s = stub->ListStatsMail(As((*stack)->admin_token()).get(), list, &listed);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_THAT(listed.mail(), SizeIs(4));
  std::vector<std::string> topics;
  for (const mail::v1::Mail& m : listed.mail()) topics.push_back(m.topic());
  EXPECT_THAT(topics, ElementsAre("report.overdue", "report.overdue",
                                  "report.due", "report.due"));
  s = stub->ListStatsMail(As(*partner_token).get(), list, &listed);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::PERMISSION_DENIED);

  // The completeness page counts who owes November the same way: not the
  // hospital designated in December (designations come from each
  // partner's own record, which the registry's listing leaves out).
  v1::GetCompletenessRequest completeness;
  completeness.set_start_period("2026-11");
  v1::CompletenessResponse owed;
  s = stub->GetCompleteness(As((*stack)->admin_token()).get(), completeness,
                            &owed);
  ASSERT_TRUE(s.ok()) << s.error_message();
  ASSERT_EQ(owed.periods_size(), 1);
  EXPECT_EQ(owed.periods(0).expected(), 2);
  EXPECT_EQ(owed.periods(0).reported(), 1);
}

}  // namespace
}  // namespace smz::stats
