// Check-in at the door, end to end: a private MariaDB, the registry, the
// events server with its mail worker and a real SMTP server
// (tests/tools/smtp_capture.py), which reads every QR image it receives
// with a real QR reader (zbarimg). People with a seat get a code in their
// mail; the organizer's phone sends what it scanned to CheckIn. Wrong,
// foreign, cancelled and early codes are refused and change nothing; a
// second scan says so; a room of 200 is checked in from four phones at
// once, each person exactly once. People moved to another event
// (MoveRegistration) take a new code with them. The mail is in
// build/test-artifacts/events_check_in_test/.
#include <algorithm>
#include <atomic>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/mail/mail_message.h"
#include "common/server/rpc_runner.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "services/events/event_rules.h"
#include "services/events/events_server.h"
#include "smz/events/v1/events.grpc.pb.h"
#include "tests/harness/local_stack.h"
#include "tests/harness/mail_capture.h"

namespace smz::events {
namespace {

using ::smz::testing::As;
using ::testing::HasSubstr;
using ::testing::SizeIs;

absl::Time Seoul(int y, int m, int d, int hh) {
  return absl::FromCivil(absl::CivilSecond(y, m, d, hh, 0, 0),
                         *LoadZone("Asia/Seoul"));
}

const std::string& Field(const google::protobuf::Struct& mail,
                         const std::string& name) {
  return mail.fields().at(name).string_value();
}

// The code a mail's text shows after its label ("Check-in code: ...").
std::string CodeInText(const std::string& text) {
  const size_t at = text.find("Check-in code: ");
  if (at == std::string::npos) return "";
  return text.substr(at + 15, 19);
}

std::string QrOf(const google::protobuf::Struct& mail) {
  return testing::MailCapture::QrCodeOf(mail);
}

class EventsCheckInTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    clock_ = new FakeClock(Seoul(2026, 9, 1, 9));
    auto capture = testing::MailCapture::Start(
        absl::StrCat(SMZ_TEST_ARTIFACT_DIR, "/events_check_in_test"));
    ASSERT_TRUE(capture.ok()) << capture.status();
    capture_ = capture->release();
    auto stack = testing::LocalStack::Start(clock_);
    ASSERT_TRUE(stack.ok()) << stack.status();
    stack_ = stack->release();
    auto organizer = stack_->IssueToken(auth::v1::ORGANIZER, "door");
    ASSERT_TRUE(organizer.ok()) << organizer.status();
    organizer_ = new std::string(*organizer);
    auto analyst = stack_->IssueToken(auth::v1::ANALYST, "analyst");
    ASSERT_TRUE(analyst.ok()) << analyst.status();
    analyst_ = new std::string(*analyst);
    auto server = stack_->StartEvents([](EventsServerOptions& options) {
      options.smtp = capture_->SmtpOptions();
      options.mail_poll = absl::Milliseconds(50);
      options.outbox.batch = 50;
    });
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = *server;
  }

  static void TearDownTestSuite() {
    delete stack_;
    delete capture_;
    delete clock_;
    delete organizer_;
    delete analyst_;
  }

  void SetUp() override {
    stub_ =
        v1::EventsService::NewStub(testing::LoopbackChannel(server_->port()));
  }

  // A training in Seoul `hours` from now with `capacity` seats, published.
  Event Published(const std::string& room, int capacity, int hours,
                  bool online_only = false) {
    v1::CreateEventRequest create;
    Event* event = create.mutable_event();
    event->set_type(v1::TRAINING);
    (*event->mutable_title())["ko"] = absl::StrCat("코디네이터 교육 ", room);
    (*event->mutable_title())["en"] =
        absl::StrCat("Coordinator training ", room);
    if (online_only) {
      event->set_online(true);
    } else {
      event->set_venue("Yeongdeungpo-gu Office");
      event->set_room(room);
    }
    event->set_city("Seoul");
    event->set_country("KR");
    event->set_time_zone("Asia/Seoul");
    event->set_capacity(capacity);
    const absl::Time start = clock_->Now() + absl::Hours(hours);
    *event->mutable_start_time() = ToTimestamp(start);
    *event->mutable_end_time() = ToTimestamp(start + absl::Hours(3));
    v1::EventResponse created;
    grpc::Status s =
        stub_->CreateEvent(As(*organizer_).get(), create, &created);
    EXPECT_TRUE(s.ok()) << s.error_message();
    v1::TransitionRequest step;
    step.set_id(created.event().id());
    v1::EventResponse published;
    s = stub_->PublishEvent(As(*organizer_).get(), step, &published);
    EXPECT_TRUE(s.ok()) << s.error_message();
    return published.event();
  }

