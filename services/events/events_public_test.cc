// The public's side of the events service end to end, without signing in: a
// private MariaDB, the registry, the events server with its mail worker and
// a real SMTP server (tests/tools/smtp_capture.py). People find the events
// an organizer opened to the public, sign up, confirm by the mailed link,
// cancel and erase; unconfirmed places lapse to the waiting list; forms
// with bad fields, second sign-ups and floods are refused and change
// nothing. The kept mail is in build/test-artifacts/events_public_test/.
#include <cstdio>
#include <fstream>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "common/server/rpc_runner.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "services/events/event_rules.h"
#include "services/events/events_server.h"
#include "smz/events/v1/events.grpc.pb.h"
#include "smz/mail/v1/mail.pb.h"
#include "tests/harness/local_stack.h"
#include "tests/harness/mail_capture.h"

namespace smz::events {
namespace {

using ::smz::testing::As;
using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::SizeIs;

absl::Time Seoul(int y, int m, int d, int hh) {
  return absl::FromCivil(absl::CivilSecond(y, m, d, hh, 0, 0),
                         *LoadZone("Asia/Seoul"));
}

const std::string& Field(const google::protobuf::Struct& mail,
                         const std::string& name) {
  return mail.fields().at(name).string_value();
}

// Someone without credentials, behind `client_address` as the edge saw it.
std::unique_ptr<grpc::ClientContext> Visitor(
    const std::string& client_address = "203.0.113.7") {
  auto context = std::make_unique<grpc::ClientContext>();
  context->AddMetadata(std::string(kClientAddressMetadata), client_address);
  return context;
}

// The token of the first sign-up link in a mail's text.
std::string TokenIn(const std::string& text) {
  const size_t at = text.find("#t=");
  if (at == std::string::npos) return "";
  return text.substr(at + 3, 5 + 43);
}

class EventsPublicTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    clock_ = new FakeClock(Seoul(2026, 5, 4, 9));
    auto capture = testing::MailCapture::Start(
        absl::StrCat(SMZ_TEST_ARTIFACT_DIR, "/events_public_test"));
    ASSERT_TRUE(capture.ok()) << capture.status();
    capture_ = capture->release();
    auto stack = testing::LocalStack::Start(clock_);
    ASSERT_TRUE(stack.ok()) << stack.status();
    stack_ = stack->release();
    auto organizer = stack_->IssueToken(auth::v1::ORGANIZER, "organizer");
    ASSERT_TRUE(organizer.ok()) << organizer.status();
    organizer_ = new std::string(*organizer);
    auto server = stack_->StartEvents([](EventsServerOptions& options) {
      options.smtp = capture_->SmtpOptions();
      options.mail_poll = absl::Milliseconds(50);
      options.public_side.public_url = "https://smz.example.org";
      options.public_side.hold = absl::Minutes(30);
      options.public_side.per_email = 3;
      options.public_side.per_client_address = 6;
      options.public_side.max_unconfirmed_per_event = 9;
    });
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = *server;
  }

  static void TearDownTestSuite() {
    delete stack_;
    delete capture_;
    delete clock_;
    delete organizer_;
  }

  void SetUp() override {
    stub_ =
        v1::EventsService::NewStub(testing::LoopbackChannel(server_->port()));
  }

  // A briefing in Ulaanbaatar `days` ahead with `capacity` seats, published;
  // open to the public unless `open` is false.
  Event Published(const std::string& room, int capacity, int days,
                  bool open = true, bool publish = true) {
    v1::CreateEventRequest create;
    Event* event = create.mutable_event();
    event->set_type(v1::BRIEFING_SESSION);
    (*event->mutable_title())["ko"] = absl::StrCat("몽골 설명회 ", room);
    (*event->mutable_title())["mn"] =
        absl::StrCat("Эмнэлгийн аялал жуулчлалын танилцуулга ", room);
    event->set_venue("Shangri-La Ulaanbaatar");
    event->set_room(room);
    event->set_city("Ulaanbaatar");
    event->set_country("MN");
    event->set_time_zone("Asia/Ulaanbaatar");
    event->set_capacity(capacity);
    event->set_open_to_public(open);
    const absl::Time start = clock_->Now() + absl::Hours(24 * days);
    *event->mutable_start_time() = ToTimestamp(start);
    *event->mutable_end_time() = ToTimestamp(start + absl::Hours(3));
    v1::EventResponse created;
    grpc::Status s =
        stub_->CreateEvent(As(*organizer_).get(), create, &created);
    EXPECT_TRUE(s.ok()) << s.error_message();
    if (!publish) return created.event();
    v1::TransitionRequest step;
    step.set_id(created.event().id());
    v1::EventResponse published;
    s = stub_->PublishEvent(As(*organizer_).get(), step, &published);
    EXPECT_TRUE(s.ok()) << s.error_message();
    return published.event();
  }

