// The write contract of every smz method, found by reflection so that a new
// method cannot skip it:
//   - every method whose request has a `request_id`: a retry returns the
//     first answer, and the same id with another body is INVALID_ARGUMENT on
//     "request_id" (and another caller's same id is its own request);
//   - every Update method: `"*"` updates every updatable field, and the etag
//     just used is stale afterwards (ABORTED).
// A method without a sample below fails the test: add one.
#include <functional>
#include <map>
#include <memory>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/synchronization/notification.h"
#include "common/server/raw_messages.h"
#include "common/status_util.h"
#include "gmock/gmock.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/dynamic_message.h"
#include "google/protobuf/util/message_differencer.h"
#include "grpcpp/generic/generic_stub.h"
#include "gtest/gtest.h"
#include "smz/events/v1/events.grpc.pb.h"
#include "smz/programme/v1/programme.grpc.pb.h"
#include "smz/registry/v1/registry.grpc.pb.h"
#include "smz/stats/v1/stats.grpc.pb.h"
#include "tests/harness/local_stack.h"

namespace smz {
namespace {

using ::google::protobuf::Descriptor;
using ::google::protobuf::FieldDescriptor;
using ::google::protobuf::Message;
using ::google::protobuf::MethodDescriptor;
using ::testing::Contains;
using ::testing::Not;
namespace reg = ::smz::registry::v1;
namespace st = ::smz::stats::v1;
namespace ev = ::smz::events::v1;
namespace pg = ::smz::programme::v1;

absl::Time Seoul(int y, int m, int d, int hh) {
  return absl::FromCivil(absl::CivilSecond(y, m, d, hh, 0, 0),
                         absl::FixedTimeZone(9 * 3600));
}

google::protobuf::Timestamp At(absl::Time t) {
  google::protobuf::Timestamp ts;
  ts.set_seconds(absl::ToUnixSeconds(t));
  return ts;
}

// A request for a method that takes a request_id: `variant` 0 and 1 differ
// in body. `caller` is the token's name.
struct KeyedSample {
  std::string caller;
  std::function<std::unique_ptr<Message>(int variant)> make;
  // Fields of the answer a retry may legitimately answer differently
  // ("summary.unchanged": a retry reports it created nothing new).
  std::vector<std::string> differs_on_retry = {};
};

// An Update request built on a resource just created: the resource as read,
// one field changed, the update mask "*".
struct UpdateSample {
  std::function<std::unique_ptr<Message>()> make;
};

class WriteContractTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    clock_ = new FakeClock(Seoul(2026, 3, 5, 9));
    auto stack = testing::LocalStack::Start(clock_);
    ASSERT_TRUE(stack.ok()) << stack.status();
    stack_ = stack->release();
    ASSERT_TRUE(stack_->StartStats().ok());
    ASSERT_TRUE(stack_->StartEvents().ok());
    ASSERT_TRUE(stack_->StartProgramme().ok());
    auto hospital = stack_->AddPartner(testing::TestHospital("계약 병원"),
                                       "2025-01-15", "2027-12-31");
    ASSERT_TRUE(hospital.ok()) << hospital.status();
    hospital_ = *hospital;
    auto second = stack_->AddPartner(testing::TestHospital("계약 병원 2"),
                                     "2025-01-15", "2027-12-31");
    ASSERT_TRUE(second.ok()) << second.status();
    second_hospital_ = *second;
    tokens_ = new std::map<std::string, std::string>();
    (*tokens_)["admin"] = stack_->admin_token();
    for (auto [name, role] :
         {std::pair<std::string, auth::v1::Role>{"admin2", auth::v1::ADMIN},
          {"organizer", auth::v1::ORGANIZER}}) {
      auto token = stack_->IssueToken(role, name);
      ASSERT_TRUE(token.ok());
      (*tokens_)[name] = *token;
    }
    auto clerk = stack_->IssueToken(auth::v1::PARTNER, "clerk", hospital_);
    ASSERT_TRUE(clerk.ok());
    (*tokens_)["clerk"] = *clerk;
  }
  static void TearDownTestSuite() {
    delete stack_;
    delete tokens_;
    delete clock_;
  }

  static int PortOf(const std::string& service) {
    if (service == reg::RegistryService::service_full_name()) {
      return stack_->registry().server().port();
    }
    if (service == st::StatsService::service_full_name()) {
      return stack_->stats()->port();
    }
    if (service == ev::EventsService::service_full_name()) {
      return stack_->events()->port();
    }
    return stack_->programme()->port();
  }