  Registration Register(int64_t event_id, const std::string& name,
                        const std::string& email) {
    v1::CreateRegistrationRequest request;
    Registration* r = request.mutable_registration();
    r->set_event_id(event_id);
    r->set_name(name);
    r->set_organization("Yeouido St. Mary's");
    r->set_country("KR");
    r->set_email(email);
    r->set_language("en");
    v1::RegistrationResponse response;
    const grpc::Status s =
        stub_->CreateRegistration(As(*organizer_).get(), request, &response);
    EXPECT_TRUE(s.ok()) << s.error_message();
    return response.registration();
  }

  grpc::Status CheckIn(int64_t event_id, const std::string& code,
                       v1::CheckInResponse* out,
                       const std::string* token = nullptr) {
    v1::CheckInRequest request;
    request.set_event_id(event_id);
    request.set_code(code);
    return stub_->CheckIn(As(token ? *token : *organizer_).get(), request, out);
  }

  Event Get(int64_t id) {
    v1::GetEventRequest get;
    get.set_id(id);
    Event event;
    EXPECT_TRUE(stub_->GetEvent(As(*organizer_).get(), get, &event).ok());
    return event;
  }

  static inline FakeClock* clock_ = nullptr;
  static inline testing::MailCapture* capture_ = nullptr;
  static inline testing::LocalStack* stack_ = nullptr;
  static inline EventsServer* server_ = nullptr;
  static inline std::string* organizer_ = nullptr;
  static inline std::string* analyst_ = nullptr;
  std::unique_ptr<v1::EventsService::Stub> stub_;
};

