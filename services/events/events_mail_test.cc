// The events service's mail end to end: a private MariaDB, the registry, the
// events server with its delivery worker, and a real SMTP server
// (tests/tools/smtp_capture.py) that keeps each mail as a mail program reads
// it. Registrants are told of their seat or waiting place, of a seat given
// to them, of cancellations and new dates, in their language, and reminded;
// a relay's refusals are kept for the district to see and retry.
// The kept mail is in build/test-artifacts/events_mail_test/.
#include <map>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/status_util.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "services/events/event_mail.h"
#include "services/events/event_rules.h"
#include "services/events/events_server.h"
#include "smz/events/v1/events.grpc.pb.h"
#include "tests/harness/local_stack.h"
#include "tests/harness/mail_capture.h"

namespace smz::events {
namespace {

using ::smz::testing::As;
using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::SizeIs;

absl::Time Seoul(int y, int m, int d, int hh, int mm = 0) {
  return absl::FromCivil(absl::CivilSecond(y, m, d, hh, mm, 0),
                         *LoadZone("Asia/Seoul"));
}

const std::string& Field(const google::protobuf::Struct& mail,
                         const std::string& name) {
  return mail.fields().at(name).string_value();
}

class EventsMailTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    clock_ = new FakeClock(Seoul(2026, 3, 2, 9));
    auto capture = testing::MailCapture::Start(
        absl::StrCat(SMZ_TEST_ARTIFACT_DIR, "/events_mail_test"));
    ASSERT_TRUE(capture.ok()) << capture.status();
    capture_ = capture->release();
    auto stack = testing::LocalStack::Start(clock_);
    ASSERT_TRUE(stack.ok()) << stack.status();
    stack_ = stack->release();
    tokens_ = new std::map<std::string, std::string>();
    (*tokens_)["admin"] = stack_->admin_token();
    for (auto [name, role] : {std::pair{"organizer", auth::v1::ORGANIZER},
                              std::pair{"analyst", auth::v1::ANALYST}}) {
      auto token = stack_->IssueToken(role, name);
      ASSERT_TRUE(token.ok()) << token.status();
      (*tokens_)[name] = *token;
    }
    auto server = stack_->StartEvents([](EventsServerOptions& options) {
      options.smtp = capture_->SmtpOptions();
      options.mail_poll = absl::Milliseconds(50);
      options.outbox.from = "events@smz.yeongdeungpo.example";
      options.outbox.first_backoff = absl::Seconds(30);
    });
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = *server;
  }

  static void TearDownTestSuite() {
    delete stack_;  // stops the worker before the relay goes
    delete capture_;
    delete clock_;
    delete tokens_;
  }

  void SetUp() override {
    stub_ =
        v1::EventsService::NewStub(testing::LoopbackChannel(server_->port()));
  }

  static std::string token(const std::string& who) { return (*tokens_)[who]; }

  // A published briefing in Ulaanbaatar with `capacity` seats, starting
  // `days` after the test's clock.
  Event Published(const std::string& room, int capacity, int days) {
    v1::CreateEventRequest create;
    Event* event = create.mutable_event();
    event->set_type(v1::BRIEFING_SESSION);
    (*event->mutable_title())["ko"] =
        absl::StrCat("몽골 의료관광 설명회 ", room);
    (*event->mutable_title())["en"] =
        absl::StrCat("Medical tourism briefing ", room);
    (*event->mutable_title())["mn"] =
        absl::StrCat("Эмнэлгийн аялал жуулчлалын танилцуулга ", room);
    event->set_organizer("영등포구 보건소");
    event->set_venue("Shangri-La Ulaanbaatar");
    event->set_room(room);
    event->set_city("Ulaanbaatar");
    event->set_country("MN");
    event->set_time_zone("Asia/Ulaanbaatar");
    event->set_capacity(capacity);
    const absl::Time start = clock_->Now() + absl::Hours(24 * days);
    *event->mutable_start_time() = ToTimestamp(start);
    *event->mutable_end_time() = ToTimestamp(start + absl::Hours(3));
    v1::EventResponse created;
    grpc::Status s =
        stub_->CreateEvent(As(token("organizer")).get(), create, &created);
    EXPECT_TRUE(s.ok()) << s.error_message();
    v1::TransitionRequest publish;
    publish.set_id(created.event().id());
    v1::EventResponse published;
    s = stub_->PublishEvent(As(token("organizer")).get(), publish, &published);
    EXPECT_TRUE(s.ok()) << s.error_message();
    return published.event();
  }

