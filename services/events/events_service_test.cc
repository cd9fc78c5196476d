// The events service end to end: a private MariaDB, a real registry
// (partners, tokens) and the events server, both on ephemeral loopback
// ports, called over gRPC with real tokens and a shared fake clock. Each
// test books its own rooms and dates, so tests do not disturb each other.
#include <algorithm>
#include <atomic>
#include <cstdio>
#include <fstream>
#include <map>
#include <thread>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/synchronization/barrier.h"
#include "absl/time/clock.h"
#include "common/status_util.h"
#include "gmock/gmock.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/security/credentials.h"
#include "gtest/gtest.h"
#include "services/events/event_rules.h"
#include "services/events/events_server.h"
#include "services/registry/registry_server.h"
#include "smz/events/v1/events.grpc.pb.h"
#include "smz/registry/v1/registry.grpc.pb.h"
#include "tests/harness/local_stack.h"
#include "tests/harness/mariadb_server.h"

namespace smz::events {
namespace {

using ::smz::testing::As;

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Not;
using ::testing::SizeIs;
using ::testing::UnorderedElementsAre;
namespace reg = ::smz::registry::v1;

std::vector<std::string> ViolatedFields(const grpc::Status& status) {
  std::vector<std::string> fields;
  for (const FieldViolation& v : GetFieldViolations(FromGrpcStatus(status))) {
    fields.push_back(v.field);
  }
  return fields;
}

absl::Time Local(absl::string_view zone, int y, int m, int d, int hh,
                 int mm = 0) {
  return absl::FromCivil(absl::CivilSecond(y, m, d, hh, mm, 0),
                         *LoadZone(zone));
}
absl::Time Seoul(int y, int m, int d, int hh, int mm = 0) {
  return Local("Asia/Seoul", y, m, d, hh, mm);
}

// An event in Seoul on one day, 10:00-17:00, in its own room.
Event Briefing(const std::string& room, int y, int m, int d) {
  Event event;
  event.set_type(v1::BRIEFING_SESSION);
  (*event.mutable_title())["ko"] = absl::StrCat("의료관광 설명회 ", room);
  (*event.mutable_title())["en"] = absl::StrCat("Briefing ", room);
  event.set_organizer("영등포구 보건소");
  event.set_venue("영등포구청");
  event.set_room(room);
  *event.mutable_start_time() = ToTimestamp(Seoul(y, m, d, 10));
  *event.mutable_end_time() = ToTimestamp(Seoul(y, m, d, 17));
  return event;
}

Registration Person(int64_t event_id, const std::string& name,
                    const std::string& email = "") {
  Registration r;
  r.set_event_id(event_id);
  r.set_name(name);
  r.set_organization("Mongol Medical Travel");
  r.set_country("MN");
  r.add_languages("mn");
  r.set_email(email);
  return r;
}

class EventsServiceTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    clock_ = new FakeClock(Seoul(2026, 3, 2, 9));
    auto stack = testing::LocalStack::Start(clock_);
    ASSERT_TRUE(stack.ok()) << stack.status();
    stack_ = stack->release();
    mariadb_ = &stack_->mariadb();
    tokens_ = new std::map<std::string, std::string>();
    (*tokens_)["admin"] = stack_->admin_token();
    // Two designated hospitals and one that never was (PROSPECTIVE).
    partners_ = new std::vector<int64_t>();
    for (int i = 0; i < 3; ++i) {
      reg::Partner p = testing::TestHospital(absl::StrCat("병원", i + 1));
      (*p.mutable_name())["en"] = absl::StrCat("Hospital ", i + 1);
      auto id = stack_->AddPartner(p, i == 2 ? "" : "2025-01-15",
                                   i == 2 ? "" : "2027-12-31");
      ASSERT_TRUE(id.ok()) << id.status();
      partners_->push_back(*id);
    }
    auto issue = [&](auth::v1::Role role, int64_t partner_id) {
      auto token = stack_->IssueToken(role, "test", partner_id);
      EXPECT_TRUE(token.ok()) << token.status();
      return token.ok() ? *token : std::string();
    };
    (*tokens_)["analyst"] = issue(auth::v1::ANALYST, 0);
    (*tokens_)["council"] = issue(auth::v1::COUNCIL, 0);
    (*tokens_)["organizer"] = issue(auth::v1::ORGANIZER, 0);
    (*tokens_)["p1"] = issue(auth::v1::PARTNER, (*partners_)[0]);
    (*tokens_)["p2"] = issue(auth::v1::PARTNER, (*partners_)[1]);
    auto server = stack_->StartEvents([](EventsServerOptions& options) {
      options.database.acquire_timeout = absl::Seconds(10);
      options.database.io_timeout = absl::Seconds(2);
      options.database.pool_size = 32;
    });
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = *server;
    channel_ = new std::shared_ptr<grpc::Channel>(
        testing::LoopbackChannel(server_->port()));
  }

  static void TearDownTestSuite() {
    delete channel_;
    delete stack_;
    delete clock_;
    delete tokens_;
    delete partners_;
  }

  void SetUp() override {
    stub_ = v1::EventsService::NewStub(*channel_);
    clock_->Set(Seoul(2026, 3, 2, 9));
  }

  static const std::string& admin() { return (*tokens_)["admin"]; }
  static const std::string& token(const std::string& who) {
    return (*tokens_)[who];
  }
  static int64_t partner(int n) { return (*partners_)[n - 1]; }

  grpc::Status Create(const Event& event, v1::EventResponse* out,
                      const std::string& request_id = "",
                      const std::string& who = "organizer") {
    v1::CreateEventRequest request;
    *request.mutable_event() = event;
    request.set_request_id(request_id);
    return stub_->CreateEvent(As(token(who)).get(), request, out);
  }
  // Creates and publishes; returns the published event.
  Event Published(const Event& event) {
    v1::EventResponse created;
    grpc::Status s = Create(event, &created);
    EXPECT_TRUE(s.ok()) << s.error_message();
    v1::TransitionRequest publish;
    publish.set_id(created.event().id());
    v1::EventResponse published;
    s = stub_->PublishEvent(As(token("organizer")).get(), publish, &published);
    EXPECT_TRUE(s.ok()) << s.error_message();
    return published.event();
  }
  grpc::Status Step(const std::string& method, int64_t id,
                    v1::EventResponse* out, const std::string& reason = "",
                    const std::string& etag = "") {
    v1::TransitionRequest request;
    request.set_id(id);
    request.set_reason(reason);
    request.set_etag(etag);
    auto context = As(token("organizer"));
    if (method == "publish") {
      return stub_->PublishEvent(context.get(), request, out);
    }
    if (method == "cancel") {
      return stub_->CancelEvent(context.get(), request, out);
    }
    return stub_->CompleteEvent(context.get(), request, out);
  }
  grpc::Status Register(const Registration& r, v1::RegistrationResponse* out,
                        const std::string& who = "organizer",
                        const std::string& request_id = "") {
    v1::CreateRegistrationRequest request;
    *request.mutable_registration() = r;
    request.set_request_id(request_id);
    return stub_->CreateRegistration(As(token(who)).get(), request, out);
  }
  Event Get(int64_t id, const std::string& who = "organizer") {
    v1::GetEventRequest request;
    request.set_id(id);
    Event event;
    grpc::Status s = stub_->GetEvent(As(token(who)).get(), request, &event);
    EXPECT_TRUE(s.ok()) << s.error_message();
    return event;
  }
  std::vector<Registration> Registrations(
      int64_t event_id, const std::string& who = "organizer") {
    v1::ListRegistrationsRequest request;
    request.set_event_id(event_id);
    request.set_page_size(200);
    std::vector<Registration> out;
    for (;;) {
      v1::ListRegistrationsResponse page;
      grpc::Status s =
          stub_->ListRegistrations(As(token(who)).get(), request, &page);
      EXPECT_TRUE(s.ok()) << s.error_message();
      for (const Registration& r : page.registrations()) out.push_back(r);
      if (page.next_page_token().empty()) break;
      request.set_page_token(page.next_page_token());
    }
    return out;
  }
  // Runs the file through python3-icalendar (tests/tools/ical_summary.py):
  // one summary line per VEVENT.
  static std::vector<std::vector<std::string>> ParseIcs(
      const std::string& content) {
    const std::string path =
        absl::StrCat(::testing::TempDir(), "/events-",
                     absl::ToUnixNanos(absl::Now()), ".ics");
    std::ofstream(path, std::ios::binary) << content;
    const std::string command = absl::StrCat(
        "/usr/bin/python3 " SMZ_ICAL_SUMMARY_SCRIPT " ", path, " 2>&1");
    FILE* pipe = popen(command.c_str(), "r");
    EXPECT_NE(pipe, nullptr);
    std::string output;
    char buffer[4096];
    size_t n;
    while ((n = fread(buffer, 1, sizeof(buffer), pipe)) > 0) {
      output.append(buffer, n);
    }
    const int rc = pclose(pipe);
    EXPECT_EQ(rc, 0) << "python3-icalendar rejected the file:\n"
                     << output << "\n"
                     << content;
    std::vector<std::vector<std::string>> rows;
    for (absl::string_view line :
         absl::StrSplit(output, '\n', absl::SkipEmpty())) {
      rows.push_back(absl::StrSplit(line, '|'));
    }
    return rows;
  }