  v1::SignUpRequest Form(int64_t event_id, const std::string& name,
                         const std::string& email) {
    v1::SignUpRequest form;
    form.set_event_id(event_id);
    form.set_name(name);
    form.set_organization("Mongol Medical Travel");
    form.set_country("MN");
    form.set_email(email);
    form.set_phone("+976 9911 2233");
    form.set_language("mn");
    form.set_consent(true);
    return form;
  }

  grpc::Status SignUp(const v1::SignUpRequest& form, v1::SignUpResponse* out,
                      const std::string& client = "203.0.113.7") {
    return stub_->SignUp(Visitor(client).get(), form, out);
  }

  // The mail kept for `address`, waiting up to `timeout` for `at_least`.
  std::vector<google::protobuf::Struct> MailTo(
      const std::string& address, size_t at_least,
      absl::Duration timeout = absl::Seconds(20)) {
    return capture_->WaitForMailTo(address, at_least, timeout);
  }

  // Runs the file through python3-icalendar (tests/tools/ical_summary.py):
  // one line per VEVENT, uid|status|tzid|start|end|summary|...
  static std::vector<std::vector<std::string>> ParseIcs(
      const std::string& content) {
    const std::string path =
        absl::StrCat(::testing::TempDir(), "/public-",
                     absl::ToUnixNanos(absl::Now()), ".ics");
    std::ofstream(path, std::ios::binary) << content;
    FILE* pipe =
        popen(absl::StrCat("/usr/bin/python3 " SMZ_ICAL_SUMMARY_SCRIPT " ",
                           path, " 2>&1")
                  .c_str(),
              "r");
    std::string output;
    char buffer[4096];
    size_t n;
    while ((n = fread(buffer, 1, sizeof(buffer), pipe)) > 0) {
      output.append(buffer, n);
    }
    EXPECT_EQ(pclose(pipe), 0) << "python3-icalendar rejected the file:\n"
                               << output << "\n"
                               << content;
    std::vector<std::vector<std::string>> rows;
    for (absl::string_view line :
         absl::StrSplit(output, '\n', absl::SkipEmpty())) {
      rows.push_back(absl::StrSplit(line, '|'));
    }
    return rows;
  }

  v1::Registration Registrations(int64_t event_id, int index) {
    v1::ListRegistrationsRequest list;
    list.set_event_id(event_id);
    v1::ListRegistrationsResponse listed;
    EXPECT_TRUE(
        stub_->ListRegistrations(As(*organizer_).get(), list, &listed).ok());
    if (index >= listed.registrations_size()) return {};
    return listed.registrations(index);
  }

  static inline FakeClock* clock_ = nullptr;
  static inline testing::MailCapture* capture_ = nullptr;
  static inline testing::LocalStack* stack_ = nullptr;
  static inline EventsServer* server_ = nullptr;
  static inline std::string* organizer_ = nullptr;
  std::unique_ptr<v1::EventsService::Stub> stub_;
};

