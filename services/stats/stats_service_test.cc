// The statistics service end to end: a private MariaDB, a real registry
// (partners, designations, tokens) and the stats server, both on ephemeral
// loopback ports, called over gRPC with real tokens. The clock is fake and
// shared, so deadlines and lock exceptions are exact.
#include <algorithm>
#include <atomic>
#include <limits>
#include <map>
#include <set>
#include <thread>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "common/status_util.h"
#include "gmock/gmock.h"
#include "google/protobuf/util/time_util.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/security/credentials.h"
#include "gtest/gtest.h"
#include "httplib.h"
#include "services/registry/registry_server.h"
#include "services/stats/stats_server.h"
#include "smz/registry/v1/registry.grpc.pb.h"
#include "smz/stats/v1/stats.grpc.pb.h"
#include "tests/harness/local_stack.h"
#include "tests/harness/mariadb_server.h"

namespace smz::stats {
namespace {

using ::google::protobuf::util::TimeUtil;
using ::testing::Contains;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::UnorderedElementsAre;
namespace reg = ::smz::registry::v1;
using ::smz::testing::As;

std::vector<std::string> ViolatedFields(const grpc::Status& status) {
  std::vector<std::string> fields;
  for (const FieldViolation& v : GetFieldViolations(FromGrpcStatus(status))) {
    fields.push_back(v.field);
  }
  return fields;
}

absl::Time Seoul(int y, int m, int d, int hh = 9) {
  return absl::FromCivil(absl::CivilSecond(y, m, d, hh, 0, 0), SeoulTimeZone());
}

// A report builder: New("MN", 3).Visit("MN", "dermatology", OUTPATIENT, 2).
struct ReportBuilder {
  Report report;
  ReportBuilder(int64_t partner_id, const std::string& period) {
    report.set_partner_id(partner_id);
    report.set_period(period);
  }
  ReportBuilder& New(const std::string& nationality, int64_t count,
                     v1::Sex sex = v1::SEX_UNSPECIFIED) {
    v1::NewPatientCell* cell = report.add_new_patients();
    cell->set_nationality(nationality);
    cell->set_sex(sex);
    cell->set_count(count);
    return *this;
  }
  ReportBuilder& Visit(const std::string& nationality,
                       const std::string& department, v1::CareType care,
                       int64_t count) {
    v1::VisitCell* cell = report.add_visits();
    cell->set_nationality(nationality);
    cell->set_department(department);
    cell->set_care_type(care);
    cell->set_count(count);
    return *this;
  }
  ReportBuilder& NoActivity() {
    report.set_no_activity(true);
    return *this;
  }
};

class StatsServiceTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    // 2020-08-05: July is open until 2020-08-11, June and earlier locked.
    clock_ = new FakeClock(Seoul(2020, 8, 5));
    auto stack = testing::LocalStack::Start(clock_);
    ASSERT_TRUE(stack.ok()) << stack.status();
    stack_ = stack->release();
    mariadb_ = &stack_->mariadb();
    tokens_ = new std::map<std::string, std::string>();
    (*tokens_)["admin"] = stack_->admin_token();

