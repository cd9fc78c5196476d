// The gateway end to end: one private MariaDB, the real registry, stats,
// events and programme servers and the gateway, all on ephemeral loopback
// ports, called over gRPC with real tokens. Then the faults the gateway must
// survive: a backend down (its sections marked, the rest answered) and a
// backend that hangs (the deadline bounds the wait).
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <future>
#include <map>
#include <set>
#include <sstream>
#include <thread>
#include <tuple>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "common/logging.h"
#include "common/server/raw_messages.h"
#include "common/status_util.h"
#include "gmock/gmock.h"
#include "google/protobuf/struct.pb.h"
#include "google/protobuf/util/json_util.h"
#include "google/protobuf/util/message_differencer.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/generic/generic_stub.h"
#include "grpcpp/security/credentials.h"
#include "grpcpp/server_builder.h"
#include "gtest/gtest.h"
#include "httplib.h"
#include "services/events/event_rules.h"
#include "services/events/events_server.h"
#include "services/gateway/gateway_server.h"
#include "services/programme/programme_server.h"
#include "services/registry/registry_server.h"
#include "services/registry/totp.h"
#include "services/stats/stats_server.h"
#include "smz/freshness/v1/freshness.grpc.pb.h"
#include "smz/gateway/v1/gateway.grpc.pb.h"
#include "smz/registry/v1/accounts.grpc.pb.h"
#include "tests/harness/local_stack.h"
#include "tests/harness/mail_capture.h"
#include "tests/harness/mariadb_server.h"
#include "tests/harness/test_certificates.h"
#include "xlsxwriter.h"

namespace smz::gateway {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::SizeIs;
namespace reg = ::smz::registry::v1;
namespace ev1 = ::smz::events::v1;
namespace pv1 = ::smz::programme::v1;
using ::smz::testing::As;

std::shared_ptr<grpc::Channel> Local(int port) {
  return testing::LoopbackChannel(port);
}

absl::Time Seoul(int y, int m, int d, int hh) {
  return absl::FromCivil(absl::CivilSecond(y, m, d, hh, 0, 0),
                         *events::LoadZone("Asia/Seoul"));
}

const v1::Section& SectionOf(
    const google::protobuf::RepeatedPtrField<v1::Section>& sections,
    const std::string& name) {
  for (const v1::Section& s : sections) {
    if (s.name() == name) return s;
  }
  static const v1::Section* missing = new v1::Section();
  return *missing;
}

// A stats service that never answers in time.
class HangingStats final : public stats::v1::StatsService::Service {
 public:
  grpc::Status GetKpiProgress(grpc::ServerContext* context,
                              const stats::v1::GetKpiProgressRequest*,
                              stats::v1::KpiProgress*) override {
    for (int i = 0; i < 100 && !context->IsCancelled(); ++i) {
      absl::SleepFor(absl::Milliseconds(50));
    }
    return grpc::Status(grpc::StatusCode::UNAVAILABLE, "too late");
  }
  grpc::Status QueryAggregate(grpc::ServerContext* context,
                              const stats::v1::AggregateRequest*,
                              stats::v1::AggregateResponse*) override {
    for (int i = 0; i < 100 && !context->IsCancelled(); ++i) {
      absl::SleepFor(absl::Milliseconds(50));
    }
    return grpc::Status(grpc::StatusCode::UNAVAILABLE, "too late");
  }
};

class GatewayServiceTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    clock_ = new FakeClock(Seoul(2019, 5, 1, 9));
    auto stack = testing::LocalStack::Start(clock_);
    ASSERT_TRUE(stack.ok()) << stack.status();
    stack_ = stack->release();
    mariadb_ = &stack_->mariadb();
    tokens_ = new std::map<std::string, std::string>();
    (*tokens_)["admin"] = stack_->admin_token();
    // Three designated hospitals (in two regions) and a pending agency.
    for (int i = 0; i < 4; ++i) {
      reg::Partner p = testing::TestHospital(
          absl::StrCat("기관", i), i == 0 ? reg::YEOUIDO : reg::YEONGDEUNGPO,
          i < 3 ? reg::SPECIALIZED_OPERATOR : reg::ATTRACTION_AGENCY);
      p.mutable_name()->erase("en");
      auto id = stack_->AddPartner(p, i == 3 ? "" : "2019-01-15",
                                   i == 3 ? "" : "2022-12-31");
      ASSERT_TRUE(id.ok()) << id.status();
      partner_id_ = *id;
      if (i == 0) hospital_id_ = *id;
      if (i < 3) hospital_ids_.push_back(*id);
    }
    auto issue = [&](auth::v1::Role role, int64_t partner_id) {
      auto token = stack_->IssueToken(role, "test", partner_id);
      EXPECT_TRUE(token.ok()) << token.status();
      return token.ok() ? *token : std::string();
    };
    (*tokens_)["council"] = issue(auth::v1::COUNCIL, 0);
    (*tokens_)["partner"] = issue(auth::v1::PARTNER, partner_id_);
    const std::string registry_target = stack_->registry().target();

    auto stats = stack_->StartStats();
    ASSERT_TRUE(stats.ok()) << stats.status();
    stats_ = *stats;
    // The hospital's April report: 120 new patients from Mongolia.
    {
      auto stats_stub = stats::v1::StatsService::NewStub(Local(stats_->port()));
      stats::v1::SubmitReportRequest submit;
      stats::v1::Report& report = *submit.mutable_report();
      report.set_partner_id(hospital_id_);
      report.set_period("2019-04");
      stats::v1::NewPatientCell* cell = report.add_new_patients();
      cell->set_nationality("MN");
      cell->set_count(120);
      stats::v1::VisitCell* visit = report.add_visits();
      visit->set_nationality("MN");
      visit->set_department("ophthalmology");
      visit->set_care_type(stats::v1::OUTPATIENT);
      visit->set_count(150);
      stats::v1::SubmitReportResponse submitted;
      grpc::Status s =
          stats_stub->SubmitReport(As(admin()).get(), submit, &submitted);
      ASSERT_TRUE(s.ok()) << s.error_message();
      // The other two report returning patients' visits only: with three
      // hospitals reporting, April is shown to the council (a month of
      // fewer is withheld from it).
      for (int i = 1; i < 3; ++i) {
        stats::v1::SubmitReportRequest other;
        stats::v1::Report& r = *other.mutable_report();
        r.set_partner_id(hospital_ids_[i]);
        r.set_period("2019-04");
        stats::v1::VisitCell* v = r.add_visits();
        v->set_nationality("CN");
        v->set_department("dermatology");
        v->set_care_type(stats::v1::OUTPATIENT);
        v->set_count(10);
        s = stats_stub->SubmitReport(As(admin()).get(), other, &submitted);
        ASSERT_TRUE(s.ok()) << s.error_message();
      }
    }

    // Events' mail goes to a real SMTP server (tests/tools/smtp_capture.py).
    auto capture = testing::MailCapture::Start(
        absl::StrCat(SMZ_TEST_ARTIFACT_DIR, "/gateway_service_test-mail"));
    ASSERT_TRUE(capture.ok()) << capture.status();
    mail_capture_ = capture->release();
    auto events = stack_->StartEvents([](events::EventsServerOptions& o) {
      o.smtp = mail_capture_->SmtpOptions();
      o.mail_poll = absl::Milliseconds(100);
      // Mailed links start with it; the browser tests open them on the
      // gateway's own (ephemeral) address.
      o.public_side.public_url = "https://smz.example.org";
    });
    ASSERT_TRUE(events.ok()) << events.status();
    events_ = *events;
    auto programme = stack_->StartProgramme();
    ASSERT_TRUE(programme.ok()) << programme.status();
    programme_ = *programme;

    GatewayServerOptions gateway_options;
    gateway_options.server.listen = "127.0.0.1:0";
    gateway_options.registry_target = registry_target;
    gateway_options.stats_target = absl::StrCat("127.0.0.1:", stats_->port());
    gateway_options.events_target = absl::StrCat("127.0.0.1:", events_->port());
    gateway_options.programme_target =
        absl::StrCat("127.0.0.1:", programme_->port());
    gateway_options.gateway.backend_deadline = absl::Milliseconds(800);
    gateway_options.http_listen = "127.0.0.1:0";
    gateway_options.clock = clock_;
    auto gateway = GatewayServer::Start(gateway_options);
    ASSERT_TRUE(gateway.ok()) << gateway.status();
    gateway_ = gateway->release();

    LoadProgrammeAndEvents();
  }

  static void TearDownTestSuite() {
    delete gateway_;
    delete stack_;
    delete mail_capture_;
    delete tokens_;
    delete clock_;
  }

  // The programme with a briefing-session indicator (recorded 2 in 2019)
  // and a foreign-patient one (recorded 6,578), a 2019 budget, and three
  // briefing sessions held in 2019.
  static void LoadProgrammeAndEvents() {
    auto programme = pv1::ProgrammeService::NewStub(Local(programme_->port()));
    pv1::CreateProjectRequest create;
    pv1::Project& p = *create.mutable_project();
    p.set_code("g-2018");
    p.set_kind(pv1::PROGRAMME);
    (*p.mutable_name())["ko"] = "스마트메디컬특구";
    p.set_first_year(2018);
    p.set_last_year(2022);
    pv1::Project root;
    ASSERT_TRUE(
        programme->CreateProject(As(admin()).get(), create, &root).ok());
    create.mutable_project()->set_code("g-2018/promotion");
    create.mutable_project()->set_kind(pv1::SUB_PROJECT);
    create.mutable_project()->set_parent_id(root.id());
    pv1::Project promotion;
    ASSERT_TRUE(
        programme->CreateProject(As(admin()).get(), create, &promotion).ok());
    for (int which = 0; which < 2; ++which) {
      pv1::CreateIndicatorRequest request;
      pv1::Indicator& i = *request.mutable_indicator();
      i.set_project_id(promotion.id());
      i.set_sort_order(which);
      if (which == 0) {
        i.set_code("g/briefings");
        (*i.mutable_name())["ko"] = "설명회 개최";
        i.set_unit(pv1::TIMES);
        i.set_target_total(4);
        i.set_source(pv1::COMPLETED_EVENTS);
        i.set_event_type("BRIEFING_SESSION");
        (*i.mutable_yearly_plans())[2019] = 1;
        (*i.mutable_recorded_results())[2019] = 2;
      } else {
        i.set_code("g/patients");
        (*i.mutable_name())["ko"] = "외국인 환자 유치 수";
        i.set_unit(pv1::PERSONS);
        i.set_target_total(10000);
        i.set_source(pv1::FOREIGN_PATIENTS);
        (*i.mutable_yearly_plans())[2019] = 7000;
        (*i.mutable_recorded_results())[2019] = 6578;
      }
      pv1::Indicator out;
      grpc::Status s =
          programme->CreateIndicator(As(admin()).get(), request, &out);
      ASSERT_TRUE(s.ok()) << s.error_message();
    }
    pv1::CreateBudgetLineRequest line;
    line.mutable_line()->set_project_id(root.id());
    line.mutable_line()->set_year(2019);
    line.mutable_line()->set_funding_source(pv1::ALL_SOURCES);
    line.mutable_line()->set_amount_krw(324'000'000);
    pv1::BudgetLine created_line;
    ASSERT_TRUE(
        programme->CreateBudgetLine(As(admin()).get(), line, &created_line)
            .ok());
    budget_line_id_ = created_line.id();

    auto events = ev1::EventsService::NewStub(Local(events_->port()));
    std::vector<int64_t> ids;
    for (int day : {10, 17, 24}) {
      ev1::CreateEventRequest request;
      ev1::Event& e = *request.mutable_event();
      e.set_type(ev1::BRIEFING_SESSION);
      (*e.mutable_title())["ko"] = absl::StrCat("설명회 ", day);
      *e.mutable_start_time() = events::ToTimestamp(Seoul(2019, 5, day, 10));
      *e.mutable_end_time() = events::ToTimestamp(Seoul(2019, 5, day, 12));
      if (day == 10) e.add_host_partner_ids(hospital_id_);
      ev1::EventResponse created;
      ASSERT_TRUE(
          events->CreateEvent(As(admin()).get(), request, &created).ok());
      ev1::TransitionRequest step;
      step.set_id(created.event().id());
      ASSERT_TRUE(events->PublishEvent(As(admin()).get(), step, &created).ok());
      ids.push_back(created.event().id());
      if (day == 17) {  // a doctor of the hospital attends
        ev1::CreateRegistrationRequest registration;
        registration.mutable_registration()->set_event_id(created.event().id());
        registration.mutable_registration()->set_name("Dr. Kim");
        registration.mutable_registration()->set_partner_id(hospital_id_);
        ev1::RegistrationResponse registered;
        grpc::Status s = events->CreateRegistration(As(admin()).get(),
                                                    registration, &registered);
        ASSERT_TRUE(s.ok()) << s.error_message();
      }
    }
    clock_->Set(Seoul(2019, 6, 1, 9));
    for (int64_t id : ids) {
      ev1::TransitionRequest step;
      step.set_id(id);
      ev1::EventResponse done;
      grpc::Status s = events->CompleteEvent(As(admin()).get(), step, &done);
      ASSERT_TRUE(s.ok()) << s.error_message();
    }
    clock_->Set(Seoul(2019, 12, 31, 12));
    // Coming up: a published briefing in January, a draft, and a published
    // session beyond the dashboard's 90 days.
    for (const auto& [title, month, publish] :
         std::vector<std::tuple<std::string, int, bool>>{
             {"신년 설명회", 1, true},
             {"초안 행사", 2, false},
             {"여름 설명회", 7, true}}) {
      ev1::CreateEventRequest request;
      ev1::Event& e = *request.mutable_event();
      e.set_type(ev1::BRIEFING_SESSION);
      (*e.mutable_title())["ko"] = title;
      *e.mutable_start_time() = events::ToTimestamp(Seoul(2020, month, 15, 10));
      *e.mutable_end_time() = events::ToTimestamp(Seoul(2020, month, 15, 12));
      ev1::EventResponse created;
      ASSERT_TRUE(
          events->CreateEvent(As(admin()).get(), request, &created).ok());
      if (!publish) continue;
      ev1::TransitionRequest step;
      step.set_id(created.event().id());
      ASSERT_TRUE(events->PublishEvent(As(admin()).get(), step, &created).ok());
    }
  }

  void SetUp() override {
    stub_ = v1::GatewayService::NewStub(Local(gateway_->port()));
  }

  static const std::string& admin() { return (*tokens_)["admin"]; }

  // The suite's shared clock at `time` for one test, put back however the
  // test ends.
  class ClockAt {
   public:
    explicit ClockAt(absl::Time time) : before_(clock_->Now()) {
      clock_->Set(time);
    }
    ~ClockAt() { clock_->Set(before_); }

   private:
    const absl::Time before_;
  };
  static const std::string& token(const std::string& who) {
    return (*tokens_)[who];
  }

  std::unique_ptr<v1::GatewayService::Stub> stub_;
  static FakeClock* clock_;
  static testing::LocalStack* stack_;
  static testing::MariaDbServer* mariadb_;  // the stack's
  static stats::StatsServer* stats_;
  static events::EventsServer* events_;
  static programme::ProgrammeServer* programme_;
  static GatewayServer* gateway_;
  static std::map<std::string, std::string>* tokens_;
  static int64_t partner_id_;
  static int64_t hospital_id_;
  static inline int64_t budget_line_id_ = 0;
  static inline std::vector<int64_t> hospital_ids_;
  static inline testing::MailCapture* mail_capture_ = nullptr;
};

FakeClock* GatewayServiceTest::clock_ = nullptr;
testing::MariaDbServer* GatewayServiceTest::mariadb_ = nullptr;
testing::LocalStack* GatewayServiceTest::stack_ = nullptr;
stats::StatsServer* GatewayServiceTest::stats_ = nullptr;
events::EventsServer* GatewayServiceTest::events_ = nullptr;
programme::ProgrammeServer* GatewayServiceTest::programme_ = nullptr;
GatewayServer* GatewayServiceTest::gateway_ = nullptr;
std::map<std::string, std::string>* GatewayServiceTest::tokens_ = nullptr;
int64_t GatewayServiceTest::partner_id_ = 0;
int64_t GatewayServiceTest::hospital_id_ = 0;

TEST_F(GatewayServiceTest, KpiTableLiveAgainstRecordedFigures) {
  v1::GetKpiTableRequest request;
  request.set_programme_code("g-2018");
  request.set_as_of("2019-12-31");
  v1::KpiTable table;
  grpc::Status s =
      stub_->GetKpiTable(As(token("council")).get(), request, &table);
  ASSERT_TRUE(s.ok()) << s.error_message();
  for (const char* name : {"programme", "stats", "events"}) {
    EXPECT_TRUE(SectionOf(table.sections(), name).available()) << name;
  }
  ASSERT_THAT(table.rows(), SizeIs(2));
  const v1::KpiRow& briefings = table.rows(0);
  const v1::KpiYear& y2019 = briefings.years(1);
  ASSERT_EQ(y2019.year(), 2019);
  EXPECT_EQ(y2019.live(), 3);  // three completed sessions
  EXPECT_EQ(y2019.recorded(), 2);
  EXPECT_TRUE(y2019.differs());
  EXPECT_EQ(y2019.origin(), v1::KpiYear::LIVE);
  EXPECT_EQ(y2019.achievement_percent_capped(), 100.0);
  EXPECT_EQ(y2019.achievement_percent(), 300.0);
  EXPECT_FALSE(briefings.years(2).has_result()) << "2020 is after as_of";
  // The monthly reports: 120 new patients in April, against 6,578 printed.
  const v1::KpiRow& patients = table.rows(1);
  EXPECT_EQ(patients.years(1).live(), 120);
  EXPECT_TRUE(patients.years(1).differs());
  // No reports in 2018: no live figure (not zero patients), nothing shown.
  ASSERT_EQ(patients.years(0).year(), 2018);
  EXPECT_FALSE(patients.years(0).has_live());
  EXPECT_FALSE(patients.years(0).has_result());

  // Unknown programme, missing code: clear errors.
  request.set_programme_code("nope");
  EXPECT_EQ(stub_->GetKpiTable(As(token("council")).get(), request, &table)
                .error_code(),
            grpc::StatusCode::NOT_FOUND);
  request.clear_programme_code();
  request.set_as_of("2019-02-30");
  s = stub_->GetKpiTable(As(token("council")).get(), request, &table);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(s.error_message(), HasSubstr("programme_code"));
  EXPECT_THAT(s.error_message(), HasSubstr("as_of"));
}