TEST_F(EventsPublicTest, ThePublicSeesOnlyWhatWasOpenedToIt) {
  const Event open = Published("Open", 10, 20);
  const Event internal = Published("Internal", 10, 21, /*open=*/false);
  const Event draft = Published("Draft", 10, 22, true, /*publish=*/false);

  v1::ListPublicEventsResponse listed;
  grpc::Status s =
      stub_->ListPublicEvents(Visitor().get(), {}, &listed);  // no token
  ASSERT_TRUE(s.ok()) << s.error_message();
  std::vector<int64_t> ids;
  for (const v1::PublicEvent& e : listed.events()) ids.push_back(e.id());
  EXPECT_THAT(ids, ::testing::Contains(open.id()));
  EXPECT_THAT(ids, Not(::testing::Contains(internal.id())));
  EXPECT_THAT(ids, Not(::testing::Contains(draft.id())));

  v1::GetPublicEventRequest get;
  get.set_id(open.id());
  v1::PublicEvent seen;
  ASSERT_TRUE(stub_->GetPublicEvent(Visitor().get(), get, &seen).ok());
  EXPECT_EQ(seen.title().at("mn"),
            "Эмнэлгийн аялал жуулчлалын танилцуулга Open");
  EXPECT_EQ(seen.time_zone(), "Asia/Ulaanbaatar");
  EXPECT_TRUE(seen.registration_open());
  EXPECT_EQ(seen.seats_left(), 10);
  EXPECT_EQ(seen.retention_days(), 365);
  for (int64_t hidden : {internal.id(), draft.id(), int64_t{99999}}) {
    get.set_id(hidden);
    EXPECT_EQ(stub_->GetPublicEvent(Visitor().get(), get, &seen).error_code(),
              grpc::StatusCode::NOT_FOUND)
        << hidden;
  }
  // The organizers' methods still need a credential.
  v1::ListEventsResponse all;
  EXPECT_EQ(stub_->ListEvents(Visitor().get(), {}, &all).error_code(),
            grpc::StatusCode::UNAUTHENTICATED);
  // Pages: one event a page, every open one once.
  v1::ListPublicEventsRequest paged;
  paged.set_page_size(1);
  std::vector<int64_t> walked;
  do {
    ASSERT_TRUE(stub_->ListPublicEvents(Visitor().get(), paged, &listed).ok());
    for (const v1::PublicEvent& e : listed.events()) walked.push_back(e.id());
    paged.set_page_token(listed.next_page_token());
  } while (!listed.next_page_token().empty() && walked.size() < 100);
  EXPECT_EQ(walked, ids);
  paged.set_page_token("garbage");
  paged.set_page_size(-1);
  s = stub_->ListPublicEvents(Visitor().get(), paged, &listed);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(s.error_message(), HasSubstr("page_size"));
  EXPECT_THAT(s.error_message(), HasSubstr("page_token"));
}