  // Calls `method` with `request` as `caller`; the answer in `response`.
  static grpc::Status Call(const MethodDescriptor* method,
                           const std::string& caller, const Message& request,
                           Message* response) {
    grpc::GenericStub stub(
        testing::LoopbackChannel(PortOf(method->service()->full_name())));
    std::unique_ptr<grpc::ClientContext> context =
        testing::As((*tokens_)[caller]);
    grpc::Slice slice(request.SerializeAsString());
    grpc::ByteBuffer request_bytes(&slice, 1);
    grpc::ByteBuffer response_bytes;
    grpc::Status status;
    absl::Notification done;
    stub.UnaryCall(
        context.get(),
        absl::StrCat("/", method->service()->full_name(), "/", method->name()),
        grpc::StubOptions(), &request_bytes, &response_bytes,
        [&](grpc::Status s) {
          status = std::move(s);
          done.Notify();
        });
    done.WaitForNotification();
    if (status.ok()) {
      std::string bytes;
      (void)ReadRawMessage(response_bytes, &bytes);
      EXPECT_TRUE(response->ParseFromString(bytes));
    }
    return status;
  }

  template <typename Stub, typename Request, typename Response>
  static Response MustCall(grpc::Status (Stub::*rpc)(grpc::ClientContext*,
                                                     const Request&, Response*),
                           Stub* stub, const Request& request) {
    Response response;
    grpc::Status s = (stub->*rpc)(testing::As((*tokens_)["admin"]).get(),
                                  request, &response);
    EXPECT_TRUE(s.ok()) << s.error_message();
    return response;
  }

  static std::map<std::string, KeyedSample> KeyedSamples();
  static std::map<std::string, UpdateSample> UpdateSamples();

  static std::vector<const MethodDescriptor*> AllMethods() {
    std::vector<const MethodDescriptor*> methods;
    for (const google::protobuf::FileDescriptor* file :
         {reg::Partner::descriptor()->file(), st::Report::descriptor()->file(),
          ev::Event::descriptor()->file(), pg::Project::descriptor()->file()}) {
      for (int s = 0; s < file->service_count(); ++s) {
        for (int m = 0; m < file->service(s)->method_count(); ++m) {
          methods.push_back(file->service(s)->method(m));
        }
      }
    }
    return methods;
  }

  static inline FakeClock* clock_ = nullptr;
  static inline testing::LocalStack* stack_ = nullptr;
  static inline std::map<std::string, std::string>* tokens_ = nullptr;
  static inline int64_t hospital_ = 0;
  static inline int64_t second_hospital_ = 0;
};

std::vector<std::string> ViolatedFields(const grpc::Status& status) {
  std::vector<std::string> fields;
  for (const FieldViolation& v : GetFieldViolations(FromGrpcStatus(status))) {
    fields.push_back(v.field);
  }
  return fields;
}

std::string FullName(const MethodDescriptor* method) {
  return absl::StrCat(method->service()->name(), ".", method->name());
}

const FieldDescriptor* FieldAt(const Descriptor* type,
                               const std::string& path) {
  const FieldDescriptor* field = nullptr;
  for (absl::string_view part : absl::StrSplit(path, '.')) {
    if (type == nullptr) return nullptr;
    field = type->FindFieldByName(std::string(part));
    if (field == nullptr) return nullptr;
    type = field->message_type();
  }
  return field;
}

ev::Event Briefing(const std::string& room) {
  ev::Event event;
  event.set_type(ev::BRIEFING_SESSION);
  (*event.mutable_title())["ko"] = absl::StrCat("설명회 ", room);
  (*event.mutable_title())["en"] = absl::StrCat("Briefing ", room);
  event.set_organizer("영등포구 보건소");
  event.set_venue("영등포구청");
  event.set_room(room);
  *event.mutable_start_time() = At(Seoul(2026, 8, 3, 10));
  *event.mutable_end_time() = At(Seoul(2026, 8, 3, 17));
  return event;
}