  Registration Register(int64_t event_id, const std::string& name,
                        const std::string& email, const std::string& language,
                        grpc::Status* status = nullptr) {
    v1::CreateRegistrationRequest request;
    Registration* r = request.mutable_registration();
    r->set_event_id(event_id);
    r->set_name(name);
    r->set_organization("Mongol Medical Travel");
    r->set_country("MN");
    r->set_email(email);
    r->set_language(language);
    v1::RegistrationResponse response;
    const grpc::Status s = stub_->CreateRegistration(
        As(token("organizer")).get(), request, &response);
    if (status != nullptr) {
      *status = s;
    } else {
      EXPECT_TRUE(s.ok()) << s.error_message();
    }
    return response.registration();
  }

  // The mail kept for `address`, in order of arrival.
  // Waits up to `timeout` for `at_least` of them.
  std::vector<google::protobuf::Struct> MailTo(
      const std::string& address, size_t at_least,
      absl::Duration timeout = absl::Seconds(20)) {
    return capture_->WaitForMailTo(address, at_least, timeout);
  }

  mail::v1::ListMailResponse ListMail(mail::v1::ListMailRequest request = {}) {
    mail::v1::ListMailResponse response;
    const grpc::Status s =
        stub_->ListEventMail(As(token("admin")).get(), request, &response);
    EXPECT_TRUE(s.ok()) << s.error_message();
    return response;
  }

  static inline FakeClock* clock_ = nullptr;
  static inline testing::MailCapture* capture_ = nullptr;
  static inline testing::LocalStack* stack_ = nullptr;
  static inline EventsServer* server_ = nullptr;
  static inline std::map<std::string, std::string>* tokens_ = nullptr;
  std::unique_ptr<v1::EventsService::Stub> stub_;
};