TEST_F(EventsPublicTest, AVisitorConfirmsByTheMailedLinkThenCancelsAndErases) {
  const Event event = Published("Khan-Uul", 5, 30);
  v1::SignUpResponse held;
  grpc::Status s =
      SignUp(Form(event.id(), "Батбаяр", "batbayar@example.mn"), &held);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(held.sign_up().state(), v1::CONFIRMED);
  EXPECT_EQ(ToTime(held.sign_up().hold_until()),
            clock_->Now() + absl::Minutes(30));
  // The organizers see it, held, with the consent's time.
  const v1::Registration listed = Registrations(event.id(), 0);
  EXPECT_TRUE(listed.public_sign_up());
  EXPECT_TRUE(listed.has_hold_until());
  EXPECT_EQ(ToTime(listed.consent_time()), clock_->Now());
  EXPECT_EQ(listed.phone(), "+976 9911 2233");

  // The mail asks, in Mongolian, with the link.
  std::vector<google::protobuf::Struct> mail = MailTo("batbayar@example.mn", 1);
  ASSERT_THAT(mail, SizeIs(1));
  EXPECT_EQ(Field(mail[0], "subject"),
            "Бүртгэлээ баталгаажуулна уу: Эмнэлгийн аялал жуулчлалын "
            "танилцуулга Khan-Uul");
  EXPECT_THAT(Field(mail[0], "text"),
              HasSubstr("https://smz.example.org/public/signup?lang=mn#t="));
  const std::string token = TokenIn(Field(mail[0], "text"));
  ASSERT_EQ(token.size(), 48u);
  EXPECT_THAT(Field(mail[0], "html"), HasSubstr(token));

  v1::SignUpTokenRequest by_token;
  by_token.set_token(token);
  v1::PublicSignUp seen;
  ASSERT_TRUE(stub_->LookUpSignUp(Visitor().get(), by_token, &seen).ok());
  EXPECT_EQ(seen.name(), "Батбаяр");
  EXPECT_TRUE(seen.has_hold_until());
  ASSERT_TRUE(stub_->ConfirmSignUp(Visitor().get(), by_token, &seen).ok());
  EXPECT_FALSE(seen.has_hold_until());
  EXPECT_EQ(seen.state(), v1::CONFIRMED);
  // Twice is harmless: one confirmation mail, with the link to manage it.
  ASSERT_TRUE(stub_->ConfirmSignUp(Visitor().get(), by_token, &seen).ok());
  mail = MailTo("batbayar@example.mn", 2);
  ASSERT_THAT(mail, SizeIs(2));
  EXPECT_THAT(Field(mail[1], "subject"), HasSubstr("Бүртгэл баталгаажлаа"));
  EXPECT_THAT(Field(mail[1], "text"), HasSubstr(token));
  EXPECT_THAT(MailTo("batbayar@example.mn", 3, absl::Seconds(1)), SizeIs(2));
  EXPECT_FALSE(Registrations(event.id(), 0).has_hold_until());

  // A second sign-up of the same person is refused without saying more.
  v1::SignUpResponse again;
  s = SignUp(Form(event.id(), "Batbayar", "BATBAYAR@example.mn"), &again);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::ALREADY_EXISTS);
  EXPECT_THAT(s.error_message(), HasSubstr("email"));
  EXPECT_THAT(s.error_message(), Not(HasSubstr("registration ")));

  // Cancelled: told; erased: the data go and the link stops working.
  v1::CancelSignUpRequest cancel;
  cancel.set_token(token);
  ASSERT_TRUE(stub_->CancelSignUp(Visitor().get(), cancel, &seen).ok());
  EXPECT_EQ(seen.state(), v1::CANCELLED_BY_REGISTRANT);
  mail = MailTo("batbayar@example.mn", 3);
  ASSERT_THAT(mail, SizeIs(3));
  EXPECT_THAT(Field(mail[2], "subject"), HasSubstr("цуцлагдлаа"));
  EXPECT_EQ(stub_->CancelSignUp(Visitor().get(), cancel, &seen).error_code(),
            grpc::StatusCode::FAILED_PRECONDITION);
  cancel.set_erase(true);
  ASSERT_TRUE(stub_->CancelSignUp(Visitor().get(), cancel, &seen).ok());
  EXPECT_TRUE(seen.erased());
  const v1::Registration erased = Registrations(event.id(), 0);
  EXPECT_EQ(erased.name(), "");
  EXPECT_EQ(erased.email(), "");
  EXPECT_EQ(erased.phone(), "");
  EXPECT_EQ(erased.country(), "MN");
  EXPECT_EQ(stub_->LookUpSignUp(Visitor().get(), by_token, &seen).error_code(),
            grpc::StatusCode::NOT_FOUND);
  // Nor does the mail the service kept name the person any more.
  mail::v1::ListMailResponse kept;
  ASSERT_TRUE(
      stub_->ListEventMail(As(stack_->admin_token()).get(), {}, &kept).ok());
  for (const mail::v1::Mail& m : kept.mail()) {
    EXPECT_NE(m.recipient(), "batbayar@example.mn") << m.topic();
  }
  // The same person may sign up again.
  s = SignUp(Form(event.id(), "Батбаяр", "batbayar@example.mn"), &again,
             "203.0.113.8");
  EXPECT_TRUE(s.ok()) << s.error_message();
}