TEST_F(GatewayServiceTest, OverviewAndRoles) {
  v1::GetZoneOverviewRequest request;
  request.set_year(2019);
  v1::ZoneOverview overview;
  grpc::Status s =
      stub_->GetZoneOverview(As(token("council")).get(), request, &overview);
  ASSERT_TRUE(s.ok()) << s.error_message();
  for (const v1::Section& section : overview.sections()) {
    EXPECT_TRUE(section.available()) << section.name() << section.reason();
  }
  ASSERT_THAT(overview.partners_by_kind(), SizeIs(1));  // the active ones
  EXPECT_EQ(overview.partners_by_kind(0).name(), "SPECIALIZED_OPERATOR");
  EXPECT_EQ(overview.partners_by_kind(0).count(), 3);
  EXPECT_THAT(overview.partners_by_region(), SizeIs(2));
  ASSERT_THAT(overview.events_held_by_type(), SizeIs(1));
  EXPECT_EQ(overview.events_held_by_type(0).count(), 3);
  EXPECT_EQ(overview.budget_krw(), 324'000'000);
  EXPECT_EQ(overview.execution_rate_percent(), 0.0);

  EXPECT_EQ(
      stub_->GetZoneOverview(As(token("partner")).get(), request, &overview)
          .error_code(),
      grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(
      stub_->GetZoneOverview(As("").get(), request, &overview).error_code(),
      grpc::StatusCode::UNAUTHENTICATED);
  request.set_year(1999);
  EXPECT_EQ(
      stub_->GetZoneOverview(As(token("council")).get(), request, &overview)
          .error_code(),
      grpc::StatusCode::INVALID_ARGUMENT);
}

// The value of "key" in a JSON log line ("" when absent).
std::string LogField(absl::string_view line, absl::string_view key) {
  const std::string start = absl::StrCat("\"", key, "\":\"");
  const size_t at = line.find(start);
  if (at == absl::string_view::npos) return "";
  const size_t from = at + start.size();
  return std::string(line.substr(from, line.find('"', from) - from));
}

// One council overview is a dozen calls over five services: their log lines
// share the caller's trace_id (W3C traceparent), each call a span of its
// own, so they can be joined. Over HTTP a stranger's traceparent is not
// continued (the edge starts the trace), and the edge's trace runs through
// the same way.
TEST_F(GatewayServiceTest, OneTraceRunsThroughTheFanOut) {
  const std::string trace_id = "4bf92f3577b34da6a3ce929d0e0e4736";
  const std::string strangers = "0af7651916cd43dd8448eb211c80319c";
  std::FILE* sink = std::tmpfile();
  ASSERT_NE(sink, nullptr);
  SetLogSink(sink);
  grpc::ClientContext context;
  context.AddMetadata("authorization",
                      absl::StrCat("Bearer ", token("council")));
  context.AddMetadata("traceparent",
                      absl::StrCat("00-", trace_id, "-00f067aa0ba902b7-01"));
  // Days no other test asks for: computed, not answered from memory.
  v1::GetZoneOverviewRequest request;
  request.set_year(2019);
  request.set_as_of("2019-08-08");
  v1::ZoneOverview overview;
  grpc::Status s = stub_->GetZoneOverview(&context, request, &overview);
  httplib::Client http("127.0.0.1", gateway_->http_port());
  auto got =
      http.Get("/v1/council/zoneOverviews/2019?as_of=2019-08-09",
               {{"Authorization", absl::StrCat("Bearer ", token("council"))},
                {"traceparent",
                 absl::StrCat("00-", strangers, "-b7ad6b7169203331-01")}});
  SetLogSink(nullptr);
  ASSERT_TRUE(s.ok()) << s.error_message();
  ASSERT_TRUE(got);
  ASSERT_EQ(got->status, 200) << got->body;

  std::rewind(sink);
  std::string logs;
  char buffer[4096];
  while (size_t n = std::fread(buffer, 1, sizeof(buffer), sink)) {
    logs.append(buffer, n);
  }
  std::fclose(sink);
  std::map<std::string, std::set<std::string>> services_of;  // by trace
  std::set<std::string> spans;
  int traced_calls = 0;
  std::string edge_trace;
  for (absl::string_view line : absl::StrSplit(logs, '\n')) {
    if (LogField(line, "msg") != "rpc") continue;
    const std::string trace = LogField(line, "trace_id");
    ASSERT_EQ(trace.size(), 32u) << line;
    services_of[trace].insert(LogField(line, "service"));
    if (trace == trace_id) {
      ++traced_calls;
      spans.insert(LogField(line, "span_id"));
    } else if (LogField(line, "service") == "gateway" &&
               LogField(line, "method") == "GetZoneOverview") {
      edge_trace = trace;
    }
  }
  const std::set<std::string> all = {"gateway", "registry", "stats", "events",
                                     "programme"};
  EXPECT_EQ(services_of[trace_id], all) << logs;
  EXPECT_GE(traced_calls, 5);
  EXPECT_EQ(static_cast<int>(spans.size()), traced_calls);  // a span each
  EXPECT_EQ(services_of.count(strangers), 0u);
  ASSERT_FALSE(edge_trace.empty()) << logs;
  EXPECT_EQ(services_of[edge_trace], all);
}

// A gateway listening on one address of its host (one of several, not
// loopback) reaches its own gRPC port from its HTTP side at that address.
// (127.0.0.2 is another address of the loopback interface: nothing listens
// on 127.0.0.1 then.)
TEST_F(GatewayServiceTest, HttpWorksWhenListeningOnOneAddressOnly) {
  GatewayServerOptions options;
  options.server.listen = "127.0.0.2:0";
  options.registry_target = stack_->registry().target();
  options.stats_target = absl::StrCat("127.0.0.1:", stats_->port());
  options.events_target = absl::StrCat("127.0.0.1:", events_->port());
  options.programme_target = absl::StrCat("127.0.0.1:", programme_->port());
  options.http_listen = "127.0.0.2:0";
  options.clock = clock_;
  auto gateway = GatewayServer::Start(options);
  ASSERT_TRUE(gateway.ok()) << gateway.status();
  httplib::Client http("127.0.0.2", (*gateway)->http_port());
  auto got =
      http.Get("/v1/council/zoneOverviews/2019",
               {{"Authorization", absl::StrCat("Bearer ", token("council"))}});
  ASSERT_TRUE(got);
  EXPECT_EQ(got->status, 200) << got->body;
}

// The same messages over HTTP/JSON under their annotations' paths, with the
// same auth and errors.
TEST_F(GatewayServiceTest, HttpJsonServesTheSameMessages) {
  httplib::Client http("127.0.0.1", gateway_->http_port());
  const httplib::Headers auth = {
      {"Authorization", absl::StrCat("Bearer ", token("council"))}};
  auto got = http.Get("/v1/council/kpiTables/g-2018?as_of=2019-12-31", auth);
  ASSERT_TRUE(got);
  ASSERT_EQ(got->status, 200) << got->body;
  EXPECT_THAT(got->get_header_value("Content-Type"),
              HasSubstr("application/json"));
  v1::KpiTable from_http;
  ASSERT_TRUE(
      google::protobuf::util::JsonStringToMessage(got->body, &from_http).ok());
  v1::GetKpiTableRequest request;
  request.set_programme_code("g-2018");
  request.set_as_of("2019-12-31");
  v1::KpiTable from_grpc;
  ASSERT_TRUE(
      stub_->GetKpiTable(As(token("council")).get(), request, &from_grpc).ok());
  EXPECT_TRUE(
      google::protobuf::util::MessageDifferencer::Equals(from_http, from_grpc));
  EXPECT_THAT(got->body, HasSubstr("\"programme_code\":\"g-2018\""));

  auto overview = http.Get("/v1/council/zoneOverviews/2019", auth);
  ASSERT_TRUE(overview);
  EXPECT_EQ(overview->status, 200) << overview->body;
  EXPECT_THAT(overview->body, HasSubstr("\"events_held_by_type\""));

  auto anonymous = http.Get("/v1/council/zoneOverviews/2019");
  ASSERT_TRUE(anonymous);
  EXPECT_EQ(anonymous->status, 401);
  EXPECT_THAT(anonymous->body, HasSubstr("\"code\":16"));
  auto bad = http.Get("/v1/council/zoneOverviews/1999?as_of=soon", auth);
  ASSERT_TRUE(bad);
  EXPECT_EQ(bad->status, 400);
  EXPECT_THAT(bad->body, HasSubstr("\"field\":\"year\""));
  EXPECT_THAT(bad->body, HasSubstr("\"field\":\"as_of\""));
  auto unknown = http.Get("/v1/DropTables", auth);
  ASSERT_TRUE(unknown);
  EXPECT_EQ(unknown->status, 404);
  auto garbage = http.Get("/v1/council/zoneOverviews/2019?yeer=1", auth);
  ASSERT_TRUE(garbage);
  EXPECT_EQ(garbage->status, 400);
  auto posted = http.Post("/v1/council/zoneOverviews/2019", auth, "{}",
                          "application/json");
  ASSERT_TRUE(posted);
  EXPECT_EQ(posted->status, 405);
  auto missing = http.Get("/v1/council/kpiTables/nope", auth);
  ASSERT_TRUE(missing);
  EXPECT_EQ(missing->status, 404);
}

TEST_F(GatewayServiceTest, PartnerProfileHostedJoinedAndErrors) {
  v1::GetPartnerProfileRequest request;
  request.set_partner_id(hospital_id_);
  request.set_year(2019);
  v1::PartnerProfile profile;
  grpc::Status s =
      stub_->GetPartnerProfile(As(token("admin")).get(), request, &profile);
  ASSERT_TRUE(s.ok()) << s.error_message();
  for (const v1::Section& section : profile.sections()) {
    EXPECT_TRUE(section.available()) << section.name() << section.reason();
  }
  EXPECT_FALSE(profile.months().empty());
  // One hospital's figures are not for the council (stats would refuse
  // them; the gateway does not ask); the rest of the profile is.
  s = stub_->GetPartnerProfile(As(token("council")).get(), request, &profile);
  ASSERT_TRUE(s.ok()) << s.error_message();
  for (const v1::Section& section : profile.sections()) {
    if (section.name() == "stats") {
      EXPECT_FALSE(section.available());
      EXPECT_THAT(section.reason(), HasSubstr("shown to ADMIN"));
    } else {
      EXPECT_TRUE(section.available()) << section.name() << section.reason();
    }
  }
  EXPECT_TRUE(profile.months().empty());
  EXPECT_EQ(profile.partner().id(), hospital_id_);
  ASSERT_THAT(profile.hosted(), SizeIs(1));
  EXPECT_EQ(profile.hosted(0).local_start(), "2019-05-10T10:00");
  ASSERT_THAT(profile.joined(), SizeIs(1));
  EXPECT_EQ(profile.joined(0).local_start(), "2019-05-17T10:00");
  request.set_year(2020);
  ASSERT_TRUE(
      stub_->GetPartnerProfile(As(token("council")).get(), request, &profile)
          .ok());
  EXPECT_THAT(profile.hosted(), SizeIs(0));
  EXPECT_THAT(profile.joined(), SizeIs(0));

  request.set_partner_id(999999);
  EXPECT_EQ(
      stub_->GetPartnerProfile(As(token("council")).get(), request, &profile)
          .error_code(),
      grpc::StatusCode::NOT_FOUND);
  request.set_partner_id(0);
  request.set_year(0);
  s = stub_->GetPartnerProfile(As(token("council")).get(), request, &profile);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(s.error_message(), HasSubstr("partner_id"));
  EXPECT_THAT(s.error_message(), HasSubstr("year"));
}

TEST_F(GatewayServiceTest, CouncilReportHtmlCsvJsonAndDownload) {
  v1::GetCouncilReportRequest request;
  request.set_year(2019);
  request.set_programme_code("g-2018");
  v1::Document html;
  grpc::Status s =
      stub_->GetCouncilReport(As(token("council")).get(), request, &html);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(html.content_type(), "text/html; charset=utf-8");
  EXPECT_EQ(html.filename(), "council-report-2019-ko.html");
  EXPECT_THAT(html.content(), HasSubstr("설명회 개최"));
  EXPECT_THAT(html.content(), HasSubstr("3 ※(2)"));
  EXPECT_THAT(html.content(), HasSubstr("324,000"));    // thousand KRW
  EXPECT_THAT(html.content(), HasSubstr("설명회 10"));  // the activity log

  request.set_language("en");
  request.set_format(v1::GetCouncilReportRequest::CSV);
  v1::Document csv;
  ASSERT_TRUE(
      stub_->GetCouncilReport(As(token("council")).get(), request, &csv).ok());
  EXPECT_EQ(csv.content_type(), "text/csv; charset=utf-8");
  EXPECT_THAT(csv.content(), HasSubstr("Indicator,Unit,Target"));

  request.set_format(v1::GetCouncilReportRequest::JSON);
  v1::Document json;
  ASSERT_TRUE(
      stub_->GetCouncilReport(As(token("council")).get(), request, &json).ok());
  v1::CouncilReportData data;
  ASSERT_TRUE(
      google::protobuf::util::JsonStringToMessage(json.content(), &data).ok());
  EXPECT_EQ(data.kpi().rows_size(), 2);
  EXPECT_EQ(data.activities().activities_size(), 3);

  request.set_language("fr");
  s = stub_->GetCouncilReport(As(token("council")).get(), request, &json);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(s.error_message(), HasSubstr("language"));

  // The printable document itself over HTTP.
  httplib::Client http("127.0.0.1", gateway_->http_port());
  auto got =
      http.Get("/report?year=2019&programme_code=g-2018&language=en",
               {{"Authorization", absl::StrCat("Bearer ", token("council"))}});
  ASSERT_TRUE(got);
  ASSERT_EQ(got->status, 200) << got->body;
  EXPECT_THAT(got->get_header_value("Content-Type"), HasSubstr("text/html"));
  EXPECT_THAT(got->body, HasSubstr("II. Achievements"));
  auto anonymous = http.Get("/report?year=2019&programme_code=g-2018");
  ASSERT_TRUE(anonymous);
  EXPECT_EQ(anonymous->status, 401);
}

// A person's session over HTTP: SignIn's answer sets the cookies (never
// the id in JSON), the cookie is the credential, changes need the CSRF
// header, signing out ends the session and clears the cookies.
TEST_F(GatewayServiceTest, SessionCookieSignsInAndChangesNeedTheCsrfHeader) {
  auto accounts = reg::AccountService::NewStub(grpc::CreateChannel(
      stack_->registry().target(), grpc::InsecureChannelCredentials()));
  reg::InviteAccountRequest invite;
  invite.set_login("analyst.cookie");
  invite.set_display_name("쿠키 분석관");
  invite.set_role(auth::v1::ANALYST);
  reg::AccountLinkResponse invited;
  ASSERT_TRUE(
      accounts->InviteAccount(As(admin()).get(), invite, &invited).ok());
  httplib::Client http("127.0.0.1", gateway_->http_port());
  // The link is used over HTTP as the page uses it, without credentials.
  auto set = http.Post("/v1/accountLinks:setPassword",
                       absl::StrCat(R"({"token":")", invited.link().token(),
                                    R"(","new_password":"analyst pass 1"})"),
                       "application/json");
  ASSERT_TRUE(set);
  ASSERT_EQ(set->status, 200) << set->body;

  auto signed_in =
      http.Post("/v1/sessions",
                R"({"login":"analyst.cookie","password":"analyst pass 1"})",
                "application/json");
  ASSERT_TRUE(signed_in);
  ASSERT_EQ(signed_in->status, 200) << signed_in->body;
  std::string session, csrf;
  for (const auto& [name, value] : signed_in->headers) {
    if (name != "Set-Cookie") continue;
    if (absl::StartsWith(value, "smz_session=")) {
      session = value.substr(12, value.find(';') - 12);
      EXPECT_THAT(value, HasSubstr("; HttpOnly"));
      EXPECT_THAT(value, HasSubstr("; SameSite=Strict"));
      EXPECT_THAT(value, HasSubstr("; Path=/"));
      EXPECT_THAT(value, Not(HasSubstr("Secure")));  // plain HTTP here
    } else if (absl::StartsWith(value, "smz_csrf=")) {
      csrf = value.substr(9, value.find(';') - 9);
      EXPECT_THAT(value, Not(HasSubstr("HttpOnly")));  // the page reads it
    }
  }
  ASSERT_THAT(session, ::testing::StartsWith("smzs_"));
  EXPECT_EQ(csrf, gateway::CsrfTokenFor(session));
  EXPECT_THAT(signed_in->body, Not(HasSubstr(session)));
  EXPECT_THAT(signed_in->body, HasSubstr("analyst.cookie"));

  const std::string cookie =
      absl::StrCat("smz_session=", session, "; smz_csrf=", csrf);
  auto whoami = http.Get("/v1/whoami", {{"Cookie", cookie}});
  ASSERT_TRUE(whoami);
  EXPECT_EQ(whoami->status, 200) << whoami->body;
  EXPECT_THAT(whoami->body, HasSubstr("\"role\":\"ANALYST\""));
  // Over TLS (a proxy says so): Secure, and names only such cookies take.
  auto secure =
      http.Post("/v1/sessions", {{"X-Forwarded-Proto", "https"}},
                R"({"login":"analyst.cookie","password":"analyst pass 1"})",
                "application/json");
  ASSERT_TRUE(secure);
  EXPECT_THAT(
      secure->get_header_value("Set-Cookie"),
      ::testing::AllOf(::testing::StartsWith("__Host-smz_session=smzs_"),
                       HasSubstr("; Secure")));

  // A change with the cookie but not the header is refused before it is
  // forwarded; so is one with another session's token.
  auto forged = http.Post("/v1/sessions:signOutEverywhere",
                          {{"Cookie", cookie}}, "{}", "application/json");
  ASSERT_TRUE(forged);
  EXPECT_EQ(forged->status, 403) << forged->body;
  EXPECT_THAT(forged->body, HasSubstr("X-SMZ-CSRF"));
  auto wrong = http.Post(
      "/v1/sessions:signOutEverywhere",
      {{"Cookie", cookie}, {"X-SMZ-CSRF", gateway::CsrfTokenFor("smzs_other")}},
      "{}", "application/json");
  ASSERT_TRUE(wrong);
  EXPECT_EQ(wrong->status, 403);
  whoami = http.Get("/v1/whoami", {{"Cookie", cookie}});
  EXPECT_EQ(whoami->status, 200) << "the refused changes ended nothing";

  // With the header, signing out works, and clears both cookies.
  auto signed_out = http.Post("/v1/sessions:signOut",
                              {{"Cookie", cookie}, {"X-SMZ-CSRF", csrf}}, "{}",
                              "application/json");
  ASSERT_TRUE(signed_out);
  EXPECT_EQ(signed_out->status, 200) << signed_out->body;
  int cleared = 0;
  for (const auto& [name, value] : signed_out->headers) {
    if (name == "Set-Cookie" && absl::StrContains(value, "Max-Age=0")) {
      ++cleared;
    }
  }
  EXPECT_EQ(cleared, 2);
  // The session has ended in the registry; the gateway's cache of it
  // lasts at most its cache period (10 s), here passed on the fake clock.
  clock_->Advance(absl::Seconds(11));
  whoami = http.Get("/v1/whoami", {{"Cookie", cookie}});
  ASSERT_TRUE(whoami);
  EXPECT_EQ(whoami->status, 401) << whoami->body;
  EXPECT_THAT(whoami->get_header_value("Set-Cookie"), HasSubstr("Max-Age=0"));

  // Without any credential only signing in and links are open.
  auto anonymous =
      http.Post("/v1/sessions:signOutEverywhere", "{}", "application/json");
  ASSERT_TRUE(anonymous);
  EXPECT_EQ(anonymous->status, 401);
  auto refused = http.Post(
      "/v1/sessions", R"({"login":"analyst.cookie","password":"wrong one"})",
      "application/json");
  ASSERT_TRUE(refused);
  EXPECT_EQ(refused->status, 401);
  EXPECT_EQ(refused->get_header_value("Set-Cookie"), "");
}