TEST_F(EventsMailTest, RegistrantsAreToldInTheirLanguageAsThingsChange) {
  const Event event = Published("Khaan", /*capacity=*/1, /*days=*/30);
  const Registration first =
      Register(event.id(), "Батбаяр", "batbayar@example.mn", "mn");
  ASSERT_EQ(first.state(), v1::CONFIRMED);
  const Registration second =
      Register(event.id(), "Nguyễn Văn An", "an@example.vn", "vi");
  ASSERT_EQ(second.state(), v1::WAITLISTED);

  // The seat, in Mongolian, with the Mongolian title and local time.
  std::vector<google::protobuf::Struct> to_first =
      MailTo("batbayar@example.mn", 1);
  ASSERT_THAT(to_first, SizeIs(1));
  EXPECT_EQ(Field(to_first[0], "subject"),
            "Бүртгэл баталгаажлаа: Эмнэлгийн аялал жуулчлалын танилцуулга "
            "Khaan");
  EXPECT_EQ(Field(to_first[0], "content_language"), "mn");
  EXPECT_THAT(Field(to_first[0], "text"), HasSubstr("Эрхэм Батбаяр танаа,"));
  const absl::TimeZone ulaanbaatar = *LoadZone("Asia/Ulaanbaatar");
  EXPECT_THAT(
      Field(to_first[0], "text"),
      HasSubstr(absl::StrCat(
          absl::FormatTime("%Y-%m-%d %H:%M", ToTime(event.start_time()),
                           ulaanbaatar),
          "–", absl::FormatTime("%H:%M", ToTime(event.end_time()), ulaanbaatar),
          " (Asia/Ulaanbaatar)")));
  EXPECT_THAT(Field(to_first[0], "text"), HasSubstr("(Asia/Ulaanbaatar)"));
  EXPECT_THAT(Field(to_first[0], "html"), HasSubstr("<div lang=\"mn\">"));
  EXPECT_EQ(to_first[0].fields().at("defects").list_value().values_size(), 0);
  // The waiting place and its number, in Vietnamese (no Vietnamese title:
  // the English one).
  std::vector<google::protobuf::Struct> to_second = MailTo("an@example.vn", 1);
  ASSERT_THAT(to_second, SizeIs(1));
  EXPECT_EQ(Field(to_second[0], "subject"),
            "Trong danh sách chờ: Medical tourism briefing Khaan");
  EXPECT_THAT(Field(to_second[0], "text"), HasSubstr("vị trí số 1"));

  // The first cancels: told so; the second gets the seat and is told.
  v1::CancelRegistrationRequest cancel;
  cancel.set_id(first.id());
  Registration cancelled;
  ASSERT_TRUE(
      stub_
          ->CancelRegistration(As(token("organizer")).get(), cancel, &cancelled)
          .ok());
  to_first = MailTo("batbayar@example.mn", 2);
  ASSERT_THAT(to_first, SizeIs(2));
  EXPECT_THAT(Field(to_first[1], "subject"), HasSubstr("Бүртгэл цуцлагдлаа"));
  to_second = MailTo("an@example.vn", 2);
  ASSERT_THAT(to_second, SizeIs(2));
  EXPECT_THAT(Field(to_second[1], "subject"), HasSubstr("Đã có chỗ cho bạn"));

  // New dates: the old and new times and the reason.
  v1::PostponeEventRequest postpone;
  postpone.set_id(event.id());
  const absl::Time new_start = ToTime(event.start_time()) + absl::Hours(24 * 7);
  *postpone.mutable_new_start_time() = ToTimestamp(new_start);
  *postpone.mutable_new_end_time() = ToTimestamp(new_start + absl::Hours(3));
  postpone.set_reason("Naadam holiday");
  v1::EventResponse postponed;
  grpc::Status s =
      stub_->PostponeEvent(As(token("organizer")).get(), postpone, &postponed);
  ASSERT_TRUE(s.ok()) << s.error_message();
  to_second = MailTo("an@example.vn", 3);
  ASSERT_THAT(to_second, SizeIs(3));
  EXPECT_THAT(Field(to_second[2], "subject"), HasSubstr("Thời gian mới"));
  EXPECT_THAT(
      Field(to_second[2], "text"),
      HasSubstr(absl::FormatTime("%Y-%m-%d %H:%M", new_start, ulaanbaatar)));
  EXPECT_THAT(Field(to_second[2], "text"),
              HasSubstr(absl::StrCat(
                  "Trước đây: ",
                  absl::FormatTime("%Y-%m-%d %H:%M", ToTime(event.start_time()),
                                   ulaanbaatar))));
  EXPECT_THAT(Field(to_second[2], "text"), HasSubstr("Lý do: Naadam holiday"));

  // Cancelled, with the reason; the one who had cancelled hears nothing more.
  v1::TransitionRequest cancel_event;
  cancel_event.set_id(event.id());
  cancel_event.set_reason("Venue closed <for> repairs");
  v1::EventResponse cancelled_event;
  ASSERT_TRUE(stub_
                  ->CancelEvent(As(token("organizer")).get(), cancel_event,
                                &cancelled_event)
                  .ok());
  to_second = MailTo("an@example.vn", 4);
  ASSERT_THAT(to_second, SizeIs(4));
  EXPECT_THAT(Field(to_second[3], "subject"), HasSubstr("Sự kiện bị hủy"));
  EXPECT_THAT(Field(to_second[3], "text"),
              HasSubstr("Lý do: Venue closed <for> repairs"));
  EXPECT_THAT(Field(to_second[3], "html"),
              HasSubstr("Venue closed &lt;for&gt; repairs"));
  EXPECT_THAT(MailTo("batbayar@example.mn", 3, absl::Seconds(1)), SizeIs(2));

  // Every mail once, each with its own Message-ID from the outbox.
  const mail::v1::ListMailResponse listed = ListMail();
  EXPECT_TRUE(listed.relay_configured());
  std::set<std::string> ids;
  for (const auto& mail : capture_->Received()) {
    ids.insert(Field(mail, "message_id"));
  }
  for (const mail::v1::Mail& m : listed.mail()) {
    if (m.recipient() != "an@example.vn" &&
        m.recipient() != "batbayar@example.mn") {
      continue;
    }
    EXPECT_EQ(m.state(), mail::v1::SENT) << m.topic();
    EXPECT_TRUE(ids.count(absl::StrCat("<", m.message_id(), ">")) == 1)
        << m.message_id();
    EXPECT_THAT(m.message_id(), HasSubstr(".events@smz.yeongdeungpo.example"));
  }
  EXPECT_THAT(capture_->Duplicates(), SizeIs(0));
}