TEST_F(EventsPublicTest, AnUnconfirmedPlaceLapsesAndTheWaitingListMovesUp) {
  const Event event = Published("Zaisan", 1, 40);
  v1::SignUpResponse first;
  ASSERT_TRUE(SignUp(Form(event.id(), "Оюун", "oyun@example.mn"), &first).ok());
  v1::SignUpResponse second;
  ASSERT_TRUE(
      SignUp(Form(event.id(), "Nguyen An", "an@example.vn"), &second).ok());
  EXPECT_EQ(second.sign_up().state(), v1::WAITLISTED);
  EXPECT_EQ(second.sign_up().waitlist_position(), 1);
  // The second confirms; the first never does.
  const std::vector<google::protobuf::Struct> asked =
      MailTo("an@example.vn", 1);
  ASSERT_THAT(asked, SizeIs(1));
  v1::SignUpTokenRequest by_token;
  by_token.set_token(TokenIn(Field(asked[0], "text")));
  v1::PublicSignUp seen;
  ASSERT_TRUE(stub_->ConfirmSignUp(Visitor().get(), by_token, &seen).ok());
  EXPECT_EQ(seen.state(), v1::WAITLISTED);
  ASSERT_THAT(MailTo("an@example.vn", 2), SizeIs(2));

  clock_->Advance(absl::Minutes(32));
  const absl::Time deadline = absl::Now() + absl::Seconds(20);
  while (Registrations(event.id(), 0).state() != v1::LAPSED &&
         absl::Now() < deadline) {
    absl::SleepFor(absl::Milliseconds(50));
  }
  EXPECT_EQ(Registrations(event.id(), 0).state(), v1::LAPSED);
  EXPECT_EQ(Registrations(event.id(), 1).state(), v1::CONFIRMED);
  const std::vector<google::protobuf::Struct> promoted =
      MailTo("an@example.vn", 3);
  ASSERT_THAT(promoted, SizeIs(3));
  // The one who never confirmed heard only the question.
  EXPECT_THAT(MailTo("oyun@example.mn", 2, absl::Seconds(1)), SizeIs(1));
  by_token.set_token(TokenIn(Field(MailTo("oyun@example.mn", 1)[0], "text")));
  grpc::Status s = stub_->ConfirmSignUp(Visitor().get(), by_token, &seen);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_THAT(s.error_message(), HasSubstr("not confirmed in time"));
}

TEST_F(EventsPublicTest, BadFormsAndFloodsAreRefusedAndChangeNothing) {
  const Event event = Published("Bogd", 50, 50);
  const Event internal = Published("Staff", 50, 51, /*open=*/false);
  v1::SignUpRequest bad;
  bad.set_event_id(event.id());
  bad.set_email("not an address");
  bad.set_country("Mongolia");
  bad.set_phone("call me");
  bad.set_language("kk");
  bad.set_website("http://spam.example");
  v1::SignUpResponse out;
  grpc::Status s = SignUp(bad, &out);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  for (const char* field : {"name", "country", "email", "phone", "language",
                            "consent", "website"}) {
    EXPECT_THAT(s.error_message(), HasSubstr(field)) << field;
  }
  // Not for events the public was not given.
  s = SignUp(Form(internal.id(), "Dorj", "dorj@example.mn"), &out);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::NOT_FOUND);
  // Tokens: malformed, or of no sign-up.
  v1::SignUpTokenRequest by_token;
  v1::PublicSignUp seen;
  by_token.set_token("smzv_short");
  EXPECT_EQ(stub_->LookUpSignUp(Visitor().get(), by_token, &seen).error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);
  by_token.set_token(absl::StrCat("smzv_", std::string(43, 'A')));
  EXPECT_EQ(stub_->ConfirmSignUp(Visitor().get(), by_token, &seen).error_code(),
            grpc::StatusCode::NOT_FOUND);

  // Three sign-ups an hour per e-mail address (this test's setting), those
  // the database refused included; then "try again in N minutes".
  EXPECT_TRUE(SignUp(Form(event.id(), "Flood", "flood@example.mn"), &out,
                     "198.51.100.1")
                  .ok());
  for (int i = 0; i < 2; ++i) {
    EXPECT_EQ(SignUp(Form(event.id(), "Flood", "flood@example.mn"), &out,
                     "198.51.100.2")
                  .error_code(),
              grpc::StatusCode::ALREADY_EXISTS);
  }
  s = SignUp(Form(event.id(), "Flood", "flood@example.mn"), &out,
             "198.51.100.3");
  EXPECT_EQ(s.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);
  EXPECT_THAT(s.error_message(), HasSubstr("e-mail address"));
  EXPECT_THAT(s.error_message(), HasSubstr("minutes"));
  // Six per client address: other people behind it are refused in turn.
  int refused = 0;
  for (int i = 0; i < 8; ++i) {
    const grpc::Status one =
        SignUp(Form(event.id(), "Crowd", absl::StrCat("c", i, "@example.mn")),
               &out, "192.0.2.50");
    if (one.error_code() == grpc::StatusCode::RESOURCE_EXHAUSTED) {
      EXPECT_THAT(one.error_message(), HasSubstr("network"));
      ++refused;
    } else {
      EXPECT_TRUE(one.ok()) << one.error_message();
    }
  }
  EXPECT_EQ(refused, 2);
  // An hour later the counts start again.
  clock_->Advance(absl::Hours(1));
  EXPECT_TRUE(
      SignUp(Form(event.id(), "Crowd", "c9@example.mn"), &out, "192.0.2.50")
          .ok());
  // The refused attempts left no registration behind: the flood's one and
  // the crowd's six and one.
  v1::ListRegistrationsRequest list;
  list.set_event_id(event.id());
  v1::ListRegistrationsResponse listed;
  ASSERT_TRUE(
      stub_->ListRegistrations(As(*organizer_).get(), list, &listed).ok());
  EXPECT_THAT(listed.registrations(), SizeIs(8));
}