// What a browser showed: the page opened in headless Chromium through
// WebDriver (tests/tools/browser_page.py), after `until` held.
struct BrowserPage {
  bool met = false;
  std::string dom;
  std::vector<std::string> console;         // "LEVEL message"
  std::vector<std::string> csp_violations;  // none expected
};

// One shell word, whatever `text` holds.
std::string ShellQuoted(absl::string_view text) {
  return absl::StrCat("'", absl::StrReplaceAll(text, {{"'", "'\\''"}}), "'");
}

// A one-sheet workbook of text cells, as a hospital's spreadsheet program
// would save it (libxlsxwriter, as the templates are written).
bool WriteXlsx(const std::string& path,
               const std::vector<std::vector<std::string>>& rows) {
  lxw_workbook* workbook = workbook_new(path.c_str());
  if (workbook == nullptr) return false;
  lxw_worksheet* sheet = workbook_add_worksheet(workbook, nullptr);
  for (size_t r = 0; r < rows.size(); ++r) {
    for (size_t c = 0; c < rows[r].size(); ++c) {
      if (rows[r][c].empty()) continue;
      int64_t number = 0;
      // Numbers as numbers, the way a person's typed figures are kept.
      if (absl::SimpleAtoi(rows[r][c], &number) && r > 0 && c == 8) {
        worksheet_write_number(sheet, r, c, static_cast<double>(number),
                               nullptr);
      } else {
        worksheet_write_string(sheet, r, c, rows[r][c].c_str(), nullptr);
      }
    }
  }
  return workbook_close(workbook) == LXW_NO_ERROR;
}

// Signing in on the sign-in page ("/"), then `then`.
std::vector<std::string> SignInSteps(const std::string& login,
                                     const std::string& password,
                                     std::vector<std::string> then) {
  std::vector<std::string> steps = {absl::StrCat("type:#login=", login),
                                    absl::StrCat("type:#password=", password),
                                    "click:#signin-form button"};
  steps.insert(steps.end(), then.begin(), then.end());
  return steps;
}

// What a shell command prints on its standard output ("" if it cannot run).
// `url` in headless Chromium; `steps` are what a person does first
// (browser_page.py --step: "type:CSS=TEXT", "select:CSS=VALUE", "click:CSS",
// "wait:JS", "go:URL", "shot:FILE", "size:WxH"); `until` is then awaited.
BrowserPage OpenInBrowser(const std::string& url, const std::string& until,
                          const std::string& screenshot = "",
                          const std::vector<std::string>& steps = {},
                          const std::string& download_dir = "",
                          int timeout_seconds = 20) {
  std::string command = absl::StrCat(
      "/usr/bin/python3 ", SMZ_BROWSER_PAGE, " ", ShellQuoted(url),
      " --timeout ", timeout_seconds, " --until ", ShellQuoted(until));
  if (!download_dir.empty()) {
    absl::StrAppend(&command, " --download_dir ", ShellQuoted(download_dir));
  }
  for (const std::string& step : steps) {
    absl::StrAppend(&command, " --step ", ShellQuoted(step));
  }
  if (!screenshot.empty())
    absl::StrAppend(&command, " --screenshot ", screenshot);
  // What a failed step said, for whoever reads the artifacts.
  absl::StrAppend(&command, " 2>>", SMZ_TEST_ARTIFACT_DIR, "/browser_page.log");
  BrowserPage page;
  const std::string out = testing::CommandOutput(command);
  google::protobuf::Struct json;
  if (!google::protobuf::util::JsonStringToMessage(out, &json).ok()) {
    page.dom = out;
    return page;
  }
  const auto& fields = json.fields();
  page.met = fields.count("met") && fields.at("met").bool_value();
  if (fields.count("dom")) page.dom = fields.at("dom").string_value();
  if (fields.count("console")) {
    for (const auto& entry : fields.at("console").list_value().values()) {
      const auto& e = entry.struct_value().fields();
      page.console.push_back(absl::StrCat(e.at("level").string_value(), " ",
                                          e.at("message").string_value()));
    }
  }
  if (fields.count("csp_violations")) {
    for (const auto& v : fields.at("csp_violations").list_value().values()) {
      page.csp_violations.push_back(v.string_value());
    }
  }
  return page;
}

// The value of attribute `name` on the element that has `marker`.
std::string AttributeNear(const std::string& dom, const std::string& marker,
                          const std::string& name) {
  const size_t at = dom.find(marker);
  if (at == std::string::npos) return "<missing " + marker + ">";
  const size_t tag_start = dom.rfind('<', at);
  const size_t tag_end = dom.find('>', at);
  const std::string tag = dom.substr(tag_start, tag_end - tag_start);
  const std::string key = name + "=\"";
  const size_t v = tag.find(key);
  if (v == std::string::npos) return "<no " + name + ">";
  return tag.substr(v + key.size(),
                    tag.find('"', v + key.size()) - v - key.size());
}

// The council dashboard in a real browser, used as a council member would:
// the invitation link's page sets a password, the dashboard's form signs in
// with it, the page loads the figures from the gateway's HTTP/JSON API with
// the session cookie and shows the same numbers the API gives. Screenshots
// are kept as test artefacts.
TEST_F(GatewayServiceTest, DashboardInChromiumShowsTheApiFigures) {
  auto accounts = reg::AccountService::NewStub(grpc::CreateChannel(
      stack_->registry().target(), grpc::InsecureChannelCredentials()));
  reg::InviteAccountRequest invite;
  invite.set_login("council.kim");
  invite.set_display_name("김의원");
  invite.set_role(auth::v1::COUNCIL);
  reg::AccountLinkResponse invited;
  grpc::Status invited_status =
      accounts->InviteAccount(As(admin()).get(), invite, &invited);
  ASSERT_TRUE(invited_status.ok()) << invited_status.error_message();
  const std::string base =
      absl::StrCat("http://127.0.0.1:", gateway_->http_port(), "/");
  const std::string url = absl::StrCat(base, "?year=2019&programme=g-2018");
  const std::string loaded =
      "return document.querySelector(\"[data-loaded=yes]\") !== null";
  const std::string screenshot =
      absl::StrCat(SMZ_TEST_ARTIFACT_DIR, "/dashboard-2019-ko.png");
  std::remove(screenshot.c_str());
  const std::string password = "council password 2019";
  const BrowserPage page = OpenInBrowser(
      absl::StrCat(base.substr(0, base.size() - 1), invited.link().path()),
      loaded, screenshot,
      {absl::StrCat("type:#new-password=", password),
       absl::StrCat("type:#repeat-password=", password),
       "click:#password-form button",
       "wait:return document.body.dataset.done === \"yes\"",
       absl::StrCat("go:", url), "type:#login=council.kim",
       absl::StrCat("type:#password=", password), "click:#signin-form button"});
  const std::string& dom = page.dom;
  ASSERT_TRUE(page.met) << "the page did not load its figures:\n"
                        << dom.substr(0, 4000);
  // Its Content-Security-Policy holds and blocks nothing the page needs.
  EXPECT_THAT(page.csp_violations, ::testing::IsEmpty());
  for (const std::string& line : page.console) {
    EXPECT_THAT(line, Not(HasSubstr("Content Security Policy"))) << line;
    EXPECT_THAT(line, Not(::testing::StartsWith("SEVERE"))) << line;
  }

  v1::GetKpiTableRequest kpi_request;
  kpi_request.set_programme_code("g-2018");
  kpi_request.set_as_of("2019-12-31");
  v1::KpiTable kpi;
  ASSERT_TRUE(
      stub_->GetKpiTable(As(token("council")).get(), kpi_request, &kpi).ok());
  for (const v1::KpiRow& row : kpi.rows()) {
    const std::string marker =
        absl::StrCat("data-kpi=\"", row.indicator().code(), "\"");
    EXPECT_EQ(AttributeNear(dom, marker, "data-total"),
              absl::StrCat(row.total_result()))
        << row.indicator().code();
  }
  v1::GetZoneOverviewRequest overview_request;
  overview_request.set_year(2019);
  v1::ZoneOverview overview;
  ASSERT_TRUE(stub_
                  ->GetZoneOverview(As(token("council")).get(),
                                    overview_request, &overview)
                  .ok());
  EXPECT_EQ(AttributeNear(dom, "data-patients-ytd", "data-patients-ytd"),
            absl::StrCat(overview.patients_ytd()));
  EXPECT_EQ(AttributeNear(dom, "data-budget=\"g-2018\"", "data-rate"), "0");
  EXPECT_THAT(dom, HasSubstr("설명회 10"));    // the activity log
  EXPECT_THAT(dom, HasSubstr("신년 설명회"));  // upcoming
  EXPECT_THAT(dom, Not(HasSubstr("여름 설명회")));

  EXPECT_THAT(dom, HasSubstr("김의원"));  // who is signed in
  // The council's other pages are linked from its dashboard.
  EXPECT_THAT(dom, HasSubstr("href=\"/explore\""));
  EXPECT_THAT(dom, HasSubstr("href=\"/completeness\""));

  // English; signing out returns to the form, and the session is over.
  const std::string signed_out =
      "return !document.getElementById(\"signin\").hidden && "
      "!document.cookie.includes(\"smz_csrf\")";
  const BrowserPage en = OpenInBrowser(
      absl::StrCat(base, "?year=2019&programme=g-2018&lang=en"), signed_out,
      absl::StrCat(SMZ_TEST_ARTIFACT_DIR, "/dashboard-2019-en.png"),
      SignInSteps("council.kim", password,
                  {absl::StrCat("wait:", loaded),
                   "wait:return document.body.innerText.includes(\"Pledge "
                   "indicators\")",
                   "click:#signout"}));
  EXPECT_TRUE(en.met) << en.dom.substr(0, 2000);
  EXPECT_THAT(en.csp_violations, ::testing::IsEmpty());
  // A wrong password gets the one refusal, and no figures.
  const BrowserPage refused = OpenInBrowser(
      absl::StrCat(base, "?year=2019"),
      "return document.getElementById(\"signin-error\").textContent !== "
      "\"\"",
      absl::StrCat(SMZ_TEST_ARTIFACT_DIR, "/dashboard-signin-refused.png"),
      {"type:#login=council.kim", "type:#password=not the password",
       "click:#signin-form button"});
  EXPECT_TRUE(refused.met);
  EXPECT_THAT(refused.dom, HasSubstr("로그인하지 못했습니다"));
  EXPECT_THAT(refused.dom, Not(HasSubstr("data-loaded=\"yes\"")));
  // A used link's page says so, and sets nothing.
  const BrowserPage used = OpenInBrowser(
      absl::StrCat(base.substr(0, base.size() - 1), invited.link().path()),
      "return document.getElementById(\"password-error\").textContent "
      "!== \"\"",
      absl::StrCat(SMZ_TEST_ARTIFACT_DIR, "/account-password-used-link.png"),
      {"type:#new-password=another password 1",
       "type:#repeat-password=another password 1",
       "click:#password-form button"});
  EXPECT_TRUE(used.met);
  EXPECT_THAT(used.dom, HasSubstr("unknown, used or expired"));
  EXPECT_THAT(used.csp_violations, ::testing::IsEmpty());

  std::ifstream png(screenshot, std::ios::binary);
  ASSERT_TRUE(png.good()) << "no screenshot at " << screenshot;
  png.seekg(0, std::ios::end);
  EXPECT_GT(png.tellg(), 10000) << screenshot;
}

// What a hospital's clerk does each month, in a real browser: an invited
// account sets its password, signs in, lands on the hospital's home, opens
// the month that is due, fills it in, is refused one cell in place, corrects
// it and submits; the home page then shows the month submitted. Another
// hospital's data never shows.
TEST_F(GatewayServiceTest, HospitalFilesItsMonthInChromium) {
  // 2019-06-03: May is due (by 2019-06-11).
  const ClockAt june(Seoul(2019, 6, 3, 9));
  const int64_t clerk_partner = hospital_ids_[1];
  auto accounts = reg::AccountService::NewStub(grpc::CreateChannel(
      stack_->registry().target(), grpc::InsecureChannelCredentials()));
  reg::InviteAccountRequest invite;
  invite.set_login("clerk.lee");
  invite.set_display_name("이주무관");
  invite.set_role(auth::v1::PARTNER);
  invite.set_partner_id(clerk_partner);
  reg::AccountLinkResponse invited;
  grpc::Status s = accounts->InviteAccount(As(admin()).get(), invite, &invited);
  ASSERT_TRUE(s.ok()) << s.error_message();

  const std::string origin =
      absl::StrCat("http://127.0.0.1:", gateway_->http_port());
  const std::string password = "clerk password 2019";
  const std::string shots = SMZ_TEST_ARTIFACT_DIR;
  const std::string submitted =
      "return (document.body.dataset.saved || '').startsWith('SUBMITTED')";
  const BrowserPage page = OpenInBrowser(
      absl::StrCat(origin, invited.link().path()),
      "return document.querySelector('[data-month=\"2019-05\"]"
      "[data-status=SUBMITTED]') !== null",
      absl::StrCat(shots, "/hospital-home-after.png"),
      {absl::StrCat("type:#new-password=", password),
       absl::StrCat("type:#repeat-password=", password),
       "click:#password-form button",
       "wait:return document.body.dataset.done === 'yes'",
       absl::StrCat("go:", origin, "/"), "type:#login=clerk.lee",
       absl::StrCat("type:#password=", password), "click:#signin-form button",
       // Signed in, a hospital lands on its own home.
       "wait:return location.pathname === '/hospital' && "
       "document.body.dataset.loaded === 'yes'",
       "wait:return document.querySelector('[data-due=\"2019-05\"]') !== null",
       absl::StrCat("shot:", shots, "/hospital-home.png"), "click:#due a",
       "wait:return document.body.dataset.loaded === 'yes'",
       // Three new patients from "XX" (no such country), five visits.
       "type:#new-rows tr:first-child [name=nationality]=XX",
       "type:#new-rows tr:first-child [name=count]=3",
       "type:#visit-rows tr:first-child [name=nationality]=MN",
       "select:#visit-rows tr:first-child [name=department]=dermatology",
       "select:#visit-rows tr:first-child [name=care_type]=OUTPATIENT",
       "type:#visit-rows tr:first-child [name=count]=5", "click:#submit",
       "wait:return document.querySelector("
       "'[data-refused=\"report.new_patients[0].nationality\"]') !== null",
       absl::StrCat("shot:", shots, "/hospital-report-refused.png"),
       "type:#new-rows tr:first-child [name=nationality]=MN", "click:#submit",
       absl::StrCat("wait:", submitted),
       absl::StrCat("shot:", shots, "/hospital-report-submitted.png"),
       absl::StrCat("go:", origin, "/hospital?year=2019")});
  ASSERT_TRUE(page.met) << page.dom.substr(0, 6000);
  EXPECT_THAT(page.csp_violations, ::testing::IsEmpty());
  for (const std::string& line : page.console) {
    EXPECT_THAT(line, Not(HasSubstr("Uncaught"))) << line;
  }
  EXPECT_THAT(page.dom, HasSubstr("이주무관"));  // who is signed in

  // The service holds what the page showed as submitted.
  auto stats_stub = stats::v1::StatsService::NewStub(Local(stats_->port()));
  stats::v1::GetReportRequest get;
  get.set_partner_id(clerk_partner);
  get.set_period("2019-05");
  stats::v1::Report report;
  ASSERT_TRUE(stats_stub->GetReport(As(admin()).get(), get, &report).ok());
  EXPECT_EQ(report.status(), stats::v1::SUBMITTED);
  ASSERT_THAT(report.new_patients(), SizeIs(1));
  EXPECT_EQ(report.new_patients(0).nationality(), "MN");
  EXPECT_EQ(report.new_patients(0).count(), 3);
  ASSERT_THAT(report.visits(), SizeIs(1));
  EXPECT_EQ(report.visits(0).department(), "dermatology");
  EXPECT_EQ(report.visits(0).count(), 5);
  EXPECT_THAT(report.submitted_by(), HasSubstr("account:"));

  // Asking for another hospital's month by its id still shows only the
  // clerk's own (April: CN dermatology 10), never hospital 0's (MN 120/150).
  const BrowserPage other = OpenInBrowser(
      absl::StrCat(origin, "/"),
      "return document.body.dataset.loaded === 'yes'",
      absl::StrCat(shots, "/hospital-report-own-only.png"),
      SignInSteps("clerk.lee", password,
                  {"wait:return location.pathname === '/hospital'",
                   absl::StrCat("go:", origin,
                                "/hospital/report?period=2019-04&partner=",
                                hospital_id_)}));
  ASSERT_TRUE(other.met) << other.dom.substr(0, 4000);
  EXPECT_THAT(other.dom, HasSubstr("value=\"CN\""));
  EXPECT_THAT(other.dom, Not(HasSubstr("value=\"150\"")));
  EXPECT_THAT(other.dom, Not(HasSubstr("value=\"120\"")));
  // A correction made elsewhere meanwhile (another tab, a colleague): the
  // clerk's submission with the etag read is refused, the page says what
  // changed, and after reloading offers the entries that were not saved.
  const std::string other_tab = absl::StrCat(
      "wait:return window.__other === true || (window.__other === undefined "
      "&& (window.__other = false, fetch('/v1/partners/",
      clerk_partner,
      "/reports/2019-05').then((r) => r.json()).then((r) => "
      "fetch('/v1/partners/",
      clerk_partner,
      "/reports', {method: 'POST', headers: {'Content-Type': "
      "'application/json', 'X-SMZ-CSRF': SMZ.csrf()}, body: "
      "JSON.stringify({report: {partner_id: ",
      clerk_partner,
      ", period: '2019-05', new_patients: [{nationality: 'MN', count: 3}], "
      "visits: [{nationality: 'MN', department: 'dermatology', care_type: "
      "'OUTPATIENT', count: 6}]}, etag: r.etag, request_id: 'other-tab'})"
      "})).then(() => { window.__other = true; })), false)");
  const BrowserPage stale = OpenInBrowser(
      absl::StrCat(origin, "/"),
      "return document.getElementById('unsaved').hidden === false",
      absl::StrCat(shots, "/hospital-report-unsaved-offered.png"),
      SignInSteps(
          "clerk.lee", password,
          {"wait:return location.pathname === '/hospital'",
           absl::StrCat("go:", origin, "/hospital/report?period=2019-05"),
           "wait:return document.body.dataset.loaded === 'yes'", other_tab,
           "type:#new-rows tr:first-child [name=count]=2", "click:#submit",
           // The other tab's change, named: 5 visits became 6.
           "wait:return (document.querySelector('#conflict [data-changed="
           "\"visits/MN/dermatology/OUTPATIENT\"]') || {}).textContent === "
           "'visits/MN/dermatology/OUTPATIENT: 5 → 6'",
           absl::StrCat("shot:", shots, "/hospital-report-stale-etag.png"),
           "click:#reload"}));
  ASSERT_TRUE(stale.met) << stale.dom.substr(0, 6000);
  // The reload shows the other correction; the clerk's 2 is on offer.
  EXPECT_TRUE(absl::StrContains(stale.dom, "value=\"6\""));
  EXPECT_TRUE(absl::StrContains(stale.dom, "id=\"restore\""));

  // Months as a spreadsheet: an XLSX with a wrong row is previewed with its
  // error by row and stores nothing; the corrected one is previewed, then
  // stored.
  const std::string bad_xlsx = absl::StrCat(shots, "/upload-with-error.xlsx");
  const std::string good_xlsx = absl::StrCat(shots, "/upload.xlsx");
  const std::vector<std::string> header = {"기관번호", "보고월", "구분",
                                           "국적",     "진료과", "진료유형",
                                           "성별",     "연령대", "값"};
  const std::string id = absl::StrCat(clerk_partner);
  ASSERT_TRUE(WriteXlsx(
      bad_xlsx, {header,
                 {id, "2019-05", "new_patients", "MN", "", "", "", "", "4"},
                 {id, "2019-05", "visits", "MN", "dermatology", "WALK_IN", "",
                  "", "8"}}));
  ASSERT_TRUE(WriteXlsx(
      good_xlsx,
      {header,
       {id, "2019-05", "new_patients", "MN", "", "", "", "", "4"},
       {id, "2019-05", "visits", "MN", "dermatology", "OUTPATIENT", "", "",
        "8"},
       {id, "2019-05", "revenue_krw", "", "", "", "", "", "2000000"}}));
  const BrowserPage upload = OpenInBrowser(
      absl::StrCat(origin, "/"),
      "return document.body.dataset.committed === 'yes'",
      absl::StrCat(shots, "/hospital-upload-stored.png"),
      SignInSteps(
          "clerk.lee", password,
          {"wait:return location.pathname === '/hospital'",
           absl::StrCat("go:", origin, "/hospital/upload"),
           "wait:return document.body.dataset.loaded === 'yes'",
           absl::StrCat("file:#file=", bad_xlsx),
           // The sheet's row 3 holds the unknown care type.
           "wait:return document.querySelector('[data-error-line=\"3\"]') !== "
           "null",
           absl::StrCat("shot:", shots, "/hospital-upload-errors.png"),
           absl::StrCat("file:#file=", good_xlsx),
           absl::StrCat("wait:return document.querySelector('[data-preview=\"",
                        clerk_partner, "/2019-05\"]') !== null"),
           absl::StrCat("shot:", shots, "/hospital-upload-preview.png"),
           "click:#commit"}));
  ASSERT_TRUE(upload.met) << upload.dom.substr(0, 6000);
  ASSERT_TRUE(stats_stub->GetReport(As(admin()).get(), get, &report).ok());
  ASSERT_THAT(report.visits(), SizeIs(1));
  EXPECT_EQ(report.visits(0).count(), 8);
  EXPECT_EQ(report.new_patients(0).count(), 4);
  EXPECT_EQ(report.revenue_krw(), 2000000);
  // The templates are there to download, the XLSX a real workbook (a ZIP).
  httplib::Client files("127.0.0.1", gateway_->http_port());
  auto xlsx_template = files.Get("/static/import_template.xlsx");
  ASSERT_TRUE(xlsx_template);
  EXPECT_EQ(xlsx_template->status, 200);
  EXPECT_EQ(xlsx_template->body.substr(0, 2), "PK");
  auto csv_template = files.Get("/static/import_template.csv");
  ASSERT_TRUE(csv_template);
  EXPECT_TRUE(absl::StrContains(csv_template->body, "기관번호,보고월,구분"));

  // The month's history: every change the service keeps, in order.
  const BrowserPage history = OpenInBrowser(
      absl::StrCat(origin, "/?next=%2Fhospital%2Fhistory%3Fperiod%3D2019-05"),
      "return location.pathname === '/hospital/history' && "
      "document.body.dataset.loaded === 'yes'",
      absl::StrCat(shots, "/hospital-history.png"),
      SignInSteps("clerk.lee", password, {}));
  ASSERT_TRUE(history.met) << history.dom.substr(0, 4000);
  stats::v1::ListReportChangesRequest changes_request;
  changes_request.set_partner_id(clerk_partner);
  changes_request.set_period("2019-05");
  stats::v1::ListReportChangesResponse changes;
  ASSERT_TRUE(
      stats_stub
          ->ListReportChanges(As(admin()).get(), changes_request, &changes)
          .ok());
  ASSERT_GE(changes.changes_size(), 3);  // submit, the other tab, upload
  size_t shown = 0;
  for (size_t at = history.dom.find("data-change="); at != std::string::npos;
       at = history.dom.find("data-change=", at + 1)) {
    ++shown;
  }
  EXPECT_EQ(shown, static_cast<size_t>(changes.changes_size()));

  // And the API refuses the other hospital's calendar and report outright.
  reg::SignInRequest sign_in;
  sign_in.set_login("clerk.lee");
  sign_in.set_password(password);
  reg::SignInResponse session;
  ASSERT_TRUE(accounts->SignIn(As("").get(), sign_in, &session).ok());
  httplib::Client http("127.0.0.1", gateway_->http_port());
  const httplib::Headers bearer = {
      {"Authorization", absl::StrCat("Bearer ", session.session_id())}};
  for (const std::string& path :
       {absl::StrCat("/v1/partners/", hospital_id_, "/reportingCalendars/2019"),
        absl::StrCat("/v1/partners/", hospital_id_, "/reports/2019-04")}) {
    auto answer = http.Get(path, bearer);
    ASSERT_TRUE(answer) << path;
    EXPECT_EQ(answer->status, 403) << path << " " << answer->body;
  }
  auto own = http.Get(
      absl::StrCat("/v1/partners/", clerk_partner, "/reportingCalendars/2019"),
      bearer);
  ASSERT_TRUE(own);
  EXPECT_EQ(own->status, 200) << own->body;
}

