// The programme service end to end: a private MariaDB, a real registry
// (tokens) and the programme server on ephemeral loopback ports, called over
// gRPC with real tokens.
#include <map>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "common/status_util.h"
#include "gmock/gmock.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/security/credentials.h"
#include "gtest/gtest.h"
#include "services/programme/programme_server.h"
#include "services/registry/registry_server.h"
#include "smz/programme/v1/programme.grpc.pb.h"
#include "smz/registry/v1/registry.grpc.pb.h"
#include "tests/harness/local_stack.h"

namespace smz::programme {
namespace {

using ::smz::testing::As;

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::SizeIs;
namespace reg = ::smz::registry::v1;

std::vector<std::string> ViolatedFields(const grpc::Status& status) {
  std::vector<std::string> fields;
  for (const FieldViolation& v : GetFieldViolations(FromGrpcStatus(status))) {
    fields.push_back(v.field);
  }
  return fields;
}

class ProgrammeServiceTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    auto stack = testing::LocalStack::Start(&SystemClock::Get());
    ASSERT_TRUE(stack.ok()) << stack.status();
    stack_ = stack->release();
    tokens_ = new std::map<std::string, std::string>();
    (*tokens_)["admin"] = stack_->admin_token();
    auto partner = stack_->AddPartner(testing::TestHospital("병원"));
    ASSERT_TRUE(partner.ok()) << partner.status();
    auto issue = [&](auth::v1::Role role, int64_t partner_id) {
      auto token = stack_->IssueToken(role, "test", partner_id);
      EXPECT_TRUE(token.ok()) << token.status();
      return token.ok() ? *token : std::string();
    };
    (*tokens_)["council"] = issue(auth::v1::COUNCIL, 0);
    (*tokens_)["analyst"] = issue(auth::v1::ANALYST, 0);
    (*tokens_)["partner"] = issue(auth::v1::PARTNER, *partner);
    auto server = stack_->StartProgramme();
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = *server;
  }
  static void TearDownTestSuite() {
    delete stack_;
    delete tokens_;
  }
  void SetUp() override {
    stub_ = v1::ProgrammeService::NewStub(
        grpc::CreateChannel(absl::StrCat("127.0.0.1:", server_->port()),
                            grpc::InsecureChannelCredentials()));
  }
  static const std::string& token(const std::string& who) {
    return (*tokens_)[who];
  }

  v1::Project MakeProject(const std::string& code, int64_t parent,
                          v1::ProjectKind kind, int order) {
    v1::CreateProjectRequest request;
    request.set_request_id(
        absl::StrCat("project-", absl::StrReplaceAll(code, {{"/", "."}})));
    v1::Project& p = *request.mutable_project();
    p.set_code(code);
    p.set_parent_id(parent);
    p.set_kind(kind);
    p.set_sort_order(order);
    (*p.mutable_name())["ko"] = code;
    v1::Project out;
    grpc::Status s =
        stub_->CreateProject(As(token("admin")).get(), request, &out);
    EXPECT_TRUE(s.ok()) << s.error_message();
    return out;
  }
  v1::BudgetLine MakeLine(int64_t project, int32_t year,
                          v1::FundingSource source, int64_t amount) {
    v1::CreateBudgetLineRequest request;
    request.set_request_id(
        absl::StrCat("line-", project, "-", year, "-", source));
    v1::BudgetLine& l = *request.mutable_line();
    l.set_project_id(project);
    l.set_year(year);
    l.set_funding_source(source);
    l.set_amount_krw(amount);
    v1::BudgetLine out;
    grpc::Status s =
        stub_->CreateBudgetLine(As(token("admin")).get(), request, &out);
    EXPECT_TRUE(s.ok()) << s.error_message();
    return out;
  }
  void Spend(int64_t line, int64_t amount, const std::string& date) {
    v1::RecordExecutionRequest request;
    request.set_request_id(absl::StrCat("spend-", line, "-", amount, date));
    request.mutable_entry()->set_line_id(line);
    request.mutable_entry()->set_amount_krw(amount);
    request.mutable_entry()->set_date(date);
    request.mutable_entry()->set_description("executed to date");
    v1::ExecutionEntry out;
    grpc::Status s =
        stub_->RecordExecution(As(token("admin")).get(), request, &out);
    EXPECT_TRUE(s.ok()) << s.error_message();
  }