// Made-up addresses cannot hold every seat: at most 9 places of one event
// (this test's setting) wait for a confirmation at once.
TEST_F(EventsPublicTest, UnconfirmedPlacesOfAnEventAreCapped) {
  const Event event = Published("Nalaikh", 100, 60);
  v1::SignUpResponse out;
  for (int i = 0; i < 9; ++i) {
    ASSERT_TRUE(
        SignUp(Form(event.id(), "Held", absl::StrCat("held", i, "@example.mn")),
               &out, absl::StrCat("10.0.0.", i))
            .ok());
  }
  grpc::Status s =
      SignUp(Form(event.id(), "Tenth", "tenth@example.mn"), &out, "10.0.1.1");
  EXPECT_EQ(s.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);
  EXPECT_THAT(s.error_message(), HasSubstr("confirmation"));
  // One confirms: room for the next.
  std::vector<google::protobuf::Struct> asked = MailTo("held0@example.mn", 1);
  ASSERT_THAT(asked, SizeIs(1));
  v1::SignUpTokenRequest by_token;
  by_token.set_token(TokenIn(Field(asked[0], "text")));
  v1::PublicSignUp seen;
  ASSERT_TRUE(stub_->ConfirmSignUp(Visitor().get(), by_token, &seen).ok());
  EXPECT_TRUE(
      SignUp(Form(event.id(), "Tenth", "tenth@example.mn"), &out, "10.0.1.1")
          .ok());
  // The mail that asks greets the address, not the name typed in.
  EXPECT_THAT(Field(asked[0], "text"), HasSubstr("held0@example.mn"));
  EXPECT_THAT(Field(asked[0], "text"), Not(HasSubstr("Held")));
}