// The district's officer (an ADMIN with an authenticator) signs in, opens
// the review queue, finds a hospital's submitted month and accepts it.
TEST_F(GatewayServiceTest, AdminAcceptsFromTheReviewQueueInChromium) {
  const ClockAt june(Seoul(2019, 6, 3, 9));
  const int64_t hospital = hospital_ids_[2];
  auto stats_stub = stats::v1::StatsService::NewStub(Local(stats_->port()));
  stats::v1::SubmitReportRequest submit;
  submit.mutable_report()->set_partner_id(hospital);
  submit.mutable_report()->set_period("2019-05");
  stats::v1::VisitCell* visit = submit.mutable_report()->add_visits();
  visit->set_nationality("VN");
  visit->set_department("dermatology");
  visit->set_care_type(stats::v1::OUTPATIENT);
  visit->set_count(7);
  stats::v1::SubmitReportResponse submitted;
  ASSERT_TRUE(
      stats_stub->SubmitReport(As(admin()).get(), submit, &submitted).ok());

  const std::string password = "officer password 2019";
  std::string secret;
  auto officer =
      stack_->AddPerson("officer.park", auth::v1::ADMIN, 0, password, &secret);
  ASSERT_TRUE(officer.ok()) << officer.status();
  clock_->Advance(absl::Seconds(registry::kTotpStepSeconds));
  const std::string code = registry::TotpCode(secret, clock_->Now());

  const std::string origin =
      absl::StrCat("http://127.0.0.1:", gateway_->http_port());
  const std::string shots = SMZ_TEST_ARTIFACT_DIR;
  const std::string row =
      absl::StrCat("[data-report=\"", hospital, "/2019-05\"]");
  const BrowserPage page = OpenInBrowser(
      // Sent to sign in from the queue, the officer comes back to it.
      absl::StrCat(origin, "/?next=%2Fadmin%2Freviews"),
      absl::StrCat("return document.querySelector('", row,
                   "[data-accepted=yes]') !== null"),
      absl::StrCat(shots, "/admin-reviews-accepted.png"),
      {"type:#login=officer.park", absl::StrCat("type:#password=", password),
       absl::StrCat("type:#code=", code), "click:#signin-form button",
       absl::StrCat("wait:return location.pathname === '/admin/reviews' && "
                    "document.querySelector('",
                    row, "') !== null"),
       absl::StrCat("shot:", shots, "/admin-reviews.png"),
       absl::StrCat("click:[data-accept=\"", hospital, "/2019-05\"]")});
  ASSERT_TRUE(page.met) << page.dom.substr(0, 6000);
  EXPECT_THAT(page.csp_violations, ::testing::IsEmpty());
  for (const std::string& line : page.console) {
    EXPECT_THAT(line, Not(HasSubstr("Uncaught"))) << line;
  }
  stats::v1::GetReportRequest get;
  get.set_partner_id(hospital);
  get.set_period("2019-05");
  stats::v1::Report report;
  ASSERT_TRUE(stats_stub->GetReport(As(admin()).get(), get, &report).ok());
  EXPECT_EQ(report.status(), stats::v1::ACCEPTED);
  // The trail names the officer's account as the one who accepted.
  stats::v1::ListReportChangesRequest history;
  history.set_partner_id(hospital);
  history.set_period("2019-05");
  stats::v1::ListReportChangesResponse changes;
  ASSERT_TRUE(
      stats_stub->ListReportChanges(As(admin()).get(), history, &changes).ok());
  ASSERT_THAT(changes.changes(), SizeIs(2));
  EXPECT_EQ(changes.changes(1).action(), "ACCEPT");
  EXPECT_THAT(changes.changes(1).actor(),
              HasSubstr(absl::StrCat("account:", *officer)));

  // The same officer invites a hospital's clerk (the link shown once),
  // disables the account with a reason, and reopens March for the hospital.
  clock_->Advance(absl::Seconds(registry::kTotpStepSeconds));
  const std::string next_code = registry::TotpCode(secret, clock_->Now());
  const BrowserPage admin_pages = OpenInBrowser(
      absl::StrCat(origin, "/?next=%2Fadmin%2Faccounts"),
      absl::StrCat("return document.body.dataset.granted === '", hospital,
                   "/2019-03'"),
      absl::StrCat(shots, "/admin-exceptions.png"),
      {"type:#login=officer.park",
       absl::StrCat("type:#password=", password),
       absl::StrCat("type:#code=", next_code),
       "click:#signin-form button",
       "wait:return location.pathname === '/admin/accounts' && "
       "document.body.dataset.loaded === 'yes'",
       "type:#invite-login=clerk.kang",
       "type:#invite-name=강주무관",
       absl::StrCat("select:#invite-partner=", hospital),
       "click:#invite button[type=submit]",
       "wait:return document.body.dataset.invited === 'clerk.kang' && "
       "document.querySelector('[data-account=\"clerk.kang\"]') !== null",
       absl::StrCat("shot:", shots, "/admin-accounts-invited.png"),
       "click:[data-do=\"disable:clerk.kang\"]",
       "type:#action-reason=invited by mistake",
       "click:#action-confirm",
       "wait:return document.querySelector('[data-account=\"clerk.kang\"]"
       "[data-state=ACCOUNT_DISABLED]') !== null",
       absl::StrCat("shot:", shots, "/admin-accounts.png"),
       absl::StrCat("go:", origin, "/admin/exceptions"),
       "wait:return document.body.dataset.loaded === 'yes'",
       absl::StrCat("select:#grant-partner=", hospital),
       "wait:document.getElementById('grant-period').value = '2019-03'; "
       "return true",
       "type:#grant-reason=EMR outage in April",
       "click:#grant "
       "button[type=submit]"});
  ASSERT_TRUE(admin_pages.met) << admin_pages.dom.substr(0, 6000);
  auto accounts = reg::AccountService::NewStub(grpc::CreateChannel(
      stack_->registry().target(), grpc::InsecureChannelCredentials()));
  reg::ListAccountsRequest list;
  list.set_partner_id(hospital);
  reg::ListAccountsResponse listed;
  ASSERT_TRUE(accounts->ListAccounts(As(admin()).get(), list, &listed).ok());
  ASSERT_THAT(listed.accounts(), SizeIs(1));
  EXPECT_EQ(listed.accounts(0).login(), "clerk.kang");
  EXPECT_EQ(listed.accounts(0).state(), reg::ACCOUNT_DISABLED);
  stats::v1::ListLockExceptionsRequest exceptions_request;
  exceptions_request.set_period("2019-03");
  stats::v1::ListLockExceptionsResponse exceptions;
  ASSERT_TRUE(stats_stub
                  ->ListLockExceptions(As(admin()).get(), exceptions_request,
                                       &exceptions)
                  .ok());
  bool granted = false;
  for (const stats::v1::LockException& e : exceptions.exceptions()) {
    granted |=
        e.partner_id() == hospital && e.reason() == "EMR outage in April";
  }
  EXPECT_TRUE(granted);
}

// An analyst explores April 2019 by nationality: the table shows the
// service's figures, and the CSV downloaded from the page is byte for byte
// the API's export of the same query.
TEST_F(GatewayServiceTest, AnalystExploresAndDownloadsInChromium) {
  const std::string password = "analyst password 2019";
  auto analyst =
      stack_->AddPerson("analyst.choi", auth::v1::ANALYST, 0, password);
  ASSERT_TRUE(analyst.ok()) << analyst.status();
  const std::string origin =
      absl::StrCat("http://127.0.0.1:", gateway_->http_port());
  const std::string shots = SMZ_TEST_ARTIFACT_DIR;
  const std::string downloads = absl::StrCat(shots, "/downloads");
  std::filesystem::remove_all(downloads);
  std::filesystem::create_directories(downloads);
  const std::string query =
      "/explore?start=2019-04&end=2019-04&bucket=MONTH&group_by=NATIONALITY";
  const BrowserPage page = OpenInBrowser(
      absl::StrCat(
          origin, "/?next=",
          absl::StrReplaceAll(
              query, {{"/", "%2F"}, {"?", "%3F"}, {"&", "%26"}, {"=", "%3D"}})),
      // Chromium writes the file after the click: 1.5 s more for it.
      "return document.body.dataset.downloaded === 'csv' && (window.__t = "
      "window.__t || Date.now()) && Date.now() - window.__t > 1500",
      absl::StrCat(shots, "/explore-after-download.png"),
      SignInSteps("analyst.choi", password,
                  {"wait:return location.pathname === '/explore' && "
                   "document.body.dataset.loaded === 'yes'",
                   absl::StrCat("shot:", shots, "/explore.png"),
                   "click:#download-csv"}),
      downloads);
  ASSERT_TRUE(page.met) << page.dom.substr(0, 6000);
  EXPECT_THAT(page.csp_violations, ::testing::IsEmpty());

  // What the page showed is what the service answers the analyst.
  auto stats_stub = stats::v1::StatsService::NewStub(Local(stats_->port()));
  reg::SignInRequest sign_in;
  sign_in.set_login("analyst.choi");
  sign_in.set_password(password);
  reg::SignInResponse session;
  auto accounts = reg::AccountService::NewStub(grpc::CreateChannel(
      stack_->registry().target(), grpc::InsecureChannelCredentials()));
  ASSERT_TRUE(accounts->SignIn(As("").get(), sign_in, &session).ok());
  stats::v1::AggregateRequest request;
  request.set_start_period("2019-04");
  request.set_end_period("2019-04");
  request.set_bucket(stats::v1::MONTH);
  request.add_group_by(stats::v1::NATIONALITY);
  request.set_order_by(stats::v1::VISITS);
  stats::v1::AggregateResponse aggregate;
  ASSERT_TRUE(
      stats_stub
          ->QueryAggregate(As(session.session_id()).get(), request, &aggregate)
          .ok());
  ASSERT_GE(aggregate.rows_size(), 2);
  for (const stats::v1::AggregateRow& row : aggregate.rows()) {
    EXPECT_EQ(AttributeNear(
                  page.dom,
                  absl::StrCat("data-row=\"2019-04|", row.nationality(), "\""),
                  "data-visits"),
              absl::StrCat(row.visits().value()))
        << row.nationality();
  }
  stats::v1::CsvFile csv;
  ASSERT_TRUE(
      stats_stub
          ->ExportAggregateCsv(As(session.session_id()).get(), request, &csv)
          .ok());
  std::ifstream downloaded(absl::StrCat(downloads, "/", csv.filename()),
                           std::ios::binary);
  ASSERT_TRUE(downloaded.good()) << "no download " << csv.filename();
  std::stringstream bytes;
  bytes << downloaded.rdbuf();
  EXPECT_EQ(bytes.str(), csv.content());

  // Who reported in March and April: nobody in March, each hospital missing
  // there is listed with the contact to call.
  const BrowserPage completeness = OpenInBrowser(
      absl::StrCat(origin, "/?next=%2Fcompleteness%3Fstart%3D2019-03%26end%3D",
                   "2019-04"),
      "return location.pathname === '/completeness' && "
      "document.body.dataset.loaded === 'yes'",
      absl::StrCat(shots, "/completeness.png"),
      SignInSteps("analyst.choi", password, {}));
  ASSERT_TRUE(completeness.met) << completeness.dom.substr(0, 4000);
  stats::v1::GetCompletenessRequest who;
  who.set_start_period("2019-03");
  who.set_end_period("2019-04");
  stats::v1::CompletenessResponse reported;
  ASSERT_TRUE(
      stats_stub
          ->GetCompleteness(As(session.session_id()).get(), who, &reported)
          .ok());
  int missing = 0;
  for (const stats::v1::PartnerReporting& p : reported.partners()) {
    if (p.state() != stats::v1::NOT_REPORTED) continue;
    ++missing;
    EXPECT_TRUE(absl::StrContains(
        completeness.dom,
        absl::StrCat("data-partner=\"", p.partner_id(), "/", p.period(),
                     "\" data-state=\"NOT_REPORTED\"")))
        << p.partner_id() << " " << p.period();
  }
  EXPECT_GE(missing, 3);
}