// Long by design: one door, every answer it can give.
TEST_F(EventsCheckInTest, TheMailedQrCodeChecksItsPersonInOnce) {
  const Event event = Published("A", 2, 30);
  const Event other = Published("B", 5, 30);
  Register(event.id(), "Bat-Erdene", "bat@example.mn");
  const Registration second =
      Register(event.id(), "Solongo", "solongo@example.mn");
  const Registration waiting = Register(event.id(), "Oyun", "oyun@example.mn");
  ASSERT_EQ(waiting.state(), v1::WAITLISTED);
  Register(other.id(), "Dorj", "dorj@example.mn");

  // The seat's mail: the code as text and as an image a reader reads back.
  const auto bat = capture_->WaitForMailTo("bat@example.mn", 1);
  ASSERT_THAT(bat, SizeIs(1));
  const std::string code = CodeInText(Field(bat[0], "text"));
  ASSERT_EQ(code.size(), 19u) << Field(bat[0], "text");
  EXPECT_EQ(QrOf(bat[0]), code);
  EXPECT_THAT(Field(bat[0], "html"),
              HasSubstr(absl::StrCat("cid:", QrContentId(code))));
  EXPECT_TRUE(bat[0].fields().at("defects").list_value().values().empty());
  // The waiting place's mail has no code.
  const auto oyun = capture_->WaitForMailTo("oyun@example.mn", 1);
  ASSERT_THAT(oyun, SizeIs(1));
  EXPECT_EQ(CodeInText(Field(oyun[0], "text")), "");
  EXPECT_EQ(QrOf(oyun[0]), "");
  // Solongo cancels: Oyun's promotion brings her a code; Solongo's stops.
  const auto solongo = capture_->WaitForMailTo("solongo@example.mn", 1);
  const std::string cancelled_code = QrOf(solongo.at(0));
  v1::CancelRegistrationRequest cancel;
  cancel.set_id(second.id());
  Registration ignored;
  ASSERT_TRUE(
      stub_->CancelRegistration(As(*organizer_).get(), cancel, &ignored).ok());
  const auto promoted = capture_->WaitForMailTo("oyun@example.mn", 2);
  ASSERT_THAT(promoted, SizeIs(2));
  const std::string oyun_code = QrOf(promoted[1]);
  ASSERT_FALSE(oyun_code.empty()) << Field(promoted[1], "text");
  const std::string dorj_code =
      QrOf(capture_->WaitForMailTo("dorj@example.mn", 1).at(0));

  v1::CheckInResponse out;
  // A day and more before the start: not yet.
  grpc::Status s = CheckIn(event.id(), code, &out);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_THAT(s.error_message(), HasSubstr("24 hours"));

  clock_->Advance(absl::Hours(29));  // an hour before the start
  s = CheckIn(event.id(), code, &out);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(out.registration().name(), "Bat-Erdene");
  EXPECT_EQ(out.registration().attendance(), v1::ATTENDED);
  EXPECT_FALSE(out.already_checked_in());
  const google::protobuf::Timestamp first = out.registration().check_in_time();
  // Scanned again (or typed as people type it): said, not counted twice.
  clock_->Advance(absl::Minutes(3));
  std::string typed = absl::AsciiStrToLower(code);
  typed.erase(std::remove(typed.begin(), typed.end(), '-'), typed.end());
  s = CheckIn(event.id(), typed, &out);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_TRUE(out.already_checked_in());
  EXPECT_EQ(out.registration().check_in_time().seconds(), first.seconds());
  ASSERT_TRUE(CheckIn(event.id(), oyun_code, &out).ok());
  EXPECT_EQ(out.registration().name(), "Oyun");

  // Refusals, none of which changes anything.
  s = CheckIn(event.id(), cancelled_code, &out);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_THAT(s.error_message(), HasSubstr("CANCELLED_BY_REGISTRANT"));
  s = CheckIn(event.id(), dorj_code, &out);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_THAT(s.error_message(),
              HasSubstr(absl::StrCat("another event (", other.id())));
  s = CheckIn(event.id(), "ZZZZ-ZZZZ-ZZZZ-ZZZZ", &out);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::NOT_FOUND);
  v1::CheckInRequest bad;
  bad.set_code("K7Q2-M9XD");
  s = stub_->CheckIn(As(*organizer_).get(), bad, &out);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(s.error_message(), HasSubstr("event_id"));
  EXPECT_THAT(s.error_message(), HasSubstr("code"));
  s = CheckIn(event.id(), code, &out, analyst_);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::PERMISSION_DENIED);

  s = CheckIn(987654, code, &out);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_THAT(s.error_message(), HasSubstr("event_id"));

  const Event after = Get(event.id());
  EXPECT_EQ(after.attended_count(), 2);
  EXPECT_EQ(Get(other.id()).attended_count(), 0);

  // Well after the end the codes check nobody in any more.
  clock_->Advance(absl::Hours(1 + 3 + 12) + absl::Minutes(1));
  s = CheckIn(other.id(), dorj_code, &out);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_THAT(s.error_message(), HasSubstr("12 hours"));
  EXPECT_EQ(Get(other.id()).attended_count(), 0);
}