// Long by design: one sample per keyed method, a table kept in one place
// so a new method's missing sample is easy to see.
std::map<std::string, KeyedSample> WriteContractTest::KeyedSamples() {
  auto events = ev::EventsService::NewStub(
      testing::LoopbackChannel(stack_->events()->port()));
  auto programme = pg::ProgrammeService::NewStub(
      testing::LoopbackChannel(stack_->programme()->port()));

  // What the samples refer to: an open event, a project and a budget line.
  ev::CreateEventRequest event_request;
  *event_request.mutable_event() = Briefing("계약실");
  event_request.mutable_event()->set_open_to_public(true);  // for SignUp
  const ev::EventResponse event = MustCall(
      &ev::EventsService::Stub::CreateEvent, events.get(), event_request);
  ev::TransitionRequest publish;
  publish.set_id(event.event().id());
  MustCall(&ev::EventsService::Stub::PublishEvent, events.get(), publish);
  pg::CreateProjectRequest project_request;
  project_request.mutable_project()->set_code("contract/project");
  project_request.mutable_project()->set_kind(pg::PROGRAMME);
  (*project_request.mutable_project()->mutable_name())["ko"] = "계약 사업";
  const pg::Project project =
      MustCall(&pg::ProgrammeService::Stub::CreateProject, programme.get(),
               project_request);
  pg::CreateBudgetLineRequest line_request;
  line_request.mutable_line()->set_project_id(project.id());
  line_request.mutable_line()->set_year(2026);
  line_request.mutable_line()->set_funding_source(pg::DISTRICT);
  line_request.mutable_line()->set_amount_krw(1'000'000);
  const pg::BudgetLine line =
      MustCall(&pg::ProgrammeService::Stub::CreateBudgetLine, programme.get(),
               line_request);
  const int64_t hospital = hospital_;
  const int64_t event_id = event.event().id();
  const int64_t project_id = project.id();
  const int64_t line_id = line.id();

  std::map<std::string, KeyedSample> samples;
  samples["RegistryService.CreatePartner"] = {
      "admin", [](int v) {
        auto r = std::make_unique<reg::CreatePartnerRequest>();
        *r->mutable_partner() = testing::TestHospital(absl::StrCat("신규 ", v));
        return r;
      }};
  samples["RegistryService.CreateGrant"] = {
      "admin", [hospital](int v) {
        auto r = std::make_unique<reg::CreateGrantRequest>();
        reg::Grant& g = *r->mutable_grant();
        g.set_partner_id(hospital);
        g.set_year(2026);
        g.set_programme(reg::INTERPRETATION_FEE);
        g.set_amount_krw(1000 + v);
        (*g.mutable_purpose())["ko"] = "통역비";
        return r;
      }};
  samples["StatsService.SubmitReport"] = {
      "clerk",
      [hospital](int v) {
        auto r = std::make_unique<st::SubmitReportRequest>();
        st::Report& report = *r->mutable_report();
        report.set_partner_id(hospital);
        report.set_period("2026-02");
        st::NewPatientCell* cell = report.add_new_patients();
        cell->set_nationality("MN");
        cell->set_count(10 + v);
        st::VisitCell* visit = report.add_visits();
        visit->set_nationality("MN");
        visit->set_department("dermatology");
        visit->set_care_type(st::OUTPATIENT);
        visit->set_count(12);
        return r;
      },
      {"summary.unchanged"}};
  // The district imports a sheet for another hospital.
  const int64_t second = second_hospital_;
  samples["StatsService.ImportReports"] = {
      "admin",
      [second](int v) {
        auto r = std::make_unique<st::ImportReportsRequest>();
        r->set_csv(absl::StrCat(
            "partner_id,period,record,nationality,department,care_type,sex,"
            "age_band,value\n",
            second, ",2026-02,new_patients,VN,,,,,", 5 + v, "\n", second,
            ",2026-02,visits,VN,dermatology,OUTPATIENT,,,9\n"));
        return r;
      },
      {"reports.summary.unchanged"}};
  samples["StatsService.GrantLockException"] = {
      "admin", [hospital](int v) {
        auto r = std::make_unique<st::GrantLockExceptionRequest>();
        r->set_partner_id(hospital);
        r->set_period("2025-12");
        r->set_reason(v == 0 ? "정정 요청" : "다른 사유");
        r->set_duration_hours(24);
        return r;
      }};
  samples["EventsService.CreateEvent"] = {
      "organizer", [](int v) {
        auto r = std::make_unique<ev::CreateEventRequest>();
        *r->mutable_event() = Briefing(absl::StrCat("신규실 ", v));
        return r;
      }};
  samples["EventsService.CreateRegistration"] = {
      "organizer",
      [event_id](int v) {
        auto r = std::make_unique<ev::CreateRegistrationRequest>();
        ev::Registration& p = *r->mutable_registration();
        p.set_event_id(event_id);
        p.set_name(absl::StrCat("Bat-Erdene ", v));
        p.set_organization("Mongol Medical Travel");
        p.set_country("MN");
        p.set_email(absl::StrCat("guest", v, "@example.mn"));
        return r;
      },
      // Computed after the first commit; a retry reads them afresh.
      {"warnings", "registration.waitlist_position"}};
  // Anyone may sign up; a signed-in caller's keys are its own all the same.
  samples["EventsService.SignUp"] = {
      "organizer", [event_id](int v) {
        auto r = std::make_unique<ev::SignUpRequest>();
        r->set_event_id(event_id);
        r->set_name(absl::StrCat("Сүх ", v));
        r->set_country("MN");
        r->set_email(absl::StrCat("visitor", v, "@example.mn"));
        r->set_language("mn");
        r->set_consent(true);
        return r;
      }};
  samples["ProgrammeService.CreateProject"] = {
      "admin", [](int v) {
        auto r = std::make_unique<pg::CreateProjectRequest>();
        r->mutable_project()->set_code(absl::StrCat("contract/new-", v));
        r->mutable_project()->set_kind(pg::PROGRAMME);
        (*r->mutable_project()->mutable_name())["ko"] = "신규 사업";
        return r;
      }};
  samples["ProgrammeService.CreateBudgetLine"] = {
      "admin", [project_id](int v) {
        auto r = std::make_unique<pg::CreateBudgetLineRequest>();
        r->mutable_line()->set_project_id(project_id);
        r->mutable_line()->set_year(2027);
        r->mutable_line()->set_funding_source(pg::DISTRICT);
        r->mutable_line()->set_amount_krw(500 + v);
        return r;
      }};
  samples["ProgrammeService.RecordExecution"] = {
      "admin", [line_id](int v) {
        auto r = std::make_unique<pg::RecordExecutionRequest>();
        r->mutable_entry()->set_line_id(line_id);
        r->mutable_entry()->set_amount_krw(100 + v);
        r->mutable_entry()->set_date("2026-03-02");
        r->mutable_entry()->set_description("통역");
        return r;
      }};
  samples["ProgrammeService.CreateIndicator"] = {
      "admin", [project_id](int v) {
        auto r = std::make_unique<pg::CreateIndicatorRequest>();
        pg::Indicator& i = *r->mutable_indicator();
        i.set_project_id(project_id);
        i.set_code(absl::StrCat("contract/indicator-", v));
        (*i.mutable_name())["ko"] = "지표";
        i.set_unit(pg::TIMES);
        i.set_target_total(4);
        i.set_first_year(2026);
        i.set_last_year(2026);
        i.set_source(pg::MANUAL);
        return r;
      }};
  return samples;
}