// A hospital's clerk on its own profile and its figures beside the zone's:
// the comparison shows what the service answers, a contact with a bad
// e-mail is refused in place and saved once corrected. Asking for another
// hospital's pages by its id (?partner=) still shows only the clerk's own:
// no page of the hospital's requests anything under another partner's path.
// Every hospital page is also kept at a phone's width.
TEST_F(GatewayServiceTest, HospitalProfileAndComparisonInChromium) {
  const ClockAt june(Seoul(2019, 6, 3, 9));
  const int64_t own = hospital_id_;
  const int64_t other = hospital_ids_[1];
  const std::string password = "clerk password cho";
  auto clerk = stack_->AddPerson("clerk.cho", auth::v1::PARTNER, own, password);
  ASSERT_TRUE(clerk.ok()) << clerk.status();
  const std::string origin =
      absl::StrCat("http://127.0.0.1:", gateway_->http_port());
  const std::string shots = SMZ_TEST_ARTIFACT_DIR;
  const std::string as_other = absl::StrCat("partner=", other);

  const BrowserPage compare = OpenInBrowser(
      absl::StrCat(origin, "/"),
      "return location.pathname === '/hospital/compare' && "
      "document.body.dataset.loaded === 'yes'",
      absl::StrCat(shots, "/hospital-compare.png"),
      SignInSteps("clerk.cho", password,
                  {"wait:return location.pathname === '/hospital'",
                   absl::StrCat("go:", origin,
                                "/hospital/compare?from=2019-04&to=2019-04&"
                                "view=NATIONALITY&",
                                as_other)}));
  ASSERT_TRUE(compare.met) << compare.dom.substr(0, 4000);
  EXPECT_THAT(compare.csp_violations, ::testing::IsEmpty());
  auto stats_stub = stats::v1::StatsService::NewStub(Local(stats_->port()));
  stats::v1::CompareWithZoneRequest ask;
  ask.set_partner_id(own);
  ask.set_start_period("2019-04");
  ask.set_end_period("2019-04");
  ask.set_bucket(stats::v1::WHOLE_RANGE);
  ask.add_group_by(stats::v1::NATIONALITY);
  stats::v1::ZoneComparison answer;
  ASSERT_TRUE(
      stats_stub->CompareWithZone(As(admin()).get(), ask, &answer).ok());
  ASSERT_GE(answer.zone().rows_size(), 2);  // MN (own), CN (the others')
  // The text of the `side` ("data-own" or "data-zone") visits cell in the
  // row of `key`.
  auto shown = [&](const std::string& key, const std::string& side) {
    const size_t row = compare.dom.find(absl::StrCat("data-row=\"", key, "\""));
    if (row == std::string::npos) return absl::StrCat("<no row ", key, ">");
    const size_t at = compare.dom.find(absl::StrCat(side, "=\"visits\""), row);
    const size_t text = compare.dom.find('>', at);
    if (at == std::string::npos || text == std::string::npos) {
      return absl::StrCat("<no cell ", key, ">");
    }
    return compare.dom.substr(text + 1, compare.dom.find('<', text) - text - 1);
  };
  // The others (two hospitals, Chinese patients) are hidden: less the
  // clerk's own, the zone's figure would be theirs.
  bool any_hidden = false;
  for (const stats::v1::AggregateRow& row : answer.zone().rows()) {
    any_hidden |= row.visits().suppressed();
    EXPECT_EQ(shown(row.nationality(), "data-zone"),
              row.visits().suppressed() ? "비공개"
                                        : absl::StrCat(row.visits().value()))
        << row.nationality();
  }
  EXPECT_TRUE(any_hidden);
  EXPECT_EQ(shown("MN", "data-own"), "150");
  EXPECT_EQ(shown("CN", "data-own"), "");  // the other hospitals' patients

  const BrowserPage profile = OpenInBrowser(
      absl::StrCat(origin, "/"), "return document.body.dataset.saved",
      absl::StrCat(shots, "/hospital-profile-saved.png"),
      SignInSteps(
          "clerk.cho", password,
          {"wait:return location.pathname === '/hospital'",
           absl::StrCat("go:", origin, "/hospital/profile?", as_other),
           "wait:return document.body.dataset.loaded === 'yes'",
           absl::StrCat("shot:", shots, "/hospital-profile.png"),
           "click:#add-contact",
           "type:#contacts tbody tr:last-child [name=name]=조담당",
           "type:#contacts tbody tr:last-child [name=email]=not-an-address",
           "type:#contacts tbody tr:last-child [name=languages]=ko, mn",
           "click:#save",
           "wait:return document.querySelector('#contacts tbody "
           "tr:last-child [name=email].refused') !== null",
           absl::StrCat("shot:", shots, "/hospital-profile-refused.png"),
           "type:#contacts tbody tr:last-child "
           "[name=email]=cho@hospital.example",
           "click:#save"}));
  ASSERT_TRUE(profile.met) << profile.dom.substr(0, 6000);
  EXPECT_THAT(profile.csp_violations, ::testing::IsEmpty());
  EXPECT_EQ(AttributeNear(profile.dom, "id=\"partner-name\"", "data-partner"),
            absl::StrCat(own));
  EXPECT_THAT(profile.dom, HasSubstr("기관0"));
  EXPECT_THAT(profile.dom, Not(HasSubstr("기관1")));
  auto registry = reg::RegistryService::NewStub(grpc::CreateChannel(
      stack_->registry().target(), grpc::InsecureChannelCredentials()));
  reg::GetPartnerRequest get;
  get.set_id(own);
  reg::Partner saved;
  ASSERT_TRUE(registry->GetPartner(As(admin()).get(), get, &saved).ok());
  ASSERT_GE(saved.contacts_size(), 1);
  const reg::Contact& added = saved.contacts(saved.contacts_size() - 1);
  EXPECT_EQ(added.name(), "조담당");
  EXPECT_EQ(added.email(), "cho@hospital.example");
  EXPECT_THAT(added.languages(), ::testing::ElementsAre("ko", "mn"));
  get.set_id(other);
  reg::Partner untouched;
  ASSERT_TRUE(registry->GetPartner(As(admin()).get(), get, &untouched).ok());
  for (const reg::Contact& c : untouched.contacts()) {
    EXPECT_NE(c.name(), "조담당");
  }
  // Only the contacts changed: the page sends the fields the clerk changed.
  reg::ListPartnerChangesRequest changes_request;
  changes_request.set_partner_id(own);
  changes_request.set_page_size(200);
  reg::ListPartnerChangesResponse changes;
  ASSERT_TRUE(
      registry->ListPartnerChanges(As(admin()).get(), changes_request, &changes)
          .ok());
  ASSERT_GE(changes.changes_size(), 1);
  EXPECT_THAT(changes.changes(changes.changes_size() - 1).changed_fields(),
              ::testing::ElementsAre("contacts"));

  // Every hospital page, opened with the other hospital's id, at a phone's
  // width: loaded, and nothing requested under the other partner's path.
  const std::string never_other = absl::StrCat(
      "document.body.dataset.loaded === 'yes' && "
      "!performance.getEntriesByType('resource').some((r) => "
      "/\\/partners\\/",
      other, "([/?:]|$)/.test(r.name))");
  std::vector<std::string> sweep = {
      "wait:return location.pathname === '/hospital'", "size:390x1500"};
  for (const auto& [path, name] :
       std::vector<std::pair<std::string, std::string>>{
           {"/hospital?", "hospital-home"},
           {"/hospital/report?period=2019-04&", "hospital-report"},
           {"/hospital/upload?", "hospital-upload"},
           {"/hospital/history?period=2019-04&", "hospital-history"},
           {"/hospital/profile?", "hospital-profile"},
           {"/hospital/compare?from=2019-01&to=2019-05&",
            "hospital-compare"}}) {
    sweep.push_back(absl::StrCat("go:", origin, path, as_other));
    sweep.push_back(absl::StrCat("wait:return ", never_other));
    sweep.push_back(absl::StrCat("shot:", shots, "/", name, "-phone.png"));
  }
  const BrowserPage phone = OpenInBrowser(
      absl::StrCat(origin, "/"), absl::StrCat("return ", never_other), "",
      SignInSteps("clerk.cho", password, sweep));
  EXPECT_TRUE(phone.met) << phone.dom.substr(0, 4000);
  EXPECT_THAT(phone.csp_violations, ::testing::IsEmpty());
}

// The district's partner pages as an officer uses them: the directory; a
// new agency registered (a missing Korean name refused in place first);
// on its page designated with a reason, a grant recorded (one without its
// purpose refused in place first) and suspended (a decision without a
// reason stopped by the page); then the council report's tables downloaded
// from the dashboard, byte for byte the API's.
TEST_F(GatewayServiceTest, AdminKeepsPartnersAndDownloadsReportsInChromium) {
  const ClockAt june(Seoul(2019, 6, 3, 9));
  const std::string password = "officer password jung";
  std::string secret;
  auto officer =
      stack_->AddPerson("officer.jung", auth::v1::ADMIN, 0, password, &secret);
  ASSERT_TRUE(officer.ok()) << officer.status();
  clock_->Advance(absl::Seconds(registry::kTotpStepSeconds));
  const std::string code = registry::TotpCode(secret, clock_->Now());
  const std::string origin =
      absl::StrCat("http://127.0.0.1:", gateway_->http_port());
  const std::string shots = SMZ_TEST_ARTIFACT_DIR;
  const std::string downloads = absl::StrCat(shots, "/downloads-council");
  std::filesystem::remove_all(downloads);
  std::filesystem::create_directories(downloads);
  const BrowserPage page = OpenInBrowser(
      absl::StrCat(origin, "/?next=%2Fadmin%2Fpartners"),
      // Chromium writes the file after the click: 1.5 s more for it.
      "return document.body.dataset.downloaded === 'kpi_csv' && (window.__t "
      "= window.__t || Date.now()) && Date.now() - window.__t > 1500",
      absl::StrCat(shots, "/dashboard-downloads.png"),
      {"type:#login=officer.jung",
       absl::StrCat("type:#password=", password),
       absl::StrCat("type:#code=", code),
       "click:#signin-form button",
       "wait:return location.pathname === '/admin/partners' && "
       "document.body.dataset.loaded === 'yes'",
       absl::StrCat("shot:", shots, "/admin-partners.png"),
       "select:#new-kind=ATTRACTION_AGENCY",
       "type:#new-name-en=Ulaanbaatar Medical Travel",
       "click:#create button[type=submit]",
       "wait:return document.querySelector('#new-name-ko.refused') !== null",
       absl::StrCat("shot:", shots, "/admin-partners-refused.png"),
       "type:#new-name-ko=울란바토르 의료관광",
       "click:#create button[type=submit]",
       "wait:return location.pathname === '/hospital/profile' && "
       "document.body.dataset.loaded === 'yes'",
       "click:[data-decision=designate]",
       "type:#decision-reason=2019 agency round",
       "type:#decision-ref=영등포구 공고 제2019-100호",
       "click:#decision-confirm",
       "wait:return document.body.dataset.decided === 'designate:ACTIVE'",
       "select:#grant-programme=MARKETING",
       "type:#grant-amount=5,000,000",
       "click:#grant-form button[type=submit]",
       "wait:return document.querySelector('#grant-purpose-ko.refused') "
       "!== null",
       "type:#grant-purpose-ko=몽골 설명회 통역",
       "click:#grant-form button[type=submit]",
       "wait:return document.body.dataset.granted === 'yes'",
       "click:[data-decision=suspend]",
       "click:#decision-confirm",
       "wait:return document.querySelector('#decision-reason.refused') "
       "!== null",
       "type:#decision-reason=registration lapsed",
       "click:#decision-confirm",
       "wait:return document.body.dataset.decided === 'suspend:SUSPENDED'",
       absl::StrCat("shot:", shots, "/admin-partner.png"),
       "size:390x1800",
       absl::StrCat("shot:", shots, "/admin-partner-phone.png"),
       absl::StrCat("go:", origin, "/admin/partners"),
       "wait:return document.body.dataset.loaded === 'yes'",
       absl::StrCat("shot:", shots, "/admin-partners-phone.png"),
       "size:1280x2200",
       absl::StrCat("go:", origin, "/?year=2019&programme=g-2018"),
       "wait:return document.body.dataset.loaded === 'yes'",
       "click:[data-report=kpi_csv]"},
      downloads);
  ASSERT_TRUE(page.met) << page.dom.substr(0, 6000);
  EXPECT_THAT(page.csp_violations, ::testing::IsEmpty());
  for (const std::string& line : page.console) {
    EXPECT_THAT(line, Not(HasSubstr("Uncaught"))) << line;
  }

  // The registry has what the officer did, with the reasons.
  auto registry = reg::RegistryService::NewStub(grpc::CreateChannel(
      stack_->registry().target(), grpc::InsecureChannelCredentials()));
  reg::ListPartnersRequest agencies;
  agencies.set_kind(reg::ATTRACTION_AGENCY);
  agencies.set_page_size(200);
  reg::ListPartnersResponse listed;
  ASSERT_TRUE(
      registry->ListPartners(As(admin()).get(), agencies, &listed).ok());
  const reg::Partner* agency = nullptr;
  for (const reg::Partner& p : listed.partners()) {
    if (p.name().count("ko") && p.name().at("ko") == "울란바토르 의료관광") {
      agency = &p;
    }
  }
  ASSERT_NE(agency, nullptr);
  // The list leaves the designation history out; the record has it.
  reg::GetPartnerRequest get;
  get.set_id(agency->id());
  reg::Partner record;
  ASSERT_TRUE(registry->GetPartner(As(admin()).get(), get, &record).ok());
  agency = &record;
  EXPECT_EQ(agency->name().at("en"), "Ulaanbaatar Medical Travel");
  EXPECT_EQ(agency->status(), reg::SUSPENDED);
  ASSERT_THAT(agency->designations(), SizeIs(2));
  EXPECT_EQ(agency->designations(0).action(), reg::DESIGNATED);
  EXPECT_EQ(agency->designations(0).reason(), "2019 agency round");
  EXPECT_EQ(agency->designations(0).decision_ref(),
            "영등포구 공고 제2019-100호");
  EXPECT_EQ(agency->designations(1).action(), reg::SUSPENDED_ACTION);
  EXPECT_EQ(agency->designations(1).reason(), "registration lapsed");
  reg::ListGrantsRequest grants_request;
  grants_request.set_partner_id(agency->id());
  reg::ListGrantsResponse grants;
  ASSERT_TRUE(
      registry->ListGrants(As(admin()).get(), grants_request, &grants).ok());
  ASSERT_THAT(grants.grants(), SizeIs(1));  // the refused try left nothing
  EXPECT_EQ(grants.grants(0).amount_krw(), 5'000'000);
  EXPECT_EQ(grants.grants(0).programme(), reg::MARKETING);
  EXPECT_EQ(grants.grants(0).purpose().at("ko"), "몽골 설명회 통역");

  // The dashboard's download is the API's table.
  v1::GetCouncilReportRequest report;
  report.set_year(2019);
  report.set_programme_code("g-2018");
  report.set_language("ko");
  report.set_format(v1::GetCouncilReportRequest::CSV);
  report.set_table(v1::GetCouncilReportRequest::KPI);
  v1::Document csv;
  // As the officer's role sees it (a council member's is suppressed).
  ASSERT_TRUE(stub_->GetCouncilReport(As(admin()).get(), report, &csv).ok());
  std::ifstream downloaded(absl::StrCat(downloads, "/", csv.filename()),
                           std::ios::binary);
  ASSERT_TRUE(downloaded.good()) << "no download " << csv.filename();
  std::stringstream bytes;
  bytes << downloaded.rdbuf();
  EXPECT_EQ(bytes.str(), csv.content());
}

// The district's view of registrants' mail: a refused mail is there with the
// relay's reply, and the officer sends it again from the page; the other
// mail went out through a real SMTP server.
TEST_F(GatewayServiceTest, AdminSeesMailAndSendsAFailedOneAgainInChromium) {
  auto events = ev1::EventsService::NewStub(Local(events_->port()));
  ev1::CreateEventRequest create;
  ev1::Event& e = *create.mutable_event();
  e.set_type(ev1::BRIEFING_SESSION);
  (*e.mutable_title())["ko"] = "러시아 의료관광 설명회";
  (*e.mutable_title())["ru"] = "Презентация медицинского туризма";
  e.set_venue("Lotte Hotel Vladivostok");
  e.set_country("RU");
  e.set_time_zone("Asia/Vladivostok");
  const absl::Time start = clock_->Now() + absl::Hours(24 * 45);
  *e.mutable_start_time() = events::ToTimestamp(start);
  *e.mutable_end_time() = events::ToTimestamp(start + absl::Hours(2));
  ev1::EventResponse created;
  grpc::Status s = events->CreateEvent(As(admin()).get(), create, &created);
  ASSERT_TRUE(s.ok()) << s.error_message();
  ev1::TransitionRequest publish;
  publish.set_id(created.event().id());
  ev1::EventResponse published;
  ASSERT_TRUE(
      events->PublishEvent(As(admin()).get(), publish, &published).ok());
  for (const char* email : {"nobody@reject.example", "ivan@example.ru"}) {
    ev1::CreateRegistrationRequest request;
    ev1::Registration* r = request.mutable_registration();
    r->set_event_id(created.event().id());
    r->set_name(email);
    r->set_country("RU");
    r->set_email(email);
    r->set_language("ru");
    ev1::RegistrationResponse registered;
    s = events->CreateRegistration(As(admin()).get(), request, &registered);
    ASSERT_TRUE(s.ok()) << s.error_message();
  }
  // The worker has tried both.
  mail::v1::ListMailRequest failed_only;
  failed_only.add_states(mail::v1::FAILED);
  mail::v1::ListMailResponse failed;
  const absl::Time deadline = absl::Now() + absl::Seconds(20);
  do {
    s = events->ListEventMail(As(admin()).get(), failed_only, &failed);
    ASSERT_TRUE(s.ok()) << s.error_message();
    if (failed.mail_size() > 0) break;
    absl::SleepFor(absl::Milliseconds(100));
  } while (absl::Now() < deadline);
  ASSERT_EQ(failed.mail_size(), 1);
  const int64_t refused = failed.mail(0).id();
  bool delivered = false;
  for (const auto& m : mail_capture_->WaitFor(1)) {
    delivered |=
        m.fields().at("rcpt_tos").list_value().values(0).string_value() ==
        "ivan@example.ru";
  }
  EXPECT_TRUE(delivered);

  const std::string password = "mail officer password";
  std::string secret;
  auto officer =
      stack_->AddPerson("mail.officer", auth::v1::ADMIN, 0, password, &secret);
  ASSERT_TRUE(officer.ok()) << officer.status();
  clock_->Advance(absl::Seconds(registry::kTotpStepSeconds));
  const std::string code = registry::TotpCode(secret, clock_->Now());
  const std::string origin =
      absl::StrCat("http://127.0.0.1:", gateway_->http_port());
  const std::string shots = SMZ_TEST_ARTIFACT_DIR;
  const std::string row = absl::StrCat("tr[data-mail='", refused, "']");
  const BrowserPage page = OpenInBrowser(
      absl::StrCat(origin, "/?next=%2Fadmin%2Fmail"),
      absl::StrCat("return document.body.dataset.retried === '", refused,
                   "' && document.querySelector(\"", row,
                   "\").dataset.state === 'PENDING'"),
      absl::StrCat(shots, "/admin-mail-retried.png"),
      {"type:#login=mail.officer", absl::StrCat("type:#password=", password),
       absl::StrCat("type:#code=", code), "click:#signin-form button",
       "wait:return location.pathname === '/admin/mail' && "
       "document.body.dataset.loaded === 'yes'",
       absl::StrCat("shot:", shots, "/admin-mail.png"), "size:390x1400",
       absl::StrCat("shot:", shots, "/admin-mail-phone.png"), "size:1280x1400",
       // The statistics service's outbox (ListStatsMail), and back.
       "select:#service=statsMail",
       "wait:return document.body.dataset.listed === 'statsMail' && "
       "!document.querySelector('#mail tbody tr[data-state=FAILED]')",
       absl::StrCat("shot:", shots, "/admin-mail-stats.png"),
       "select:#service=eventMail",
       "wait:return document.body.dataset.listed === 'eventMail'",
       "select:#state=FAILED",
       absl::StrCat("wait:return document.querySelector(\"", row,
                    " [data-retry]\") !== null && "
                    "!document.querySelector('tr[data-state=SENT]') && "
                    "document.querySelector(\"",
                    row, " td.error\").textContent.includes('550')"),
       absl::StrCat("shot:", shots, "/admin-mail-failed.png"),
       absl::StrCat("click:", row, " [data-retry]")});
  ASSERT_TRUE(page.met) << page.dom.substr(0, 6000);
  EXPECT_THAT(page.csp_violations, ::testing::IsEmpty());
  for (const std::string& line : page.console) {
    EXPECT_THAT(line, Not(HasSubstr("Uncaught"))) << line;
  }
  // The row stays, sending again, with its Russian subject.
  EXPECT_THAT(page.dom, HasSubstr("Регистрация подтверждена"));

  // Sent again: tried once more, and refused again by the same relay.
  mail::v1::ListMailResponse after;
  const absl::Time again = absl::Now() + absl::Seconds(20);
  do {
    s = events->ListEventMail(As(admin()).get(), failed_only, &after);
    ASSERT_TRUE(s.ok()) << s.error_message();
    if (after.mail_size() == 1 && after.mail(0).attempts() == 1) break;
    absl::SleepFor(absl::Milliseconds(100));
  } while (absl::Now() < again);
  ASSERT_EQ(after.mail_size(), 1);
  EXPECT_EQ(after.mail(0).id(), refused);
  EXPECT_THAT(after.mail(0).last_error(), HasSubstr("550"));
  // Not the council's to see.
  EXPECT_EQ(events->ListEventMail(As(token("council")).get(), {}, &after)
                .error_code(),
            grpc::StatusCode::PERMISSION_DENIED);

  // The other tests' upcoming events are theirs alone.
  ev1::TransitionRequest cancel;
  cancel.set_id(created.event().id());
  cancel.set_reason("test over");
  ASSERT_TRUE(events->CancelEvent(As(admin()).get(), cancel, &published).ok());
}