TEST_F(EventsMailTest, RemindersGoOutAWeekAndADayBeforeOnce) {
  const Event event = Published("Tuul", 0, /*days=*/9);
  Register(event.id(), "Oyun", "oyun@example.mn", "en");
  ASSERT_THAT(MailTo("oyun@example.mn", 1), SizeIs(1));
  // A week before (and a little more, for the next sweep's minute).
  clock_->Set(ToTime(event.start_time()) - absl::Hours(24 * 7) +
              absl::Minutes(2));
  std::vector<google::protobuf::Struct> mine = MailTo("oyun@example.mn", 2);
  ASSERT_THAT(mine, SizeIs(2));
  EXPECT_THAT(Field(mine[1], "subject"), HasSubstr("Next week: "));
  clock_->Set(ToTime(event.start_time()) - absl::Hours(24) + absl::Minutes(2));
  mine = MailTo("oyun@example.mn", 3);
  ASSERT_THAT(mine, SizeIs(3));
  EXPECT_THAT(Field(mine[2], "subject"), HasSubstr("Tomorrow: "));
  // Further sweeps add nothing.
  clock_->Set(ToTime(event.start_time()) - absl::Hours(23));
  EXPECT_THAT(MailTo("oyun@example.mn", 4, absl::Seconds(1)), SizeIs(3));
  clock_->Set(Seoul(2026, 3, 2, 9));
}

// Three days before, each contact of a hosting partner is reminded, in
// Korean or (for a contact who handles English and not Korean) English,
// with the number of people confirmed; once.
TEST_F(EventsMailTest, HostingPartnersAreRemindedThreeDaysBefore) {
  registry::v1::Partner hospital = testing::TestHospital("연세정형외과");
  registry::v1::Contact* korean = hospital.add_contacts();
  korean->set_name("김민지");
  korean->set_email("minji@hospital.example.kr");
  korean->add_languages("ko");
  registry::v1::Contact* english = hospital.add_contacts();
  english->set_name("Sarah Lee");
  english->set_email("sarah@hospital.example.kr");
  english->add_languages("en");
  registry::v1::Contact* no_mail = hospital.add_contacts();
  no_mail->set_name("전화만");
  no_mail->set_phone("02-123-4567");
  auto id = stack_->AddPartner(hospital, "2025-01-15", "2027-12-31");
  ASSERT_TRUE(id.ok()) << id.status();
  v1::CreateEventRequest create;
  Event* event = create.mutable_event();
  event->set_type(v1::FAM_TOUR);
  (*event->mutable_title())["ko"] = "몽골 에이전시 팸투어";
  (*event->mutable_title())["en"] = "Fam tour for Mongolian agencies";
  event->set_venue("연세정형외과");
  event->add_host_partner_ids(*id);
  const absl::Time start = clock_->Now() + absl::Hours(24 * 5);
  *event->mutable_start_time() = ToTimestamp(start);
  *event->mutable_end_time() = ToTimestamp(start + absl::Hours(4));
  v1::EventResponse created;
  grpc::Status s =
      stub_->CreateEvent(As(token("organizer")).get(), create, &created);
  ASSERT_TRUE(s.ok()) << s.error_message();
  v1::TransitionRequest publish;
  publish.set_id(created.event().id());
  v1::EventResponse published;
  ASSERT_TRUE(
      stub_->PublishEvent(As(token("organizer")).get(), publish, &published)
          .ok());
  Register(created.event().id(), "Oyuna", "oyuna@example.mn", "mn");
  ASSERT_THAT(MailTo("oyuna@example.mn", 1), SizeIs(1));

  clock_->Set(start - absl::Hours(24 * 3) + absl::Minutes(2));
  const std::vector<google::protobuf::Struct> to_korean =
      MailTo("minji@hospital.example.kr", 1);
  ASSERT_THAT(to_korean, SizeIs(1));
  EXPECT_EQ(Field(to_korean[0], "subject"),
            "행사 3일 전 안내: 몽골 에이전시 팸투어");
  EXPECT_THAT(Field(to_korean[0], "text"), HasSubstr("김민지님, 안녕하세요."));
  EXPECT_THAT(Field(to_korean[0], "text"),
              HasSubstr("확정된 참가자는 1명입니다."));
  const std::vector<google::protobuf::Struct> to_english =
      MailTo("sarah@hospital.example.kr", 1);
  ASSERT_THAT(to_english, SizeIs(1));
  EXPECT_EQ(Field(to_english[0], "subject"),
            "In three days: Fam tour for Mongolian agencies");
  // A later sweep adds nothing.
  clock_->Advance(absl::Minutes(2));
  EXPECT_THAT(MailTo("minji@hospital.example.kr", 2, absl::Seconds(1)),
              SizeIs(1));
  clock_->Set(Seoul(2026, 3, 2, 9));
}