TEST_F(WriteContractTest,
       EveryRequestIdRetriesToTheFirstAnswerAndRefusesReuse) {
  const std::map<std::string, KeyedSample> samples = KeyedSamples();
  int checked = 0;
  for (const MethodDescriptor* method : AllMethods()) {
    const FieldDescriptor* id_field =
        method->input_type()->FindFieldByName("request_id");
    if (id_field == nullptr) continue;
    SCOPED_TRACE(FullName(method));
    auto it = samples.find(FullName(method));
    if (it == samples.end()) {
      ADD_FAILURE() << FullName(method)
                    << " takes a request_id: add a sample to KeyedSamples()";
      continue;
    }
    const KeyedSample& sample = it->second;
    const std::string id = absl::StrCat("contract-", method->name());
    std::unique_ptr<Message> first_request = sample.make(0);
    first_request->GetReflection()->SetString(first_request.get(), id_field,
                                              id);
    const Message* prototype =
        google::protobuf::MessageFactory::generated_factory()->GetPrototype(
            method->output_type());
    std::unique_ptr<Message> first(prototype->New());
    grpc::Status s = Call(method, sample.caller, *first_request, first.get());
    ASSERT_TRUE(s.ok()) << s.error_message();

    // The retry: the first answer.
    std::unique_ptr<Message> retry(prototype->New());
    s = Call(method, sample.caller, *first_request, retry.get());
    ASSERT_TRUE(s.ok()) << s.error_message();
    google::protobuf::util::MessageDifferencer differencer;
    std::string differences;
    differencer.ReportDifferencesToString(&differences);
    for (const std::string& path : sample.differs_on_retry) {
      const FieldDescriptor* field = FieldAt(method->output_type(), path);
      ASSERT_NE(field, nullptr) << path;
      differencer.IgnoreField(field);
    }
    EXPECT_TRUE(differencer.Compare(*first, *retry)) << differences;

    // The same id for another request: refused, naming request_id.
    std::unique_ptr<Message> other = sample.make(1);
    other->GetReflection()->SetString(other.get(), id_field, id);
    std::unique_ptr<Message> refused(prototype->New());
    s = Call(method, sample.caller, *other, refused.get());
    EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT)
        << s.error_message();
    EXPECT_THAT(ViolatedFields(s), Contains("request_id"));

    // Keys are per caller: another caller's same id is its own request.
    std::unique_ptr<Message> theirs(prototype->New());
    s = Call(method, "admin2", *first_request, theirs.get());
    EXPECT_THAT(ViolatedFields(s), Not(Contains("request_id")))
        << s.error_message();
    ++checked;
  }
  EXPECT_EQ(checked, static_cast<int>(samples.size()))
      << "a sample names a method that takes no request_id";
}