// An organizer runs an event in the workspace: creates it (a refused field
// marked in place first), publishes it, registers two people for one seat,
// postpones it, cancels the first one's seat for them (the second is
// promoted) and downloads the list; the registrants are told each step by
// mail in their own language.
TEST_F(GatewayServiceTest, OrganizerRunsAnEventInChromium) {
  const std::string password = "organizer password kim";
  auto organizer =
      stack_->AddPerson("organizer.kim", auth::v1::ORGANIZER, 0, password);
  ASSERT_TRUE(organizer.ok()) << organizer.status();
  const absl::TimeZone ulaanbaatar = *events::LoadZone("Asia/Ulaanbaatar");
  const absl::Time start =
      absl::FromCivil(absl::CivilHour(absl::ToCivilDay(
                          clock_->Now() + absl::Hours(24 * 40), ulaanbaatar)) +
                          10,
                      ulaanbaatar);
  auto local = [&](absl::Time t) {
    return absl::FormatTime("%Y-%m-%dT%H:%M", t, ulaanbaatar);
  };
  const absl::Time moved = start + absl::Hours(24 * 7);
  const std::string origin =
      absl::StrCat("http://127.0.0.1:", gateway_->http_port());
  const std::string shots = SMZ_TEST_ARTIFACT_DIR;
  const std::string downloads = absl::StrCat(shots, "/downloads-organizer");
  std::filesystem::remove_all(downloads);
  std::filesystem::create_directories(downloads);
  const size_t mail_before = mail_capture_->Received().size();
  const BrowserPage page = OpenInBrowser(
      absl::StrCat(origin, "/?next=%2Forganizer%2Fevents"),
      "return document.body.dataset.exported === '2' && (window.__t = "
      "window.__t || Date.now()) && Date.now() - window.__t > 1500",
      absl::StrCat(shots, "/organizer-event-done.png"),
      {"type:#login=organizer.kim", absl::StrCat("type:#password=", password),
       "click:#signin-form button",
       "wait:return location.pathname === '/organizer/events' && "
       "document.body.dataset.loaded === 'yes'",
       "select:#new-type=BRIEFING_SESSION",
       "type:#new-title-ko=울란바토르 의료관광 설명회",
       "type:#new-title-en=Ulaanbaatar medical tourism briefing",
       "select:#new-title-lang=mn",
       "type:#new-title-other=Улаанбаатар эмнэлгийн аялал жуулчлалын "
       "танилцуулга",
       "type:#new-venue=Shangri-La Ulaanbaatar", "type:#new-city=Ulaanbaatar",
       "select:#new-country=MN", "select:#new-zone=Asia/Ulaanbaatar",
       absl::StrCat("value:#new-start=", local(start)),
       // Ends before it starts: refused by the service, marked in place.
       absl::StrCat("value:#new-end=", local(start - absl::Hours(1))),
       "type:#new-capacity=1", "click:#create button[type=submit]",
       "wait:return document.querySelector('[data-field=end_time].refused') "
       "!== null",
       absl::StrCat("shot:", shots, "/organizer-events-refused.png"),
       absl::StrCat("value:#new-end=", local(start + absl::Hours(3))),
       "click:#create button[type=submit]",
       "wait:return location.pathname === '/organizer/event' && "
       "document.body.dataset.state === 'DRAFT'",
       "click:#publish",
       "wait:return document.body.dataset.done === 'publish:PUBLISHED'",
       "type:#reg-name=Батбаяр", "type:#reg-org=Mongol Medical Travel",
       "select:#reg-country=MN", "type:#reg-email=batbayar@example.mn",
       "select:#reg-language=mn", "click:#register button[type=submit]",
       "wait:return /:CONFIRMED$/.test(document.body.dataset.registered || "
       "'')",
       "type:#reg-name=Nguyễn Văn An", "select:#reg-country=VN",
       "type:#reg-email=an@example.vn", "select:#reg-language=vi",
       "click:#register button[type=submit]",
       "wait:return /:WAITLISTED$/.test(document.body.dataset.registered || "
       "'') && document.querySelector('tr[data-state=WAITLISTED]') !== null",
       absl::StrCat("shot:", shots, "/organizer-event-registrations.png"),
       absl::StrCat("value:#postpone-start=", local(moved)),
       absl::StrCat("value:#postpone-end=", local(moved + absl::Hours(3))),
       "type:#postpone-reason=Naadam holiday",
       "click:#postpone button[type=submit]",
       "wait:return document.body.dataset.done === 'postpone:POSTPONED'",
       "click:tr[data-state=CONFIRMED] [data-cancel]",
       "wait:return document.body.dataset.cancelled && "
       "document.querySelector('tr[data-state=WAITLISTED]') === null && "
       "document.querySelector('tr[data-state=CONFIRMED]') !== null",
       absl::StrCat("shot:", shots, "/organizer-event.png"), "size:390x2000",
       absl::StrCat("shot:", shots, "/organizer-event-phone.png"),
       "size:1280x2000", "click:#export"},
      downloads);
  ASSERT_TRUE(page.met) << page.dom.substr(0, 6000);
  EXPECT_THAT(page.csp_violations, ::testing::IsEmpty());
  for (const std::string& line : page.console) {
    EXPECT_THAT(line, Not(HasSubstr("Uncaught"))) << line;
  }

  // The events service has what the organizer did.
  auto events = ev1::EventsService::NewStub(Local(events_->port()));
  ev1::ListEventsRequest find;
  find.set_local_date_from(
      absl::FormatCivilTime(absl::ToCivilDay(moved, ulaanbaatar)));
  find.set_local_date_to(find.local_date_from());
  find.set_country("MN");
  ev1::ListEventsResponse found;
  grpc::Status s = events->ListEvents(As(admin()).get(), find, &found);
  ASSERT_TRUE(s.ok()) << s.error_message();
  ASSERT_EQ(found.events_size(), 1);
  const ev1::Event& event = found.events(0);
  EXPECT_EQ(event.state(), ev1::POSTPONED);
  EXPECT_EQ(events::ToTime(event.start_time()), moved);
  EXPECT_EQ(events::ToTime(event.original_start_time()), start);
  EXPECT_EQ(event.state_reason(), "Naadam holiday");
  EXPECT_EQ(event.title().at("mn"),
            "Улаанбаатар эмнэлгийн аялал жуулчлалын танилцуулга");
  ev1::ListRegistrationsRequest who;
  who.set_event_id(event.id());
  ev1::ListRegistrationsResponse registrations;
  s = events->ListRegistrations(As(admin()).get(), who, &registrations);
  ASSERT_TRUE(s.ok()) << s.error_message();
  ASSERT_EQ(registrations.registrations_size(), 2);
  EXPECT_EQ(registrations.registrations(0).state(),
            ev1::CANCELLED_BY_REGISTRANT);
  EXPECT_EQ(registrations.registrations(1).state(), ev1::CONFIRMED);

  // The list as a spreadsheet reads it.
  std::string csv;
  for (const auto& entry : std::filesystem::directory_iterator(downloads)) {
    std::ifstream in(entry.path());
    std::stringstream text;
    text << in.rdbuf();
    csv = text.str();
  }
  EXPECT_THAT(csv, HasSubstr("Батбаяр"));
  EXPECT_THAT(csv, HasSubstr("an@example.vn"));
  EXPECT_EQ(csv.substr(0, 3), "\xEF\xBB\xBF");  // the mark Excel needs

  // Each registrant was told each step, in their own language.
  std::map<std::string, std::vector<std::string>> subjects;
  const absl::Time deadline = absl::Now() + absl::Seconds(20);
  while (absl::Now() < deadline) {
    subjects.clear();
    const auto received = mail_capture_->Received();
    for (size_t i = mail_before; i < received.size(); ++i) {
      const auto& f = received[i].fields();
      subjects[f.at("rcpt_tos").list_value().values(0).string_value()]
          .push_back(f.at("subject").string_value());
    }
    if (subjects["batbayar@example.mn"].size() >= 3 &&
        subjects["an@example.vn"].size() >= 3) {
      break;
    }
    absl::SleepFor(absl::Milliseconds(100));
  }
  const std::string mn_title =
      "Улаанбаатар эмнэлгийн аялал жуулчлалын танилцуулга";
  EXPECT_THAT(
      subjects["batbayar@example.mn"],
      ::testing::ElementsAre(absl::StrCat("Бүртгэл баталгаажлаа: ", mn_title),
                             absl::StrCat("Шинэ огноо: ", mn_title),
                             absl::StrCat("Бүртгэл цуцлагдлаа: ", mn_title)));
  // Vietnamese: no Vietnamese title, so the English one.
  const std::string en_title = "Ulaanbaatar medical tourism briefing";
  EXPECT_THAT(
      subjects["an@example.vn"],
      ::testing::ElementsAre(absl::StrCat("Trong danh sách chờ: ", en_title),
                             absl::StrCat("Thời gian mới: ", en_title),
                             absl::StrCat("Đã có chỗ cho bạn: ", en_title)));

  // The other tests' upcoming events are theirs alone.
  ev1::TransitionRequest cancel;
  cancel.set_id(event.id());
  cancel.set_reason("test over");
  ev1::EventResponse cancelled;
  ASSERT_TRUE(events->CancelEvent(As(admin()).get(), cancel, &cancelled).ok());
}

// An organizer edits events in the workspace: a fam tour's description,
// hosting hospital and seats, an itinerary stop at that hospital; a
// registrant moved to the next date (the freed seat is then the tour's);
// the list downloaded as XLSX and read back by a real XLSX reader
// (openpyxl); a weekly course with a day off; and a past briefing
// completed with its outcome (attendees, MOUs, a lead, notes).
// Long by design: one organizer's afternoon, step by step.
TEST_F(GatewayServiceTest, OrganizerEditsMovesAndRecordsOutcomesInChromium) {
  const std::string password = "organizer password lee";
  auto organizer =
      stack_->AddPerson("organizer.lee", auth::v1::ORGANIZER, 0, password);
  ASSERT_TRUE(organizer.ok()) << organizer.status();
  auto events = ev1::EventsService::NewStub(Local(events_->port()));
  const absl::TimeZone seoul = *events::LoadZone("Asia/Seoul");
  const absl::CivilDay day = absl::ToCivilDay(clock_->Now(), seoul) + 30;
  auto at = [&](absl::CivilDay d, int hour) {
    return absl::FromCivil(absl::CivilHour(d) + hour, seoul);
  };
  auto local = [&](absl::Time t) {
    return absl::FormatTime("%Y-%m-%dT%H:%M", t, seoul);
  };
  auto publish = [&](ev1::EventType type, const std::string& title,
                     absl::Time start, absl::Time end, int capacity) {
    ev1::CreateEventRequest create;
    ev1::Event* e = create.mutable_event();
    e->set_type(type);
    (*e->mutable_title())["ko"] = title;
    (*e->mutable_title())["en"] = title;
    e->set_venue("Yeongdeungpo-gu Office");
    e->set_city("Seoul");
    e->set_country("KR");
    e->set_time_zone("Asia/Seoul");
    e->set_capacity(capacity);
    *e->mutable_start_time() = events::ToTimestamp(start);
    *e->mutable_end_time() = events::ToTimestamp(end);
    ev1::EventResponse created;
    grpc::Status s = events->CreateEvent(As(admin()).get(), create, &created);
    EXPECT_TRUE(s.ok()) << s.error_message();
    ev1::TransitionRequest step;
    step.set_id(created.event().id());
    s = events->PublishEvent(As(admin()).get(), step, &created);
    EXPECT_TRUE(s.ok()) << s.error_message();
    return created.event();
  };
  const ev1::Event tour =
      publish(ev1::FAM_TOUR, "Yeouido fam tour", at(day, 9), at(day, 18), 2);
  const ev1::Event next = publish(ev1::BRIEFING_SESSION, "Next briefing",
                                  at(day + 7, 10), at(day + 7, 12), 5);
  const ev1::Event course = publish(ev1::TRAINING, "Coordinator course",
                                    at(day + 14, 10), at(day + 35, 12), 20);
  const ev1::Event past = publish(ev1::BRIEFING_SESSION, "Almaty briefing 2016",
                                  at(absl::CivilDay(2016, 5, 10), 10),
                                  at(absl::CivilDay(2016, 5, 10), 13), 0);
  auto enrol = [&](const std::string& name, const std::string& email) {
    ev1::CreateRegistrationRequest request;
    ev1::Registration* r = request.mutable_registration();
    r->set_event_id(tour.id());
    r->set_name(name);
    r->set_organization("Mongol Medical Travel");
    r->set_country("MN");
    r->set_email(email);
    r->set_language("mn");
    ev1::RegistrationResponse response;
    grpc::Status s =
        events->CreateRegistration(As(admin()).get(), request, &response);
    EXPECT_TRUE(s.ok()) << s.error_message();
    return response.registration();
  };
  const ev1::Registration ganbat = enrol("Ганбат", "ganbat@example.mn");
  enrol("Сарнай", "sarnai@example.mn");
  const std::string host = absl::StrCat(hospital_ids_[1]);
  static constexpr const char* kDays[] = {"MO", "TU", "WE", "TH",
                                          "FR", "SA", "SU"};
  const std::string weekday = kDays[static_cast<int>(
      absl::GetWeekday(day + 14))];  // absl::Weekday counts from Monday

  const std::string origin =
      absl::StrCat("http://127.0.0.1:", gateway_->http_port());
  const std::string shots = SMZ_TEST_ARTIFACT_DIR;
  const std::string downloads =
      absl::StrCat(shots, "/downloads-organizer-edit");
  std::filesystem::remove_all(downloads);
  std::filesystem::create_directories(downloads);
  const std::string row = "#sessions-table tbody tr:last-child ";
  const std::string lead = "#leads tbody tr:last-child ";
  const BrowserPage page = OpenInBrowser(
      absl::StrCat(origin, "/?next=%2Forganizer%2Fevent%3Fid%3D", tour.id()),
      "return document.body.dataset.saved === 'outcome' && (window.__t = "
      "window.__t || Date.now()) && Date.now() - window.__t > 800",
      absl::StrCat(shots, "/organizer-outcome.png"),
      SignInSteps(
          "organizer.lee", password,
          {"wait:return location.pathname === '/organizer/event' && "
           "document.body.dataset.loaded === 'yes' && "
           "document.getElementById('ed-hosts').children.length > 0",
           "click:#edit summary",
           "type:#ed-desc-en=Three hospitals of the zone in one day.",
           absl::StrCat("click:#ed-hosts input[value='", host, "']"),
           "value:#ed-capacity=3",
           "click:#details button[type=submit]",
           "wait:return document.body.dataset.saved === 'details'",
           absl::StrCat("shot:", shots, "/organizer-edit.png"),
           "click:#add-visit",
           absl::StrCat("type:", row, "[name=title_en_short]=Visit: 기관1"),
           absl::StrCat("value:", row, "[name=start]=", local(at(day, 10))),
           absl::StrCat("value:", row, "[name=end]=", local(at(day, 12))),
           absl::StrCat("select:", row, "select[name=host]=", host),
           "click:#save-sessions",
           "wait:return document.body.dataset.saved === 'sessions' && "
           "document.getElementById('sessions-table').dataset.rows === '1'",
           absl::StrCat("shot:", shots, "/organizer-itinerary.png"),
           absl::StrCat("click:tr[data-registration='", ganbat.id(),
                        "'] [data-move]"),
           absl::StrCat("wait:return document.querySelector(\"#move-target "
                        "option[value='",
                        next.id(), "']\") !== null"),
           absl::StrCat("select:#move-target=", next.id()),
           absl::StrCat("shot:", shots, "/organizer-move.png"),
           "click:#move button[type=submit]",
           absl::StrCat("wait:return document.body.dataset.moved === '",
                        ganbat.id(), ":", next.id(), "'"),
           "click:#export-xlsx",
           "wait:return document.body.dataset.exportedFormat === 'XLSX'",
           absl::StrCat("go:", origin, "/organizer/event?id=", course.id()),
           "wait:return document.body.dataset.loaded === 'yes'",
           "select:#rec-freq=WEEKLY",
           absl::StrCat("click:#rec-day-", weekday),
           absl::StrCat("value:#rec-start=", local(at(day + 14, 10))),
           absl::StrCat("value:#rec-end=", local(at(day + 14, 12))),
           "value:#rec-count=4",
           absl::StrCat("type:#rec-exceptions=",
                        absl::FormatCivilTime(day + 21)),
           "click:#recurrence button[type=submit]",
           "wait:return document.body.dataset.saved === 'recurrence' && "
           "document.getElementById('occurrences').dataset.count === '3'",
           absl::StrCat("shot:", shots, "/organizer-recurrence.png"),
           absl::StrCat("go:", origin, "/organizer/event?id=", past.id()),
           "wait:return document.body.dataset.state === 'PUBLISHED'",
           "click:#complete",
           "wait:return document.body.dataset.done === 'complete:COMPLETED'",
           "value:#out-attendees=14",
           "value:#out-mous=2",
           "click:#add-lead",
           absl::StrCat("type:", lead, "[name=agency]=Silk Road Health"),
           absl::StrCat("select:", lead, "[name=country]=KZ"),
           absl::StrCat("type:", lead, "[name=note]=Twelve patients in May"),
           "type:#out-notes-ko=알마티 현지 병원 두 곳과 MOU",
           "click:#outcome button[type=submit]"}),
      downloads, /*timeout_seconds=*/60);
  ASSERT_TRUE(page.met) << page.dom.substr(0, 6000);
  EXPECT_THAT(page.csp_violations, ::testing::IsEmpty());
  for (const std::string& line : page.console) {
    EXPECT_THAT(line, Not(HasSubstr("Uncaught"))) << line;
  }
  OpenInBrowser(
      absl::StrCat(origin, "/?next=%2Forganizer%2Fevent%3Fid%3D", tour.id()),
      "return document.body.dataset.loaded === 'yes' && (window.__t = "
      "window.__t || Date.now()) && Date.now() - window.__t > 500",
      absl::StrCat(shots, "/organizer-edit-phone.png"),
      SignInSteps("organizer.lee", password,
                  {"size:390x2400",
                   "wait:return document.body.dataset.loaded === 'yes'"}));

  // The events service has what the organizer did.
  auto get = [&](int64_t id) {
    ev1::GetEventRequest request;
    request.set_id(id);
    ev1::Event event;
    EXPECT_TRUE(events->GetEvent(As(admin()).get(), request, &event).ok());
    return event;
  };
  const ev1::Event edited = get(tour.id());
  EXPECT_EQ(edited.description().at("en"),
            "Three hospitals of the zone in one day.");
  EXPECT_THAT(edited.host_partner_ids(),
              ::testing::ElementsAre(hospital_ids_[1]));
  EXPECT_EQ(edited.capacity(), 3);
  ASSERT_EQ(edited.sessions_size(), 1);
  EXPECT_EQ(edited.sessions(0).kind(), ev1::VISIT);
  EXPECT_EQ(edited.sessions(0).host_partner_id(), hospital_ids_[1]);
  EXPECT_EQ(edited.sessions(0).title().at("en"), "Visit: 기관1");
  EXPECT_EQ(events::ToTime(edited.sessions(0).start_time()), at(day, 10));
  EXPECT_EQ(edited.title().at("ko"), "Yeouido fam tour");  // untouched
  EXPECT_EQ(edited.confirmed_count(), 1);
  ev1::GetRegistrationRequest who;
  who.set_id(ganbat.id());
  ev1::Registration moved;
  ASSERT_TRUE(events->GetRegistration(As(admin()).get(), who, &moved).ok());
  EXPECT_EQ(moved.event_id(), next.id());
  EXPECT_EQ(moved.state(), ev1::CONFIRMED);
  const ev1::Event repeated = get(course.id());
  ASSERT_EQ(repeated.occurrences_size(), 3);
  EXPECT_EQ(repeated.recurrence().exception_dates(0),
            absl::FormatCivilTime(day + 21));
  const ev1::Event done = get(past.id());
  EXPECT_EQ(done.state(), ev1::COMPLETED);
  EXPECT_EQ(done.outcome().attendees(), 14);
  EXPECT_EQ(done.outcome().mous_signed(), 2);
  ASSERT_EQ(done.outcome().leads_size(), 1);
  EXPECT_EQ(done.outcome().leads(0).agency(), "Silk Road Health");
  EXPECT_EQ(done.outcome().leads(0).country(), "KZ");
  EXPECT_EQ(done.outcome().notes().at("ko"), "알마티 현지 병원 두 곳과 MOU");

  // The workbook, as a spreadsheet program reads it (the tour's list after
  // the move: Сарнай confirmed, Ганбат no longer there).
  std::string xlsx;
  for (const auto& entry : std::filesystem::directory_iterator(downloads)) {
    if (entry.path().extension() == ".xlsx") xlsx = entry.path().string();
  }
  ASSERT_FALSE(xlsx.empty()) << "no XLSX downloaded";
  const std::string sheet = testing::CommandOutput(absl::StrCat(
      "/usr/bin/python3 -c \"import sys, openpyxl; "
      "ws = openpyxl.load_workbook(sys.argv[1]).active; "
      "[print('|'.join('' if c is None else str(c) for c in r)) for r in "
      "ws.iter_rows(values_only=True)]\" ",
      ShellQuoted(xlsx)));
  const std::vector<std::string> lines =
      absl::StrSplit(sheet, '\n', absl::SkipEmpty());
  ASSERT_THAT(lines, SizeIs(2)) << sheet;
  EXPECT_THAT(lines[0], HasSubstr("이름"));
  EXPECT_THAT(lines[1], HasSubstr("|Сарнай|Mongol Medical Travel|MN|"));
  EXPECT_THAT(lines[1], HasSubstr("|확정|"));

  // The other tests' upcoming events are theirs alone.
  for (int64_t id : {tour.id(), next.id(), course.id()}) {
    ev1::TransitionRequest cancel;
    cancel.set_id(id);
    cancel.set_reason("test over");
    ev1::EventResponse cancelled;
    ASSERT_TRUE(
        events->CancelEvent(As(admin()).get(), cancel, &cancelled).ok());
  }
}