// A year after the event (the default retention), the people who are not a
// partner's staff keep no name, address or phone in smz, nor in the audit
// trail; partners' staff stay. Last: it moves the clock a year on.
// What a calendar app subscribed to the public feed reads (parsed by
// python3-icalendar): the events open to the public in the visitor's
// language, each with its page; one event on its own; nothing else.
TEST_F(EventsPublicTest, ThePublicCalendarHoldsWhatIsOpenInTheVisitorsTongue) {
  const Event open = Published("Calendar", 10, 30);
  const Event internal = Published("Staff only", 10, 31, /*open=*/false);
  v1::ExportPublicCalendarRequest feed;
  feed.set_language("mn");
  v1::CalendarFile file;
  grpc::Status s = stub_->ExportPublicCalendar(Visitor().get(), feed, &file);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(file.content_type(), "text/calendar; charset=utf-8");
  EXPECT_EQ(file.filename(), "smz-public-events-mn.ics");
  const auto rows = ParseIcs(file.content());
  std::map<std::string, std::string> summaries;  // uid -> summary
  for (const auto& row : rows) summaries[row.at(0)] = row.at(5);
  const std::string open_uid =
      absl::StrCat("event-", open.id(), "@events.smz.ydp");
  EXPECT_EQ(summaries[open_uid],
            "Эмнэлгийн аялал жуулчлалын танилцуулга Calendar");
  EXPECT_EQ(
      summaries.count(absl::StrCat("event-", internal.id(), "@events.smz.ydp")),
      0u);
  EXPECT_EQ(file.event_count(), static_cast<int>(rows.size()));
  // Each event links to its page, in the feed's language.
  EXPECT_THAT(file.content(),
              HasSubstr(absl::StrCat("https://smz.example.org/public/event?id=",
                                     open.id(), "&lang=mn")));
  // No counts of people, no internal notes.
  EXPECT_THAT(file.content(), Not(HasSubstr("Staff only")));

  // One event; a Korean reader gets the Korean title.
  feed.set_event_id(open.id());
  feed.set_language("ko");
  s = stub_->ExportPublicCalendar(Visitor().get(), feed, &file);
  ASSERT_TRUE(s.ok()) << s.error_message();
  ASSERT_THAT(ParseIcs(file.content()), SizeIs(1));
  EXPECT_EQ(ParseIcs(file.content())[0][5], "몽골 설명회 Calendar");
  // An event not open to the public is not there at all.
  feed.set_event_id(internal.id());
  s = stub_->ExportPublicCalendar(Visitor().get(), feed, &file);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::NOT_FOUND);
  feed.set_event_id(-1);
  feed.set_language("xx");
  s = stub_->ExportPublicCalendar(Visitor().get(), feed, &file);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(s.error_message(), HasSubstr("event_id"));
  EXPECT_THAT(s.error_message(), HasSubstr("language"));
  // Other tests count upcoming public events.
  for (const Event& e : {open, internal}) {
    v1::TransitionRequest cancel;
    cancel.set_id(e.id());
    cancel.set_reason("test over");
    v1::EventResponse cancelled;
    ASSERT_TRUE(
        stub_->CancelEvent(As(*organizer_).get(), cancel, &cancelled).ok());
  }
}

// A weekly course with a day off and a visit: a calendar shows each
// meeting on its day (RRULE and EXDATE) and the visit as its own entry, not
// one block across weeks.
TEST_F(EventsPublicTest, ThePublicCalendarShowsACourseMeetingByMeeting) {
  v1::CreateEventRequest create;
  Event* event = create.mutable_event();
  event->set_type(v1::TRAINING);
  (*event->mutable_title())["en"] = "Coordinator course";
  event->set_venue("Yeongdeungpo-gu Office");
  event->set_city("Seoul");
  event->set_country("KR");
  event->set_time_zone("Asia/Seoul");
  event->set_open_to_public(true);
  const absl::TimeZone seoul = *LoadZone("Asia/Seoul");
  const absl::CivilDay first = absl::ToCivilDay(clock_->Now(), seoul) + 10;
  auto at = [&](absl::CivilDay day, int hour) {
    return ToTimestamp(absl::FromCivil(absl::CivilHour(day) + hour, seoul));
  };
  *event->mutable_start_time() = at(first, 10);
  *event->mutable_end_time() = at(first + 21, 12);
  v1::Recurrence* weekly = event->mutable_recurrence();
  *weekly->mutable_first_start_time() = at(first, 10);
  *weekly->mutable_first_end_time() = at(first, 12);
  weekly->set_rule("FREQ=WEEKLY;COUNT=4");
  weekly->add_exception_dates(absl::FormatCivilTime(first + 7));
  (*weekly->mutable_title())["en"] = "Class";
  v1::Session* visit = event->add_sessions();
  visit->set_kind(v1::VISIT);
  (*visit->mutable_title())["en"] = "Hospital visit";
  *visit->mutable_start_time() = at(first + 1, 14);
  *visit->mutable_end_time() = at(first + 1, 16);
  v1::EventResponse created;
  grpc::Status s = stub_->CreateEvent(As(*organizer_).get(), create, &created);
  ASSERT_TRUE(s.ok()) << s.error_message();
  v1::TransitionRequest step;
  step.set_id(created.event().id());
  ASSERT_TRUE(stub_->PublishEvent(As(*organizer_).get(), step, &created).ok());

  v1::ExportPublicCalendarRequest feed;
  feed.set_event_id(created.event().id());
  feed.set_language("en");
  v1::CalendarFile file;
  s = stub_->ExportPublicCalendar(Visitor().get(), feed, &file);
  ASSERT_TRUE(s.ok()) << s.error_message();
  std::map<std::string, std::string> occurrences;  // summary -> instances
  for (const auto& row : ParseIcs(file.content())) {
    occurrences[row.at(5)] = row.at(6);
  }
  EXPECT_EQ(occurrences["Class"], "3") << file.content();
  EXPECT_EQ(occurrences["Hospital visit"], "1") << file.content();
  EXPECT_THAT(file.content(), HasSubstr("SEQUENCE:"));

  v1::TransitionRequest cancel;
  cancel.set_id(created.event().id());
  cancel.set_reason("test over");
  ASSERT_TRUE(stub_->CancelEvent(As(*organizer_).get(), cancel, &created).ok());
}