std::map<std::string, UpdateSample> WriteContractTest::UpdateSamples() {
  // Shared: the samples run after this function returns.
  reg::RegistryService::Stub* registry = &stack_->registry().stub();
  std::shared_ptr<ev::EventsService::Stub> events = ev::EventsService::NewStub(
      testing::LoopbackChannel(stack_->events()->port()));
  std::shared_ptr<pg::ProgrammeService::Stub> programme =
      pg::ProgrammeService::NewStub(
          testing::LoopbackChannel(stack_->programme()->port()));
  std::map<std::string, UpdateSample> samples;
  samples["RegistryService.UpdatePartner"] = {[registry] {
    reg::CreatePartnerRequest create;
    *create.mutable_partner() = testing::TestHospital("수정 병원");
    const reg::Partner created =
        MustCall(&reg::RegistryService::Stub::CreatePartner, registry, create);
    auto r = std::make_unique<reg::UpdatePartnerRequest>();
    *r->mutable_partner() = created;
    r->mutable_partner()->set_address("영신로 200");
    r->set_etag(created.etag());
    return r;
  }};
  samples["EventsService.UpdateEvent"] = {[events] {
    ev::CreateEventRequest create;
    *create.mutable_event() = Briefing("수정실");
    const ev::EventResponse created =
        MustCall(&ev::EventsService::Stub::CreateEvent, events.get(), create);
    auto r = std::make_unique<ev::UpdateEventRequest>();
    *r->mutable_event() = created.event();
    (*r->mutable_event()->mutable_title())["en"] = "Renamed briefing";
    return r;
  }};
  samples["ProgrammeService.UpdateProject"] = {[programme] {
    pg::CreateProjectRequest create;
    create.mutable_project()->set_code("contract/update");
    create.mutable_project()->set_kind(pg::PROGRAMME);
    (*create.mutable_project()->mutable_name())["ko"] = "수정 사업";
    const pg::Project created = MustCall(
        &pg::ProgrammeService::Stub::CreateProject, programme.get(), create);
    auto r = std::make_unique<pg::UpdateProjectRequest>();
    *r->mutable_project() = created;
    (*r->mutable_project()->mutable_name())["en"] = "Renamed";
    return r;
  }};
  samples["ProgrammeService.UpdateBudgetLine"] = {[programme] {
    pg::CreateProjectRequest project;
    project.mutable_project()->set_code("contract/update-line");
    project.mutable_project()->set_kind(pg::PROGRAMME);
    (*project.mutable_project()->mutable_name())["ko"] = "예산 사업";
    const pg::Project parent = MustCall(
        &pg::ProgrammeService::Stub::CreateProject, programme.get(), project);
    pg::CreateBudgetLineRequest create;
    create.mutable_line()->set_project_id(parent.id());
    create.mutable_line()->set_year(2026);
    create.mutable_line()->set_funding_source(pg::CITY);
    create.mutable_line()->set_amount_krw(1000);
    const pg::BudgetLine created = MustCall(
        &pg::ProgrammeService::Stub::CreateBudgetLine, programme.get(), create);
    auto r = std::make_unique<pg::UpdateBudgetLineRequest>();
    *r->mutable_line() = created;
    r->mutable_line()->set_amount_krw(2000);
    return r;
  }};
  samples["ProgrammeService.UpdateIndicator"] = {[programme] {
    pg::CreateProjectRequest project;
    project.mutable_project()->set_code("contract/update-indicator");
    project.mutable_project()->set_kind(pg::PROGRAMME);
    (*project.mutable_project()->mutable_name())["ko"] = "지표 사업";
    const pg::Project parent = MustCall(
        &pg::ProgrammeService::Stub::CreateProject, programme.get(), project);
    pg::CreateIndicatorRequest create;
    pg::Indicator& i = *create.mutable_indicator();
    i.set_project_id(parent.id());
    i.set_code("contract/update-indicator");
    (*i.mutable_name())["ko"] = "지표";
    i.set_unit(pg::TIMES);
    i.set_target_total(4);
    i.set_first_year(2026);
    i.set_last_year(2026);
    i.set_source(pg::MANUAL);
    const pg::Indicator created = MustCall(
        &pg::ProgrammeService::Stub::CreateIndicator, programme.get(), create);
    auto r = std::make_unique<pg::UpdateIndicatorRequest>();
    *r->mutable_indicator() = created;
    r->mutable_indicator()->set_target_total(6);
    return r;
  }};
  return samples;
}