TEST_F(GatewayServiceTest, UpcomingEventsArePublishedOnesSoonestFirst) {
  v1::ListUpcomingEventsRequest request;
  v1::UpcomingEvents upcoming;
  grpc::Status s =
      stub_->ListUpcomingEvents(As(token("council")).get(), request, &upcoming);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(upcoming.from_date(), "2019-12-31");
  EXPECT_EQ(upcoming.to_date(), "2020-03-30");
  ASSERT_THAT(upcoming.events(), SizeIs(1));
  EXPECT_EQ(upcoming.events(0).title().at("ko"), "신년 설명회");
  EXPECT_EQ(upcoming.events(0).state(), "PUBLISHED");
  EXPECT_EQ(upcoming.events(0).type(), "BRIEFING_SESSION");

  request.set_days(366);
  ASSERT_TRUE(
      stub_->ListUpcomingEvents(As(token("council")).get(), request, &upcoming)
          .ok());
  ASSERT_THAT(upcoming.events(), SizeIs(2));
  EXPECT_EQ(upcoming.events(1).title().at("ko"), "여름 설명회");
  request.set_limit(1);
  ASSERT_TRUE(
      stub_->ListUpcomingEvents(As(token("council")).get(), request, &upcoming)
          .ok());
  ASSERT_THAT(upcoming.events(), SizeIs(1));
  EXPECT_EQ(upcoming.events(0).title().at("ko"), "신년 설명회");

  request.set_days(400);
  request.set_limit(-1);
  s = stub_->ListUpcomingEvents(As(token("council")).get(), request, &upcoming);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(s.error_message(), HasSubstr("days"));
  EXPECT_THAT(s.error_message(), HasSubstr("limit"));
  EXPECT_EQ(stub_->ListUpcomingEvents(As(token("partner")).get(), {}, &upcoming)
                .error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(stub_->ListUpcomingEvents(As("").get(), {}, &upcoming).error_code(),
            grpc::StatusCode::UNAUTHENTICATED);
}

// A visitor abroad finds a public event in Mongolian, is told what the form
// misses, signs up (the event is full: the waiting list), confirms by the
// link read from the mail, is promoted when the person ahead cancels, is
// checked in at the door on the day by the QR code the promotion mail
// carried, and erases their data. No sign-in anywhere but the door's.
TEST_F(GatewayServiceTest, AVisitorSignsUpInMongolianInChromium) {
  auto events = ev1::EventsService::NewStub(Local(events_->port()));
  ev1::CreateEventRequest create;
  ev1::Event* draft = create.mutable_event();
  draft->set_type(ev1::BRIEFING_SESSION);
  (*draft->mutable_title())["ko"] = "다르항 의료관광 설명회";
  (*draft->mutable_title())["en"] = "Darkhan medical tourism briefing";
  (*draft->mutable_title())["mn"] =
      "Дархан эмнэлгийн аялал жуулчлалын танилцуулга";
  (*draft->mutable_description())["en"] =
      "Hospitals of Yeongdeungpo present their care and prices.";
  draft->set_venue("Darkhan Palace");
  draft->set_city("Darkhan");
  draft->set_country("MN");
  draft->set_time_zone("Asia/Ulaanbaatar");
  draft->set_capacity(1);
  draft->set_open_to_public(true);
  const absl::Time start = clock_->Now() + absl::Hours(24 * 45);
  *draft->mutable_start_time() = events::ToTimestamp(start);
  *draft->mutable_end_time() = events::ToTimestamp(start + absl::Hours(3));
  ev1::EventResponse created;
  grpc::Status s = events->CreateEvent(As(admin()).get(), create, &created);
  ASSERT_TRUE(s.ok()) << s.error_message();
  const int64_t id = created.event().id();
  ev1::TransitionRequest step;
  step.set_id(id);
  ev1::EventResponse published;
  ASSERT_TRUE(events->PublishEvent(As(admin()).get(), step, &published).ok());
  // The one seat is taken.
  ev1::CreateRegistrationRequest early;
  early.mutable_registration()->set_event_id(id);
  early.mutable_registration()->set_name("Early Bird");
  early.mutable_registration()->set_email("early@example.mn");
  ev1::RegistrationResponse first;
  ASSERT_TRUE(
      events->CreateRegistration(As(admin()).get(), early, &first).ok());

  const std::string origin =
      absl::StrCat("http://127.0.0.1:", gateway_->http_port());
  const std::string shots = SMZ_TEST_ARTIFACT_DIR;
  const std::string card = absl::StrCat("[data-event=\"", id, "\"]");
  const BrowserPage form = OpenInBrowser(
      absl::StrCat(origin, "/public/events?lang=mn"),
      "return document.querySelector('#result.done') !== null",
      absl::StrCat(shots, "/public-signup-sent.png"),
      {absl::StrCat("wait:return document.querySelector('", card,
                    " h2 a') !== null"),
       // One page of events: no "more" to press.
       "wait:return getComputedStyle(document.getElementById('more'))"
       ".display === 'none'",
       // The calendar feed, to subscribe to in the page's language.
       "wait:return document.getElementById('subscribe').href === "
       "'webcal://' + location.host + '/public/events.ics?language=mn'",
       absl::StrCat("shot:", shots, "/public-events.png"),
       absl::StrCat("click:", card, " h2 a"),
       "wait:return document.getElementById('signup') && "
       "!document.getElementById('signup').hidden",
       absl::StrCat("wait:return document.getElementById('add-calendar')"
                    ".getAttribute('href') === '/public/events.ics?event_id=",
                    id, "&language=mn'"),
       "type:#name=Батбаяр", "type:#organization=Darkhan Travel",
       "select:#country=MN", "type:#phone=+976 9911 2233",
       // No address and no consent yet: marked in place.
       "click:#submit",
       "wait:return document.querySelector('[data-field=email].invalid') "
       "!== null && document.querySelector('[data-field=consent].invalid') "
       "!== null",
       absl::StrCat("shot:", shots, "/public-event-refused.png"),
       "type:#email=visitor.mn@example.mn", "click:#consent", "click:#submit"});
  ASSERT_TRUE(form.met) << form.dom.substr(0, 4000);
  EXPECT_THAT(form.csp_violations, ::testing::IsEmpty());
  for (const std::string& line : form.console) {
    EXPECT_THAT(line, Not(HasSubstr("Uncaught"))) << line;
  }
  EXPECT_THAT(form.dom, HasSubstr("хүлээлгийн жагсаалтын 1-т"));

  // What a calendar app fetches, without a sign-in: the file itself.
  httplib::Client calendar_app("127.0.0.1", gateway_->http_port());
  for (const std::string& path :
       {std::string("/public/events.ics?language=mn"),
        absl::StrCat("/public/events.ics?event_id=", id, "&language=mn")}) {
    httplib::Result ics = calendar_app.Get(path);
    ASSERT_TRUE(ics) << path;
    EXPECT_EQ(ics->status, 200) << ics->body;
    EXPECT_EQ(ics->get_header_value("Content-Type"),
              "text/calendar; charset=utf-8");
    EXPECT_EQ(ics->get_header_value("Cache-Control"), "public, max-age=300");
    // Unfolded (RFC 5545 3.1): the title in the visitor's language.
    const std::string unfolded =
        absl::StrReplaceAll(ics->body, {{"\r\n ", ""}});
    EXPECT_THAT(unfolded, HasSubstr("SUMMARY:Дархан эмнэлгийн аялал жуулчлалын "
                                    "танилцуулга"));
    EXPECT_THAT(unfolded,
                HasSubstr(absl::StrCat("/public/event?id=", id, "&lang=mn")));
  }
  httplib::Result refused =
      calendar_app.Post("/public/events.ics", "{}", "application/json");
  ASSERT_TRUE(refused);
  EXPECT_EQ(refused->status, 405);
  refused = calendar_app.Get("/public/events.ics?language=xx");
  ASSERT_TRUE(refused);
  EXPECT_EQ(refused->status, 400);
  EXPECT_THAT(refused->body, HasSubstr("language"));

  // The link, from the mail as the capture server kept it.
  auto mail_to_visitor = [&](size_t at_least) {
    return mail_capture_->WaitForMailTo("visitor.mn@example.mn", at_least);
  };
  std::vector<google::protobuf::Struct> mail = mail_to_visitor(1);
  ASSERT_FALSE(mail.empty());
  const std::string text = mail[0].fields().at("text").string_value();
  const std::string prefix = "https://smz.example.org/public/signup?lang=mn#t=";
  const size_t at = text.find(prefix);
  ASSERT_NE(at, std::string::npos) << text;
  const std::string link = absl::StrCat(
      origin, text.substr(at + std::string("https://smz.example.org").size(),
                          prefix.size() - 23 + 48));
  const BrowserPage confirmed = OpenInBrowser(
      link,
      "return document.getElementById('sign-up').dataset.state === "
      "'WAITLISTED' && document.querySelector('#status.done') !== null",
      absl::StrCat(shots, "/public-signup-confirmed.png"),
      {"wait:return document.getElementById('sign-up').dataset.state === "
       "'HELD'",
       absl::StrCat("shot:", shots, "/public-signup-held.png"),
       "click:#confirm"});
  ASSERT_TRUE(confirmed.met) << confirmed.dom.substr(0, 4000);

  // The person ahead cancels: the seat is the visitor's, and the mail says so.
  ev1::CancelRegistrationRequest cancel;
  cancel.set_id(first.registration().id());
  ev1::Registration cancelled;
  ASSERT_TRUE(
      events->CancelRegistration(As(admin()).get(), cancel, &cancelled).ok());
  mail = mail_to_visitor(3);
  ASSERT_THAT(mail, SizeIs(3));
  EXPECT_THAT(mail[2].fields().at("subject").string_value(),
              HasSubstr("Танд суудал гарлаа"));

  // On the day, at the door: the code in the promotion mail's QR image (read
  // back by a real QR reader) checks the visitor in.
  const std::string code = testing::MailCapture::QrCodeOf(mail[2]);
  ASSERT_EQ(code.size(), 19u) << mail[2].fields().at("text").string_value();
  const std::string door_password = "door password bat";
  ASSERT_TRUE(
      stack_->AddPerson("door.bat", auth::v1::ORGANIZER, 0, door_password)
          .ok());
  ClockAt the_day(start - absl::Hours(1));
  const BrowserPage door = OpenInBrowser(
      absl::StrCat(origin, "/?next=%2Forganizer%2Fcheckin%3Fevent%3D", id),
      "return document.querySelector('#result').dataset.result === 'ok'",
      absl::StrCat(shots, "/public-visitor-at-the-door-phone.png"),
      {"size:390x1100", "type:#login=door.bat",
       absl::StrCat("type:#password=", door_password),
       "click:#signin-form button",
       "wait:return document.body.dataset.ready === '1'",
       absl::StrCat("type:#code=", code), "click:#scan button[type=submit]"});
  ASSERT_TRUE(door.met) << door.dom.substr(0, 4000);
  EXPECT_THAT(door.dom, HasSubstr("Батбаяр"));
  ev1::ListRegistrationsRequest arrived;
  arrived.set_event_id(id);
  arrived.add_states(ev1::CONFIRMED);
  ev1::ListRegistrationsResponse at_the_door;
  ASSERT_TRUE(
      events->ListRegistrations(As(admin()).get(), arrived, &at_the_door).ok());
  ASSERT_EQ(at_the_door.registrations_size(), 1);
  EXPECT_EQ(at_the_door.registrations(0).name(), "Батбаяр");
  EXPECT_EQ(at_the_door.registrations(0).attendance(), ev1::ATTENDED);

  const BrowserPage erased = OpenInBrowser(
      link,
      "return document.getElementById('sign-up').dataset.state === 'ERASED'",
      absl::StrCat(shots, "/public-signup-erased.png"),
      {"wait:return document.getElementById('sign-up').dataset.state === "
       "'CONFIRMED'",
       absl::StrCat("shot:", shots, "/public-signup-promoted.png"),
       "size:390x1200",
       absl::StrCat("shot:", shots, "/public-signup-promoted-phone.png"),
       "size:1280x1200",
       // The page asks before it erases; the person says yes.
       "wait:return (window.confirm = () => true) && true", "click:#erase"});
  ASSERT_TRUE(erased.met) << erased.dom.substr(0, 4000);

  ev1::ListRegistrationsRequest who;
  who.set_event_id(id);
  ev1::ListRegistrationsResponse registrations;
  ASSERT_TRUE(
      events->ListRegistrations(As(admin()).get(), who, &registrations).ok());
  ASSERT_EQ(registrations.registrations_size(), 2);
  EXPECT_EQ(registrations.registrations(1).name(), "");
  EXPECT_EQ(registrations.registrations(1).email(), "");
  EXPECT_TRUE(registrations.registrations(1).public_sign_up());
  // Other tests count upcoming events: this one goes.
  step.set_reason("test over");
  ASSERT_TRUE(events->CancelEvent(As(admin()).get(), step, &published).ok());
}

// At the door, on a phone: an organizer checks people in with the codes
// their mail carried as QR images (read back here by a real QR reader and
// entered as a scanner types them), hears when one comes twice or a code
// is wrong, and marks someone without a code by hand.
TEST_F(GatewayServiceTest, OrganizerChecksPeopleInAtTheDoorInChromium) {
  const std::string password = "door password lee";
  ASSERT_TRUE(
      stack_->AddPerson("door.lee", auth::v1::ORGANIZER, 0, password).ok());
  auto events = ev1::EventsService::NewStub(Local(events_->port()));
  ev1::CreateEventRequest create;
  ev1::Event* draft = create.mutable_event();
  draft->set_type(ev1::TRAINING);
  (*draft->mutable_title())["ko"] = "의료관광 코디네이터 교육";
  (*draft->mutable_title())["en"] = "Medical tourism coordinator training";
  draft->set_venue("Yeongdeungpo-gu Office");
  draft->set_room("Hall 2");
  draft->set_city("Seoul");
  draft->set_country("KR");
  draft->set_time_zone("Asia/Seoul");
  draft->set_capacity(30);
  // Starts in two hours: the door is open.
  const absl::Time start = clock_->Now() + absl::Hours(2);
  *draft->mutable_start_time() = events::ToTimestamp(start);
  *draft->mutable_end_time() = events::ToTimestamp(start + absl::Hours(3));
  ev1::EventResponse created;
  grpc::Status s = events->CreateEvent(As(admin()).get(), create, &created);
  ASSERT_TRUE(s.ok()) << s.error_message();
  const int64_t id = created.event().id();
  ev1::TransitionRequest step;
  step.set_id(id);
  ev1::EventResponse published;
  ASSERT_TRUE(events->PublishEvent(As(admin()).get(), step, &published).ok());
  const std::vector<std::pair<std::string, std::string>> people = {
      {"김하늘", "sky.kim@door.example"},
      {"Nguyễn Thị Mai", "mai@door.example"},
      {"Сараа", "saraa@door.example"}};
  for (const auto& [name, email] : people) {
    ev1::CreateRegistrationRequest add;
    add.mutable_registration()->set_event_id(id);
    add.mutable_registration()->set_name(name);
    add.mutable_registration()->set_organization("Yeouido Hospital");
    add.mutable_registration()->set_country("KR");
    add.mutable_registration()->set_email(email);
    ev1::RegistrationResponse added;
    s = events->CreateRegistration(As(admin()).get(), add, &added);
    ASSERT_TRUE(s.ok()) << s.error_message();
  }
  std::vector<std::string> codes;
  for (const auto& [name, email] : people) {
    const auto mail = mail_capture_->WaitForMailTo(email, 1);
    ASSERT_EQ(mail.size(), 1u) << email;
    codes.push_back(testing::MailCapture::QrCodeOf(mail[0]));
    ASSERT_EQ(codes.back().size(), 19u) << email;
  }
  // As people type it: lower case, no hyphens.
  std::string typed = absl::AsciiStrToLower(codes[0]);
  typed.erase(std::remove(typed.begin(), typed.end(), '-'), typed.end());

  const std::string origin =
      absl::StrCat("http://127.0.0.1:", gateway_->http_port());
  const std::string shots = SMZ_TEST_ARTIFACT_DIR;
  const BrowserPage page = OpenInBrowser(
      absl::StrCat(origin, "/?next=%2Forganizer%2Fcheckin%3Fevent%3D", id),
      "return document.querySelector('#counts').dataset.arrived === '3' && "
      "document.querySelector('[data-arrive]') === null",
      absl::StrCat(shots, "/checkin-done-phone.png"),
      {"size:390x1100", "type:#login=door.lee",
       absl::StrCat("type:#password=", password), "click:#signin-form button",
       "wait:return document.body.dataset.ready === '1' && "
       "document.body.dataset.loaded === '3'",
       // Headless Chromium on Linux reads no QR codes itself: the page says
       // so and offers the typed code.
       "wait:return document.querySelector('#camera').hidden && "
       "!document.querySelector('#no-camera').hidden",
       absl::StrCat("type:#code=", codes[0]), "click:#scan button[type=submit]",
       "wait:return document.querySelector('#result').dataset.result === 'ok'",
       absl::StrCat("shot:", shots, "/checkin-welcome-phone.png"),
       absl::StrCat("type:#code=", typed), "click:#scan button[type=submit]",
       "wait:return document.querySelector('#result').dataset.result === "
       "'again'",
       absl::StrCat("shot:", shots, "/checkin-again-phone.png"),
       "type:#code=ZZZZ-ZZZZ-ZZZZ-ZZZY", "click:#scan button[type=submit]",
       "wait:return document.querySelector('#result').dataset.result === "
       "'refused'",
       absl::StrCat("shot:", shots, "/checkin-refused-phone.png"),
       absl::StrCat("type:#code=", codes[1]), "click:#scan button[type=submit]",
       "wait:return document.querySelector('#counts').dataset.arrived === '2'",
       // Сараа left her phone at the hotel: found by name, marked by hand.
       "type:#find=сар", "click:#waiting-only",
       "wait:return document.querySelectorAll('[data-arrive]').length === 1",
       "click:[data-arrive]"});
  ASSERT_TRUE(page.met) << page.dom.substr(0, 6000);
  EXPECT_THAT(page.csp_violations, ::testing::IsEmpty());
  for (const std::string& line : page.console) {
    EXPECT_THAT(line, Not(HasSubstr("Uncaught"))) << line;
  }

  ev1::GetEventRequest get;
  get.set_id(id);
  ev1::Event after;
  ASSERT_TRUE(events->GetEvent(As(admin()).get(), get, &after).ok());
  EXPECT_EQ(after.attended_count(), 3);
  step.set_reason("test over");
  ASSERT_TRUE(events->CancelEvent(As(admin()).get(), step, &published).ok());
}

// A hanging stats service: the answer comes within the deadline, with the
// stats section marked and the recorded figures standing in.
TEST_F(GatewayServiceTest, SlowBackendIsBoundedByTheDeadline) {
  HangingStats hanging;
  grpc::ServerBuilder builder;
  int port = 0;
  builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(),
                           &port);
  builder.RegisterService(&hanging);
  std::unique_ptr<grpc::Server> slow = builder.BuildAndStart();
  ASSERT_NE(slow, nullptr);
  GatewayServerOptions options;
  options.server.listen = "127.0.0.1:0";
  options.registry_target = stack_->registry().target();
  options.stats_target = absl::StrCat("127.0.0.1:", port);
  options.events_target = absl::StrCat("127.0.0.1:", events_->port());
  options.programme_target = absl::StrCat("127.0.0.1:", programme_->port());
  options.gateway.backend_deadline = absl::Milliseconds(300);
  options.clock = clock_;
  auto gateway = GatewayServer::Start(options);
  ASSERT_TRUE(gateway.ok()) << gateway.status();
  auto stub = v1::GatewayService::NewStub(Local((*gateway)->port()));

  v1::GetKpiTableRequest request;
  request.set_programme_code("g-2018");
  request.set_as_of("2019-12-31");
  v1::KpiTable table;
  grpc::Status s =
      stub->GetKpiTable(As(token("council")).get(), request, &table);
  ASSERT_TRUE(s.ok()) << s.error_message();
  const v1::Section& stats_section = SectionOf(table.sections(), "stats");
  EXPECT_FALSE(stats_section.available());
  EXPECT_THAT(stats_section.reason(), HasSubstr("DEADLINE_EXCEEDED"));
  EXPECT_TRUE(SectionOf(table.sections(), "events").available());
  const v1::KpiRow& patients = table.rows(1);
  EXPECT_THAT(patients.live_unavailable_reason(), HasSubstr("stats"));
  EXPECT_EQ(patients.years(1).origin(), v1::KpiYear::RECORDED);
  EXPECT_EQ(patients.years(1).result(), 6578);
  EXPECT_EQ(table.rows(0).years(1).live(), 3) << "events still answered";
  (*gateway)->Shutdown();
  slow->Shutdown();
}