TEST_F(EventsPublicTest, TheirDataAreErasedAYearAfterTheEvent) {
  auto partner = stack_->AddPartner(testing::TestHospital("연세정형외과"),
                                    "2025-01-15", "2029-12-31");
  ASSERT_TRUE(partner.ok()) << partner.status();
  const Event event = Published("Terelj", 10, 1);
  v1::SignUpResponse visitor;
  ASSERT_TRUE(
      SignUp(Form(event.id(), "Сүх", "sukh@example.mn"), &visitor).ok());
  v1::CreateRegistrationRequest staff;
  staff.mutable_registration()->set_event_id(event.id());
  staff.mutable_registration()->set_partner_id(*partner);
  staff.mutable_registration()->set_name("김간호");
  staff.mutable_registration()->set_email("nurse@hospital.example.kr");
  v1::RegistrationResponse kept;
  grpc::Status s =
      stub_->CreateRegistration(As(*organizer_).get(), staff, &kept);
  ASSERT_TRUE(s.ok()) << s.error_message();

  // A day before the year is over: nothing yet.
  clock_->Set(ToTime(event.end_time()) + absl::Hours(24 * 364));
  absl::SleepFor(absl::Milliseconds(500));
  EXPECT_EQ(Registrations(event.id(), 0).name(), "Сүх");
  clock_->Set(ToTime(event.end_time()) + absl::Hours(24 * 366));
  const absl::Time deadline = absl::Now() + absl::Seconds(20);
  while (!Registrations(event.id(), 0).name().empty() &&
         absl::Now() < deadline) {
    absl::SleepFor(absl::Milliseconds(50));
  }
  const v1::Registration erased = Registrations(event.id(), 0);
  EXPECT_EQ(erased.name(), "");
  EXPECT_EQ(erased.email(), "");
  EXPECT_EQ(erased.phone(), "");
  EXPECT_EQ(erased.organization(), "");
  EXPECT_EQ(erased.country(), "MN");
  EXPECT_EQ(Registrations(event.id(), 1).name(), "김간호");
  // The audit trail holds no copy of what was erased.
  audit::v1::ListChangesRequest changes;
  changes.set_entity("registration");
  changes.set_entity_id(erased.id());
  audit::v1::ListChangesResponse trail;
  s = stub_->ListEventChanges(As(*organizer_).get(), changes, &trail);
  ASSERT_TRUE(s.ok()) << s.error_message();
  ASSERT_GT(trail.changes_size(), 0);
  for (const auto& change : trail.changes()) {
    EXPECT_THAT(change.DebugString(), Not(HasSubstr("sukh@example.mn")))
        << change.action();
  }
}

}  // namespace
}  // namespace smz::events