  std::unique_ptr<v1::ProgrammeService::Stub> stub_;
  static testing::LocalStack* stack_;
  static ProgrammeServer* server_;
  static std::map<std::string, std::string>* tokens_;
};

testing::LocalStack* ProgrammeServiceTest::stack_ = nullptr;
ProgrammeServer* ProgrammeServiceTest::server_ = nullptr;
std::map<std::string, std::string>* ProgrammeServiceTest::tokens_ = nullptr;

// The 2022 medical-tourism unit (thousand KRW in the seed) through the API:
// the table as of 2022-10-31 shows the printed rates and the one finding.
TEST_F(ProgrammeServiceTest, BudgetTableAsOfADateWithReconciliation) {
  const int64_t k = 1000;
  v1::Project unit = MakeProject("t/medical-tourism", 0, v1::UNIT_PROJECT, 1);
  v1::Project promo =
      MakeProject("t/zone-promotion", unit.id(), v1::DETAIL_PROJECT, 1);
  v1::Project infra =
      MakeProject("t/infrastructure", unit.id(), v1::DETAIL_PROJECT, 2);
  v1::BudgetLine u = MakeLine(unit.id(), 2022, v1::ALL_SOURCES, 487492 * k);
  v1::BudgetLine p = MakeLine(promo.id(), 2022, v1::ALL_SOURCES, 391300 * k);
  v1::BudgetLine i = MakeLine(infra.id(), 2022, v1::ALL_SOURCES, 96192 * k);
  Spend(u.id(), 258672 * k, "2022-10-31");
  Spend(p.id(), 173792 * k, "2022-10-31");
  Spend(i.id(), 84873 * k, "2022-10-31");
  Spend(i.id(), 1000 * k, "2022-11-15");  // after the date: not counted

  v1::GetBudgetTableRequest request;
  request.set_year(2022);
  request.set_as_of_date("2022-10-31");
  request.set_root_project_id(unit.id());
  v1::BudgetTable table;
  grpc::Status s =
      stub_->GetBudgetTable(As(token("council")).get(), request, &table);
  ASSERT_TRUE(s.ok()) << s.error_message();
  ASSERT_THAT(table.rows(), SizeIs(3));
  EXPECT_EQ(table.rows(0).execution_rate_percent(), 53.1);
  EXPECT_EQ(table.rows(1).execution_rate_percent(), 44.4);
  EXPECT_EQ(table.rows(2).execution_rate_percent(), 88.2);
  ASSERT_THAT(table.findings(), SizeIs(1));
  EXPECT_EQ(table.findings(0).difference_krw(), 7 * k);

  // Unknown year, unknown root, bad date: clear errors.
  request.set_year(2031);
  EXPECT_EQ(stub_->GetBudgetTable(As(token("council")).get(), request, &table)
                .error_code(),
            grpc::StatusCode::NOT_FOUND);
  request.set_year(2022);
  request.set_root_project_id(999999);
  EXPECT_EQ(stub_->GetBudgetTable(As(token("council")).get(), request, &table)
                .error_code(),
            grpc::StatusCode::NOT_FOUND);
  request.set_year(1800);
  request.set_as_of_date("2022-13-01");
  s = stub_->GetBudgetTable(As(token("council")).get(), request, &table);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(ViolatedFields(s), ElementsAre("year", "as_of_date"));

  // Over-spending is refused and changes nothing.
  v1::RecordExecutionRequest over;
  over.mutable_entry()->set_line_id(u.id());
  over.mutable_entry()->set_amount_krw(487492 * k);
  over.mutable_entry()->set_date("2022-12-01");
  over.mutable_entry()->set_description("too much");
  v1::ExecutionEntry entry;
  s = stub_->RecordExecution(As(token("admin")).get(), over, &entry);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_THAT(s.error_message(), HasSubstr("budgeted"));
}