// The etag of an Update request: at its top level (UpdatePartner) or in the
// resource it carries (every other Update).
std::string EtagOf(const Message& message) {
  const Descriptor* type = message.GetDescriptor();
  if (const FieldDescriptor* etag = type->FindFieldByName("etag")) {
    return message.GetReflection()->GetString(message, etag);
  }
  for (int i = 0; i < type->field_count(); ++i) {
    const FieldDescriptor* field = type->field(i);
    if (field->message_type() == nullptr || field->is_repeated()) continue;
    const Message& inner = message.GetReflection()->GetMessage(message, field);
    if (const FieldDescriptor* etag =
            field->message_type()->FindFieldByName("etag")) {
      return inner.GetReflection()->GetString(inner, etag);
    }
  }
  return "";
}

TEST_F(WriteContractTest, EveryUpdateTakesStarAndRefusesAStaleEtag) {
  const std::map<std::string, UpdateSample> samples = UpdateSamples();
  int checked = 0;
  for (const MethodDescriptor* method : AllMethods()) {
    const FieldDescriptor* mask_field =
        method->input_type()->FindFieldByName("update_mask");
    if (mask_field == nullptr) continue;
    SCOPED_TRACE(FullName(method));
    auto it = samples.find(FullName(method));
    if (it == samples.end()) {
      ADD_FAILURE() << FullName(method)
                    << " takes an update_mask: add a sample to UpdateSamples()";
      continue;
    }
    std::unique_ptr<Message> request = it->second.make();
    google::protobuf::FieldMask star;
    star.add_paths("*");
    request->GetReflection()
        ->MutableMessage(request.get(), mask_field)
        ->CopyFrom(star);
    const std::string read_etag = EtagOf(*request);
    ASSERT_FALSE(read_etag.empty());
    const Message* prototype =
        google::protobuf::MessageFactory::generated_factory()->GetPrototype(
            method->output_type());
    std::unique_ptr<Message> updated(prototype->New());
    grpc::Status s = Call(method, "admin", *request, updated.get());
    ASSERT_TRUE(s.ok()) << s.error_message();

    // The answer is the new version (the etag is in the resource, possibly
    // inside a response wrapper).
    std::string new_etag = EtagOf(*updated);
    EXPECT_FALSE(new_etag.empty());
    EXPECT_NE(new_etag, read_etag) << "\"*\" changed nothing";

    // The etag just used is stale now.
    std::unique_ptr<Message> refused(prototype->New());
    s = Call(method, "admin", *request, refused.get());
    EXPECT_EQ(s.error_code(), grpc::StatusCode::ABORTED) << s.error_message();
    ++checked;
  }
  EXPECT_EQ(checked, static_cast<int>(samples.size()));
}

}  // namespace
}  // namespace smz