  std::unique_ptr<v1::EventsService::Stub> stub_;
  static testing::LocalStack* stack_;
  static testing::MariaDbServer* mariadb_;  // the stack's
  static FakeClock* clock_;
  static EventsServer* server_;
  static std::shared_ptr<grpc::Channel>* channel_;
  static std::map<std::string, std::string>* tokens_;
  static std::vector<int64_t>* partners_;
};

testing::LocalStack* EventsServiceTest::stack_ = nullptr;
testing::MariaDbServer* EventsServiceTest::mariadb_ = nullptr;
FakeClock* EventsServiceTest::clock_ = nullptr;
EventsServer* EventsServiceTest::server_ = nullptr;
std::shared_ptr<grpc::Channel>* EventsServiceTest::channel_ = nullptr;
std::map<std::string, std::string>* EventsServiceTest::tokens_ = nullptr;
std::vector<int64_t>* EventsServiceTest::partners_ = nullptr;

TEST_F(EventsServiceTest, CreateReadAndLocalDatesAcrossZones) {
  // 22:00-23:30 on 23 May in Ulaanbaatar (UTC+8) ends on 24 May in Seoul
  // time, but it is a 23 May event.
  Event abroad = Briefing("UB Ballroom", 2026, 5, 23);
  abroad.set_time_zone("Asia/Ulaanbaatar");
  abroad.set_country("MN");
  abroad.set_city("Ulaanbaatar");
  *abroad.mutable_start_time() =
      ToTimestamp(Local("Asia/Ulaanbaatar", 2026, 5, 23, 22));
  *abroad.mutable_end_time() =
      ToTimestamp(Local("Asia/Ulaanbaatar", 2026, 5, 23, 23, 30));
  v1::EventResponse created;
  ASSERT_TRUE(Create(abroad, &created, "create-ub-1").ok());
  const Event& event = created.event();
  EXPECT_EQ(event.state(), v1::DRAFT);
  EXPECT_EQ(event.local_start(), "2026-05-23T22:00");
  EXPECT_EQ(event.time_zone(), "Asia/Ulaanbaatar");
  EXPECT_EQ(event.etag(), "\"1\"");

  Event home = Briefing("Seoul hall", 2026, 5, 24);
  v1::EventResponse created_home;
  ASSERT_TRUE(Create(home, &created_home).ok());
  EXPECT_EQ(created_home.event().time_zone(), "Asia/Seoul");  // default
  EXPECT_EQ(created_home.event().country(), "KR");

  // Retrying the create returns the first event; a reused id with other
  // content is refused.
  v1::EventResponse again;
  ASSERT_TRUE(Create(abroad, &again, "create-ub-1").ok());
  EXPECT_EQ(again.event().id(), event.id());
  abroad.set_room("other");
  grpc::Status reused = Create(abroad, &again, "create-ub-1");
  EXPECT_EQ(reused.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(ViolatedFields(reused), ElementsAre("request_id"));

  v1::ListEventsRequest list;
  list.set_local_date_from("2026-05-23");
  list.set_local_date_to("2026-05-23");
  v1::ListEventsResponse page;
  ASSERT_TRUE(
      stub_->ListEvents(As(token("organizer")).get(), list, &page).ok());
  ASSERT_THAT(page.events(), SizeIs(1));
  EXPECT_EQ(page.events(0).id(), event.id());

  // Drafts are invisible to readers.
  ASSERT_TRUE(stub_->ListEvents(As(token("analyst")).get(), list, &page).ok());
  EXPECT_THAT(page.events(), IsEmpty());
  v1::GetEventRequest get;
  get.set_id(event.id());
  Event read;
  EXPECT_EQ(
      stub_->GetEvent(As(token("council")).get(), get, &read).error_code(),
      grpc::StatusCode::NOT_FOUND);
  Step("publish", event.id(), &created);
  ASSERT_TRUE(stub_->ListEvents(As(token("analyst")).get(), list, &page).ok());
  EXPECT_THAT(page.events(), SizeIs(1));
  EXPECT_TRUE(stub_->GetEvent(As(token("p1")).get(), get, &read).ok());

  // Without a token, or as a reader, nothing is written.
  EXPECT_EQ(Create(home, &again, "", "").error_code(),
            grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_EQ(Create(home, &again, "", "analyst").error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
}

TEST_F(EventsServiceTest, BadEventsNameEveryFieldAndStoreNothing) {
  v1::ListEventsRequest list;
  list.set_local_date_from("2026-06-01");
  list.set_local_date_to("2026-06-30");
  v1::ListEventsResponse before;
  ASSERT_TRUE(
      stub_->ListEvents(As(token("organizer")).get(), list, &before).ok());

  Event bad = Briefing("Bad room", 2026, 6, 3);
  bad.set_time_zone("Asia/Seoull");
  *bad.mutable_end_time() = ToTimestamp(Seoul(2026, 6, 3, 9));
  bad.set_capacity(-5);
  bad.add_target_countries("XX");
  bad.add_host_partner_ids(999999);
  v1::EventResponse out;
  grpc::Status s = Create(bad, &out);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(ViolatedFields(s),
              UnorderedElementsAre(
                  "event.time_zone", "event.end_time", "event.capacity",
                  "event.target_countries[0]", "event.host_partner_ids[0]"));
  EXPECT_THAT(s.error_message(), HasSubstr("Asia/Seoull"));
  v1::ListEventsResponse after;
  ASSERT_TRUE(
      stub_->ListEvents(As(token("organizer")).get(), list, &after).ok());
  EXPECT_EQ(after.events_size(), before.events_size());

  // A prospective (not designated) partner is accepted with a warning.
  Event fine = Briefing("Fine room", 2026, 6, 4);
  fine.add_host_partner_ids(partner(3));
  ASSERT_TRUE(Create(fine, &out).ok());
  ASSERT_THAT(out.warnings(), SizeIs(1));
  EXPECT_EQ(out.warnings(0).kind(), v1::PARTNER_NOT_ACTIVE);
}

TEST_F(EventsServiceTest, LifecycleAndIllegalTransitions) {
  Event event = Briefing("Lifecycle hall", 2026, 4, 10);
  event.add_host_partner_ids(partner(1));
  v1::Session* talk = event.add_sessions();
  (*talk->mutable_title())["en"] = "Opening";
  *talk->mutable_start_time() = ToTimestamp(Seoul(2026, 4, 10, 10));
  *talk->mutable_end_time() = ToTimestamp(Seoul(2026, 4, 10, 11));
  v1::EventResponse r;
  ASSERT_TRUE(Create(event, &r).ok());
  const int64_t id = r.event().id();
  EXPECT_EQ(r.event().sessions(0).id(), 1);

  // Draft cannot complete or postpone.
  grpc::Status s = Step("complete", id, &r);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_THAT(s.error_message(), HasSubstr("is DRAFT"));
  v1::PostponeEventRequest postpone;
  postpone.set_id(id);
  *postpone.mutable_new_start_time() = ToTimestamp(Seoul(2026, 4, 17, 10));
  *postpone.mutable_new_end_time() = ToTimestamp(Seoul(2026, 4, 17, 17));
  postpone.set_reason("venue renovation");
  EXPECT_EQ(stub_->PostponeEvent(As(token("organizer")).get(), postpone, &r)
                .error_code(),
            grpc::StatusCode::FAILED_PRECONDITION);

  ASSERT_TRUE(Step("publish", id, &r).ok());
  EXPECT_EQ(r.event().state(), v1::PUBLISHED);
  // A stale etag is ABORTED.
  EXPECT_EQ(Step("cancel", id, &r, "x", "\"1\"").error_code(),
            grpc::StatusCode::ABORTED);
  // Postponed with the new date: sessions move with it.
  ASSERT_TRUE(
      stub_->PostponeEvent(As(token("organizer")).get(), postpone, &r).ok());
  EXPECT_EQ(r.event().state(), v1::POSTPONED);
  EXPECT_EQ(r.event().local_start(), "2026-04-17T10:00");
  EXPECT_EQ(ToTime(r.event().original_start_time()), Seoul(2026, 4, 10, 10));
  EXPECT_EQ(ToTime(r.event().sessions(0).start_time()), Seoul(2026, 4, 17, 10));
  EXPECT_EQ(r.event().state_reason(), "venue renovation");

  // Not before it starts.
  s = Step("complete", id, &r);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_THAT(s.error_message(), HasSubstr("before it starts"));
  clock_->Set(Seoul(2026, 4, 17, 18));
  ASSERT_TRUE(Step("complete", id, &r).ok());
  EXPECT_EQ(r.event().state(), v1::COMPLETED);
  // Final states stay final.
  EXPECT_EQ(Step("cancel", id, &r, "late").error_code(),
            grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_EQ(Step("publish", id, &r).error_code(),
            grpc::StatusCode::FAILED_PRECONDITION);
  v1::UpdateEventRequest update;
  update.mutable_event()->set_id(id);
  update.mutable_event()->set_etag(Get(id).etag());
  update.mutable_event()->set_capacity(10);
  update.mutable_update_mask()->add_paths("capacity");
  EXPECT_EQ(
      stub_->UpdateEvent(As(token("organizer")).get(), update, &r).error_code(),
      grpc::StatusCode::FAILED_PRECONDITION);

  // Cancelling needs a reason.
  Event other = Published(Briefing("Lifecycle annex", 2026, 4, 20));
  s = Step("cancel", other.id(), &r);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(ViolatedFields(s), ElementsAre("reason"));
  ASSERT_TRUE(Step("cancel", other.id(), &r, "speaker ill").ok());
  EXPECT_EQ(r.event().state(), v1::CANCELLED);

  // Outcomes are for completed events.
  v1::RecordOutcomeRequest outcome;
  outcome.set_id(other.id());
  outcome.mutable_outcome()->set_mous_signed(1);
  Event recorded;
  EXPECT_EQ(
      stub_->RecordOutcome(As(token("organizer")).get(), outcome, &recorded)
          .error_code(),
      grpc::StatusCode::FAILED_PRECONDITION);
  outcome.set_id(id);
  outcome.mutable_outcome()->set_attendees(42);
  v1::Lead* lead = outcome.mutable_outcome()->add_leads();
  lead->set_agency("Mongol Medical Travel");
  lead->set_country("mn");
  (*outcome.mutable_outcome()->mutable_notes())["ko"] = "상담 12건";
  ASSERT_TRUE(
      stub_->RecordOutcome(As(token("organizer")).get(), outcome, &recorded)
          .ok());
  EXPECT_EQ(recorded.outcome().leads(0).country(), "MN");
  EXPECT_EQ(recorded.outcome().attendees(), 42);
  // Leads and notes: for organizers and the hosting partner, not for other
  // partners, whichever way they read the event.
  v1::GetEventRequest get;
  get.set_id(id);
  Event seen;
  ASSERT_TRUE(stub_->GetEvent(As(token("p1")).get(), get, &seen).ok());
  EXPECT_EQ(seen.outcome().leads_size(), 1);
  EXPECT_EQ(seen.outcome().notes().count("ko"), 1u);
  ASSERT_TRUE(stub_->GetEvent(As(token("p2")).get(), get, &seen).ok());
  EXPECT_EQ(seen.outcome().attendees(), 42);
  EXPECT_EQ(seen.outcome().leads_size(), 0);
  EXPECT_TRUE(seen.outcome().notes().empty());
  v1::ListEventsRequest list;
  list.set_local_date_from("2026-04-17");
  list.set_local_date_to("2026-04-17");
  v1::ListEventsResponse listed;
  ASSERT_TRUE(stub_->ListEvents(As(token("p2")).get(), list, &listed).ok());
  for (const Event& e : listed.events()) {
    EXPECT_EQ(e.outcome().leads_size(), 0) << e.id();
    EXPECT_TRUE(e.outcome().notes().empty()) << e.id();
  }

  // Only the completed one counts; cancelled and drafts do not.
  Event draft = Briefing("Lifecycle draft", 2026, 4, 21);
  ASSERT_TRUE(Create(draft, &r).ok());
  v1::CountCompletedEventsRequest count;
  count.set_year_from(2026);
  count.set_year_to(2026);
  count.add_types(v1::BRIEFING_SESSION);
  count.set_by_country(true);
  v1::CountCompletedEventsResponse counts;
  ASSERT_TRUE(
      stub_->CountCompletedEvents(As(token("council")).get(), count, &counts)
          .ok());
  ASSERT_THAT(counts.counts(), SizeIs(1));
  EXPECT_EQ(counts.counts(0).completed(), 1);
  EXPECT_EQ(counts.counts(0).country(), "KR");
  EXPECT_EQ(counts.counts(0).attendees(), 42);
  EXPECT_EQ(counts.counts(0).mous_signed(), 1);
  EXPECT_GE(counts.cancelled(), 1);
  EXPECT_EQ(stub_->CountCompletedEvents(As(token("p1")).get(), count, &counts)
                .error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
}

TEST_F(EventsServiceTest, ReusedRegistrationRequestIdWithOtherPersonIsRefused) {
  const Event event = Published(Briefing("Request id hall", 2026, 6, 2));
  v1::RegistrationResponse first, again;
  ASSERT_TRUE(Register(Person(event.id(), "Bat-Erdene"), &first, "organizer",
                       "reg-once")
                  .ok());
  ASSERT_TRUE(Register(Person(event.id(), "Bat-Erdene"), &again, "organizer",
                       "reg-once")
                  .ok());
  EXPECT_EQ(again.registration().id(), first.registration().id());
  const grpc::Status s =
      Register(Person(event.id(), "Oyuunaa"), &again, "organizer", "reg-once");
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(ViolatedFields(s), ElementsAre("request_id"));
  EXPECT_EQ(Registrations(event.id()).size(), 1u);
}

TEST_F(EventsServiceTest, ConflictsHardAndSoft) {
  Event first = Briefing("Conflict hall", 2026, 7, 1);
  v1::EventResponse r;
  ASSERT_TRUE(Create(first, &r).ok());
  const int64_t first_id = r.event().id();

  // Same room (spelled differently), overlapping: refused, naming event 1.
  Event second = Briefing("  conflict   HALL ", 2026, 7, 1);
  *second.mutable_start_time() = ToTimestamp(Seoul(2026, 7, 1, 16));
  *second.mutable_end_time() = ToTimestamp(Seoul(2026, 7, 1, 18));
  grpc::Status s = Create(second, &r);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_THAT(s.error_message(),
              HasSubstr(absl::StrCat("is booked by event ", first_id)));
  // Back to back is fine.
  *second.mutable_start_time() = ToTimestamp(Seoul(2026, 7, 1, 17));
  ASSERT_TRUE(Create(second, &r).ok()) << s.error_message();
  // A cancelled event frees its room.
  Event third = Briefing("Conflict hall", 2026, 7, 1);
  EXPECT_EQ(Create(third, &r).error_code(),
            grpc::StatusCode::FAILED_PRECONDITION);
  v1::EventResponse cancelled;
  ASSERT_TRUE(Step("cancel", first_id, &cancelled, "moved online").ok());
  ASSERT_TRUE(Create(third, &r).ok());

  // A fam tour whose stop at hospital 1 overlaps another tour's: accepted,
  // with a warning naming the other tour.
  auto tour = [&](int start_hour) {
    Event e;
    e.set_type(v1::FAM_TOUR);
    (*e.mutable_title())["ko"] = "팸투어";
    *e.mutable_start_time() = ToTimestamp(Seoul(2026, 7, 2, 9));
    *e.mutable_end_time() = ToTimestamp(Seoul(2026, 7, 2, 18));
    e.add_host_partner_ids(partner(1));
    v1::Session* stop = e.add_sessions();
    stop->set_kind(v1::VISIT);
    stop->set_venue("Hospital 1");
    stop->set_host_partner_id(partner(1));
    *stop->mutable_start_time() = ToTimestamp(Seoul(2026, 7, 2, start_hour));
    *stop->mutable_end_time() = ToTimestamp(Seoul(2026, 7, 2, start_hour + 2));
    return e;
  };
  ASSERT_TRUE(Create(tour(10), &r).ok());
  EXPECT_THAT(r.warnings(), IsEmpty());
  const int64_t tour_id = r.event().id();
  ASSERT_TRUE(Create(tour(11), &r).ok());
  ASSERT_THAT(r.warnings(), SizeIs(1));
  EXPECT_EQ(r.warnings(0).kind(), v1::PARTNER_DOUBLE_BOOKED);
  EXPECT_EQ(r.warnings(0).other_event_id(), tour_id);
  EXPECT_EQ(r.warnings(0).field(), "event.sessions[0]");

  // Within one itinerary, two overlapping stops at one hospital are refused.
  Event impossible = tour(13);
  *impossible.add_sessions() = impossible.sessions(0);
  s = Create(impossible, &r);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(ViolatedFields(s), ElementsAre("event.sessions[1]"));
}

// Writers racing for one room: exactly one books it, the others are refused
// naming it (the check reads the latest bookings, not a stale snapshot).
// Retries of one create racing each other all get the one event.
TEST_F(EventsServiceTest, ConcurrentBookingsAndRetriesOfOneCreate) {
  constexpr int kWriters = 8;
  auto race = [&](auto make_request) {
    std::vector<grpc::Status> statuses(kWriters);
    std::vector<v1::EventResponse> responses(kWriters);
    absl::Barrier* start = new absl::Barrier(kWriters);
    std::vector<std::thread> threads;
    for (int i = 0; i < kWriters; ++i) {
      threads.emplace_back([&, i] {
        auto stub = v1::EventsService::NewStub(*channel_);
        v1::CreateEventRequest request = make_request(i);
        auto context = As(token("organizer"));
        if (start->Block()) delete start;
        statuses[i] = stub->CreateEvent(context.get(), request, &responses[i]);
      });
    }
    for (std::thread& t : threads) t.join();
    return std::make_pair(statuses, responses);
  };

  // A few rounds, since one round of a race may not interleave badly.
  for (int round = 0; round < 4; ++round) {
    const std::string room = absl::StrCat("Race hall ", round);
    auto [booked, booked_events] = race([&](int i) {
      v1::CreateEventRequest request;
      *request.mutable_event() = Briefing(room, 2026, 8, 3);
      (*request.mutable_event()->mutable_title())["en"] =
          absl::StrCat("Race ", round, "-", i);
      // With a request_id the idempotency lookup reads before the room is
      // locked, which is when a stale snapshot would miss the winner.
      request.set_request_id(absl::StrCat("race-hall-", round, "-", i));
      return request;
    });
    int won = 0;
    for (const grpc::Status& s : booked) {
      if (s.ok()) {
        ++won;
        continue;
      }
      EXPECT_EQ(s.error_code(), grpc::StatusCode::FAILED_PRECONDITION)
          << s.error_message();
      EXPECT_THAT(s.error_message(),
                  HasSubstr(absl::StrCat("/ ", room, "' is booked by event")));
    }
    EXPECT_EQ(won, 1) << room;
  }

  auto [retried, retried_events] = race([](int) {
    v1::CreateEventRequest request;
    *request.mutable_event() = Briefing("Retry hall", 2026, 8, 4);
    request.set_request_id("create-retry-hall");
    return request;
  });
  for (int i = 0; i < kWriters; ++i) {
    ASSERT_TRUE(retried[i].ok()) << retried[i].error_message();
    EXPECT_EQ(retried_events[i].event().id(), retried_events[0].event().id());
  }
  v1::ListEventsRequest list;
  list.set_local_date_from("2026-08-04");
  list.set_local_date_to("2026-08-04");
  v1::ListEventsResponse listed;
  ASSERT_TRUE(
      stub_->ListEvents(As(token("organizer")).get(), list, &listed).ok());
  EXPECT_THAT(listed.events(), SizeIs(1));
}

TEST_F(EventsServiceTest, ParticipantOverlaps) {
  Event event = Briefing("Overlap hall", 2026, 7, 10);
  for (int i = 0; i < 2; ++i) {
    v1::Session* s = event.add_sessions();
    s->set_room(absl::StrCat("Overlap room ", i));
    *s->mutable_start_time() = ToTimestamp(Seoul(2026, 7, 10, 10 + i));
    *s->mutable_end_time() = ToTimestamp(Seoul(2026, 7, 10, 12 + i));
  }
  const Event published = Published(event);
  Registration both = Person(published.id(), "Bat", "bat@example.mn");
  both.add_session_ids(1);
  both.add_session_ids(2);
  v1::RegistrationResponse r;
  grpc::Status s = Register(both, &r);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(ViolatedFields(s), ElementsAre("registration.session_ids[1]"));
  EXPECT_THAT(Registrations(published.id()), IsEmpty());

  both.clear_session_ids();
  both.add_session_ids(1);
  ASSERT_TRUE(Register(both, &r).ok());
  EXPECT_THAT(r.warnings(), IsEmpty());
  // The same person at another event that same afternoon: a warning.
  Event other = Published(Briefing("Overlap annex", 2026, 7, 10));
  Registration again = Person(other.id(), "Bat", "BAT@example.mn");
  ASSERT_TRUE(Register(again, &r).ok());
  ASSERT_THAT(r.warnings(), SizeIs(1));
  EXPECT_EQ(r.warnings(0).kind(), v1::PARTICIPANT_OVERLAP);
  EXPECT_EQ(r.warnings(0).other_event_id(), published.id());

  // Removing a session someone chose is refused.
  v1::UpdateEventRequest update;
  *update.mutable_event() = Get(published.id());
  update.mutable_event()->mutable_sessions()->DeleteSubrange(0, 1);
  update.mutable_update_mask()->add_paths("sessions");
  v1::EventResponse updated;
  s = stub_->UpdateEvent(As(token("organizer")).get(), update, &updated);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_THAT(s.error_message(), HasSubstr("session 1"));
}

TEST_F(EventsServiceTest, RecurringSessions) {
  // A weekly Tuesday course in September, one week off.
  Event course;
  course.set_type(v1::TRAINING);
  (*course.mutable_title())["ko"] = "의료관광 코디네이터 양성과정";
  course.set_venue("영등포구 의료관광 안내센터");
  course.set_room("교육장");
  *course.mutable_start_time() = ToTimestamp(Seoul(2026, 9, 1, 0));
  *course.mutable_end_time() = ToTimestamp(Seoul(2026, 10, 1, 0));
  v1::Recurrence* weekly = course.mutable_recurrence();
  weekly->set_rule("FREQ=WEEKLY;BYDAY=TU;UNTIL=20260929");
  *weekly->mutable_first_start_time() = ToTimestamp(Seoul(2026, 9, 1, 19));
  *weekly->mutable_first_end_time() = ToTimestamp(Seoul(2026, 9, 1, 21));
  weekly->add_exception_dates("2026-09-22");
  v1::EventResponse r;
  ASSERT_TRUE(Create(course, &r).ok());
  std::vector<std::string> dates;
  for (const v1::Session& o : r.event().occurrences()) {
    dates.push_back(
        LocalDateTime(ToTime(o.start_time()), *LoadZone("Asia/Seoul")));
  }
  EXPECT_THAT(dates, ElementsAre("2026-09-01T19:00", "2026-09-08T19:00",
                                 "2026-09-15T19:00", "2026-09-29T19:00"));

  // The classroom is taken on those evenings, free on the exception date.
  Event clash = Briefing("교육장", 2026, 9, 15);
  clash.set_venue("영등포구 의료관광 안내센터");
  *clash.mutable_start_time() = ToTimestamp(Seoul(2026, 9, 15, 20));
  *clash.mutable_end_time() = ToTimestamp(Seoul(2026, 9, 15, 22));
  grpc::Status s = Create(clash, &r);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_THAT(s.error_message(), HasSubstr("occurrence 3"));
  *clash.mutable_start_time() = ToTimestamp(Seoul(2026, 9, 22, 20));
  *clash.mutable_end_time() = ToTimestamp(Seoul(2026, 9, 22, 22));
  EXPECT_TRUE(Create(clash, &r).ok());

  course.mutable_recurrence()->set_rule("FREQ=HOURLY;COUNT=3");
  s = Create(course, &r);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(ViolatedFields(s), ElementsAre("event.recurrence.rule"));
}

TEST_F(EventsServiceTest, WaitingListPromotionCapacityAndWindow) {
  Event event = Briefing("Seats hall", 2026, 5, 5);
  event.set_capacity(2);
  *event.mutable_registration_closes() = ToTimestamp(Seoul(2026, 5, 1, 18));
  const Event published = Published(event);
  std::vector<int64_t> ids;
  for (int i = 0; i < 4; ++i) {
    v1::RegistrationResponse r;
    ASSERT_TRUE(Register(Person(published.id(), absl::StrCat("Guest ", i),
                                absl::StrCat("g", i, "@example.mn")),
                         &r)
                    .ok());
    ids.push_back(r.registration().id());
    EXPECT_EQ(r.registration().state(), i < 2 ? v1::CONFIRMED : v1::WAITLISTED);
    EXPECT_EQ(r.registration().waitlist_position(), i < 2 ? 0 : i - 1);
  }
  // The same person again (e-mail in other case): refused, nothing stored.
  v1::RegistrationResponse dup;
  grpc::Status s =
      Register(Person(published.id(), "Guest zero", "G0@Example.mn"), &dup);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::ALREADY_EXISTS);
  EXPECT_THAT(s.error_message(), HasSubstr("registration.email"));
  EXPECT_THAT(Registrations(published.id()), SizeIs(4));

  // Capacity cannot drop below the confirmed.
  v1::UpdateEventRequest update;
  update.mutable_event()->set_id(published.id());
  update.mutable_event()->set_etag(published.etag());
  update.mutable_event()->set_capacity(1);
  update.mutable_update_mask()->add_paths("capacity");
  v1::EventResponse updated;
  s = stub_->UpdateEvent(As(token("organizer")).get(), update, &updated);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(ViolatedFields(s), ElementsAre("event.capacity"));
  EXPECT_EQ(Get(published.id()).capacity(), 2);

  // A cancelled seat goes to the first in line.
  v1::CancelRegistrationRequest cancel;
  cancel.set_id(ids[0]);
  Registration cancelled;
  ASSERT_TRUE(
      stub_
          ->CancelRegistration(As(token("organizer")).get(), cancel, &cancelled)
          .ok());
  EXPECT_EQ(cancelled.state(), v1::CANCELLED_BY_REGISTRANT);
  EXPECT_EQ(
      stub_
          ->CancelRegistration(As(token("organizer")).get(), cancel, &cancelled)
          .error_code(),
      grpc::StatusCode::FAILED_PRECONDITION);
  std::vector<Registration> now = Registrations(published.id());
  EXPECT_EQ(now[2].state(), v1::CONFIRMED);
  EXPECT_EQ(now[3].state(), v1::WAITLISTED);
  EXPECT_EQ(now[3].waitlist_position(), 1);
  // The cancelled person may register again, at the end of the line.
  v1::RegistrationResponse back;
  ASSERT_TRUE(
      Register(Person(published.id(), "Guest 0", "g0@example.mn"), &back).ok());
  EXPECT_EQ(back.registration().waitlist_position(), 2);

  // More seats promote the line in order.
  update.mutable_event()->set_capacity(4);
  ASSERT_TRUE(
      stub_->UpdateEvent(As(token("organizer")).get(), update, &updated).ok());
  EXPECT_EQ(updated.event().confirmed_count(), 4);
  EXPECT_EQ(updated.event().waitlisted_count(), 0);

  // After the window: refused, naming the field.
  clock_->Set(Seoul(2026, 5, 1, 18));
  s = Register(Person(published.id(), "Late", "late@example.mn"), &dup);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_THAT(s.error_message(), HasSubstr("event.registration_closes"));

  // Check-in, then completion marks the rest NO_SHOW.
  clock_->Set(Seoul(2026, 5, 5, 9, 30));
  v1::RecordAttendanceRequest attend;
  attend.set_id(ids[1]);
  attend.set_attendance(v1::ATTENDED);
  Registration checked;
  ASSERT_TRUE(
      stub_->RecordAttendance(As(token("organizer")).get(), attend, &checked)
          .ok());
  EXPECT_EQ(checked.attendance(), v1::ATTENDED);
  EXPECT_TRUE(checked.has_check_in_time());
  attend.set_id(ids[0]);  // cancelled
  EXPECT_EQ(
      stub_->RecordAttendance(As(token("organizer")).get(), attend, &checked)
          .error_code(),
      grpc::StatusCode::FAILED_PRECONDITION);
  clock_->Set(Seoul(2026, 5, 5, 18));
  v1::EventResponse done;
  ASSERT_TRUE(Step("complete", published.id(), &done).ok());
  EXPECT_EQ(done.event().attended_count(), 1);
  EXPECT_EQ(done.event().no_show_count(), 3);
}

TEST_F(EventsServiceTest, PartnersRegisterTheirOwnPeople) {
  const Event event = Published(Briefing("Partner hall", 2026, 5, 12));
  Registration mine = Person(event.id(), "Dr. Kim");
  v1::RegistrationResponse r;
  ASSERT_TRUE(Register(mine, &r, "p1").ok());
  EXPECT_EQ(r.registration().partner_id(), partner(1));
  Registration theirs = Person(event.id(), "Dr. Lee");
  theirs.set_partner_id(partner(2));
  EXPECT_EQ(Register(theirs, &r, "p1").error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  ASSERT_TRUE(Register(theirs, &r, "p2").ok());
  const int64_t lee = r.registration().id();
  // Readers cannot register.
  EXPECT_EQ(Register(Person(event.id(), "X"), &r, "analyst").error_code(),
            grpc::StatusCode::PERMISSION_DENIED);

  // Each partner sees only its own.
  std::vector<Registration> seen = Registrations(event.id(), "p1");
  ASSERT_THAT(seen, SizeIs(1));
  EXPECT_EQ(seen[0].name(), "Dr. Kim");
  v1::GetRegistrationRequest get;
  get.set_id(lee);
  Registration read;
  EXPECT_EQ(
      stub_->GetRegistration(As(token("p1")).get(), get, &read).error_code(),
      grpc::StatusCode::PERMISSION_DENIED);
  v1::CancelRegistrationRequest cancel;
  cancel.set_id(lee);
  EXPECT_EQ(stub_->CancelRegistration(As(token("p1")).get(), cancel, &read)
                .error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_TRUE(
      stub_->CancelRegistration(As(token("p2")).get(), cancel, &read).ok());

  // A retried registration is not duplicated.
  Registration once = Person(event.id(), "Dr. Park");
  ASSERT_TRUE(Register(once, &r, "p1", "reg-park-1").ok());
  v1::RegistrationResponse retry;
  ASSERT_TRUE(Register(once, &retry, "p1", "reg-park-1").ok());
  EXPECT_EQ(retry.registration().id(), r.registration().id());
  EXPECT_THAT(Registrations(event.id(), "p1"), SizeIs(2));
}

TEST_F(EventsServiceTest, GuardsOnCancellingPostponingAndPartnerViews) {
  Event event = Briefing("Guard hall", 2026, 5, 20);
  *event.mutable_registration_opens() = ToTimestamp(Seoul(2026, 3, 1, 9));
  const Event published = Published(event);
  v1::RegistrationResponse kim, lee;
  ASSERT_TRUE(Register(Person(published.id(), "Dr. Kim"), &kim, "p1").ok());
  ASSERT_TRUE(Register(Person(published.id(), "Dr. Lee"), &lee, "p1").ok());

  // Another partner registering the same person learns only that the person
  // is taken, not which registration holds it.
  Registration same = Person(published.id(), "Dr. Kim");
  v1::RegistrationResponse r;
  grpc::Status s = Register(same, &r, "p2");
  EXPECT_EQ(s.error_code(), grpc::StatusCode::ALREADY_EXISTS);
  EXPECT_THAT(s.error_message(), HasSubstr("registration.name"));
  EXPECT_THAT(s.error_message(), Not(HasSubstr("registration ")));
  s = Register(same, &r, "organizer");
  EXPECT_THAT(
      s.error_message(),
      HasSubstr(absl::StrCat("registration ", kim.registration().id())));

  // A draft does not exist for partners, as GetEvent says.
  v1::EventResponse draft;
  ASSERT_TRUE(Create(Briefing("Guard draft room", 2026, 5, 21), &draft).ok());
  s = Register(Person(draft.event().id(), "Dr. Kim"), &r, "p1");
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(s.error_message(), HasSubstr("not found"));
  EXPECT_THAT(s.error_message(), Not(HasSubstr("DRAFT")));

  // Postponed while registration is open: the window stays open.
  v1::PostponeEventRequest postpone;
  postpone.set_id(published.id());
  *postpone.mutable_new_start_time() = ToTimestamp(Seoul(2026, 5, 27, 10));
  *postpone.mutable_new_end_time() = ToTimestamp(Seoul(2026, 5, 27, 17));
  postpone.set_reason(std::string(1001, 'x'));
  v1::EventResponse moved;
  s = stub_->PostponeEvent(As(token("organizer")).get(), postpone, &moved);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(ViolatedFields(s), ElementsAre("reason"));
  postpone.set_reason("speaker delayed");
  ASSERT_TRUE(
      stub_->PostponeEvent(As(token("organizer")).get(), postpone, &moved)
          .ok());
  EXPECT_EQ(ToTime(moved.event().registration_opens()), Seoul(2026, 3, 1, 9));

  // An update that does not touch partners does not check them: a stale
  // unknown partner id outside the mask is not part of the update.
  v1::UpdateEventRequest update;
  *update.mutable_event() = moved.event();
  update.mutable_event()->add_host_partner_ids(999999);
  (*update.mutable_event()->mutable_title())["en"] = "Briefing, new date";
  update.mutable_update_mask()->add_paths("title");
  v1::EventResponse updated;
  s = stub_->UpdateEvent(As(token("organizer")).get(), update, &updated);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_THAT(updated.event().host_partner_ids(), IsEmpty());
  update.mutable_event()->set_etag(updated.event().etag());
  update.mutable_update_mask()->add_paths("host_partner_ids");
  s = stub_->UpdateEvent(As(token("organizer")).get(), update, &updated);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(ViolatedFields(s), ElementsAre("event.host_partner_ids[0]"));

  // Once attendance is recorded, or the event has begun, a registration is
  // no longer cancelled (no seat is handed on after the start).
  clock_->Set(Seoul(2026, 5, 27, 9, 30));
  v1::RecordAttendanceRequest attend;
  attend.set_id(kim.registration().id());
  attend.set_attendance(v1::ATTENDED);
  Registration checked;
  ASSERT_TRUE(
      stub_->RecordAttendance(As(token("organizer")).get(), attend, &checked)
          .ok());
  v1::CancelRegistrationRequest cancel;
  cancel.set_id(kim.registration().id());
  Registration out;
  s = stub_->CancelRegistration(As(token("p1")).get(), cancel, &out);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_THAT(s.error_message(), HasSubstr("attendance recorded"));
  clock_->Set(Seoul(2026, 5, 27, 10, 5));
  cancel.set_id(lee.registration().id());
  s = stub_->CancelRegistration(As(token("p1")).get(), cancel, &out);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_THAT(s.error_message(), HasSubstr("started at 2026-05-27T10:00"));
  EXPECT_EQ(Get(published.id()).confirmed_count(), 2);
}

// 200 people register at once for 50 seats: exactly 50 are confirmed and
// 150 wait, and seat and line follow the order of arrival.
TEST_F(EventsServiceTest, ConcurrentRegistrationsNeverOversell) {
  Event event = Briefing("Popular hall", 2026, 6, 20);
  event.set_capacity(50);
  const Event published = Published(event);
  constexpr int kCallers = 200;
  std::vector<Registration> results(kCallers);
  std::vector<grpc::Status> statuses(kCallers);
  absl::Barrier* start = new absl::Barrier(kCallers);
  std::vector<std::thread> threads;
  for (int i = 0; i < kCallers; ++i) {
    threads.emplace_back([&, i] {
      auto stub = v1::EventsService::NewStub(*channel_);
      v1::CreateRegistrationRequest request;
      *request.mutable_registration() =
          Person(published.id(), absl::StrCat("Caller ", i),
                 absl::StrCat("caller", i, "@example.mn"));
      v1::RegistrationResponse response;
      auto context = As(token("organizer"));
      if (start->Block()) delete start;
      statuses[i] = stub->CreateRegistration(context.get(), request, &response);
      results[i] = response.registration();
    });
  }
  for (std::thread& t : threads) t.join();
  for (const grpc::Status& s : statuses) {
    ASSERT_TRUE(s.ok()) << s.error_message();
  }
  std::sort(results.begin(), results.end(),
            [](const Registration& a, const Registration& b) {
              return a.arrival() < b.arrival();
            });
  int confirmed = 0;
  for (int i = 0; i < kCallers; ++i) {
    EXPECT_EQ(results[i].arrival(), i + 1);
    if (i < 50) {
      EXPECT_EQ(results[i].state(), v1::CONFIRMED) << i;
      ++confirmed;
    } else {
      EXPECT_EQ(results[i].state(), v1::WAITLISTED) << i;
      EXPECT_EQ(results[i].waitlist_position(), i - 49) << i;
    }
  }
  EXPECT_EQ(confirmed, 50);
  const Event after = Get(published.id());
  EXPECT_EQ(after.confirmed_count(), 50);
  EXPECT_EQ(after.waitlisted_count(), 150);
  // What was stored agrees with what each caller was told.
  std::vector<Registration> stored = Registrations(published.id());
  ASSERT_THAT(stored, SizeIs(kCallers));
  for (int i = 0; i < kCallers; ++i) {
    EXPECT_EQ(stored[i].id(), results[i].id());
    EXPECT_EQ(stored[i].state(), results[i].state());
  }
  // Seats freed concurrently go to the head of the line, in order.
  threads.clear();
  for (int i = 0; i < 10; ++i) {
    threads.emplace_back([&, i] {
      auto stub = v1::EventsService::NewStub(*channel_);
      v1::CancelRegistrationRequest cancel;
      cancel.set_id(results[i].id());
      Registration out;
      grpc::Status s =
          stub->CancelRegistration(As(token("organizer")).get(), cancel, &out);
      EXPECT_TRUE(s.ok()) << s.error_message();
    });
  }
  for (std::thread& t : threads) t.join();
  stored = Registrations(published.id());
  int now_confirmed = 0;
  for (const Registration& r : stored) {
    if (r.state() == v1::CONFIRMED) {
      ++now_confirmed;
      EXPECT_LE(r.arrival(), 60) << "promoted out of order";
    }
  }
  EXPECT_EQ(now_confirmed, 50);
  EXPECT_EQ(stored[60].waitlist_position(), 1);
}

TEST_F(EventsServiceTest, CalendarExportsParseWithPythonIcalendar) {
  Event abroad = Briefing("Tengis hall", 2026, 8, 14);
  abroad.set_time_zone("Asia/Ulaanbaatar");
  abroad.set_country("MN");
  abroad.set_city("Ulaanbaatar");
  abroad.set_type(v1::BRIEFING_SESSION);
  (*abroad.mutable_title())["ko"] = "울란바토르 설명회; 의료관광, 2026";
  *abroad.mutable_start_time() =
      ToTimestamp(Local("Asia/Ulaanbaatar", 2026, 8, 14, 14));
  *abroad.mutable_end_time() =
      ToTimestamp(Local("Asia/Ulaanbaatar", 2026, 8, 14, 18));
  const Event ub = Published(abroad);

  Event hcm = Briefing("Saigon hall", 2026, 8, 15);
  hcm.set_time_zone("Asia/Ho_Chi_Minh");
  hcm.set_country("VN");
  *hcm.mutable_start_time() =
      ToTimestamp(Local("Asia/Ho_Chi_Minh", 2026, 8, 15, 9));
  *hcm.mutable_end_time() =
      ToTimestamp(Local("Asia/Ho_Chi_Minh", 2026, 8, 15, 12));
  const Event vn = Published(hcm);
  v1::EventResponse cancelled;
  ASSERT_TRUE(Step("cancel", vn.id(), &cancelled, "typhoon").ok());

  Event course;
  course.set_type(v1::TRAINING);
  (*course.mutable_title())["en"] = "Coordinator course";
  course.set_room("Calendar classroom");
  *course.mutable_start_time() = ToTimestamp(Seoul(2026, 8, 3, 0));
  *course.mutable_end_time() = ToTimestamp(Seoul(2026, 8, 31, 0));
  course.mutable_recurrence()->set_rule("FREQ=WEEKLY;UNTIL=20260824");
  *course.mutable_recurrence()->mutable_first_start_time() =
      ToTimestamp(Seoul(2026, 8, 3, 19));
  *course.mutable_recurrence()->mutable_first_end_time() =
      ToTimestamp(Seoul(2026, 8, 3, 21));
  course.mutable_recurrence()->add_exception_dates("2026-08-17");
  const Event training = Published(course);
  v1::EventResponse draft;
  ASSERT_TRUE(Create(Briefing("Calendar draft", 2026, 8, 20), &draft).ok());

  // One event.
  v1::ExportEventCalendarRequest one;
  one.set_id(ub.id());
  v1::CalendarFile file;
  ASSERT_TRUE(
      stub_->ExportEventCalendar(As(token("p1")).get(), one, &file).ok());
  EXPECT_EQ(file.content_type(), "text/calendar; charset=utf-8");
  auto rows = ParseIcs(file.content());
  ASSERT_THAT(rows, SizeIs(1));
  EXPECT_EQ(rows[0][1], "CONFIRMED");
  EXPECT_EQ(rows[0][2], "Asia/Ulaanbaatar");
  EXPECT_EQ(rows[0][3], "2026-08-14T06:00:00Z");  // 14:00 at UTC+8
  EXPECT_EQ(rows[0][5], "울란바토르 설명회; 의료관광, 2026");
  EXPECT_EQ(rows[0][7], "yes");

  // The August feed of briefings and trainings: no drafts, the cancelled
  // one marked, the course as one weekly series minus the exception.
  v1::ExportCalendarFeedRequest feed;
  feed.set_local_date_from("2026-08-01");
  feed.set_local_date_to("2026-08-31");
  feed.add_types(v1::BRIEFING_SESSION);
  feed.add_types(v1::TRAINING);
  ASSERT_TRUE(
      stub_->ExportCalendarFeed(As(token("analyst")).get(), feed, &file).ok());
  EXPECT_EQ(file.event_count(), 3);
  rows = ParseIcs(file.content());
  std::map<std::string, std::vector<std::string>> by_uid;
  for (const auto& row : rows) by_uid[row[0].substr(0, row[0].find('@'))] = row;
  ASSERT_EQ(by_uid.size(), 4u) << file.content();  // 3 events + 1 series
  const auto& vn_row = by_uid[absl::StrCat("event-", vn.id())];
  EXPECT_EQ(vn_row[1], "CANCELLED");
  EXPECT_EQ(vn_row[2], "Asia/Ho_Chi_Minh");
  EXPECT_EQ(vn_row[3], "2026-08-15T02:00:00Z");  // 09:00 at UTC+7
  EXPECT_EQ(vn_row[7], "yes");
  const auto& series = by_uid[absl::StrCat("event-", training.id(), "-series")];
  ASSERT_FALSE(series.empty());
  EXPECT_EQ(series[3], "2026-08-03T10:00:00Z");
  EXPECT_EQ(series[6], "3");  // 3, 10, 24 August (17th excepted)
  EXPECT_EQ(by_uid.count(absl::StrCat("event-", draft.event().id())), 0u);

  v1::ExportCalendarFeedRequest bad;
  bad.set_local_date_from("2026-08-01");
  EXPECT_THAT(ViolatedFields(stub_->ExportCalendarFeed(
                  As(token("analyst")).get(), bad, &file)),
              ElementsAre("local_date_to"));
}

TEST_F(EventsServiceTest, RemindersDue) {
  Event event = Briefing("Reminder hall", 2026, 10, 20);
  event.add_host_partner_ids(partner(1));
  const Event published = Published(event);
  v1::RegistrationResponse r;
  ASSERT_TRUE(
      Register(Person(published.id(), "Reminded", "r@example.mn"), &r).ok());
  auto due = [&](absl::Time at) {
    v1::ListDueRemindersRequest request;
    *request.mutable_at() = ToTimestamp(at);
    request.set_lookback_minutes(60);
    v1::ListDueRemindersResponse response;
    grpc::Status s = stub_->ListDueReminders(As(token("organizer")).get(),
                                             request, &response);
    EXPECT_TRUE(s.ok()) << s.error_message();
    std::vector<std::string> out;
    for (const v1::Reminder& m : response.reminders()) {
      if (m.event_id() != published.id()) continue;
      out.push_back(absl::StrCat(v1::ReminderKind_Name(m.kind()), ":",
                                 m.recipient_name()));
    }
    return out;
  };
  EXPECT_THAT(due(Seoul(2026, 10, 13, 10, 30)),
              ElementsAre("REGISTRANT_WEEK_BEFORE:Reminded"));
  EXPECT_THAT(due(Seoul(2026, 10, 17, 10, 0)),
              ElementsAre("HOST_PARTNER_THREE_DAYS_BEFORE:병원1"));
  EXPECT_THAT(due(Seoul(2026, 10, 19, 10, 0)),
              ElementsAre("REGISTRANT_DAY_BEFORE:Reminded"));
  EXPECT_THAT(due(Seoul(2026, 10, 19, 11, 30)), IsEmpty());
  v1::ListDueRemindersRequest bad;
  bad.set_lookback_minutes(-1);
  v1::ListDueRemindersResponse response;
  EXPECT_EQ(
      stub_->ListDueReminders(As(token("organizer")).get(), bad, &response)
          .error_code(),
      grpc::StatusCode::INVALID_ARGUMENT);
}

// Last: the database goes away mid-operation.
TEST_F(EventsServiceTest, DatabaseDownIsUnavailableAndWritesNothing) {
  const Event event = Published(Briefing("Outage hall", 2026, 11, 3));
  v1::RegistrationResponse r;
  ASSERT_TRUE(Register(Person(event.id(), "Warm", "warm@example.mn"), &r).ok());
  mariadb_->Pause();
  grpc::Status s = Register(Person(event.id(), "Lost", "lost@example.mn"), &r);
  v1::ListEventsRequest list;
  v1::ListEventsResponse page;
  grpc::Status listed =
      stub_->ListEvents(As(token("organizer")).get(), list, &page);
  mariadb_->Resume();
  EXPECT_EQ(s.error_code(), grpc::StatusCode::UNAVAILABLE) << s.error_message();
  EXPECT_EQ(listed.error_code(), grpc::StatusCode::UNAVAILABLE);
  std::vector<Registration> stored;
  for (int attempt = 0; attempt < 20; ++attempt) {
    v1::ListRegistrationsRequest request;
    request.set_event_id(event.id());
    v1::ListRegistrationsResponse response;
    if (stub_
            ->ListRegistrations(As(token("organizer")).get(), request,
                                &response)
            .ok()) {
      stored.assign(response.registrations().begin(),
                    response.registrations().end());
      break;
    }
    absl::SleepFor(absl::Milliseconds(250));
  }
  ASSERT_THAT(stored, SizeIs(1));
  EXPECT_EQ(stored[0].name(), "Warm");
}

TEST_F(EventsServiceTest, RegistrationListsRefuseNegativeIds) {
  v1::ListRegistrationsRequest request;
  request.set_event_id(-1);
  request.set_partner_id(-2);
  v1::ListRegistrationsResponse response;
  grpc::Status s = stub_->ListRegistrations(As(token("organizer")).get(),
                                            request, &response);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(s.error_message(), HasSubstr("event_id"));
  EXPECT_THAT(s.error_message(), HasSubstr("partner_id"));
}

TEST_F(EventsServiceTest, ChangesOfEventsAndRegistrationsForOrganizersOnly) {
  v1::EventResponse created;
  ASSERT_TRUE(Create(Briefing("Audit room", 2026, 9, 7), &created).ok());
  audit::v1::ListChangesRequest request;
  request.set_entity("event");
  request.set_entity_id(created.event().id());
  audit::v1::ListChangesResponse changes;
  ASSERT_TRUE(
      stub_->ListEventChanges(As(token("organizer")).get(), request, &changes)
          .ok());
  ASSERT_EQ(changes.changes_size(), 1);
  EXPECT_EQ(changes.changes(0).action(), "CREATE");
  Event after;
  ASSERT_TRUE(changes.changes(0).after().UnpackTo(&after));
  EXPECT_EQ(after.room(), "Audit room");
  // Registrations hold personal data: no hospital or analyst reads them.
  for (const char* who : {"p1", "analyst"}) {
    EXPECT_EQ(stub_->ListEventChanges(As(token(who)).get(), request, &changes)
                  .error_code(),
              grpc::StatusCode::PERMISSION_DENIED)
        << who;
  }
  request.set_entity("report");
  request.set_entity_id(0);
  grpc::Status s =
      stub_->ListEventChanges(As(token("organizer")).get(), request, &changes);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(ViolatedFields(s), ElementsAre("entity", "entity_id"));
}

}  // namespace
}  // namespace smz::events