// The council's tables come from the gateway's memory while no backend's
// data has changed, and a change in any of the four is in the very next
// answer: a new partner, a month's report, an event held, money spent.
TEST_F(GatewayServiceTest, CouncilTablesFromMemorySeeEveryEarlierWrite) {
  CouncilCache* cache = gateway_->council_cache();
  ASSERT_NE(cache, nullptr);
  v1::GetZoneOverviewRequest request;
  request.set_year(2019);
  request.set_as_of("2019-12-31");
  auto overview = [&] {
    v1::ZoneOverview answer;
    grpc::Status s =
        stub_->GetZoneOverview(As(admin()).get(), request, &answer);
    EXPECT_TRUE(s.ok()) << s.error_message();
    for (const v1::Section& section : answer.sections()) {
      EXPECT_TRUE(section.available()) << section.name() << section.reason();
    }
    return answer;
  };
  // The same answer again, from memory.
  auto from_memory = [&](const v1::ZoneOverview& last) {
    const int64_t hits = cache->hits();
    EXPECT_TRUE(
        google::protobuf::util::MessageDifferencer::Equals(overview(), last));
    EXPECT_EQ(cache->hits(), hits + 1) << "computed again, unchanged";
  };
  auto total = [](const auto& counts) {
    int64_t sum = 0;
    for (const v1::CountByName& c : counts) sum += c.count();
    return sum;
  };
  const v1::ZoneOverview before = overview();
  from_memory(before);

  // Registry: a newly designated hospital counts at once.
  absl::StatusOr<int64_t> hospital = stack_->AddPartner(
      testing::TestHospital("새병원"), "2019-01-15", "2022-12-31");
  ASSERT_TRUE(hospital.ok()) << hospital.status();
  const v1::ZoneOverview with_partner = overview();
  EXPECT_EQ(total(with_partner.partners_by_kind()),
            total(before.partners_by_kind()) + 1);
  from_memory(with_partner);

  // Stats: its November report, early in December (ADMIN sees every
  // hospital's figures).
  auto stats_stub = stats::v1::StatsService::NewStub(Local(stats_->port()));
  stats::v1::SubmitReportRequest submit;
  submit.mutable_report()->set_partner_id(*hospital);
  submit.mutable_report()->set_period("2019-11");
  stats::v1::NewPatientCell* cell = submit.mutable_report()->add_new_patients();
  cell->set_nationality("VN");
  cell->set_count(17);
  stats::v1::VisitCell* visit = submit.mutable_report()->add_visits();
  visit->set_nationality("VN");
  visit->set_department("dermatology");
  visit->set_care_type(stats::v1::OUTPATIENT);
  visit->set_count(20);
  stats::v1::SubmitReportResponse submitted;
  grpc::Status s;
  {
    ClockAt early_december(Seoul(2019, 12, 5, 9));
    s = stats_stub->SubmitReport(As(admin()).get(), submit, &submitted);
  }
  ASSERT_TRUE(s.ok()) << s.error_message();
  const v1::ZoneOverview with_report = overview();
  EXPECT_EQ(with_report.patients_ytd(), with_partner.patients_ytd() + 17);
  from_memory(with_report);

  // Events: a fam tour held in November, completed.
  auto events = ev1::EventsService::NewStub(Local(events_->port()));
  auto freshness =
      freshness::v1::FreshnessService::NewStub(Local(events_->port()));
  auto stamp_of = [](freshness::v1::FreshnessService::Stub& stub) {
    grpc::ClientContext context;  // no credential: the stamp needs none
    freshness::v1::Stamp stamp;
    grpc::Status status = stub.GetStamp(&context, {}, &stamp);
    EXPECT_TRUE(status.ok()) << status.error_message();
    EXPECT_FALSE(stamp.stamp().empty());
    return stamp.stamp();
  };
  const std::string events_stamp = stamp_of(*freshness);
  ev1::CreateEventRequest create;
  ev1::Event& tour = *create.mutable_event();
  tour.set_type(ev1::FAM_TOUR);
  (*tour.mutable_title())["ko"] = "11월 팸투어";
  *tour.mutable_start_time() = events::ToTimestamp(Seoul(2019, 11, 5, 10));
  *tour.mutable_end_time() = events::ToTimestamp(Seoul(2019, 11, 5, 17));
  ev1::EventResponse created;
  s = events->CreateEvent(As(admin()).get(), create, &created);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_NE(stamp_of(*freshness), events_stamp) << "a write moves the stamp";
  ev1::GetEventRequest get;
  get.set_id(created.event().id());
  ev1::Event read;
  ASSERT_TRUE(events->GetEvent(As(admin()).get(), get, &read).ok());
  const std::string after_create = stamp_of(*freshness);
  EXPECT_EQ(stamp_of(*freshness), after_create) << "a read does not";
  EXPECT_EQ(overview().events_held_by_type_size(),
            with_report.events_held_by_type_size())
      << "a draft is not held";
  for (auto step : {&ev1::EventsService::Stub::PublishEvent,
                    &ev1::EventsService::Stub::CompleteEvent}) {
    ev1::TransitionRequest transition;
    transition.set_id(created.event().id());
    s = ((*events).*step)(As(admin()).get(), transition, &created);
    ASSERT_TRUE(s.ok()) << s.error_message();
  }
  const v1::ZoneOverview with_event = overview();
  EXPECT_EQ(total(with_event.events_held_by_type()),
            total(with_report.events_held_by_type()) + 1);
  from_memory(with_event);

  // Programme: money spent on the year's line.
  auto programme = pv1::ProgrammeService::NewStub(Local(programme_->port()));
  pv1::RecordExecutionRequest spend;
  spend.mutable_entry()->set_line_id(budget_line_id_);
  spend.mutable_entry()->set_amount_krw(32'400'000);
  spend.mutable_entry()->set_date("2019-11-30");
  spend.mutable_entry()->set_description("팸투어 경비");
  pv1::ExecutionEntry entry;
  s = programme->RecordExecution(As(admin()).get(), spend, &entry);
  ASSERT_TRUE(s.ok()) << s.error_message();
  const v1::ZoneOverview with_spending = overview();
  EXPECT_EQ(with_spending.executed_krw(),
            with_event.executed_krw() + 32'400'000);

  // Another role's answer is its own, and as current.
  v1::ZoneOverview council;
  s = stub_->GetZoneOverview(As(token("council")).get(), request, &council);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(council.executed_krw(), with_spending.executed_krw());
}

// The six council tables are registered raw (an answer from memory is sent
// as it was serialized): bytes that are not the method's request are
// INVALID_ARGUMENT, after authentication as for any call; the answer from
// memory is the very bytes computed, and the same message as a typed call's.
TEST_F(GatewayServiceTest, CouncilTablesTakeOnlyTheirOwnRequestBytes) {
  grpc::GenericStub generic(Local(gateway_->port()));
  auto call = [&](const std::string& method, const std::string& credential,
                  const std::string& bytes, std::string* answer) {
    grpc::Slice slice(bytes);
    grpc::ByteBuffer request(&slice, 1);
    grpc::ByteBuffer response;
    std::promise<grpc::Status> done;
    std::unique_ptr<grpc::ClientContext> context = As(credential);
    generic.UnaryCall(context.get(),
                      absl::StrCat("/smz.gateway.v1.GatewayService/", method),
                      {}, &request, &response,
                      [&](grpc::Status status) { done.set_value(status); });
    const grpc::Status status = done.get_future().get();
    if (status.ok()) {
      EXPECT_TRUE(ReadRawMessage(response, answer));
    }
    return status.error_code();
  };
  // A field 1 of wire type 7, which no message has.
  const std::string garbage("\x0f\xff\xff", 3);
  std::string answer;
  for (const char* method :
       {"GetKpiTable", "GetZoneOverview", "GetActivityLog",
        "ListUpcomingEvents", "GetCouncilReport", "GetBudgetTable"}) {
    EXPECT_EQ(call(method, admin(), garbage, &answer),
              grpc::StatusCode::INVALID_ARGUMENT)
        << method;
    EXPECT_EQ(call(method, "smz_made_up", garbage, &answer),
              grpc::StatusCode::UNAUTHENTICATED)
        << method;
  }
  // Too large to be a request (refused before it is copied), unknown field
  // or not.
  v1::GetKpiTableRequest padded;
  padded.set_programme_code(
      std::string(GatewayGrpcService::kMaxTableRequestBytes, 'g'));
  EXPECT_EQ(call("GetKpiTable", admin(), padded.SerializeAsString(), &answer),
            grpc::StatusCode::INVALID_ARGUMENT);

  v1::GetKpiTableRequest request;
  request.set_programme_code("g-2018");
  request.set_as_of("2019-12-31");
  v1::KpiTable typed;
  // Twice: the first may fold what earlier tests submitted, which moves the
  // stats stamp (the answer it keeps is then not current).
  for (int i = 0; i < 2; ++i) {
    grpc::Status s = stub_->GetKpiTable(As(admin()).get(), request, &typed);
    ASSERT_TRUE(s.ok()) << s.error_message();
  }
  CouncilCache* cache = gateway_->council_cache();
  ASSERT_NE(cache, nullptr);
  const int64_t hits = cache->hits();
  std::string first, second;
  ASSERT_EQ(call("GetKpiTable", admin(), request.SerializeAsString(), &first),
            grpc::StatusCode::OK);
  ASSERT_EQ(call("GetKpiTable", admin(), request.SerializeAsString(), &second),
            grpc::StatusCode::OK);
  EXPECT_EQ(cache->hits(), hits + 2);
  EXPECT_EQ(first, second);
  v1::KpiTable parsed;
  ASSERT_TRUE(parsed.ParseFromString(first));
  EXPECT_TRUE(
      google::protobuf::util::MessageDifferencer::Equals(parsed, typed));
  EXPECT_GT(parsed.rows_size(), 0);
}

// Last: it stops the events service for good.
TEST_F(GatewayServiceTest, ZBackendDownLeavesItsSectionsUnavailable) {
  events_->Shutdown();
  v1::GetZoneOverviewRequest request;
  request.set_year(2019);
  v1::ZoneOverview overview;
  grpc::Status s =
      stub_->GetZoneOverview(As(token("council")).get(), request, &overview);
  ASSERT_TRUE(s.ok()) << s.error_message();
  const v1::Section& events_section = SectionOf(overview.sections(), "events");
  EXPECT_FALSE(events_section.available());
  EXPECT_THAT(events_section.reason(), HasSubstr("events: UNAVAILABLE"));
  EXPECT_TRUE(SectionOf(overview.sections(), "registry").available());
  EXPECT_TRUE(SectionOf(overview.sections(), "programme").available());
  EXPECT_EQ(overview.budget_krw(), 324'000'000);

  v1::GetKpiTableRequest kpi;
  kpi.set_programme_code("g-2018");
  kpi.set_as_of("2019-12-31");
  v1::KpiTable table;
  s = stub_->GetKpiTable(As(token("council")).get(), kpi, &table);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_FALSE(SectionOf(table.sections(), "events").available());
  EXPECT_EQ(table.rows(0).years(1).origin(), v1::KpiYear::RECORDED);
  EXPECT_EQ(table.rows(0).years(1).result(), 2);

  v1::GetActivityLogRequest log_request;
  log_request.set_year(2019);
  v1::ActivityLog log;
  s = stub_->GetActivityLog(As(token("council")).get(), log_request, &log);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_FALSE(SectionOf(log.sections(), "events").available());
  v1::UpcomingEvents upcoming;
  s = stub_->ListUpcomingEvents(As(token("council")).get(), {}, &upcoming);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_FALSE(SectionOf(upcoming.sections(), "events").available());

  // The council report still comes, saying what is missing and why.
  v1::GetCouncilReportRequest report;
  report.set_year(2019);
  report.set_programme_code("g-2018");
  report.set_language("en");
  v1::Document html;
  s = stub_->GetCouncilReport(As(token("council")).get(), report, &html);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_THAT(html.content(), HasSubstr("Not available: events: UNAVAILABLE"));
  EXPECT_THAT(html.content(), HasSubstr("324,000"));
}

}  // namespace
}  // namespace smz::gateway