// MoveRegistration: the person takes a seat at another event with a new
// code in a mail that says where they were; the old code opens no door and
// the old seat goes to the waiting list. Every refusal changes nothing.
// Long by design: one person's move and every answer a move can give.
TEST_F(EventsCheckInTest, AnOrganizerMovesAPersonToAnotherDate) {
  const Event first = Published("M1", 1, 50);
  const Event next = Published("M2", 2, 80);
  const Event full = Published("M3", 1, 60);
  const Event early = Published("M4", 0, 55);
  const Registration bat = Register(first.id(), "Bat", "bat.move@example.mn");
  const Registration oyun =
      Register(first.id(), "Oyun", "oyun.move@example.mn");
  ASSERT_EQ(oyun.state(), v1::WAITLISTED);
  const Registration dorj = Register(next.id(), "Dorj", "dorj.move@example.mn");
  const Registration dorj_early =
      Register(early.id(), "Dorj", "dorj.move@example.mn");
  const Registration tuya = Register(full.id(), "Tuya", "tuya.move@example.mn");
  const std::string old_code =
      QrOf(capture_->WaitForMailTo("bat.move@example.mn", 1).at(0));
  ASSERT_FALSE(old_code.empty());

  auto move = [&](int64_t id, int64_t event_id, Registration* out,
                  const std::string* token = nullptr) {
    v1::MoveRegistrationRequest request;
    request.set_id(id);
    request.set_event_id(event_id);
    return stub_->MoveRegistration(As(token ? *token : *organizer_).get(),
                                   request, out);
  };
  Registration moved;
  grpc::Status s = move(bat.id(), next.id(), &moved);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(moved.id(), bat.id());
  EXPECT_EQ(moved.event_id(), next.id());
  EXPECT_EQ(moved.state(), v1::CONFIRMED);
  EXPECT_EQ(moved.arrival(), dorj.arrival() + 1);
  EXPECT_EQ(moved.name(), "Bat");
  // The mail says where to now and where from, with a new code.
  const auto bat_mail = capture_->WaitForMailTo("bat.move@example.mn", 2);
  ASSERT_THAT(bat_mail, SizeIs(2));
  EXPECT_THAT(Field(bat_mail[1], "subject"),
              HasSubstr("Your registration moved: Coordinator training M2"));
  EXPECT_THAT(Field(bat_mail[1], "text"),
              HasSubstr("Before: Coordinator training M1"));
  const std::string new_code = QrOf(bat_mail[1]);
  ASSERT_FALSE(new_code.empty());
  EXPECT_NE(new_code, old_code);
  EXPECT_EQ(CodeInText(Field(bat_mail[1], "text")), new_code);
  // The seat left goes to the first waiting.
  const auto promoted = capture_->WaitForMailTo("oyun.move@example.mn", 2);
  ASSERT_THAT(promoted, SizeIs(2));
  EXPECT_THAT(Field(promoted[1], "subject"), HasSubstr("A seat for you"));
  EXPECT_EQ(Get(first.id()).confirmed_count(), 1);
  EXPECT_EQ(Get(first.id()).waitlisted_count(), 0);
  EXPECT_EQ(Get(next.id()).confirmed_count(), 2);

  // Again (a retry): where it is already, nothing changes.
  Registration again;
  s = move(bat.id(), next.id(), &again);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(again.arrival(), moved.arrival());
  EXPECT_EQ(Get(next.id()).confirmed_count(), 2);

  // Refusals.
  s = move(bat.id(), full.id(), &again);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_THAT(s.error_message(), HasSubstr("is full (1 of 1"));
  s = move(dorj.id(), early.id(), &again);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::ALREADY_EXISTS);
  EXPECT_THAT(s.error_message(),
              HasSubstr(absl::StrCat("(registration ", dorj_early.id())));
  s = move(bat.id(), 987654, &again);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_THAT(s.error_message(), HasSubstr("event_id"));
  s = move(987654, next.id(), &again);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::NOT_FOUND);
  s = move(0, 0, &again);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(s.error_message(), HasSubstr("id"));
  EXPECT_THAT(s.error_message(), HasSubstr("event_id"));
  s = move(bat.id(), first.id(), &again, analyst_);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  v1::CancelRegistrationRequest cancel;
  cancel.set_id(tuya.id());
  Registration cancelled;
  ASSERT_TRUE(
      stub_->CancelRegistration(As(*organizer_).get(), cancel, &cancelled)
          .ok());
  s = move(tuya.id(), early.id(), &again);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_THAT(s.error_message(), HasSubstr("CANCELLED_BY_REGISTRANT"));
  EXPECT_EQ(Get(next.id()).confirmed_count(), 2);
  EXPECT_EQ(Get(early.id()).confirmed_count(), 1);

  // At the door: the new code checks in at the new event; the old one
  // opens nothing. Once an event has started its people stay.
  clock_->Advance(absl::Hours(57));
  v1::CheckInResponse out;
  s = CheckIn(next.id(), new_code, &out);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(out.registration().id(), bat.id());
  s = CheckIn(first.id(), old_code, &out);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::NOT_FOUND);
  s = move(dorj_early.id(), next.id(), &again);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_THAT(s.error_message(), HasSubstr("has started"));
  s = move(dorj.id(), early.id(), &again);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_THAT(s.error_message(), HasSubstr("event_id"));
}