TEST_F(ProgrammeServiceTest, RolesMasksEtagsAndPages) {
  v1::Project root = MakeProject("r/root", 0, v1::PROGRAMME, 0);
  // Writers are ADMIN only; PARTNER reads nothing; no token is refused.
  v1::CreateProjectRequest create;
  create.mutable_project()->CopyFrom(root);
  create.mutable_project()->set_code("r/other");
  v1::Project out;
  EXPECT_EQ(stub_->CreateProject(As(token("analyst")).get(), create, &out)
                .error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  v1::GetProjectRequest get;
  get.set_id(root.id());
  EXPECT_TRUE(stub_->GetProject(As(token("analyst")).get(), get, &out).ok());
  EXPECT_EQ(
      stub_->GetProject(As(token("partner")).get(), get, &out).error_code(),
      grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(stub_->GetProject(As("").get(), get, &out).error_code(),
            grpc::StatusCode::UNAUTHENTICATED);

  // Update: mask and etag required; unknown paths named; stale etag ABORTED.
  v1::UpdateProjectRequest update;
  update.mutable_project()->set_id(root.id());
  update.mutable_update_mask()->add_paths("code");
  grpc::Status s = stub_->UpdateProject(As(token("admin")).get(), update, &out);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(ViolatedFields(s),
              ElementsAre("project.etag", "update_mask.paths[0]"));
  update.mutable_update_mask()->Clear();
  update.mutable_update_mask()->add_paths("name");
  update.mutable_project()->set_etag(root.etag());
  (*update.mutable_project()->mutable_name())["en"] = "Smart Medical Zone";
  ASSERT_TRUE(
      stub_->UpdateProject(As(token("admin")).get(), update, &out).ok());
  EXPECT_EQ(out.name().at("en"), "Smart Medical Zone");
  EXPECT_EQ(out.name().count("ko"), 0u) << "the mask replaces the whole map";
  EXPECT_EQ(
      stub_->UpdateProject(As(token("admin")).get(), update, &out).error_code(),
      grpc::StatusCode::ABORTED);

  // Pages of two over five children, each row once.
  for (int i = 0; i < 5; ++i) {
    MakeProject(absl::StrCat("r/child-", i), root.id(), v1::SUB_PROJECT, i);
  }
  v1::ListProjectsRequest list;
  list.set_parent_id(root.id());
  list.set_page_size(2);
  std::vector<std::string> codes;
  for (int pages = 0; pages < 10; ++pages) {
    v1::ListProjectsResponse page;
    ASSERT_TRUE(
        stub_->ListProjects(As(token("council")).get(), list, &page).ok());
    for (const v1::Project& p : page.projects()) codes.push_back(p.code());
    if (page.next_page_token().empty()) break;
    list.set_page_token(page.next_page_token());
  }
  EXPECT_THAT(codes, ElementsAre("r/child-0", "r/child-1", "r/child-2",
                                 "r/child-3", "r/child-4"));
  list.set_parent_id(0);  // a token for other filters is refused
  v1::ListProjectsResponse refused;
  EXPECT_EQ(stub_->ListProjects(As(token("council")).get(), list, &refused)
                .error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);
}

// Every Create and RecordExecution refuses a request_id reused for other
// content (AIP-155); a plain retry gets the first answer.
TEST_F(ProgrammeServiceTest, ReusedRequestIdsWithOtherContentAreRefused) {
  auto refused = [](const grpc::Status& s) {
    return s.error_code() == grpc::StatusCode::INVALID_ARGUMENT &&
           absl::StrContains(s.error_message(), "request_id");
  };
  v1::CreateProjectRequest project;
  project.set_request_id("reuse-project");
  project.mutable_project()->set_code("reuse/a");
  project.mutable_project()->set_kind(v1::SUB_PROJECT);
  (*project.mutable_project()->mutable_name())["ko"] = "재사용 가";
  v1::Project p1, p2;
  ASSERT_TRUE(
      stub_->CreateProject(As(token("admin")).get(), project, &p1).ok());
  ASSERT_TRUE(
      stub_->CreateProject(As(token("admin")).get(), project, &p2).ok());
  EXPECT_EQ(p1.id(), p2.id());
  project.mutable_project()->set_code("reuse/b");
  EXPECT_TRUE(
      refused(stub_->CreateProject(As(token("admin")).get(), project, &p2)));

  v1::CreateBudgetLineRequest line;
  line.set_request_id("reuse-line");
  line.mutable_line()->set_project_id(p1.id());
  line.mutable_line()->set_year(2022);
  line.mutable_line()->set_funding_source(v1::DISTRICT);
  line.mutable_line()->set_amount_krw(10'000'000);
  v1::BudgetLine l1, l2;
  ASSERT_TRUE(
      stub_->CreateBudgetLine(As(token("admin")).get(), line, &l1).ok());
  line.mutable_line()->set_amount_krw(20'000'000);
  EXPECT_TRUE(
      refused(stub_->CreateBudgetLine(As(token("admin")).get(), line, &l2)));

  v1::RecordExecutionRequest spend;
  spend.set_request_id("reuse-spend");
  spend.mutable_entry()->set_line_id(l1.id());
  spend.mutable_entry()->set_amount_krw(1'000'000);
  spend.mutable_entry()->set_date("2022-03-02");
  spend.mutable_entry()->set_description("brochures");
  v1::ExecutionEntry e1, e2;
  ASSERT_TRUE(
      stub_->RecordExecution(As(token("admin")).get(), spend, &e1).ok());
  ASSERT_TRUE(
      stub_->RecordExecution(As(token("admin")).get(), spend, &e2).ok());
  EXPECT_EQ(e1.id(), e2.id()) << "a retry records nothing new";
  spend.mutable_entry()->set_amount_krw(2'000'000);
  EXPECT_TRUE(
      refused(stub_->RecordExecution(As(token("admin")).get(), spend, &e2)));

  v1::CreateIndicatorRequest indicator;
  indicator.set_request_id("reuse-indicator");
  v1::Indicator& i = *indicator.mutable_indicator();
  i.set_project_id(p1.id());
  i.set_code("reuse/indicator");
  (*i.mutable_name())["ko"] = "재사용 지표";
  i.set_unit(v1::TIMES);
  i.set_target_total(4);
  i.set_first_year(2022);
  i.set_last_year(2022);
  i.set_source(v1::COMPLETED_EVENTS);
  i.set_event_type("BRIEFING_SESSION");
  v1::Indicator i1, i2;
  ASSERT_TRUE(
      stub_->CreateIndicator(As(token("admin")).get(), indicator, &i1).ok());
  i.set_target_total(5);
  EXPECT_TRUE(refused(
      stub_->CreateIndicator(As(token("admin")).get(), indicator, &i2)));
}

TEST_F(ProgrammeServiceTest, IndicatorsBoundOrManualWithRecordedFigures) {
  v1::Project promotion = MakeProject("i/promotion", 0, v1::SUB_PROJECT, 2);
  v1::CreateIndicatorRequest request;
  request.set_request_id("indicator-briefings");
  v1::Indicator& i = *request.mutable_indicator();
  i.set_project_id(promotion.id());
  i.set_code("i/briefing-sessions");
  (*i.mutable_name())["ko"] = "설명회 개최";
  i.set_unit(v1::TIMES);
  i.set_target_total(4);
  i.set_first_year(2018);
  i.set_last_year(2022);
  (*i.mutable_yearly_plans())[2019] = 1;
  (*i.mutable_yearly_plans())[2020] = 1;
  (*i.mutable_yearly_plans())[2021] = 1;
  (*i.mutable_recorded_results())[2019] = 2;
  (*i.mutable_recorded_results())[2020] = 3;
  i.set_recorded_total(5);
  i.set_source(v1::COMPLETED_EVENTS);
  i.set_event_type("BRIEFING_SESSION");
  v1::Indicator created;
  grpc::Status s =
      stub_->CreateIndicator(As(token("admin")).get(), request, &created);
  ASSERT_TRUE(s.ok()) << s.error_message();
  v1::Indicator again;
  ASSERT_TRUE(
      stub_->CreateIndicator(As(token("admin")).get(), request, &again).ok());
  EXPECT_EQ(again.id(), created.id());

  // A live indicator takes no hand-entered results; the field is named.
  v1::UpdateIndicatorRequest update;
  update.mutable_indicator()->set_id(created.id());
  update.mutable_indicator()->set_etag(created.etag());
  (*update.mutable_indicator()->mutable_manual_results())[2020].set_value(3);
  update.mutable_update_mask()->add_paths("manual_results");
  v1::Indicator out;
  s = stub_->UpdateIndicator(As(token("admin")).get(), update, &out);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(ViolatedFields(s), ElementsAre("indicator.manual_results"));
  // Switched to MANUAL with evidence, it does.
  (*update.mutable_indicator()->mutable_manual_results())[2020].set_evidence(
      "council report 2020");
  update.mutable_indicator()->set_source(v1::MANUAL);
  update.mutable_update_mask()->add_paths("source");
  update.mutable_update_mask()->add_paths("event_type");
  s = stub_->UpdateIndicator(As(token("admin")).get(), update, &out);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(out.source(), v1::MANUAL);
  EXPECT_EQ(out.recorded_results().at(2020), 3) << "recorded figures kept";

  v1::ListIndicatorsRequest list;
  list.set_project_id(promotion.id());
  v1::ListIndicatorsResponse listed;
  ASSERT_TRUE(
      stub_->ListIndicators(As(token("analyst")).get(), list, &listed).ok());
  EXPECT_THAT(listed.indicators(), SizeIs(1));
}

TEST_F(ProgrammeServiceTest, ChangesAreListedWithWhoAndValues) {
  v1::Project project = MakeProject("t/audited", 0, v1::UNIT_PROJECT, 1);
  v1::UpdateProjectRequest update;
  *update.mutable_project() = project;
  (*update.mutable_project()->mutable_name())["en"] = "Audited";
  update.mutable_update_mask()->add_paths("name");
  v1::Project updated;
  ASSERT_TRUE(
      stub_->UpdateProject(As(token("admin")).get(), update, &updated).ok());

  audit::v1::ListChangesRequest request;
  request.set_entity("project");
  request.set_entity_id(project.id());
  request.set_page_size(1);
  audit::v1::ListChangesResponse page;
  ASSERT_TRUE(
      stub_->ListProgrammeChanges(As(token("council")).get(), request, &page)
          .ok());
  ASSERT_THAT(page.changes(), SizeIs(1));
  EXPECT_EQ(page.changes(0).action(), "CREATE");
  EXPECT_FALSE(page.changes(0).has_before());
  ASSERT_FALSE(page.next_page_token().empty());
  request.set_page_token(page.next_page_token());
  ASSERT_TRUE(
      stub_->ListProgrammeChanges(As(token("council")).get(), request, &page)
          .ok());
  ASSERT_THAT(page.changes(), SizeIs(1));
  EXPECT_EQ(page.changes(0).action(), "UPDATE");
  EXPECT_THAT(page.changes(0).changed_fields(), ElementsAre("name"));
  v1::Project after;
  ASSERT_TRUE(page.changes(0).after().UnpackTo(&after));
  EXPECT_EQ(after.name().at("en"), "Audited");
  EXPECT_TRUE(page.next_page_token().empty());

  // Bad requests name every bad field; a hospital has no access.
  audit::v1::ListChangesRequest bad;
  bad.set_entity("partner");
  grpc::Status s =
      stub_->ListProgrammeChanges(As(token("admin")).get(), bad, &page);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(ViolatedFields(s), ElementsAre("entity", "entity_id"));
  EXPECT_EQ(
      stub_->ListProgrammeChanges(As(token("partner")).get(), request, &page)
          .error_code(),
      grpc::StatusCode::PERMISSION_DENIED);
}

}  // namespace
}  // namespace smz::programme