    // Three hospitals designated in 2019 (two in Yeongdeungpo, one in
    // Yeouido), one never designated.
    partners_ = new std::vector<int64_t>();
    for (int i = 0; i < 4; ++i) {
      reg::Partner p = testing::TestHospital(
          absl::StrCat("병원", i + 1),
          i == 1 ? reg::YEOUIDO : reg::YEONGDEUNGPO,
          i == 2 ? reg::COOPERATING_INSTITUTION : reg::SPECIALIZED_OPERATOR);
      (*p.mutable_name())["en"] = absl::StrCat("Hospital ", i + 1);
      p.set_floor_area_m2(1000);
      auto id = stack_->AddPartner(p, i == 3 ? "" : "2019-01-15",
                                   i == 3 ? "" : "2022-12-31");
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
    for (int i = 0; i < 4; ++i) {
      (*tokens_)[absl::StrCat("p", i + 1)] =
          issue(auth::v1::PARTNER, (*partners_)[i]);
    }
    auto server = stack_->StartStats([](StatsServerOptions& options) {
      options.database.acquire_timeout = absl::Seconds(2);
      options.database.io_timeout = absl::Seconds(2);
      options_ = new StatsServerOptions(options);
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
    delete options_;
  }

  void SetUp() override {
    stub_ = v1::StatsService::NewStub(*channel_);
    clock_->Set(Seoul(2020, 8, 5));
  }

  static const std::string& admin() { return (*tokens_)["admin"]; }
  static const std::string& token(const std::string& who) {
    return (*tokens_)[who];
  }
  static int64_t partner(int i) { return (*partners_)[i - 1]; }

  grpc::Status Submit(const std::string& who, const Report& report,
                      v1::SubmitReportResponse* out,
                      const std::string& etag = "",
                      const std::string& request_id = "", bool draft = false) {
    v1::SubmitReportRequest request;
    *request.mutable_report() = report;
    request.set_etag(etag);
    request.set_request_id(request_id);
    request.set_draft(draft);
    return stub_->SubmitReport(As(token(who)).get(), request, out);
  }

  v1::AggregateResponse Aggregate(const std::string& who,
                                  v1::AggregateRequest request) {
    v1::AggregateResponse response;
    grpc::Status s =
        stub_->QueryAggregate(As(token(who)).get(), request, &response);
    EXPECT_TRUE(s.ok()) << s.error_message();
    return response;
  }

  static v1::AggregateRequest Range(const std::string& start,
                                    const std::string& end,
                                    std::vector<v1::Dimension> dims = {},
                                    v1::Bucket bucket = v1::WHOLE_RANGE) {
    v1::AggregateRequest request;
    request.set_start_period(start);
    request.set_end_period(end);
    request.set_bucket(bucket);
    for (v1::Dimension d : dims) request.add_group_by(d);
    return request;
  }

  static inline testing::LocalStack* stack_ = nullptr;
  static inline testing::MariaDbServer* mariadb_ = nullptr;  // the stack's
  static inline FakeClock* clock_ = nullptr;
  static inline StatsServer* server_ = nullptr;
  // server_'s, for another replica on the same database.
  static inline StatsServerOptions* options_ = nullptr;
  static inline std::shared_ptr<grpc::Channel>* channel_ = nullptr;
  static inline std::map<std::string, std::string>* tokens_ = nullptr;
  static inline std::vector<int64_t>* partners_ = nullptr;
  std::unique_ptr<v1::StatsService::Stub> stub_;
};

TEST_F(StatsServiceTest, SubmittedReportIsInAggregatesImmediately) {
  // One Mongolian patient seen in dermatology and plastic surgery, plus two
  // who came for a check-up: 3 new patients, 4 visits.
  Report report = ReportBuilder(partner(1), "2020-07")
                      .New("MN", 3)
                      .Visit("MN", "dermatology", v1::OUTPATIENT, 1)
                      .Visit("MN", "plastic_surgery", v1::OUTPATIENT, 1)
                      .Visit("MN", "checkup_center", v1::HEALTH_CHECKUP, 2)
                      .report;
  v1::SubmitReportResponse done;
  grpc::Status s = Submit("p1", report, &done, "", "july-p1");
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(done.report().status(), v1::SUBMITTED);
  EXPECT_EQ(done.report().revision(), 1);
  EXPECT_FALSE(done.report().late());
  EXPECT_EQ(done.summary().cells_created(), 4);

  // Right after the acknowledgement, no rebuild step.
  v1::AggregateResponse by_nationality =
      Aggregate("admin", Range("2020-07", "2020-07", {v1::NATIONALITY}));
  EXPECT_EQ(by_nationality.source(), "rollup_nationality");
  ASSERT_EQ(by_nationality.rows_size(), 1);
  EXPECT_EQ(by_nationality.rows(0).nationality(), "MN");
  EXPECT_EQ(by_nationality.rows(0).new_patients().value(), 3);
  EXPECT_EQ(by_nationality.rows(0).visits().value(), 4);

  // Unique patients are never split by department nor summed with visits.
  v1::AggregateResponse by_department =
      Aggregate("admin", Range("2020-07", "2020-07", {v1::DEPARTMENT}));
  EXPECT_EQ(by_department.rows_size(), 3);
  for (const v1::AggregateRow& row : by_department.rows()) {
    EXPECT_FALSE(row.new_patients().applicable()) << row.department();
  }
  EXPECT_EQ(by_department.total().visits().value(), 4);
  EXPECT_FALSE(by_department.total().new_patients().applicable());
}

// Aggregates kept in memory (AggregateCache) are exact: while readers keep
// an answer warm, each acknowledged report or correction is in the very
// next read, and memory does answer the reads in between.
TEST_F(StatsServiceTest, AggregatesFromMemorySeeEveryEarlierWrite) {
  clock_->Set(Seoul(2021, 3, 5));  // February 2021 open for reports
  const v1::AggregateRequest month =
      Range("2021-02", "2021-02", {v1::NATIONALITY});
  const int64_t hits_before = server_->stats().aggregate_cache().hits();
  std::atomic<bool> stop{false};
  std::atomic<int> failed_reads{0};
  std::vector<std::thread> readers;
  for (int t = 0; t < 3; ++t) {
    readers.emplace_back([&, t] {
      auto stub = v1::StatsService::NewStub(*channel_);
      const char* who = t == 0 ? "admin" : "council";
      while (!stop.load()) {
        v1::AggregateResponse response;
        if (!stub->QueryAggregate(As(token(who)).get(), month, &response)
                 .ok()) {
          ++failed_reads;
        }
      }
    });
  }
  std::map<int, std::string> etags;  // hospital -> its report's etag
  for (int round = 1; round <= 20; ++round) {
    // Two hospitals in turn: first reports, then corrections.
    const int hospital = round % 2 == 1 ? 2 : 3;
    Report report = ReportBuilder(partner(hospital), "2021-02")
                        .New("VN", round)
                        .Visit("VN", "dermatology", v1::OUTPATIENT, round)
                        .report;
    v1::SubmitReportResponse done;
    grpc::Status s =
        Submit(absl::StrCat("p", hospital), report, &done, etags[hospital]);
    if (!s.ok()) {  // not ASSERT: the readers are joined below
      ADD_FAILURE() << "round " << round << ": " << s.error_message();
      break;
    }
    etags[hospital] = done.report().etag();
    // Each hospital's latest figure: this round's and the one before.
    const int64_t expected = round == 1 ? 1 : round + (round - 1);
    v1::AggregateResponse got = Aggregate("admin", month);
    EXPECT_EQ(got.total().new_patients().value(), expected)
        << "round " << round;
  }
  stop = true;
  for (std::thread& t : readers) t.join();
  EXPECT_EQ(failed_reads.load(), 0);
  EXPECT_GT(server_->stats().aggregate_cache().hits(), hits_before);
}

// How often the registry has answered WhoAmI (its Prometheus counter).
double RegistryWhoAmICalls(int metrics_port) {
  httplib::Client client("127.0.0.1", metrics_port);
  const httplib::Result got = client.Get("/metrics");
  EXPECT_TRUE(got && got->status == 200);
  if (!got) return -1;
  double total = 0;
  for (absl::string_view line : absl::StrSplit(got->body, '\n')) {
    if (!absl::StartsWith(line, "smz_rpc_requests_total{") ||
        !absl::StrContains(line, "method=\"WhoAmI\"")) {
      continue;
    }
    double value = 0;
    if (absl::SimpleAtod(line.substr(line.rfind(' ') + 1), &value)) {
      total += value;
    }
  }
  return total;
}

// The warm path: a token stats knows costs no call to the registry (nor a
// query: stats has no token table); a revoked one is refused once the
// stated cache period (token_cache_ttl, 10 s) ends.
TEST_F(StatsServiceTest, AKnownTokenCostsNoRegistryCallUntilItsCacheEnds) {
  absl::StatusOr<std::string> analyst =
      stack_->IssueToken(auth::v1::ANALYST, "warm path analyst");
  ASSERT_TRUE(analyst.ok()) << analyst.status();
  (*tokens_)["warm"] = *analyst;
  const int metrics_port = stack_->registry().server().metrics_port();
  const double before = RegistryWhoAmICalls(metrics_port);
  for (int i = 0; i < 20; ++i) Aggregate("warm", Range("2020-07", "2020-07"));
  EXPECT_EQ(RegistryWhoAmICalls(metrics_port) - before, 1)
      << "20 calls with one token: one lookup";

  // Revoked at the registry: still known to stats until the period ends.
  auto registry = reg::RegistryService::NewStub(
      testing::LoopbackChannel(stack_->registry().server().port()));
  reg::ListTokensRequest list;
  list.set_page_size(100);
  reg::ListTokensResponse tokens;
  ASSERT_TRUE(
      registry->ListTokens(As(stack_->admin_token()).get(), list, &tokens)
          .ok());
  reg::RevokeTokenRequest revoke;
  for (const reg::TokenInfo& info : tokens.tokens()) {
    if (info.display_name() == "warm path analyst")
      revoke.set_token_id(info.id());
  }
  ASSERT_NE(revoke.token_id(), 0);
  google::protobuf::Empty empty;
  ASSERT_TRUE(
      registry->RevokeToken(As(stack_->admin_token()).get(), revoke, &empty)
          .ok());
  v1::AggregateResponse response;
  EXPECT_TRUE(stub_
                  ->QueryAggregate(As(*analyst).get(),
                                   Range("2020-07", "2020-07"), &response)
                  .ok());
  clock_->Advance(absl::Seconds(11));
  EXPECT_EQ(stub_
                ->QueryAggregate(As(*analyst).get(),
                                 Range("2020-07", "2020-07"), &response)
                .error_code(),
            grpc::StatusCode::UNAUTHENTICATED);
}

TEST_F(StatsServiceTest, BadCellsAreAllNamedAndNothingIsStored) {
  Report report = ReportBuilder(partner(2), "2020-07")
                      .New("MN", 5)  // > visits
                      .New("XX", 1)  // unknown code
                      .Visit("MN", "dermatology", v1::OUTPATIENT, 2)
                      .Visit("MN", "astrology", v1::OUTPATIENT, 1)
                      .Visit("CN", "dermatology", v1::OUTPATIENT, -3)
                      .report;
  v1::SubmitReportResponse done;
  grpc::Status s = Submit("p2", report, &done);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(ViolatedFields(s),
              UnorderedElementsAre("report.new_patients[0]",
                                   "report.new_patients[1].nationality",
                                   "report.new_patients[1]",
                                   "report.visits[1].department",
                                   "report.visits[2].count"));
  v1::GetReportRequest get;
  get.set_partner_id(partner(2));
  get.set_period("2020-07");
  Report stored;
  EXPECT_EQ(stub_->GetReport(As(admin()).get(), get, &stored).error_code(),
            grpc::StatusCode::NOT_FOUND);

  // A future month, and a month before the designation.
  for (const char* period : {"2020-09", "2018-12"}) {
    Report r = ReportBuilder(partner(2), period).NoActivity().report;
    s = Submit("p2", r, &done);
    EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << period;
    EXPECT_THAT(ViolatedFields(s), ElementsAre("report.period")) << period;
  }
}

TEST_F(StatsServiceTest, OnlyThePartnerItselfOrAdminSubmits) {
  Report report = ReportBuilder(partner(1), "2020-07").NoActivity().report;
  v1::SubmitReportResponse done;
  EXPECT_EQ(Submit("p2", report, &done).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(Submit("analyst", report, &done).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  v1::SubmitReportRequest request;
  *request.mutable_report() = report;
  EXPECT_EQ(stub_->SubmitReport(As("").get(), request, &done).error_code(),
            grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_EQ(stub_->SubmitReport(As("smz_not-a-token").get(), request, &done)
                .error_code(),
            grpc::StatusCode::UNAUTHENTICATED);
  // A partner that is not designated (not ACTIVE) cannot report.
  Report pending = ReportBuilder(partner(4), "2020-07").NoActivity().report;
  grpc::Status s = Submit("p4", pending, &done);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_THAT(s.error_message(), HasSubstr("PENDING"));
  // Analysts cannot read single reports.
  v1::GetReportRequest get;
  get.set_partner_id(partner(1));
  get.set_period("2020-07");
  Report stored;
  EXPECT_EQ(
      stub_->GetReport(As(token("analyst")).get(), get, &stored).error_code(),
      grpc::StatusCode::PERMISSION_DENIED);
}

TEST_F(StatsServiceTest, RetriesAndIdenticalSubmissionsCreateNothing) {
  Report report = ReportBuilder(partner(3), "2020-07")
                      .New("VN", 1)
                      .Visit("VN", "internal_medicine", v1::INPATIENT, 1)
                      .report;
  v1::SubmitReportResponse first;
  ASSERT_TRUE(Submit("p3", report, &first, "", "p3-july").ok());
  v1::SubmitReportResponse retry;
  ASSERT_TRUE(Submit("p3", report, &retry, "", "p3-july").ok());
  EXPECT_TRUE(retry.summary().unchanged());
  EXPECT_EQ(retry.report().revision(), 1);
  // Identical content without a request_id: still nothing new.
  v1::SubmitReportResponse identical;
  ASSERT_TRUE(Submit("p3", report, &identical).ok());
  EXPECT_TRUE(identical.summary().unchanged());
  EXPECT_EQ(identical.summary().cells_unchanged(), 2);
  EXPECT_EQ(identical.report().etag(), first.report().etag());
  // The same request_id for different content is refused.
  Report other = report;
  other.mutable_visits(0)->set_count(2);
  v1::SubmitReportResponse reused;
  grpc::Status s =
      Submit("p3", other, &reused, first.report().etag(), "p3-july");
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(ViolatedFields(s), ElementsAre("request_id"));

  v1::ListReportChangesRequest history;
  history.set_partner_id(partner(3));
  history.set_period("2020-07");
  v1::ListReportChangesResponse changes;
  ASSERT_TRUE(
      stub_->ListReportChanges(As(token("p3")).get(), history, &changes).ok());
  EXPECT_EQ(changes.changes_size(), 1);  // one SUBMIT, nothing else
}

TEST_F(StatsServiceTest, CorrectionsNeedTheCurrentEtag) {
  Report report = ReportBuilder(partner(2), "2020-07")
                      .New("CN", 2)
                      .Visit("CN", "dermatology", v1::OUTPATIENT, 3)
                      .Visit("CN", "ophthalmology", v1::OUTPATIENT, 1)
                      .report;
  v1::SubmitReportResponse first;
  ASSERT_TRUE(Submit("p2", report, &first).ok());
  Report corrected = ReportBuilder(partner(2), "2020-07")
                         .New("CN", 2)
                         .Visit("CN", "dermatology", v1::OUTPATIENT, 4)
                         .Visit("CN", "checkup_center", v1::HEALTH_CHECKUP, 1)
                         .report;
  corrected.set_revenue_krw(1500000);
  v1::SubmitReportResponse second;
  // Without the etag, an existing report is not overwritten.
  EXPECT_EQ(Submit("p2", corrected, &second).error_code(),
            grpc::StatusCode::ABORTED);
  grpc::Status s = Submit("p2", corrected, &second, first.report().etag());
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(second.summary().cells_created(), 2);  // check-up, revenue
  EXPECT_EQ(second.summary().cells_updated(), 1);
  EXPECT_EQ(second.summary().cells_unchanged(), 1);
  EXPECT_EQ(second.summary().cells_deleted(), 1);
  EXPECT_EQ(second.report().revision(), 2);
  // A concurrent correction based on the first revision loses.
  v1::SubmitReportResponse stale;
  EXPECT_EQ(Submit("p2", report, &stale, first.report().etag()).error_code(),
            grpc::StatusCode::ABORTED);

  v1::AggregateRequest request = Range("2020-07", "2020-07", {v1::PARTNER});
  request.mutable_filter()->add_partner_ids(partner(2));
  v1::AggregateResponse mine = Aggregate("admin", request);
  EXPECT_EQ(mine.source(), "reports.cells_json");
  ASSERT_EQ(mine.rows_size(), 1);
  EXPECT_EQ(mine.rows(0).visits().value(), 5);
  EXPECT_EQ(mine.rows(0).revenue_krw().value(), 1500000);
  EXPECT_EQ(mine.rows(0).partner_name(), "병원2");

  // The audit trail has both revisions with what changed.
  v1::ListReportChangesRequest history;
  history.set_partner_id(partner(2));
  history.set_period("2020-07");
  v1::ListReportChangesResponse changes;
  ASSERT_TRUE(
      stub_->ListReportChanges(As(admin()).get(), history, &changes).ok());
  ASSERT_EQ(changes.changes_size(), 2);
  EXPECT_EQ(changes.changes(0).action(), "SUBMIT");
  EXPECT_EQ(changes.changes(1).action(), "CORRECT");
  EXPECT_THAT(changes.changes(1).changed_fields(),
              Contains("visits[CN/dermatology/OUTPATIENT]"));
  EXPECT_EQ(changes.changes(1).before().visits(0).count(), 3);
  EXPECT_THAT(changes.changes(1).actor(), HasSubstr("PARTNER"));
  EXPECT_EQ(server_->store().CountRollupMismatches().value_or(-1), 0);
}

TEST_F(StatsServiceTest, LockedPeriodsNeedAnAdminException) {
  Report june = ReportBuilder(partner(1), "2020-06")
                    .New("RU", 1)
                    .Visit("RU", "orthopedics", v1::INPATIENT, 1)
                    .report;
  v1::SubmitReportResponse done;
  grpc::Status s = Submit("p1", june, &done);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_THAT(s.error_message(), HasSubstr("locked since 2020-07-11"));
  EXPECT_THAT(s.error_message(), HasSubstr("lock exception"));

  v1::GrantLockExceptionRequest grant;
  grant.set_partner_id(partner(1));
  grant.set_period("2020-06");
  grant.set_duration_hours(24);
  v1::LockException exception;
  // A reason is required, and only ADMIN grants.
  s = stub_->GrantLockException(As(admin()).get(), grant, &exception);
  EXPECT_THAT(ViolatedFields(s), ElementsAre("reason"));
  grant.set_reason("hospital's EMR outage in July");
  EXPECT_EQ(stub_->GrantLockException(As(token("p1")).get(), grant, &exception)
                .error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  ASSERT_TRUE(
      stub_->GrantLockException(As(admin()).get(), grant, &exception).ok());

  s = Submit("p1", june, &done);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_TRUE(done.report().late());

  // Accepted: locked even within the exception's time.
  v1::AcceptReportRequest accept;
  accept.set_partner_id(partner(1));
  accept.set_period("2020-06");
  accept.set_etag("\"0\"");
  Report accepted;
  EXPECT_EQ(
      stub_->AcceptReport(As(admin()).get(), accept, &accepted).error_code(),
      grpc::StatusCode::ABORTED);
  accept.set_etag(done.report().etag());
  ASSERT_TRUE(stub_->AcceptReport(As(admin()).get(), accept, &accepted).ok());
  EXPECT_EQ(accepted.status(), v1::ACCEPTED);
  EXPECT_EQ(
      stub_->AcceptReport(As(admin()).get(), accept, &accepted).error_code(),
      grpc::StatusCode::ABORTED);  // etag moved on
  accept.set_etag(accepted.etag());
  EXPECT_EQ(
      stub_->AcceptReport(As(admin()).get(), accept, &accepted).error_code(),
      grpc::StatusCode::FAILED_PRECONDITION);  // already accepted

  // The exception has expired a day later: locked again.
  clock_->Advance(absl::Hours(25));
  june.mutable_visits(0)->set_count(2);
  s = Submit("p1", june, &done, accepted.etag());
  EXPECT_EQ(s.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_THAT(s.error_message(), HasSubstr("accepted"));
  // A fresh exception reopens the accepted report; the correction goes back
  // to SUBMITTED for acceptance.
  grant.set_request_id("reopen-june-p1");
  ASSERT_TRUE(
      stub_->GrantLockException(As(admin()).get(), grant, &exception).ok());
  s = Submit("p1", june, &done, accepted.etag());
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(done.report().status(), v1::SUBMITTED);

  v1::ListReportChangesRequest history;
  history.set_partner_id(partner(1));
  history.set_period("2020-06");
  v1::ListReportChangesResponse changes;
  ASSERT_TRUE(
      stub_->ListReportChanges(As(token("p1")).get(), history, &changes).ok());
  std::vector<std::string> actions;
  for (const v1::ReportChange& c : changes.changes()) {
    actions.push_back(c.action());
  }
  EXPECT_THAT(actions, ElementsAre("SUBMIT", "ACCEPT", "UNLOCK", "CORRECT"));
  EXPECT_EQ(changes.changes(2).reason(), "hospital's EMR outage in July");
  EXPECT_EQ(changes.changes(3).before().visits(0).count(), 1);
  EXPECT_EQ(changes.changes(3).after().visits(0).count(), 2);
}

// The hospital's home page: each month's state, what is due, what is locked
// and what an exception reopens.
TEST_F(StatsServiceTest, ReportingCalendarShowsEachMonthsState) {
  // 2021-03-05: January closed on 2021-02-11, February is due by 03-11.
  clock_->Set(Seoul(2021, 3, 5));
  auto calendar = [&](const std::string& who, int64_t partner_id, int year,
                      v1::ReportingCalendar* out) {
    v1::GetReportingCalendarRequest request;
    request.set_partner_id(partner_id);
    request.set_year(year);
    return stub_->GetReportingCalendar(As(token(who)).get(), request, out);
  };
  v1::ReportingCalendar year;
  ASSERT_TRUE(calendar("p1", partner(1), 2021, &year).ok());
  ASSERT_EQ(year.months_size(), 12);
  EXPECT_EQ(year.due_period(), "2021-02");
  EXPECT_EQ(TimeUtil::TimestampToMicroseconds(year.due_deadline()),
            absl::ToUnixMicros(Seoul(2021, 3, 11, 0)));
  const v1::CalendarMonth* january = &year.months(0);
  EXPECT_EQ(january->period(), "2021-01");
  EXPECT_TRUE(january->expected());
  EXPECT_TRUE(january->overdue());
  EXPECT_TRUE(january->locked());
  EXPECT_EQ(january->status(), v1::REPORT_STATUS_UNSPECIFIED);
  EXPECT_TRUE(year.months(1).expected());
  EXPECT_FALSE(year.months(1).overdue());
  EXPECT_FALSE(year.months(1).locked());
  EXPECT_FALSE(year.months(2).expected());  // March has not ended
  EXPECT_EQ(year.current_period(), "2021-03");
  // Year 0 is this year; December is due in January, shown from either year.
  v1::ReportingCalendar this_year;
  ASSERT_TRUE(calendar("p1", partner(1), 0, &this_year).ok());
  EXPECT_EQ(this_year.year(), 2021);
  clock_->Set(Seoul(2021, 1, 4));
  ASSERT_TRUE(calendar("p1", partner(1), 0, &this_year).ok());
  EXPECT_EQ(this_year.due_period(), "2020-12");
  ASSERT_TRUE(calendar("p1", partner(1), 2020, &this_year).ok());
  EXPECT_EQ(this_year.due_period(), "2020-12");
  EXPECT_FALSE(this_year.months(11).overdue());
  clock_->Set(Seoul(2021, 3, 5));

  // A draft is not a submission: February stays due.
  v1::SubmitReportResponse done;
  Report february = ReportBuilder(partner(1), "2021-02").NoActivity().report;
  ASSERT_TRUE(Submit("p1", february, &done, "", "", /*draft=*/true).ok());
  ASSERT_TRUE(calendar("p1", partner(1), 2021, &year).ok());
  EXPECT_EQ(year.months(1).status(), v1::DRAFT);
  EXPECT_EQ(year.due_period(), "2021-02");
  ASSERT_TRUE(Submit("p1", february, &done, done.report().etag()).ok());
  ASSERT_TRUE(calendar("p1", partner(1), 2021, &year).ok());
  EXPECT_EQ(year.months(1).status(), v1::SUBMITTED);
  EXPECT_TRUE(year.months(1).no_activity());
  EXPECT_EQ(year.months(1).revision(), done.report().revision());
  EXPECT_EQ(year.due_period(), "");

  // An exception reopens January until it expires.
  v1::GrantLockExceptionRequest grant;
  grant.set_partner_id(partner(1));
  grant.set_period("2021-01");
  grant.set_reason("EMR migration");
  grant.set_duration_hours(48);
  v1::LockException exception;
  ASSERT_TRUE(
      stub_->GrantLockException(As(admin()).get(), grant, &exception).ok());
  ASSERT_TRUE(calendar("p1", partner(1), 2021, &year).ok());
  EXPECT_FALSE(year.months(0).locked());
  EXPECT_EQ(year.months(0).exception_expire_time(), exception.expire_time());
  clock_->Advance(absl::Hours(49));
  ASSERT_TRUE(calendar("p1", partner(1), 2021, &year).ok());
  EXPECT_TRUE(year.months(0).locked());
  EXPECT_FALSE(year.months(0).has_exception_expire_time());

  // Before the designation (2019-01-15) nothing is expected.
  ASSERT_TRUE(calendar("admin", partner(1), 2018, &year).ok());
  for (const v1::CalendarMonth& m : year.months()) {
    EXPECT_FALSE(m.expected()) << m.period();
    EXPECT_FALSE(m.overdue()) << m.period();
  }

  // A partner that is not designated (PENDING) is expected to report nothing.
  ASSERT_TRUE(calendar("admin", partner(4), 2021, &year).ok());
  for (const v1::CalendarMonth& m : year.months()) {
    EXPECT_FALSE(m.expected()) << m.period();
  }
  EXPECT_EQ(year.due_period(), "");

  // Only the partner itself and ADMIN; bad fields named together.
  EXPECT_EQ(calendar("p2", partner(1), 2021, &year).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(calendar("analyst", partner(1), 2021, &year).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  grpc::Status s = calendar("admin", 0, 1999, &year);
  EXPECT_THAT(ViolatedFields(s), UnorderedElementsAre("partner_id", "year"));
  EXPECT_EQ(calendar("admin", 999999, 2021, &year).error_code(),
            grpc::StatusCode::NOT_FOUND);
}

TEST_F(StatsServiceTest, DraftsAreNotCounted) {
  Report report = ReportBuilder(partner(3), "2020-05")
                      .New("KZ", 7)
                      .Visit("KZ", "neurosurgery", v1::INPATIENT, 7)
                      .report;
  // May is locked; a period-wide exception opens it for everyone.
  v1::GrantLockExceptionRequest grant;
  grant.set_period("2020-05");
  grant.set_reason("late start of reporting");
  v1::LockException exception;
  ASSERT_TRUE(
      stub_->GrantLockException(As(admin()).get(), grant, &exception).ok());
  v1::SubmitReportResponse draft;
  ASSERT_TRUE(Submit("p3", report, &draft, "", "", /*draft=*/true).ok());
  EXPECT_EQ(draft.report().status(), v1::DRAFT);
  v1::AggregateRequest kz = Range("2020-05", "2020-05", {v1::NATIONALITY});
  kz.mutable_filter()->add_nationalities("KZ");
  EXPECT_EQ(Aggregate("admin", kz).rows_size(), 0);
  v1::SubmitReportResponse submitted;
  ASSERT_TRUE(Submit("p3", report, &submitted, draft.report().etag()).ok());
  EXPECT_EQ(submitted.report().status(), v1::SUBMITTED);
  EXPECT_EQ(Aggregate("admin", kz).rows(0).new_patients().value(), 7);
  v1::SubmitReportResponse back;
  EXPECT_EQ(Submit("p3", report, &back, submitted.report().etag(), "", true)
                .error_code(),
            grpc::StatusCode::FAILED_PRECONDITION);
}

TEST_F(StatsServiceTest, SmallCellsOfOnePartnerAreSuppressedForReaders) {
  // Partner 1 alone reports Thai patients (2); Mongolian patients come from
  // partners 1 and 2 (small numbers, but two partners); Chinese patients
  // from partner 2 (many).
  v1::GrantLockExceptionRequest grant;
  grant.set_period("2020-04");
  grant.set_reason("suppression test");
  v1::LockException exception;
  ASSERT_TRUE(
      stub_->GrantLockException(As(admin()).get(), grant, &exception).ok());
  v1::SubmitReportResponse done;
  ASSERT_TRUE(Submit("p1",
                     ReportBuilder(partner(1), "2020-04")
                         .New("TH", 2)
                         .Visit("TH", "dermatology", v1::OUTPATIENT, 2)
                         .New("MN", 1)
                         .Visit("MN", "dermatology", v1::OUTPATIENT, 1)
                         .report,
                     &done)
                  .ok());
  ASSERT_TRUE(Submit("p2",
                     ReportBuilder(partner(2), "2020-04")
                         .New("MN", 2)
                         .Visit("MN", "dermatology", v1::OUTPATIENT, 2)
                         .New("CN", 20)
                         .Visit("CN", "dermatology", v1::OUTPATIENT, 25)
                         .report,
                     &done)
                  .ok());
  // A third hospital reports returning Chinese patients' visits: a month
  // that fewer than three hospitals reported is withheld from these roles
  // altogether (DifferencingGivesNoHospitalAway).
  ASSERT_TRUE(Submit("p3",
                     ReportBuilder(partner(3), "2020-04")
                         .Visit("CN", "dermatology", v1::OUTPATIENT, 10)
                         .report,
                     &done)
                  .ok());
  v1::AggregateRequest request = Range("2020-04", "2020-04", {v1::NATIONALITY});
  for (const char* who : {"analyst", "council"}) {
    v1::AggregateResponse response = Aggregate(who, request);
    EXPECT_EQ(response.suppression_threshold(), 5);
    std::map<std::string, v1::AggregateRow> seen;
    for (const v1::AggregateRow& row : response.rows()) {
      seen[row.nationality()] = row;
    }
    EXPECT_TRUE(seen["TH"].new_patients().suppressed()) << who;
    EXPECT_EQ(seen["TH"].new_patients().value(), 0) << who;
    EXPECT_TRUE(seen["TH"].visits().suppressed()) << who;
    // MN is small but from two partners; it is hidden only as the
    // complement, so the total minus CN cannot give TH away.
    EXPECT_TRUE(seen["MN"].visits().suppressed()) << who;
    EXPECT_FALSE(seen["CN"].visits().suppressed()) << who;
    EXPECT_EQ(seen["CN"].visits().value(), 35) << who;
    EXPECT_EQ(response.total().visits().value(), 40) << who;
  }
  // On its own MN is shown: two partners contribute.
  v1::AggregateRequest mongolia = request;
  mongolia.mutable_filter()->add_nationalities("MN");
  const v1::AggregateResponse mn = Aggregate("analyst", mongolia);
  ASSERT_EQ(mn.rows_size(), 1);
  EXPECT_FALSE(mn.rows(0).visits().suppressed());
  EXPECT_EQ(mn.rows(0).visits().value(), 3);
  // ADMIN sees every number.
  const v1::AggregateResponse as_admin = Aggregate("admin", request);
  for (const v1::AggregateRow& row : as_admin.rows()) {
    EXPECT_FALSE(row.visits().suppressed()) << row.nationality();
    if (row.nationality() == "TH") EXPECT_EQ(row.visits().value(), 2);
  }
  // Single hospitals are ADMIN's to see (DifferencingGivesNoHospitalAway).
  v1::AggregateRequest by_partner = Range("2020-04", "2020-04", {v1::PARTNER});
  v1::AggregateResponse partners;
  EXPECT_EQ(
      stub_->QueryAggregate(As(token("analyst")).get(), by_partner, &partners)
          .error_code(),
      grpc::StatusCode::PERMISSION_DENIED);
  ASSERT_GE(Aggregate("admin", by_partner).rows_size(), 2);
  // Exports carry the marker, never the number.
  v1::CsvFile csv;
  ASSERT_TRUE(
      stub_->ExportAggregateCsv(As(token("council")).get(), request, &csv)
          .ok());
  EXPECT_THAT(csv.content(), HasSubstr("TH,<5,<5,"));
  EXPECT_THAT(csv.content(), HasSubstr("CN,20,35,"));
  ASSERT_TRUE(stub_->ExportAggregateCsv(As(admin()).get(), request, &csv).ok());
  EXPECT_THAT(csv.content(), HasSubstr("TH,2,2,"));
  // The same table as a workbook, for the same readers only.
  v1::CsvFile xlsx;
  ASSERT_TRUE(
      stub_->ExportAggregateXlsx(As(token("council")).get(), request, &xlsx)
          .ok());
  EXPECT_EQ(xlsx.content().substr(0, 2), "PK");
  EXPECT_THAT(xlsx.filename(), ::testing::EndsWith(".xlsx"));
  EXPECT_EQ(stub_->ExportAggregateXlsx(As(token("p1")).get(), request, &xlsx)
                .error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  // Partners cannot query aggregates at all.
  v1::AggregateResponse denied;
  EXPECT_EQ(stub_->QueryAggregate(As(token("p1")).get(), request, &denied)
                .error_code(),
            grpc::StatusCode::PERMISSION_DENIED);

  // Beside the zone (zone_comparison_test has the rules): the hospital's
  // own figures are exact; with two other hospitals only, nothing of theirs
  // is shown — not their Mongolian or Chinese patients, not the month's
  // total — as the hospital could subtract its own. ADMIN sees the page as
  // the hospital does. Only months closed for reports are compared.
  auto compare = [&](const std::string& who, int64_t partner_id,
                     std::vector<v1::Dimension> dims, v1::ZoneComparison* out) {
    v1::CompareWithZoneRequest ask;
    ask.set_partner_id(partner_id);
    ask.set_start_period("2020-04");
    ask.set_end_period("2020-04");
    ask.set_bucket(v1::WHOLE_RANGE);
    for (v1::Dimension d : dims) ask.add_group_by(d);
    return stub_->CompareWithZone(As(token(who)).get(), ask, out);
  };
  v1::ZoneComparison beside;
  for (const char* who : {"p1", "admin"}) {
    grpc::Status s = compare(who, partner(1), {v1::NATIONALITY}, &beside);
    ASSERT_TRUE(s.ok()) << who << ": " << s.error_message();
    std::map<std::string, v1::AggregateRow> own;
    std::map<std::string, v1::AggregateRow> zone;
    for (const v1::AggregateRow& row : beside.own().rows()) {
      own[row.nationality()] = row;
    }
    for (const v1::AggregateRow& row : beside.zone().rows()) {
      zone[row.nationality()] = row;
    }
    EXPECT_EQ(own.count("CN"), 0u) << who;  // p2's and p3's patients
    EXPECT_EQ(own["TH"].visits().value(), 2) << who;
    EXPECT_EQ(beside.own().total().visits().value(), 3) << who;
    EXPECT_EQ(zone["TH"].visits().value(), 2) << who;  // p1's alone
    EXPECT_TRUE(zone["MN"].visits().suppressed()) << who;
    EXPECT_TRUE(zone["CN"].visits().suppressed()) << who;
    EXPECT_TRUE(beside.zone().total().visits().suppressed()) << who;
    EXPECT_THAT(beside.zone().withheld_periods(), ElementsAre("2020-04"))
        << who;
    EXPECT_EQ(beside.compared_until(), "2020-04") << who;
  }
  v1::CompareWithZoneRequest open_month;
  open_month.set_partner_id(partner(1));
  open_month.set_start_period("2099-01");
  open_month.set_end_period("2099-02");
  EXPECT_THAT(ViolatedFields(stub_->CompareWithZone(As(token("p1")).get(),
                                                    open_month, &beside)),
              UnorderedElementsAre("start_period"));
  v1::CompareWithZoneRequest decades = open_month;
  decades.set_start_period("2015-01");
  decades.set_end_period("2020-04");
  EXPECT_THAT(ViolatedFields(stub_->CompareWithZone(As(token("p1")).get(),
                                                    decades, &beside)),
              UnorderedElementsAre("end_period"));
  // Another hospital's comparison is refused before anything else, and so
  // is the analyst's (who has the explorer); bad fields are named together;
  // comparing with other hospitals (by partner, kind or region), or by two
  // dimensions at once, is not what this call does.
  v1::CompareWithZoneRequest bad;
  bad.set_partner_id(partner(1));
  EXPECT_EQ(
      stub_->CompareWithZone(As(token("p2")).get(), bad, &beside).error_code(),
      grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(compare("analyst", partner(1), {}, &beside).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_THAT(ViolatedFields(compare("p1", partner(1), {v1::REGION}, &beside)),
              UnorderedElementsAre("group_by[0]"));
  EXPECT_THAT(
      ViolatedFields(compare("p1", partner(1),
                             {v1::PARTNER_KIND, v1::NATIONALITY}, &beside)),
      UnorderedElementsAre("group_by", "group_by[0]"));
  bad.set_partner_id(0);
  bad.set_start_period("2020-13");
  bad.set_end_period("2020-04");
  EXPECT_THAT(
      ViolatedFields(stub_->CompareWithZone(As(admin()).get(), bad, &beside)),
      UnorderedElementsAre("partner_id", "start_period"));
  EXPECT_EQ(compare("admin", 999999, {}, &beside).error_code(),
            grpc::StatusCode::NOT_FOUND);
}

// Subtracting aggregates over chosen partner sets gives no hospital away:
// three queries over pairs of hospitals would give each one's revenue, so
// restricted roles cannot choose hospitals; and by kind or region each group
// shown alone has at least min_group_partners hospitals, the rest pooled.
TEST_F(StatsServiceTest, DifferencingGivesNoHospitalAway) {
  // A month no other test uses, still open.
  clock_->Set(Seoul(2020, 11, 5));
  // Partner 1: SPECIALIZED_OPERATOR in Yeongdeungpo; 2: SPECIALIZED_OPERATOR
  // in Yeouido; 3: COOPERATING_INSTITUTION in Yeongdeungpo.
  const std::map<int, int64_t> revenue = {
      {1, 1'000'000}, {2, 20'000'000}, {3, 300'000'000}};
  for (const auto& [i, krw] : revenue) {
    Report report = ReportBuilder(partner(i), "2020-10")
                        .New("VN", 10 * i)
                        .Visit("VN", "dermatology", v1::OUTPATIENT, 10 * i)
                        .report;
    report.set_revenue_krw(krw);
    v1::SubmitReportResponse done;
    ASSERT_TRUE(Submit("admin", report, &done).ok());
  }

  // The three-query attack: refused for every restricted role.
  for (const char* who : {"analyst", "council"}) {
    for (auto [a, b] : {std::pair{1, 2}, std::pair{2, 3}, std::pair{1, 3}}) {
      v1::AggregateRequest pair = Range("2020-10", "2020-10");
      pair.mutable_filter()->add_partner_ids(partner(a));
      pair.mutable_filter()->add_partner_ids(partner(b));
      v1::AggregateResponse out;
      const grpc::Status s =
          stub_->QueryAggregate(As(token(who)).get(), pair, &out);
      EXPECT_EQ(s.error_code(), grpc::StatusCode::PERMISSION_DENIED) << who;
      EXPECT_THAT(s.error_message(), HasSubstr("filter.partner_ids"));
    }
  }

  // Every query by kind and region a council member can make, and every
  // difference of two of their figures: none is one hospital's revenue or
  // visits.
  std::vector<v1::AggregateRequest> queries;
  queries.push_back(Range("2020-10", "2020-10"));
  for (std::vector<v1::Dimension> dims :
       {std::vector<v1::Dimension>{v1::PARTNER_KIND},
        std::vector<v1::Dimension>{v1::REGION},
        std::vector<v1::Dimension>{v1::PARTNER_KIND, v1::REGION}}) {
    queries.push_back(Range("2020-10", "2020-10", dims));
  }
  for (reg::ZoneRegion region : {reg::YEONGDEUNGPO, reg::YEOUIDO}) {
    v1::AggregateRequest q = Range("2020-10", "2020-10");
    q.mutable_filter()->add_regions(region);
    queries.push_back(q);
  }
  for (reg::PartnerKind kind :
       {reg::SPECIALIZED_OPERATOR, reg::COOPERATING_INSTITUTION}) {
    v1::AggregateRequest q = Range("2020-10", "2020-10");
    q.mutable_filter()->add_partner_kinds(kind);
    queries.push_back(q);
  }
  std::vector<int64_t> revenues = {0};
  std::vector<int64_t> visits = {0};
  for (const v1::AggregateRequest& q : queries) {
    const v1::AggregateResponse out = Aggregate("council", q);
    EXPECT_EQ(out.min_group_partners(), 3);
    for (const v1::AggregateRow& row : out.rows()) {
      revenues.push_back(row.revenue_krw().value());
      visits.push_back(row.visits().value());
    }
    revenues.push_back(out.total().revenue_krw().value());
    visits.push_back(out.total().visits().value());
  }
  for (const auto& [i, krw] : revenue) {
    for (int64_t a : revenues) {
      for (int64_t b : revenues) {
        EXPECT_NE(a - b, krw) << "hospital " << i << "'s revenue";
      }
    }
    for (int64_t a : visits) {
      for (int64_t b : visits) {
        EXPECT_NE(a - b, 10 * i) << "hospital " << i << "'s visits";
      }
    }
  }
  // The zone as a whole is shown, and by region only as one pooled group.
  const v1::AggregateResponse zone = Aggregate("council", queries[0]);
  EXPECT_EQ(zone.total().revenue_krw().value(), 321'000'000);
  const v1::AggregateResponse by_region = Aggregate("council", queries[2]);
  ASSERT_EQ(by_region.rows_size(), 1);
  EXPECT_TRUE(by_region.rows(0).pooled());
  EXPECT_EQ(by_region.rows(0).region(), reg::ZONE_REGION_UNSPECIFIED);
  EXPECT_EQ(by_region.total().revenue_krw().value(), 321'000'000);
  // ADMIN sees each group.
  const v1::AggregateResponse admin_regions = Aggregate("admin", queries[2]);
  EXPECT_EQ(admin_regions.rows_size(), 2);
  EXPECT_EQ(admin_regions.min_group_partners(), 0);

  // Early in the next month one hospital alone has reported: that month is
  // withheld from every figure (a row of it alone would be suppressed, but
  // the total minus October would give it away), and so from the KPI.
  clock_->Set(Seoul(2020, 12, 5));
  Report early = ReportBuilder(partner(1), "2020-11")
                     .New("TH", 3)
                     .Visit("TH", "dermatology", v1::OUTPATIENT, 3)
                     .report;
  early.set_revenue_krw(7'770'000);
  v1::SubmitReportResponse submitted;
  ASSERT_TRUE(Submit("admin", early, &submitted).ok());
  const v1::AggregateResponse two_months =
      Aggregate("council", Range("2020-10", "2020-11", {}, v1::MONTH));
  EXPECT_THAT(two_months.withheld_periods(), ElementsAre("2020-11"));
  for (const v1::AggregateRow& row : two_months.rows()) {
    EXPECT_NE(row.bucket(), "2020-11");
  }
  EXPECT_EQ(two_months.total().revenue_krw().value(), 321'000'000);
  EXPECT_EQ(two_months.total().visits().value(), 60);
  v1::GetKpiProgressRequest kpi;
  kpi.set_year(2020);
  kpi.set_as_of("2020-10-31");
  v1::KpiProgress before, after;
  ASSERT_TRUE(
      stub_->GetKpiProgress(As(token("council")).get(), kpi, &before).ok());
  kpi.set_as_of("2020-11-30");
  ASSERT_TRUE(
      stub_->GetKpiProgress(As(token("council")).get(), kpi, &after).ok());
  EXPECT_EQ(after.new_patients_ytd(), before.new_patients_ytd());
  EXPECT_TRUE(after.months(10).new_patients().suppressed());
  // ADMIN sees it.
  EXPECT_EQ(Aggregate("admin", Range("2020-10", "2020-11"))
                .total()
                .revenue_krw()
                .value(),
            328'770'000);
}

// One hospital's figure, however large, can never make another's report
// fail: figures are bounded, so the shared rollups cannot overflow.
TEST_F(StatsServiceTest, OneHospitalsFigureCannotBreakAnothers) {
  clock_->Set(Seoul(2020, 10, 5));  // September open
  Report huge = ReportBuilder(partner(1), "2020-09")
                    .New("MN", 1)
                    .Visit("MN", "dermatology", v1::OUTPATIENT, 1)
                    .report;
  huge.set_revenue_krw(std::numeric_limits<int64_t>::max());
  v1::SubmitReportResponse done;
  grpc::Status s = Submit("p1", huge, &done);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(ViolatedFields(s), ElementsAre("report.revenue_krw"));
  Report counts =
      ReportBuilder(partner(1), "2020-09")
          .New("MN", std::numeric_limits<int64_t>::max())
          .New("MN", std::numeric_limits<int64_t>::max(), v1::FEMALE)
          .Visit("MN", "dermatology", v1::OUTPATIENT,
                 std::numeric_limits<int64_t>::max())
          .report;
  s = Submit("p1", counts, &done);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);

  // The largest figures allowed, from two hospitals, add up exactly.
  huge.set_revenue_krw(1'000'000'000'000);
  s = Submit("p1", huge, &done);
  ASSERT_TRUE(s.ok()) << s.error_message();
  Report other = ReportBuilder(partner(2), "2020-09")
                     .New("MN", 1)
                     .Visit("MN", "dermatology", v1::OUTPATIENT, 1)
                     .report;
  other.set_revenue_krw(1'000'000'000'000);
  s = Submit("p2", other, &done);
  ASSERT_TRUE(s.ok()) << s.error_message();
  const v1::AggregateResponse sum =
      Aggregate("admin", Range("2020-09", "2020-09"));
  EXPECT_EQ(sum.total().revenue_krw().value(), 2'000'000'000'000);
  EXPECT_EQ(server_->store().CountRollupMismatches().value_or(-1), 0);
}

// Every request_id refuses a reuse with other content (AIP-155).
TEST_F(StatsServiceTest, LockExceptionsAreListedNewestFirstInPages) {
  std::vector<int64_t> granted;
  for (const char* period : {"2019-01", "2019-02", "2019-03"}) {
    v1::GrantLockExceptionRequest grant;
    grant.set_partner_id(partner(2));
    grant.set_period(period);
    grant.set_reason("listing test");
    v1::LockException exception;
    ASSERT_TRUE(
        stub_->GrantLockException(As(admin()).get(), grant, &exception).ok());
    granted.push_back(exception.id());
  }
  v1::ListLockExceptionsRequest list;
  list.set_page_size(2);
  std::vector<int64_t> seen;
  for (int pages = 0; pages < 10; ++pages) {
    v1::ListLockExceptionsResponse page;
    grpc::Status s = stub_->ListLockExceptions(As(admin()).get(), list, &page);
    ASSERT_TRUE(s.ok()) << s.error_message();
    EXPECT_LE(page.exceptions_size(), 2);
    for (const v1::LockException& e : page.exceptions()) {
      seen.push_back(e.id());
    }
    if (page.next_page_token().empty()) break;
    list.set_page_token(page.next_page_token());
  }
  // Others' exceptions from earlier tests may be listed too, all newest
  // first, each once.
  EXPECT_TRUE(std::is_sorted(seen.rbegin(), seen.rend()));
  EXPECT_EQ(std::set<int64_t>(seen.begin(), seen.end()).size(), seen.size());
  for (int64_t id : granted) EXPECT_THAT(seen, Contains(id));

  v1::ListLockExceptionsRequest february;
  february.set_period("2019-02");
  v1::ListLockExceptionsResponse only;
  ASSERT_TRUE(
      stub_->ListLockExceptions(As(admin()).get(), february, &only).ok());
  ASSERT_EQ(only.exceptions_size(), 1);
  EXPECT_EQ(only.exceptions(0).id(), granted[1]);

  // A token of another query, a bad period and a bad size: all named.
  february.set_period("2019-13");
  february.set_page_size(-1);
  february.set_page_token(list.page_token());
  grpc::Status s =
      stub_->ListLockExceptions(As(admin()).get(), february, &only);
  EXPECT_THAT(ViolatedFields(s),
              UnorderedElementsAre("period", "page_size", "page_token"));
  EXPECT_EQ(stub_
                ->ListLockExceptions(As(token("p2")).get(),
                                     v1::ListLockExceptionsRequest(), &only)
                .error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
}

TEST_F(StatsServiceTest, ReusedRequestIdsWithOtherContentAreRefused) {
  v1::GrantLockExceptionRequest grant;
  grant.set_partner_id(partner(2));
  grant.set_period("2020-05");
  grant.set_reason("late paperwork");
  grant.set_request_id("exception-1");
  v1::LockException first, again;
  ASSERT_TRUE(stub_->GrantLockException(As(admin()).get(), grant, &first).ok());
  ASSERT_TRUE(stub_->GrantLockException(As(admin()).get(), grant, &again).ok());
  EXPECT_EQ(again.id(), first.id()) << "a retry returns the first answer";
  grant.set_reason("another reason");
  grpc::Status s = stub_->GrantLockException(As(admin()).get(), grant, &again);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(ViolatedFields(s), ElementsAre("request_id"));
  grant.set_reason("late paperwork");
  grant.set_duration_hours(24);
  EXPECT_EQ(
      stub_->GrantLockException(As(admin()).get(), grant, &again).error_code(),
      grpc::StatusCode::INVALID_ARGUMENT);

  const std::string header =
      "partner_id,period,record,nationality,department,care_type,sex,"
      "age_band,value\n";
  v1::ImportReportsRequest import;
  import.set_request_id("sheet-reuse");
  import.set_csv(
      absl::StrCat(header, partner(2), ",2020-05,no_activity,,,,,,\n"));
  v1::ImportReportsResponse imported;
  s = stub_->ImportReports(As(token("p2")).get(), import, &imported);
  ASSERT_TRUE(s.ok()) << s.error_message();
  ASSERT_TRUE(
      stub_->ImportReports(As(token("p2")).get(), import, &imported).ok());
  // The same id for a file about other months: refused, nothing stored.
  import.set_csv(
      absl::StrCat(header, partner(2), ",2020-07,no_activity,,,,,,\n"));
  s = stub_->ImportReports(As(token("p2")).get(), import, &imported);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(ViolatedFields(s), ElementsAre("request_id"));
}

// A file full of bad lines gets a readable answer: the first errors and
// their number, within gRPC's limits.
TEST_F(StatsServiceTest, ImportWithThousandsOfBadLinesStaysReadable) {
  std::string csv =
      "partner_id,period,record,nationality,department,care_type,sex,"
      "age_band,value\n";
  for (int i = 0; i < 1500; ++i) {
    absl::StrAppend(&csv, partner(3),
                    ",2020-07,visits,ZZ,nowhere,OUTPATIENT,,,",
                    std::string(200, '9'), "\n");
  }
  v1::ImportReportsRequest request;
  request.set_csv(csv);
  request.set_dry_run(true);
  v1::ImportReportsResponse response;
  grpc::Status s = stub_->ImportReports(As(admin()).get(), request, &response);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(response.errors_size(), 1000);
  EXPECT_GE(response.error_count(), 1500);
  request.set_dry_run(false);
  s = stub_->ImportReports(As(admin()).get(), request, &response);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(s.error_message(), HasSubstr("problems, the first 20 listed"));
  // As many of them as fit the trailer budget travel as details.
  EXPECT_THAT(ViolatedFields(s).size(),
              ::testing::AllOf(::testing::Ge(5u), ::testing::Le(20u)));
}

// ImportReports takes a CSV of up to 16 MiB: the server's receive limit is
// above it, so the stated limit is the one a caller meets.
TEST_F(StatsServiceTest, SixteenMebibyteImportIsReachable) {
  const std::string header =
      "partner_id,period,record,nationality,department,care_type,sex,"
      "age_band,value\n";
  const std::string row =
      absl::StrCat(partner(3), ",2020-07,no_activity,,,,,,\n");
  v1::ImportReportsRequest request;
  request.set_dry_run(true);
  std::string csv = absl::StrCat(header, "# ");
  csv.append(kMaxImportCsvBytes - csv.size() - row.size() - 1, 'x');
  absl::StrAppend(&csv, "\n", row);
  ASSERT_EQ(csv.size(), kMaxImportCsvBytes);
  request.set_csv(csv);
  v1::ImportReportsResponse response;
  grpc::Status s = stub_->ImportReports(As(admin()).get(), request, &response);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(response.rows(), 1);
  // One byte more is the service's own clear refusal, not a transport error.
  request.set_csv(absl::StrCat(csv, "\n"));
  s = stub_->ImportReports(As(admin()).get(), request, &response);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(ViolatedFields(s), ElementsAre("csv"));
}

TEST_F(StatsServiceTest, AggregateRequestsAreValidated) {
  v1::AggregateRequest request = Range("2020-13", "2019-01");
  request.add_group_by(v1::NATIONALITY);
  request.add_group_by(v1::NATIONALITY);
  request.mutable_filter()->add_nationalities("ZZ");
  request.mutable_filter()->add_departments("magic");
  request.set_top_n(-1);
  v1::AggregateResponse response;
  grpc::Status s =
      stub_->QueryAggregate(As(token("analyst")).get(), request, &response);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(ViolatedFields(s),
              UnorderedElementsAre("start_period", "group_by[1]",
                                   "filter.nationalities[0]",
                                   "filter.departments[0]", "top_n"));
  s = stub_->QueryAggregate(As(token("analyst")).get(),
                            Range("2020-07", "2020-01"), &response);
  EXPECT_THAT(ViolatedFields(s), ElementsAre("end_period"));
}

TEST_F(StatsServiceTest, BucketsYearOnYearAndTopN) {
  // Partner 2 reports Chinese patients in March 2019 and March 2020.
  for (const char* period : {"2019-03", "2020-03"}) {
    v1::GrantLockExceptionRequest grant;
    grant.set_period(period);
    grant.set_reason("history load");
    v1::LockException exception;
    ASSERT_TRUE(
        stub_->GrantLockException(As(admin()).get(), grant, &exception).ok());
  }
  v1::SubmitReportResponse done;
  ASSERT_TRUE(Submit("p2",
                     ReportBuilder(partner(2), "2019-03")
                         .New("CN", 10)
                         .Visit("CN", "plastic_surgery", v1::OUTPATIENT, 20)
                         .report,
                     &done)
                  .ok());
  ASSERT_TRUE(Submit("p2",
                     ReportBuilder(partner(2), "2020-03")
                         .New("CN", 15)
                         .Visit("CN", "plastic_surgery", v1::OUTPATIENT, 25)
                         .Visit("CN", "dermatology", v1::OUTPATIENT, 6)
                         .Visit("CN", "ophthalmology", v1::OUTPATIENT, 9)
                         .report,
                     &done)
                  .ok());
  v1::AggregateRequest quarter =
      Range("2020-01", "2020-03", {v1::NATIONALITY}, v1::QUARTER);
  quarter.set_year_over_year(true);
  quarter.mutable_filter()->add_nationalities("CN");
  v1::AggregateResponse q = Aggregate("admin", quarter);
  ASSERT_EQ(q.rows_size(), 1);
  EXPECT_EQ(q.rows(0).bucket(), "2020-Q1");
  EXPECT_EQ(q.rows(0).new_patients().value(), 15);
  EXPECT_EQ(q.rows(0).new_patients().previous_value(), 10);
  EXPECT_DOUBLE_EQ(q.rows(0).new_patients().change_percent(), 50.0);

  v1::AggregateRequest top =
      Range("2020-03", "2020-03", {v1::DEPARTMENT}, v1::YEAR);
  top.set_top_n(2);
  top.set_order_by(v1::VISITS);
  v1::AggregateResponse t = Aggregate("admin", top);
  ASSERT_EQ(t.rows_size(), 2);
  EXPECT_EQ(t.source(), "rollup_department");
  EXPECT_EQ(t.rows(0).bucket(), "2020");
  EXPECT_EQ(t.rows(0).department(), "plastic_surgery");
  EXPECT_EQ(t.rows(1).department(), "ophthalmology");
  EXPECT_EQ(t.total().visits().value(), 40);  // before top-N

  // Grouping by kind and region uses the full rollup.
  v1::AggregateResponse kinds = Aggregate(
      "admin", Range("2020-03", "2020-03", {v1::PARTNER_KIND, v1::REGION}));
  EXPECT_EQ(kinds.source(), "rollup_cells");
  ASSERT_EQ(kinds.rows_size(), 1);
  EXPECT_EQ(kinds.rows(0).region(), reg::YEOUIDO);
  EXPECT_EQ(server_->store().CountRollupMismatches().value_or(-1), 0);
}

TEST_F(StatsServiceTest, CompletenessAndKpiProgress) {
  clock_->Set(Seoul(2020, 8, 20));  // July's deadline (08-11) has passed
  v1::GetCompletenessRequest request;
  request.set_start_period("2020-07");
  v1::CompletenessResponse response;
  grpc::Status s =
      stub_->GetCompleteness(As(token("council")).get(), request, &response);
  ASSERT_TRUE(s.ok()) << s.error_message();
  ASSERT_EQ(response.periods_size(), 1);
  const v1::PeriodCompleteness& july = response.periods(0);
  // Partners 1-3 are designated; partner 4 is not expected.
  EXPECT_EQ(july.expected(), 3);
  std::map<int64_t, v1::ReportingState> states;
  for (const v1::PartnerReporting& p : response.partners()) {
    states[p.partner_id()] = p.state();
  }
  EXPECT_FALSE(states.count(partner(4)));
  int reported = 0;
  for (const auto& [id, state] : states) {
    if (state == v1::ON_TIME || state == v1::LATE) ++reported;
  }
  EXPECT_EQ(july.reported(), reported);
  EXPECT_DOUBLE_EQ(july.reporting_rate(), reported / 3.0);

  v1::GetKpiProgressRequest kpi;
  kpi.set_year(2020);
  kpi.set_as_of("2020-07-31");
  v1::KpiProgress progress;
  ASSERT_TRUE(stub_->GetKpiProgress(As(admin()).get(), kpi, &progress).ok());
  EXPECT_EQ(progress.target(), 10000);
  int64_t sum = 0;
  for (const v1::KpiMonth& m : progress.months()) {
    sum += m.new_patients().value();
  }
  EXPECT_EQ(progress.months_size(), 7);
  EXPECT_EQ(progress.months(6).reports(), july.reported());
  EXPECT_EQ(progress.new_patients_ytd(), sum);
  EXPECT_NEAR(progress.pro_rata_target(), 10000.0 * 213 / 366, 1e-6);
  EXPECT_NEAR(progress.pacing_percent(), 100.0 * sum / (10000.0 * 213 / 366),
              1e-6);
  kpi.set_year(1999);
  EXPECT_THAT(
      ViolatedFields(stub_->GetKpiProgress(As(admin()).get(), kpi, &progress)),
      ElementsAre("year"));
}

TEST_F(StatsServiceTest, CsvImportWithDryRunAndRowErrors) {
  v1::GrantLockExceptionRequest grant;
  grant.set_period("2020-02");
  grant.set_reason("import of the spreadsheet");
  v1::LockException exception;
  ASSERT_TRUE(
      stub_->GrantLockException(As(admin()).get(), grant, &exception).ok());
  const std::string p3 = absl::StrCat(partner(3));
  std::string csv = absl::StrCat(
      "# spreadsheet of 병원3\n"
      "partner_id,period,record,nationality,department,care_type,sex,"
      "age_band,value\n",
      p3, ",2020-02,new_patients,US,,,FEMALE,AGE_30_39,2\n", p3,
      ",2020-02,visits,US,dermatology,OUTPATIENT,,,3\n", p3,
      ",2020-02,revenue_krw,,,,,,900000\n", p3, ",2020-01,no_activity,,,,,,\n");
  v1::ImportReportsRequest request;
  request.set_csv(
      absl::StrCat(csv, p3, ",2020-02,visits,US,surgery,OUTPATIENT,,,x\n", p3,
                   ",2020-02,visits,XX,surgery,OUTPATIENT,,,1\n"));
  request.set_dry_run(true);
  v1::ImportReportsResponse response;
  // Row errors: listed by a dry run, refused by a real one.
  ASSERT_TRUE(
      stub_->ImportReports(As(token("p3")).get(), request, &response).ok());
  std::vector<std::string> errors;
  for (const v1::RowError& e : response.errors()) {
    errors.push_back(absl::StrCat(e.line(), ":", e.field()));
  }
  EXPECT_THAT(errors, ElementsAre("7:value", "8:report.visits[1].nationality"));
  request.set_dry_run(false);
  grpc::Status s =
      stub_->ImportReports(As(token("p3")).get(), request, &response);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(ViolatedFields(s),
              ElementsAre("csv line 7: value",
                          "csv line 8: report.visits[1].nationality"));

  // A well-formed file whose January is locked: nothing at all is stored.
  request.set_csv(csv);
  s = stub_->ImportReports(As(token("p3")).get(), request, &response);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_THAT(s.error_message(), HasSubstr("2020-01"));
  v1::GetReportRequest get;
  get.set_partner_id(partner(3));
  get.set_period("2020-02");
  Report stored;
  EXPECT_EQ(stub_->GetReport(As(admin()).get(), get, &stored).error_code(),
            grpc::StatusCode::NOT_FOUND);
  grant.set_period("2020-01");
  ASSERT_TRUE(
      stub_->GrantLockException(As(admin()).get(), grant, &exception).ok());
  // A dry run now shows what would change, and stores nothing.
  request.set_dry_run(true);
  s = stub_->ImportReports(As(token("p3")).get(), request, &response);
  ASSERT_TRUE(s.ok()) << s.error_message();
  ASSERT_EQ(response.reports_size(), 2);
  EXPECT_EQ(response.reports(0).summary().cells_created(), 3);
  EXPECT_EQ(response.rows(), 4);
  EXPECT_EQ(stub_->GetReport(As(admin()).get(), get, &stored).error_code(),
            grpc::StatusCode::NOT_FOUND);
  request.set_dry_run(false);
  request.set_request_id("sheet-2020-q1");
  s = stub_->ImportReports(As(token("p3")).get(), request, &response);
  ASSERT_TRUE(s.ok()) << s.error_message();
  ASSERT_EQ(response.reports_size(), 2);
  EXPECT_EQ(response.reports(0).summary().cells_created(), 3);
  ASSERT_TRUE(stub_->GetReport(As(admin()).get(), get, &stored).ok());
  EXPECT_EQ(stored.revenue_krw(), 900000);
  EXPECT_EQ(stored.new_patients(0).sex(), v1::FEMALE);
  // Importing the same file again changes nothing.
  s = stub_->ImportReports(As(token("p3")).get(), request, &response);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_TRUE(response.reports(0).summary().unchanged());
  // A partner cannot import another partner's rows.
  request.set_csv(absl::StrCat(
      "partner_id,period,record,nationality,department,care_type,sex,"
      "age_band,value\n",
      partner(1), ",2020-02,no_activity,,,,,,\n"));
  EXPECT_EQ(stub_->ImportReports(As(token("p3")).get(), request, &response)
                .error_code(),
            grpc::StatusCode::PERMISSION_DENIED);

  // The annual file shows reported, no-activity and missing months.
  v1::ExportAnnualReportRequest annual;
  annual.set_partner_id(partner(3));
  annual.set_year(2020);
  v1::CsvFile file;
  ASSERT_TRUE(
      stub_->ExportAnnualReport(As(token("p3")).get(), annual, &file).ok());
  EXPECT_THAT(file.content(), HasSubstr("2020-01,SUBMITTED,no_activity"));
  EXPECT_THAT(file.content(), HasSubstr("2020-03,NOT_REPORTED,not_reported"));
  EXPECT_THAT(file.content(),
              HasSubstr("2020-02,SUBMITTED,visits,US,미국,dermatology,피부과,"
                        "OUTPATIENT,,,3"));
  EXPECT_THAT(file.content(), HasSubstr("2020,TOTAL,visits,US"));
}

TEST_F(StatsServiceTest, OutliersAgainstOwnHistoryAreWarningsNotErrors) {
  // Partner 1 sees about 10 Mongolian outpatients a month through 2019...
  for (int m = 1; m <= 12; ++m) {
    const std::string period = absl::StrFormat("2019-%02d", m);
    v1::GrantLockExceptionRequest grant;
    grant.set_partner_id(partner(1));
    grant.set_period(period);
    grant.set_reason("history");
    v1::LockException exception;
    ASSERT_TRUE(
        stub_->GrantLockException(As(admin()).get(), grant, &exception).ok());
    v1::SubmitReportResponse done;
    grpc::Status s =
        Submit("admin",
               ReportBuilder(partner(1), period)
                   .New("MN", 5)
                   .Visit("MN", "rehabilitation", v1::OUTPATIENT, 9 + m % 3)
                   .report,
               &done);
    ASSERT_TRUE(s.ok()) << s.error_message();
    EXPECT_THAT(done.summary().warnings(), IsEmpty()) << period;
  }
  // ... then 250 in one month: accepted, with a warning to review.
  v1::GrantLockExceptionRequest grant;
  grant.set_partner_id(partner(1));
  grant.set_period("2020-01");
  grant.set_reason("history");
  v1::LockException exception;
  ASSERT_TRUE(
      stub_->GrantLockException(As(admin()).get(), grant, &exception).ok());
  v1::SubmitReportResponse done;
  ASSERT_TRUE(Submit("p1",
                     ReportBuilder(partner(1), "2020-01")
                         .New("MN", 5)
                         .Visit("MN", "rehabilitation", v1::OUTPATIENT, 250)
                         .report,
                     &done)
                  .ok());
  ASSERT_EQ(done.summary().warnings_size(), 1);
  EXPECT_EQ(done.summary().warnings(0).cell(),
            "visits[MN/rehabilitation/OUTPATIENT]");
  EXPECT_EQ(done.summary().warnings(0).history_months(), 12);
  EXPECT_GT(done.summary().warnings(0).modified_z_score(), 3.5);
  EXPECT_EQ(done.report().status(), v1::SUBMITTED);

  v1::ListWarningsRequest list;
  list.set_start_period("2020-01");
  list.set_end_period("2020-01");
  v1::ListWarningsResponse warnings;
  ASSERT_TRUE(stub_->ListWarnings(As(token("p1")).get(), list, &warnings).ok());
  ASSERT_EQ(warnings.warnings_size(), 1);
  EXPECT_EQ(warnings.warnings(0).partner_id(), partner(1));
  EXPECT_EQ(warnings.warnings(0).value(), 250);
  // Another partner sees none of them.
  ASSERT_TRUE(stub_->ListWarnings(As(token("p2")).get(), list, &warnings).ok());
  EXPECT_EQ(warnings.warnings_size(), 0);
}

TEST_F(StatsServiceTest, DatabaseDownIsUnavailableAndWritesNothing) {
  Report report = ReportBuilder(partner(1), "2020-08")
                      .New("JP", 1)
                      .Visit("JP", "dermatology", v1::OUTPATIENT, 1)
                      .report;
  // Warm the token and partner caches, which outlive a database outage.
  v1::SubmitReportResponse done;
  v1::SubmitReportRequest check;
  *check.mutable_report() = report;
  check.set_validate_only(true);
  ASSERT_TRUE(stub_->SubmitReport(As(token("p1")).get(), check, &done).ok());
  mariadb_->Pause();
  grpc::Status s = Submit("p1", report, &done);
  mariadb_->Resume();
  EXPECT_EQ(s.error_code(), grpc::StatusCode::UNAVAILABLE) << s.error_message();
  v1::GetReportRequest get;
  get.set_partner_id(partner(1));
  get.set_period("2020-08");
  Report stored;
  EXPECT_EQ(stub_->GetReport(As(admin()).get(), get, &stored).error_code(),
            grpc::StatusCode::NOT_FOUND);
  ASSERT_TRUE(Submit("p1", report, &done).ok());
  EXPECT_EQ(server_->store().CountRollupMismatches().value_or(-1), 0);
}

// A replica of release 0.22 saves a report's cells in `cells` and as rows
// of report_cells, and leaves cells_json NULL. A replica of this release
// writes cells_json from `cells` before it answers, so a hospital's own
// figures keep every month. Last of the suite: it empties cells_json of
// every report the tests before it saved.
TEST_F(StatsServiceTest, AStartingReplicaWritesTheCellsAnOlderReleaseLeft) {
  // One report at least, whatever ran before.
  v1::GetReportRequest get;
  get.set_partner_id(partner(3));
  get.set_period("2020-07");
  Report stored;
  if (stub_->GetReport(As(admin()).get(), get, &stored).error_code() ==
      grpc::StatusCode::NOT_FOUND) {
    v1::SubmitReportResponse done;
    ASSERT_TRUE(Submit("p3",
                       ReportBuilder(partner(3), "2020-07")
                           .New("VN", 2)
                           .Visit("VN", "dermatology", v1::OUTPATIENT, 2)
                           .report,
                       &done)
                    .ok());
  }
  const v1::AggregateRequest by_partner =
      Range("2019-01", "2020-12", {v1::PARTNER}, v1::MONTH);
  const v1::AggregateResponse before = Aggregate("admin", by_partner);
  ASSERT_GT(before.rows_size(), 0);
  ASSERT_TRUE(
      mariadb_->ExecuteAsRoot("UPDATE smz_stats.reports SET cells_json = NULL")
          .ok());
  // As this release reads what 0.22 saved (figures by partner are never
  // kept in memory).
  EXPECT_EQ(Aggregate("admin", by_partner).rows_size(), 0);
  auto nulls = [&]() -> int64_t {
    absl::StatusOr<std::vector<Row>> rows = mariadb_->QueryAsRoot(
        "SELECT COUNT(*) FROM smz_stats.reports WHERE cells_json IS NULL");
    EXPECT_TRUE(rows.ok()) << rows.status();
    return rows.ok() ? rows->front().Int(0) : -1;
  };
  // Still so: server_'s hourly repair has not run (SetUp set the clock back
  // to its start).
  ASSERT_GT(nulls(), 0);

  absl::StatusOr<std::unique_ptr<StatsServer>> replica =
      StatsServer::Start(*options_);
  ASSERT_TRUE(replica.ok()) << replica.status();
  const v1::AggregateResponse after = Aggregate("admin", by_partner);
  EXPECT_EQ(after.DebugString(), before.DebugString());
  EXPECT_EQ(nulls(), 0);
}

}  // namespace
}  // namespace smz::stats