TEST_F(EventsMailTest, RefusedMailIsKeptForTheDistrictAndCanBeSentAgain) {
  const Event event = Published("Selbe", 0, /*days=*/40);
  Register(event.id(), "Nobody", "nobody@reject.example", "ru");
  Register(event.id(), "Busy", "busy@later.example", "ru");
  mail::v1::ListMailRequest failed;
  failed.add_states(mail::v1::FAILED);
  const absl::Time deadline = absl::Now() + absl::Seconds(20);
  mail::v1::ListMailResponse listed = ListMail(failed);
  while (listed.mail_size() == 0 && absl::Now() < deadline) {
    absl::SleepFor(absl::Milliseconds(50));
    listed = ListMail(failed);
  }
  ASSERT_EQ(listed.mail_size(), 1);
  EXPECT_EQ(listed.mail(0).recipient(), "nobody@reject.example");
  EXPECT_EQ(listed.mail(0).language(), "ru");
  EXPECT_THAT(listed.mail(0).last_error(), HasSubstr("550"));
  EXPECT_GE(listed.failed_count(), 1);
  // 451: waiting for its next attempt, half a minute on.
  mail::v1::ListMailRequest pending;
  pending.add_states(mail::v1::PENDING);
  mail::v1::ListMailResponse waiting = ListMail(pending);
  // Until the 451 is recorded (a claimed mail has its attempt counted first).
  while ((waiting.mail_size() == 0 || waiting.mail(0).last_error().empty()) &&
         absl::Now() < deadline) {
    absl::SleepFor(absl::Milliseconds(50));
    waiting = ListMail(pending);
  }
  ASSERT_EQ(waiting.mail_size(), 1);
  EXPECT_EQ(waiting.mail(0).recipient(), "busy@later.example");
  EXPECT_THAT(waiting.mail(0).last_error(), HasSubstr("451"));
  EXPECT_EQ(ToTime(waiting.mail(0).next_attempt_time()),
            clock_->Now() + absl::Seconds(30));

  // Sent again on request (and refused again: the address is still bad).
  mail::v1::RetryMailRequest retry;
  retry.set_id(listed.mail(0).id());
  mail::v1::Mail retried;
  grpc::Status s =
      stub_->RetryEventMail(As(token("admin")).get(), retry, &retried);
  ASSERT_TRUE(s.ok()) << s.error_message();
  // Not for organizers: addresses are personal data.
  EXPECT_EQ(stub_->RetryEventMail(As(token("organizer")).get(), retry, &retried)
                .error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  mail::v1::ListMailResponse none;
  EXPECT_EQ(stub_->ListEventMail(As(token("organizer")).get(), {}, &none)
                .error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  // Bad requests name their fields.
  retry.set_id(0);
  EXPECT_EQ(stub_->RetryEventMail(As(token("admin")).get(), retry, &retried)
                .error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);
  retry.set_id(1'000'000);
  EXPECT_EQ(stub_->RetryEventMail(As(token("admin")).get(), retry, &retried)
                .error_code(),
            grpc::StatusCode::NOT_FOUND);
  mail::v1::ListMailRequest bad;
  bad.add_states(static_cast<mail::v1::MailState>(9));
  bad.set_page_token("garbage");
  s = stub_->ListEventMail(As(token("admin")).get(), bad, &none);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(s.error_message(), HasSubstr("states[0]"));
  EXPECT_THAT(s.error_message(), HasSubstr("page_token"));
}

TEST_F(EventsMailTest, AnAddressMailCannotCarryIsRefusedAndNothingIsQueued) {
  const Event event = Published("Orkhon", 0, /*days=*/50);
  // One listing: its counts are one statement's. (Three listings could count
  // the mail the last test sent again twice: waiting, then failed.)
  const mail::v1::ListMailResponse first = ListMail();
  const int64_t before =
      first.pending_count() + first.sent_count() + first.failed_count();
  grpc::Status s;
  Register(event.id(), "Bad", "bad name@example.mn", "xx", &s);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(s.error_message(), HasSubstr("registration.email"));
  EXPECT_THAT(s.error_message(), HasSubstr("registration.language"));
  Register(event.id(), "Bad", "바보@example.mn", "", &s);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  const mail::v1::ListMailResponse after = ListMail();
  EXPECT_EQ(after.pending_count() + after.sent_count() + after.failed_count(),
            before);
  // Without an address a registration is taken and nothing is written.
  const Registration quiet = Register(event.id(), "No Mail", "", "mn");
  EXPECT_EQ(quiet.state(), v1::CONFIRMED);
  const mail::v1::ListMailResponse later = ListMail();
  EXPECT_EQ(later.pending_count() + later.sent_count() + later.failed_count(),
            before);
}

}  // namespace
}  // namespace smz::events