// ExportRegistrations: the list for the door or the report, in the states
// asked for; refusals name the field.
TEST_F(EventsCheckInTest, TheOrganizerTakesTheListAsASpreadsheet) {
  const Event event = Published("X1", 1, 30);
  Register(event.id(), "Ganbat", "ganbat@example.mn");
  Register(event.id(), "Saraa", "saraa@example.mn");  // waiting
  v1::ExportRegistrationsRequest request;
  request.set_event_id(event.id());
  request.set_format(v1::ExportRegistrationsRequest::XLSX);
  request.set_language("en");
  v1::RegistrationsFile file;
  grpc::Status s =
      stub_->ExportRegistrations(As(*organizer_).get(), request, &file);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(file.rows(), 2);
  EXPECT_EQ(file.content().substr(0, 2), "PK");
  request.set_format(v1::ExportRegistrationsRequest::CSV);
  request.add_states(v1::WAITLISTED);
  s = stub_->ExportRegistrations(As(*organizer_).get(), request, &file);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(file.rows(), 1);
  EXPECT_THAT(file.content(), HasSubstr("Saraa"));
  EXPECT_THAT(file.content(), ::testing::Not(HasSubstr("Ganbat")));

  s = stub_->ExportRegistrations(As(*analyst_).get(), request, &file);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  request.set_event_id(987654);
  s = stub_->ExportRegistrations(As(*organizer_).get(), request, &file);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_THAT(s.error_message(), HasSubstr("event_id"));
  v1::ExportRegistrationsRequest bad;
  bad.set_format(static_cast<v1::ExportRegistrationsRequest::Format>(9));
  bad.set_language("fr");
  bad.add_states(static_cast<v1::RegistrationState>(42));
  s = stub_->ExportRegistrations(As(*organizer_).get(), bad, &file);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  for (const char* field : {"event_id", "format", "language", "states"}) {
    EXPECT_THAT(s.error_message(), HasSubstr(field));
  }
}

TEST_F(EventsCheckInTest, AnOnlineOnlyEventHasNoDoorAndNoCode) {
  const Event event = Published("Online", 5, 40, /*online_only=*/true);
  Register(event.id(), "Tuya", "tuya@example.mn");
  const auto mail = capture_->WaitForMailTo("tuya@example.mn", 1);
  ASSERT_THAT(mail, SizeIs(1));
  EXPECT_EQ(CodeInText(Field(mail[0], "text")), "");
  EXPECT_EQ(QrOf(mail[0]), "");
}

// A person who erased their sign-up (public_signups.h) has no code left:
// the one their confirmation carried is unknown afterwards.
TEST_F(EventsCheckInTest, AnErasedSignUpLeavesNoCodeBehind) {
  v1::CreateEventRequest create;
  Event* draft = create.mutable_event();
  draft->set_type(v1::BRIEFING_SESSION);
  (*draft->mutable_title())["en"] = "Open briefing";
  draft->set_venue("Yeongdeungpo-gu Office");
  draft->set_city("Seoul");
  draft->set_country("KR");
  draft->set_time_zone("Asia/Seoul");
  draft->set_open_to_public(true);
  const absl::Time start = clock_->Now() + absl::Hours(12);
  *draft->mutable_start_time() = ToTimestamp(start);
  *draft->mutable_end_time() = ToTimestamp(start + absl::Hours(2));
  v1::EventResponse created;
  ASSERT_TRUE(stub_->CreateEvent(As(*organizer_).get(), create, &created).ok());
  v1::TransitionRequest step;
  step.set_id(created.event().id());
  v1::EventResponse published;
  ASSERT_TRUE(
      stub_->PublishEvent(As(*organizer_).get(), step, &published).ok());

  v1::SignUpRequest form;
  form.set_event_id(created.event().id());
  form.set_name("Enkhjin");
  form.set_country("MN");
  form.set_email("enkhjin@example.mn");
  form.set_language("en");
  form.set_consent(true);
  grpc::ClientContext visitor;
  visitor.AddMetadata(std::string(kClientAddressMetadata), "203.0.113.9");
  v1::SignUpResponse held;
  grpc::Status s = stub_->SignUp(&visitor, form, &held);
  ASSERT_TRUE(s.ok()) << s.error_message();
  const auto asked = capture_->WaitForMailTo("enkhjin@example.mn", 1);
  ASSERT_THAT(asked, SizeIs(1));
  EXPECT_EQ(QrOf(asked[0]), "");  // not confirmed yet: no code
  const std::string& text = Field(asked[0], "text");
  v1::SignUpTokenRequest token;
  token.set_token(text.substr(text.find("#t=") + 3, 48));
  v1::PublicSignUp confirmed;
  grpc::ClientContext confirming;
  s = stub_->ConfirmSignUp(&confirming, token, &confirmed);
  ASSERT_TRUE(s.ok()) << s.error_message();
  const auto mails = capture_->WaitForMailTo("enkhjin@example.mn", 2);
  ASSERT_THAT(mails, SizeIs(2));
  const std::string code = QrOf(mails[1]);
  ASSERT_FALSE(code.empty()) << Field(mails[1], "text");

  v1::CancelSignUpRequest erase;
  erase.set_token(token.token());
  erase.set_erase(true);
  v1::PublicSignUp erased;
  grpc::ClientContext erasing;
  s = stub_->CancelSignUp(&erasing, erase, &erased);
  ASSERT_TRUE(s.ok()) << s.error_message();
  v1::CheckInResponse out;
  s = CheckIn(created.event().id(), code, &out);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::NOT_FOUND) << s.error_message();
}

// 200 people within 15 minutes is one every 4.5 seconds; four phones
// scanning as fast as they can, some people scanned twice by two phones at
// once, must still leave each person checked in exactly once.
TEST_F(EventsCheckInTest, ARoomOfTwoHundredFromFourPhones) {
  constexpr int kPeople = 200;
  const Event event = Published("Hall", kPeople, 20);
  for (int i = 0; i < kPeople; ++i) {
    Register(event.id(), absl::StrCat("Guest ", i),
             absl::StrCat("guest", i, "@hall.example.mn"));
  }
  std::vector<std::string> codes(kPeople);
  for (int i = 0; i < kPeople; ++i) {
    const auto mail = capture_->WaitForMailTo(
        absl::StrCat("guest", i, "@hall.example.mn"), 1, absl::Seconds(60));
    ASSERT_THAT(mail, SizeIs(1)) << i;
    codes[i] = QrOf(mail[0]);
    ASSERT_FALSE(codes[i].empty()) << i;
  }
  clock_->Advance(absl::Hours(19));

  std::atomic<int> first_scans{0}, second_scans{0}, failures{0};
  const absl::Time began = absl::Now();
  std::vector<std::thread> phones;
  for (int phone = 0; phone < 4; ++phone) {
    phones.emplace_back([&, phone] {
      auto stub =
          v1::EventsService::NewStub(testing::LoopbackChannel(server_->port()));
      for (int i = phone; i < kPeople; i += 4) {
        // Every tenth person's neighbour (i + 1, whom another phone also
        // scans) is scanned by this phone too, at about the same time.
        std::vector<int> scans = {i};
        if (i % 10 == 0 && i + 1 < kPeople) scans.push_back(i + 1);
        for (int person : scans) {
          v1::CheckInRequest request;
          request.set_event_id(event.id());
          request.set_code(codes[person]);
          v1::CheckInResponse out;
          const grpc::Status s =
              stub->CheckIn(As(*organizer_).get(), request, &out);
          if (!s.ok()) {
            ++failures;
          } else if (out.already_checked_in()) {
            ++second_scans;
          } else {
            ++first_scans;
          }
        }
      }
    });
  }
  for (std::thread& phone : phones) phone.join();
  const absl::Duration took = absl::Now() - began;
  EXPECT_EQ(failures.load(), 0);
  EXPECT_EQ(first_scans.load(), kPeople);
  EXPECT_EQ(second_scans.load(), kPeople / 10);
  EXPECT_EQ(Get(event.id()).attended_count(), kPeople);
  // A figure, not a limit (PERFORMANCE.md has the benchmark).
  std::printf("200 people and 20 second scans from 4 phones: %.2f s\n",
              absl::ToDoubleSeconds(took));
}

}  // namespace
}  // namespace smz::events
