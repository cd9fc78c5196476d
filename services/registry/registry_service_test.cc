// The registry end to end: a private MariaDB, the real server on an ephemeral
// loopback port, and calls over gRPC with real tokens.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <functional>
#include <future>
#include <map>
#include <set>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/auth/remote_principal_lookup.h"
#include "common/clients/partner_directory.h"
#include "common/server/raw_messages.h"
#include "common/status_util.h"
#include "common/version.h"
#include "gmock/gmock.h"
#include "google/protobuf/util/message_differencer.h"
#include "google/protobuf/util/time_util.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/generic/generic_stub.h"
#include "grpcpp/security/credentials.h"
#include "gtest/gtest.h"
#include "services/registry/registry_server.h"
#include "smz/registry/v1/registry.grpc.pb.h"
#include "tests/harness/grpc_reflection.h"
#include "tests/harness/local_stack.h"
#include "tests/harness/mariadb_server.h"

namespace smz::registry {
namespace {

using google::protobuf::util::MessageDifferencer;

using ::smz::testing::As;

using ::testing::Contains;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::UnorderedElementsAreArray;

std::vector<std::string> ViolatedFields(const grpc::Status& status) {
  std::vector<std::string> fields;
  for (const FieldViolation& v : GetFieldViolations(FromGrpcStatus(status))) {
    fields.push_back(v.field);
  }
  return fields;
}

// A plain HTTP GET on loopback (the metrics endpoint).
std::string HttpGet(int port, const std::string& path) {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(port);
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) !=
      0) {
    close(fd);
    return "";
  }
  const std::string request =
      absl::StrCat("GET ", path, " HTTP/1.0\r\nHost: localhost\r\n\r\n");
  (void)write(fd, request.data(), request.size());
  std::string response;
  char buffer[4096];
  ssize_t n;
  while ((n = read(fd, buffer, sizeof(buffer))) > 0) response.append(buffer, n);
  close(fd);
  return response;
}

Partner Hospital(absl::string_view name_ko, absl::string_view registration) {
  Partner partner;
  partner.set_kind(v1::SPECIALIZED_OPERATOR);
  (*partner.mutable_name())["ko"] = std::string(name_ko);
  (*partner.mutable_name())["en"] = absl::StrCat(name_ko, " (en)");
  partner.set_representative("김희수");
  partner.set_address("영신로 136");
  partner.set_region(v1::YEONGDEUNGPO);
  partner.set_floor_area_m2(3526.6);
  (*partner.mutable_specialized_business())["ko"] = "홍보, 마케팅 추진";
  partner.add_departments("ophthalmology");
  partner.add_languages("en");
  partner.add_languages("mn");
  partner.add_accreditations("KOIHA");
  if (!registration.empty()) {
    partner.set_attraction_registration_number(std::string(registration));
    partner.set_registration_expires_on("2027-01-10");
  }
  v1::Contact* contact = partner.add_contacts();
  contact->set_name("국제진료센터");
  contact->set_email("global@example.org");
  contact->set_phone("+82-2-000-0000");
  return partner;
}

class RegistryServiceTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    auto mariadb = testing::MariaDbServer::Start();
    ASSERT_TRUE(mariadb.ok()) << mariadb.status();
    mariadb_ = mariadb->release();
    auto database = mariadb_->CreateServiceDatabase("smz_registry");
    ASSERT_TRUE(database.ok()) << database.status();
    clock_ = new FakeClock(absl::FromCivil(
        absl::CivilSecond(2026, 11, 23, 9, 0, 0), SeoulTimeZone()));
    RegistryServerOptions options;
    options.database = *database;
    options.database.acquire_timeout = absl::Seconds(2);
    options.server.listen = "127.0.0.1:0";
    options.server.metrics_listen = "127.0.0.1:0";
    options.server.health_interval = absl::Milliseconds(200);
    options.clock = clock_;
    auto server = RegistryServer::Start(options);
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = server->release();
    admin_token_ = new std::string();
    absl::StatusOr<bool> created =
        server_->registry().EnsureBootstrapAdminToken(
            [](const std::string& token) {
              *admin_token_ = token;
              return absl::OkStatus();
            });
    ASSERT_TRUE(created.ok() && *created);
    // A second start of the same deployment must not mint another one.
    absl::StatusOr<bool> again = server_->registry().EnsureBootstrapAdminToken(
        [](const std::string&) { return absl::InternalError("must not run"); });
    ASSERT_TRUE(again.ok() && !*again);
    channel_ = new std::shared_ptr<grpc::Channel>(
        grpc::CreateChannel(absl::StrCat("127.0.0.1:", server_->port()),
                            grpc::InsecureChannelCredentials()));
  }

  static void TearDownTestSuite() {
    delete channel_;
    delete server_;
    delete mariadb_;
    delete clock_;
    delete admin_token_;
  }

  void SetUp() override {
    stub_ = v1::RegistryService::NewStub(*channel_);
    if (!mariadb_->running()) ASSERT_TRUE(mariadb_->Restart().ok());
  }

  const std::string& admin() { return *admin_token_; }

  std::string Issue(auth::v1::Role role, int64_t partner_id = 0) {
    v1::IssueTokenRequest request;
    request.set_role(role);
    request.set_partner_id(partner_id);
    request.set_display_name(absl::StrCat("test ", auth::v1::Role_Name(role)));
    v1::IssueTokenResponse response;
    grpc::Status status =
        stub_->IssueToken(As(admin()).get(), request, &response);
    EXPECT_TRUE(status.ok()) << status.error_message();
    return response.token();
  }

  Partner Create(const Partner& partner, const std::string& request_id = "") {
    v1::CreatePartnerRequest request;
    *request.mutable_partner() = partner;
    request.set_request_id(request_id);
    Partner created;
    grpc::Status status =
        stub_->CreatePartner(As(admin()).get(), request, &created);
    EXPECT_TRUE(status.ok()) << status.error_message();
    return created;
  }

  grpc::Status Get(const std::string& token, int64_t id, Partner* out) {
    v1::GetPartnerRequest request;
    request.set_id(id);
    return stub_->GetPartner(As(token).get(), request, out);
  }

  int32_t CountPartners() {
    v1::ListPartnersRequest request;
    request.set_page_size(1);
    v1::ListPartnersResponse response;
    EXPECT_TRUE(
        stub_->ListPartners(As(admin()).get(), request, &response).ok());
    return response.total_size();
  }

  grpc::Status Designate(int64_t id, Partner* out,
                         absl::string_view effective = "2017-12-14",
                         absl::string_view term = "2022-12-31") {
    v1::DesignationRequest request;
    request.set_id(id);
    request.set_effective_on(std::string(effective));
    request.set_term_ends_on(std::string(term));
    request.set_decision_ref("중소벤처기업부 제2017-22호");
    return stub_->DesignatePartner(As(admin()).get(), request, out);
  }

  grpc::health::v1::HealthCheckResponse::ServingStatus Health(
      const std::string& service) {
    auto health = grpc::health::v1::Health::NewStub(*channel_);
    grpc::health::v1::HealthCheckRequest request;
    request.set_service(service);
    grpc::health::v1::HealthCheckResponse response;
    grpc::ClientContext context;
    context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(5)));
    grpc::Status status = health->Check(&context, request, &response);
    if (!status.ok()) return grpc::health::v1::HealthCheckResponse::UNKNOWN;
    return response.status();
  }

  static testing::MariaDbServer* mariadb_;
  static RegistryServer* server_;
  static FakeClock* clock_;
  static std::string* admin_token_;
  static std::shared_ptr<grpc::Channel>* channel_;
  std::unique_ptr<v1::RegistryService::Stub> stub_;
};

testing::MariaDbServer* RegistryServiceTest::mariadb_ = nullptr;
RegistryServer* RegistryServiceTest::server_ = nullptr;
FakeClock* RegistryServiceTest::clock_ = nullptr;
std::string* RegistryServiceTest::admin_token_ = nullptr;
std::shared_ptr<grpc::Channel>* RegistryServiceTest::channel_ = nullptr;

TEST_F(RegistryServiceTest, HealthReportsServingForServerAndService) {
  EXPECT_EQ(Health(""), grpc::health::v1::HealthCheckResponse::SERVING);
  EXPECT_EQ(Health("smz.registry.v1.RegistryService"),
            grpc::health::v1::HealthCheckResponse::SERVING);
}

TEST_F(RegistryServiceTest, ReflectionListsTheRegistryService) {
  std::string reply;
  ASSERT_TRUE(smz::testing::ListServicesByReflection(*channel_, &reply).ok());
  EXPECT_THAT(reply, HasSubstr("smz.registry.v1.RegistryService"));
  EXPECT_THAT(reply, HasSubstr("grpc.health.v1.Health"));
}

TEST_F(RegistryServiceTest, CreateThenGetReturnsEveryField) {
  const Partner sent = Hospital("김안과병원", "KEH-2021-001");
  const Partner created = Create(sent);
  ASSERT_GT(created.id(), 0);
  EXPECT_EQ(created.status(), v1::PENDING);
  EXPECT_EQ(created.etag(), "\"1\"");
  EXPECT_EQ(created.create_time().seconds(),
            absl::ToUnixSeconds(clock_->Now()));
  Partner got;
  ASSERT_TRUE(Get(admin(), created.id(), &got).ok());
  EXPECT_EQ(got.name().at("ko"), "김안과병원");
  EXPECT_EQ(got.name().at("en"), "김안과병원 (en)");
  EXPECT_EQ(got.representative(), "김희수");
  EXPECT_EQ(got.region(), v1::YEONGDEUNGPO);
  EXPECT_DOUBLE_EQ(got.floor_area_m2(), 3526.6);
  EXPECT_THAT(got.departments(), ElementsAre("ophthalmology"));
  EXPECT_THAT(got.languages(), ElementsAre("en", "mn"));
  EXPECT_THAT(got.accreditations(), ElementsAre("KOIHA"));
  EXPECT_EQ(got.attraction_registration_number(), "KEH-2021-001");
  EXPECT_EQ(got.registration_expires_on(), "2027-01-10");
  ASSERT_EQ(got.contacts_size(), 1);
  EXPECT_EQ(got.contacts(0).email(), "global@example.org");
  EXPECT_EQ(got.etag(), "\"1\"");
}

TEST_F(RegistryServiceTest, StoredProfilesSurviveZeroBytes) {
  // 1024.0 serializes with zero bytes: fields after it must still be there.
  Partner sent = Hospital("영등포병원 분원", "");
  sent.set_floor_area_m2(1024.0);
  const Partner created = Create(sent);
  Partner got;
  ASSERT_TRUE(Get(admin(), created.id(), &got).ok());
  EXPECT_DOUBLE_EQ(got.floor_area_m2(), 1024.0);
  EXPECT_THAT(got.languages(), ElementsAre("en", "mn"));
  EXPECT_THAT(got.accreditations(), ElementsAre("KOIHA"));
  ASSERT_EQ(got.contacts_size(), 1);
  EXPECT_EQ(got.contacts(0).phone(), "+82-2-000-0000");
}

TEST_F(RegistryServiceTest, RetriedCreateReturnsTheFirstResult) {
  const int32_t before = CountPartners();
  const Partner first = Create(Hospital("여의도성모병원", ""), "retry-1");
  const Partner second = Create(Hospital("여의도성모병원", ""), "retry-1");
  EXPECT_EQ(first.id(), second.id());
  EXPECT_EQ(CountPartners(), before + 1);

  v1::CreatePartnerRequest different;
  *different.mutable_partner() = Hospital("다른 병원", "");
  different.set_request_id("retry-1");
  Partner out;
  grpc::Status status =
      stub_->CreatePartner(As(admin()).get(), different, &out);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(ViolatedFields(status), ElementsAre("request_id"));
  EXPECT_EQ(CountPartners(), before + 1);
}

TEST_F(RegistryServiceTest, ConcurrentRetriesCreateOnePartner) {
  const int32_t before = CountPartners();
  std::vector<std::thread> threads;
  std::vector<int64_t> ids(8);
  for (int i = 0; i < 8; ++i) {
    threads.emplace_back([&, i] {
      auto stub = v1::RegistryService::NewStub(*channel_);
      v1::CreatePartnerRequest request;
      *request.mutable_partner() = Hospital("대림성모병원", "DR-CONCURRENT");
      request.set_request_id("concurrent-create");
      Partner out;
      grpc::Status status =
          stub->CreatePartner(As(admin()).get(), request, &out);
      EXPECT_TRUE(status.ok()) << status.error_message();
      ids[i] = out.id();
    });
  }
  for (std::thread& t : threads) t.join();
  EXPECT_EQ(std::set<int64_t>(ids.begin(), ids.end()).size(), 1u);
  EXPECT_EQ(CountPartners(), before + 1);
}

// An office entering its directory from several desks at once: every
// create succeeds, and without a single InnoDB deadlock — even those a
// retry hides count (before the fix, 8 creators at once met more deadlocks
// than creates, and ~1 create in 100 stayed ABORTED after all 9 attempts).
TEST_F(RegistryServiceTest, PartnersCreatedAtOnceNeverDeadlock) {
  const absl::StatusOr<int64_t> deadlocks_before = mariadb_->InnodbDeadlocks();
  ASSERT_TRUE(deadlocks_before.ok()) << deadlocks_before.status();
  const int32_t before = CountPartners();
  constexpr int kDesks = 8;
  constexpr int kEach = 30;
  std::vector<std::thread> threads;
  for (int desk = 0; desk < kDesks; ++desk) {
    threads.emplace_back([&, desk] {
      auto stub = v1::RegistryService::NewStub(*channel_);
      for (int i = 0; i < kEach; ++i) {
        v1::CreatePartnerRequest request;
        *request.mutable_partner() =
            Hospital(absl::StrCat("동시 등록 병원 ", desk, "-", i), "");
        request.set_request_id(absl::StrCat("desk-", desk, "-", i));
        Partner out;
        grpc::Status status =
            stub->CreatePartner(As(admin()).get(), request, &out);
        EXPECT_TRUE(status.ok()) << status.error_message();
      }
    });
  }
  for (std::thread& t : threads) t.join();
  EXPECT_EQ(CountPartners(), before + kDesks * kEach);
  const absl::StatusOr<int64_t> deadlocks_after = mariadb_->InnodbDeadlocks();
  ASSERT_TRUE(deadlocks_after.ok()) << deadlocks_after.status();
  EXPECT_EQ(*deadlocks_after, *deadlocks_before)
      << mariadb_->InnodbStatus().value_or("(no InnoDB status)");
}

TEST_F(RegistryServiceTest, ConcurrentCreatesOfOneRegistrationNumberMakeOne) {
  const int32_t before = CountPartners();
  std::vector<std::thread> threads;
  std::atomic<int> created{0};
  std::atomic<int> already_exists{0};
  for (int i = 0; i < 8; ++i) {
    threads.emplace_back([&, i] {
      auto stub = v1::RegistryService::NewStub(*channel_);
      v1::CreatePartnerRequest request;
      *request.mutable_partner() = Hospital("경쟁 병원", "RACE-0001");
      request.set_request_id(absl::StrCat("race-", i));
      Partner out;
      grpc::Status status =
          stub->CreatePartner(As(admin()).get(), request, &out);
      if (status.ok()) ++created;
      if (status.error_code() == grpc::StatusCode::ALREADY_EXISTS) {
        ++already_exists;
      } else {
        EXPECT_TRUE(status.ok()) << status.error_message();
      }
    });
  }
  for (std::thread& t : threads) t.join();
  EXPECT_EQ(created.load(), 1);
  EXPECT_EQ(already_exists.load(), 7);
  EXPECT_EQ(CountPartners(), before + 1);
}

TEST_F(RegistryServiceTest, InvalidCreateNamesEveryFieldAndStoresNothing) {
  const int32_t before = CountPartners();
  Partner bad = Hospital("", "x");
  bad.set_kind(v1::PARTNER_KIND_UNSPECIFIED);
  bad.set_floor_area_m2(-5);
  bad.add_departments("astrology");
  bad.mutable_contacts(0)->set_email("nope");
  v1::CreatePartnerRequest request;
  *request.mutable_partner() = bad;
  request.set_request_id("bad request id!");
  Partner out;
  grpc::Status status = stub_->CreatePartner(As(admin()).get(), request, &out);
  ASSERT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(ViolatedFields(status),
              UnorderedElementsAreArray(
                  {"partner.kind", "partner.name", "partner.name[ko]",
                   "partner.floor_area_m2", "partner.departments[1]",
                   "partner.attraction_registration_number",
                   "partner.contacts[0].email", "request_id"}));
  EXPECT_THAT(status.error_message(), HasSubstr("partner.floor_area_m2"));
  EXPECT_EQ(CountPartners(), before);
}

TEST_F(RegistryServiceTest, DuplicateRegistrationNumberIsAlreadyExists) {
  Create(Hospital("성애병원", "SA-2020-777"));
  const int32_t before = CountPartners();
  v1::CreatePartnerRequest request;
  *request.mutable_partner() = Hospital("성애병원 별관", "SA-2020-777");
  Partner out;
  grpc::Status status = stub_->CreatePartner(As(admin()).get(), request, &out);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::ALREADY_EXISTS);
  EXPECT_THAT(status.error_message(), HasSubstr("SA-2020-777"));
  EXPECT_EQ(CountPartners(), before);
}

TEST_F(RegistryServiceTest, UnknownIdsAreNotFound) {
  Partner out;
  EXPECT_EQ(Get(admin(), 987654, &out).error_code(),
            grpc::StatusCode::NOT_FOUND);
  EXPECT_EQ(Designate(987654, &out).error_code(), grpc::StatusCode::NOT_FOUND);
  v1::UpdatePartnerRequest update;
  update.mutable_partner()->set_id(987654);
  update.mutable_update_mask()->add_paths("address");
  update.set_etag("\"1\"");
  EXPECT_EQ(stub_->UpdatePartner(As(admin()).get(), update, &out).error_code(),
            grpc::StatusCode::NOT_FOUND);
  v1::CreateGrantRequest grant;
  grant.mutable_grant()->set_partner_id(987654);
  grant.mutable_grant()->set_year(2022);
  grant.mutable_grant()->set_programme(v1::MARKETING);
  grant.mutable_grant()->set_amount_krw(1000000);
  (*grant.mutable_grant()->mutable_purpose())["ko"] = "홍보";
  Grant grant_out;
  EXPECT_EQ(
      stub_->CreateGrant(As(admin()).get(), grant, &grant_out).error_code(),
      grpc::StatusCode::NOT_FOUND);
  v1::RevokeTokenRequest revoke;
  revoke.set_token_id(987654);
  google::protobuf::Empty empty;
  EXPECT_EQ(stub_->RevokeToken(As(admin()).get(), revoke, &empty).error_code(),
            grpc::StatusCode::NOT_FOUND);
  EXPECT_EQ(Get(admin(), 0, &out).error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);
}

TEST_F(RegistryServiceTest, MissingOrBadTokensAreUnauthenticated) {
  Partner out;
  EXPECT_EQ(Get("", 1, &out).error_code(), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_EQ(Get("smz_not_a_real_token", 1, &out).error_code(),
            grpc::StatusCode::UNAUTHENTICATED);
  grpc::ClientContext basic;
  basic.AddMetadata("authorization", "Basic YWRtaW46YWRtaW4=");
  v1::GetPartnerRequest request;
  request.set_id(1);
  EXPECT_EQ(stub_->GetPartner(&basic, request, &out).error_code(),
            grpc::StatusCode::UNAUTHENTICATED);
}

TEST_F(RegistryServiceTest, RolesAreEnforced) {
  const Partner mine = Create(Hospital("명지성모병원", "MJ-1"));
  const Partner theirs = Create(Hospital("명지춘혜병원", "MJ-2"));
  const std::string partner = Issue(auth::v1::PARTNER, mine.id());
  const std::string council = Issue(auth::v1::COUNCIL);
  const std::string analyst = Issue(auth::v1::ANALYST);
  const std::string organizer = Issue(auth::v1::ORGANIZER);
  Partner out;

  // Staff read anything; a partner reads only itself.
  EXPECT_TRUE(Get(council, theirs.id(), &out).ok());
  EXPECT_TRUE(Get(analyst, theirs.id(), &out).ok());
  EXPECT_TRUE(Get(organizer, theirs.id(), &out).ok());
  EXPECT_TRUE(Get(partner, mine.id(), &out).ok());
  EXPECT_EQ(Get(partner, theirs.id(), &out).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  v1::ListPartnersResponse listed;
  EXPECT_EQ(stub_->ListPartners(As(partner).get(), {}, &listed).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);

  // Only an admin writes; council is read-only.
  v1::CreatePartnerRequest create;
  *create.mutable_partner() = Hospital("의회가 만든 병원", "");
  for (const std::string* token : {&council, &analyst, &organizer, &partner}) {
    EXPECT_EQ(stub_->CreatePartner(As(*token).get(), create, &out).error_code(),
              grpc::StatusCode::PERMISSION_DENIED);
  }
  EXPECT_EQ(Designate(mine.id(), &out).error_code(), grpc::StatusCode::OK);
  v1::DesignationRequest revoke;
  revoke.set_id(mine.id());
  revoke.set_effective_on("2023-01-01");
  revoke.set_reason("test");
  EXPECT_EQ(stub_->RevokePartner(As(council).get(), revoke, &out).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  v1::IssueTokenRequest issue;
  issue.set_role(auth::v1::ADMIN);
  issue.set_display_name("escalation");
  v1::IssueTokenResponse issued;
  EXPECT_EQ(stub_->IssueToken(As(partner).get(), issue, &issued).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);

  // A partner maintains its own contacts but not its designation data.
  Partner current;
  ASSERT_TRUE(Get(partner, mine.id(), &current).ok());
  v1::UpdatePartnerRequest update;
  update.mutable_partner()->set_id(mine.id());
  v1::Contact* contact = update.mutable_partner()->add_contacts();
  contact->set_name("International desk");
  contact->set_phone("02-1234-5678");
  update.mutable_update_mask()->add_paths("contacts");
  update.set_etag(current.etag());
  ASSERT_TRUE(stub_->UpdatePartner(As(partner).get(), update, &out).ok());
  EXPECT_EQ(out.contacts(0).name(), "International desk");
  update.mutable_update_mask()->add_paths("name");
  update.set_etag(out.etag());
  EXPECT_EQ(stub_->UpdatePartner(As(partner).get(), update, &out).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  update.mutable_partner()->set_id(theirs.id());
  update.mutable_update_mask()->Clear();
  update.mutable_update_mask()->add_paths("contacts");
  EXPECT_EQ(stub_->UpdatePartner(As(partner).get(), update, &out).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);

  // WhoAmI tells a partner who it is.
  auth::v1::Principal me;
  ASSERT_TRUE(stub_->WhoAmI(As(partner).get(), {}, &me).ok());
  EXPECT_EQ(me.role(), auth::v1::PARTNER);
  EXPECT_EQ(me.partner_id(), mine.id());
}

TEST_F(RegistryServiceTest, RevokedTokensStopWorking) {
  const std::string analyst = Issue(auth::v1::ANALYST);
  Partner out;
  const Partner partner = Create(Hospital("영등포병원", ""));
  ASSERT_TRUE(Get(analyst, partner.id(), &out).ok());
  v1::ListTokensRequest list;
  v1::ListTokensResponse tokens;
  ASSERT_TRUE(stub_->ListTokens(As(admin()).get(), list, &tokens).ok());
  int64_t analyst_id = 0;
  for (const v1::TokenInfo& info : tokens.tokens()) {
    if (info.role() == auth::v1::ANALYST) analyst_id = info.id();
  }
  ASSERT_GT(analyst_id, 0);
  v1::RevokeTokenRequest revoke;
  revoke.set_token_id(analyst_id);
  google::protobuf::Empty empty;
  ASSERT_TRUE(stub_->RevokeToken(As(admin()).get(), revoke, &empty).ok());
  EXPECT_EQ(Get(analyst, partner.id(), &out).error_code(),
            grpc::StatusCode::UNAUTHENTICATED);
  // Revoking again is harmless.
  EXPECT_TRUE(stub_->RevokeToken(As(admin()).get(), revoke, &empty).ok());
}

// The last active ADMIN token cannot be revoked: nobody could administer the
// zone after it (break-glass is in registry_process_test).
TEST_F(RegistryServiceTest, TheLastAdminTokenCannotBeRevoked) {
  auto active_admins = [&] {
    v1::ListTokensRequest list;
    list.set_page_size(200);
    v1::ListTokensResponse tokens;
    EXPECT_TRUE(stub_->ListTokens(As(admin()).get(), list, &tokens).ok());
    std::vector<int64_t> ids;
    for (const v1::TokenInfo& info : tokens.tokens()) {
      if (info.role() == auth::v1::ADMIN) ids.push_back(info.id());
    }
    return ids;
  };
  google::protobuf::Empty empty;
  const std::string second = Issue(auth::v1::ADMIN);
  std::vector<int64_t> admins = active_admins();
  ASSERT_GE(admins.size(), 2u);
  auth::v1::Principal me;
  ASSERT_TRUE(stub_->WhoAmI(As(admin()).get(), {}, &me).ok());
  // Revoke every other ADMIN token: allowed while one stays.
  for (int64_t id : admins) {
    if (id == me.token_id()) continue;
    v1::RevokeTokenRequest revoke;
    revoke.set_token_id(id);
    ASSERT_TRUE(stub_->RevokeToken(As(admin()).get(), revoke, &empty).ok());
  }
  EXPECT_EQ(stub_->WhoAmI(As(second).get(), {}, &me).error_code(),
            grpc::StatusCode::UNAUTHENTICATED);
  ASSERT_TRUE(stub_->WhoAmI(As(admin()).get(), {}, &me).ok());
  v1::RevokeTokenRequest self;
  self.set_token_id(me.token_id());
  const grpc::Status refused =
      stub_->RevokeToken(As(admin()).get(), self, &empty);
  EXPECT_EQ(refused.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_THAT(refused.error_message(), HasSubstr("last active ADMIN token"));
  EXPECT_TRUE(stub_->WhoAmI(As(admin()).get(), {}, &me).ok());

  // An ADMIN token that expires does not stand in for it: it would leave
  // nobody, only later.
  v1::IssueTokenRequest short_lived;
  short_lived.set_role(auth::v1::ADMIN);
  short_lived.set_display_name("visiting administrator");
  *short_lived.mutable_expire_time() =
      google::protobuf::util::TimeUtil::MicrosecondsToTimestamp(
          absl::ToUnixMicros(clock_->Now() + absl::Seconds(20)));
  v1::IssueTokenResponse issued;
  ASSERT_TRUE(stub_->IssueToken(As(admin()).get(), short_lived, &issued).ok());
  EXPECT_EQ(
      stub_->RevokeToken(As(issued.token()).get(), self, &empty).error_code(),
      grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_TRUE(stub_->WhoAmI(As(admin()).get(), {}, &me).ok());
}

TEST_F(RegistryServiceTest, TokensExpireAndShowTheirLastUse) {
  v1::IssueTokenRequest request;
  request.set_role(auth::v1::ANALYST);
  request.set_display_name("visiting analyst");
  *request.mutable_expire_time() =
      google::protobuf::util::TimeUtil::MicrosecondsToTimestamp(
          absl::ToUnixMicros(clock_->Now() - absl::Seconds(1)));
  v1::IssueTokenResponse issued;
  grpc::Status status = stub_->IssueToken(As(admin()).get(), request, &issued);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(status.error_message(), HasSubstr("expire_time"));

  *request.mutable_expire_time() =
      google::protobuf::util::TimeUtil::MicrosecondsToTimestamp(
          absl::ToUnixMicros(clock_->Now() + absl::Seconds(30)));
  ASSERT_TRUE(stub_->IssueToken(As(admin()).get(), request, &issued).ok());
  EXPECT_TRUE(issued.info().has_expire_time());
  EXPECT_FALSE(issued.info().has_last_use_time());
  auth::v1::Principal me;
  ASSERT_TRUE(stub_->WhoAmI(As(issued.token()).get(), {}, &me).ok());

  v1::ListTokensRequest list;
  list.set_page_size(200);
  v1::ListTokensResponse tokens;
  ASSERT_TRUE(stub_->ListTokens(As(admin()).get(), list, &tokens).ok());
  const v1::TokenInfo* listed = nullptr;
  for (const v1::TokenInfo& info : tokens.tokens()) {
    if (info.id() == issued.info().id()) listed = &info;
  }
  ASSERT_NE(listed, nullptr);
  ASSERT_TRUE(listed->has_last_use_time());
  EXPECT_EQ(google::protobuf::util::TimeUtil::TimestampToMicroseconds(
                listed->last_use_time()),
            absl::ToUnixMicros(clock_->Now()));
  EXPECT_EQ(listed->expire_time().seconds(),
            issued.info().expire_time().seconds());

  // Past its expiry (and the credential cache) it is refused.
  clock_->Advance(absl::Seconds(31));
  EXPECT_EQ(stub_->WhoAmI(As(issued.token()).get(), {}, &me).error_code(),
            grpc::StatusCode::UNAUTHENTICATED);
}

TEST_F(RegistryServiceTest, UpdateNeedsTheCurrentEtag) {
  const Partner created = Create(Hospital("한강성심병원", "HG-1"));
  v1::UpdatePartnerRequest update;
  update.mutable_partner()->set_id(created.id());
  update.mutable_partner()->set_address("버드나루로7길 12");
  update.mutable_update_mask()->add_paths("address");
  update.set_etag(created.etag());
  Partner updated;
  ASSERT_TRUE(stub_->UpdatePartner(As(admin()).get(), update, &updated).ok());
  EXPECT_EQ(updated.address(), "버드나루로7길 12");
  EXPECT_EQ(updated.etag(), "\"2\"");
  EXPECT_EQ(updated.representative(), created.representative());  // untouched

  // A second writer still holding v1 loses, and changes nothing.
  update.mutable_partner()->set_address("stale write");
  Partner out;
  grpc::Status stale = stub_->UpdatePartner(As(admin()).get(), update, &out);
  EXPECT_EQ(stale.error_code(), grpc::StatusCode::ABORTED);
  Partner now;
  ASSERT_TRUE(Get(admin(), created.id(), &now).ok());
  EXPECT_EQ(now.address(), "버드나루로7길 12");
  EXPECT_EQ(now.etag(), "\"2\"");

  // Bad masks, missing etags and invalid values name their fields.
  v1::UpdatePartnerRequest bad;
  bad.mutable_partner()->set_id(created.id());
  bad.mutable_update_mask()->add_paths("status");
  grpc::Status invalid = stub_->UpdatePartner(As(admin()).get(), bad, &out);
  EXPECT_EQ(invalid.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(ViolatedFields(invalid),
              UnorderedElementsAreArray({"etag", "update_mask.paths[0]"}));
  v1::UpdatePartnerRequest bad_value;
  bad_value.mutable_partner()->set_id(created.id());
  bad_value.mutable_partner()->set_floor_area_m2(-1);
  bad_value.mutable_update_mask()->add_paths("floor_area_m2");
  bad_value.mutable_update_mask()->add_paths("name");
  bad_value.set_etag("\"2\"");
  invalid = stub_->UpdatePartner(As(admin()).get(), bad_value, &out);
  EXPECT_EQ(invalid.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(ViolatedFields(invalid), Contains("partner.floor_area_m2"));
  EXPECT_THAT(ViolatedFields(invalid), Contains("partner.name"));
  ASSERT_TRUE(Get(admin(), created.id(), &now).ok());
  EXPECT_EQ(now.etag(), "\"2\"");

  // Another partner's registration number is refused on update too.
  Create(Hospital("CM병원", "CM-1"));
  v1::UpdatePartnerRequest steal;
  steal.mutable_partner()->set_id(created.id());
  steal.mutable_partner()->set_attraction_registration_number("CM-1");
  steal.mutable_update_mask()->add_paths("attraction_registration_number");
  steal.set_etag("\"2\"");
  EXPECT_EQ(stub_->UpdatePartner(As(admin()).get(), steal, &out).error_code(),
            grpc::StatusCode::ALREADY_EXISTS);
}

TEST_F(RegistryServiceTest, EveryChangeIsAuditedWithWhoAndBeforeAfter) {
  const Partner created = Create(Hospital("감사 추적 병원", "AUDIT-1"));
  const std::string partner_token = Issue(auth::v1::PARTNER, created.id());

  // The partner edits its own contacts; the district moves the address and
  // designates it. A refused (stale) update must leave no trace.
  v1::UpdatePartnerRequest contacts;
  contacts.mutable_partner()->set_id(created.id());
  v1::Contact* contact = contacts.mutable_partner()->add_contacts();
  contact->set_name("Global desk");
  contact->set_email("desk@example.org");
  contacts.mutable_update_mask()->add_paths("contacts");
  contacts.set_etag(created.etag());
  Partner out;
  ASSERT_TRUE(
      stub_->UpdatePartner(As(partner_token).get(), contacts, &out).ok());
  v1::UpdatePartnerRequest address;
  address.mutable_partner()->set_id(created.id());
  address.mutable_partner()->set_address("영신로 200");
  address.mutable_update_mask()->add_paths("address");
  address.mutable_update_mask()->add_paths("representative");  // unchanged
  address.mutable_partner()->set_representative(created.representative());
  address.set_etag(created.etag());  // stale: refused
  EXPECT_EQ(stub_->UpdatePartner(As(admin()).get(), address, &out).error_code(),
            grpc::StatusCode::ABORTED);
  address.set_etag(out.etag());
  ASSERT_TRUE(stub_->UpdatePartner(As(admin()).get(), address, &out).ok());
  // Sending the same address again is not a change: same etag, no entry.
  const std::string etag_before_noop = out.etag();
  address.set_etag(out.etag());
  ASSERT_TRUE(stub_->UpdatePartner(As(admin()).get(), address, &out).ok());
  EXPECT_EQ(out.etag(), etag_before_noop);
  ASSERT_TRUE(Designate(created.id(), &out).ok());

  v1::ListPartnerChangesRequest request;
  request.set_partner_id(created.id());
  request.set_page_size(2);
  std::vector<v1::PartnerChange> changes;
  for (int page = 0; page < 5; ++page) {
    v1::ListPartnerChangesResponse response;
    grpc::Status status =
        stub_->ListPartnerChanges(As(partner_token).get(), request, &response);
    ASSERT_TRUE(status.ok()) << status.error_message();
    for (const auto& change : response.changes()) changes.push_back(change);
    if (response.next_page_token().empty()) break;
    request.set_page_token(response.next_page_token());
  }
  ASSERT_EQ(changes.size(), 4u);
  EXPECT_EQ(changes[0].action(), "CREATE");
  EXPECT_FALSE(changes[0].has_before());
  EXPECT_EQ(changes[0].after().name().at("ko"), "감사 추적 병원");
  EXPECT_THAT(changes[0].actor(), HasSubstr("ADMIN#"));

  EXPECT_EQ(changes[1].action(), "UPDATE");
  EXPECT_THAT(changes[1].actor(), HasSubstr("@partner:"));
  EXPECT_THAT(changes[1].changed_fields(), ElementsAre("contacts"));
  EXPECT_EQ(changes[1].before().contacts(0).name(), "국제진료센터");
  EXPECT_EQ(changes[1].after().contacts(0).name(), "Global desk");

  EXPECT_EQ(changes[2].action(), "UPDATE");
  EXPECT_THAT(changes[2].changed_fields(), ElementsAre("address"));
  EXPECT_EQ(changes[2].before().address(), "영신로 136");
  EXPECT_EQ(changes[2].after().address(), "영신로 200");

  EXPECT_EQ(changes[3].action(), "DESIGNATE");
  EXPECT_THAT(
      changes[3].changed_fields(),
      UnorderedElementsAreArray({"status", "designation_term_ends_on"}));
  EXPECT_EQ(changes[3].before().status(), v1::PENDING);
  EXPECT_EQ(changes[3].after().status(), v1::ACTIVE);

  // Another partner's trail is not a partner's to read; unknown ids are
  // NOT_FOUND.
  const Partner other = Create(Hospital("다른 감사 병원", ""));
  v1::ListPartnerChangesRequest theirs;
  theirs.set_partner_id(other.id());
  v1::ListPartnerChangesResponse response;
  EXPECT_EQ(
      stub_->ListPartnerChanges(As(partner_token).get(), theirs, &response)
          .error_code(),
      grpc::StatusCode::PERMISSION_DENIED);
  theirs.set_partner_id(987654);
  EXPECT_EQ(stub_->ListPartnerChanges(As(admin()).get(), theirs, &response)
                .error_code(),
            grpc::StatusCode::NOT_FOUND);
}

TEST_F(RegistryServiceTest, UpdatedDepartmentsAndLanguagesAreFilterable) {
  const Partner created = Create(Hospital("필터 갱신 병원", ""));
  v1::UpdatePartnerRequest update;
  update.mutable_partner()->set_id(created.id());
  update.mutable_partner()->add_departments("korean_medicine");
  update.mutable_partner()->add_languages("kk");
  update.mutable_update_mask()->add_paths("departments");
  update.mutable_update_mask()->add_paths("languages");
  update.set_etag(created.etag());
  Partner out;
  ASSERT_TRUE(stub_->UpdatePartner(As(admin()).get(), update, &out).ok());
  auto ids_with = [&](const std::string& department,
                      const std::string& language) {
    v1::ListPartnersRequest request;
    request.set_department(department);
    request.set_language(language);
    request.set_page_size(200);
    v1::ListPartnersResponse response;
    EXPECT_TRUE(
        stub_->ListPartners(As(admin()).get(), request, &response).ok());
    std::set<int64_t> ids;
    for (const Partner& p : response.partners()) ids.insert(p.id());
    return ids;
  };
  EXPECT_EQ(ids_with("korean_medicine", "kk").count(created.id()), 1u);
  EXPECT_EQ(ids_with("ophthalmology", "").count(created.id()), 0u);
  EXPECT_EQ(ids_with("", "mn").count(created.id()), 0u);
}

TEST_F(RegistryServiceTest, DesignationLifecycleAndHistory) {
  const Partner created = Create(Hospital("강남성심병원", "KS-1"));
  const std::string partner_token = Issue(auth::v1::PARTNER, created.id());
  Partner out;
  v1::DesignationRequest request;
  request.set_id(created.id());
  request.set_effective_on("2022-12-01");
  request.set_term_ends_on("2024-11-30");
  EXPECT_EQ(
      stub_->RedesignatePartner(As(admin()).get(), request, &out).error_code(),
      grpc::StatusCode::FAILED_PRECONDITION);
  request.set_reason("x");
  request.clear_term_ends_on();
  EXPECT_EQ(stub_->RevokePartner(As(admin()).get(), request, &out).error_code(),
            grpc::StatusCode::FAILED_PRECONDITION);

  ASSERT_TRUE(Designate(created.id(), &out).ok());
  EXPECT_EQ(out.status(), v1::ACTIVE);
  EXPECT_EQ(out.designation_term_ends_on(), "2022-12-31");
  grpc::Status twice = Designate(created.id(), &out);
  EXPECT_EQ(twice.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_THAT(twice.error_message(), HasSubstr("RedesignatePartner"));

  v1::DesignationRequest renew;
  renew.set_id(created.id());
  renew.set_effective_on("2023-01-01");
  renew.set_term_ends_on("2025-12-31");
  renew.set_etag("\"1\"");  // stale: designation made it "2"
  EXPECT_EQ(
      stub_->RedesignatePartner(As(admin()).get(), renew, &out).error_code(),
      grpc::StatusCode::ABORTED);
  renew.clear_etag();
  ASSERT_TRUE(stub_->RedesignatePartner(As(admin()).get(), renew, &out).ok());
  EXPECT_EQ(out.designation_term_ends_on(), "2025-12-31");

  v1::DesignationRequest suspend;
  suspend.set_id(created.id());
  suspend.set_effective_on("2024-03-01");
  EXPECT_THAT(
      ViolatedFields(stub_->SuspendPartner(As(admin()).get(), suspend, &out)),
      ElementsAre("reason"));
  suspend.set_reason("보고 누락");
  ASSERT_TRUE(stub_->SuspendPartner(As(admin()).get(), suspend, &out).ok());
  EXPECT_EQ(out.status(), v1::SUSPENDED);
  EXPECT_EQ(
      stub_->RedesignatePartner(As(admin()).get(), renew, &out).error_code(),
      grpc::StatusCode::FAILED_PRECONDITION);
  suspend.set_effective_on("2024-04-01");
  suspend.set_reason("보고 완료");
  ASSERT_TRUE(stub_->ReinstatePartner(As(admin()).get(), suspend, &out).ok());
  EXPECT_EQ(out.status(), v1::ACTIVE);

  // Revocation ends the partner's tokens too.
  Partner own;
  ASSERT_TRUE(Get(partner_token, created.id(), &own).ok());
  v1::DesignationRequest revoke;
  revoke.set_id(created.id());
  revoke.set_effective_on("2024-06-30");
  revoke.set_reason("지정 취소");
  ASSERT_TRUE(stub_->RevokePartner(As(admin()).get(), revoke, &out).ok());
  EXPECT_EQ(out.status(), v1::REVOKED);
  EXPECT_EQ(Get(partner_token, created.id(), &own).error_code(),
            grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_EQ(stub_->RevokePartner(As(admin()).get(), revoke, &out).error_code(),
            grpc::StatusCode::FAILED_PRECONDITION);
  v1::IssueTokenRequest issue;
  issue.set_role(auth::v1::PARTNER);
  issue.set_partner_id(created.id());
  issue.set_display_name("after revocation");
  v1::IssueTokenResponse issued;
  EXPECT_EQ(stub_->IssueToken(As(admin()).get(), issue, &issued).error_code(),
            grpc::StatusCode::FAILED_PRECONDITION);

  Partner history;
  ASSERT_TRUE(Get(admin(), created.id(), &history).ok());
  std::vector<v1::DesignationAction> actions;
  for (const auto& event : history.designations())
    actions.push_back(event.action());
  EXPECT_THAT(actions, ElementsAre(v1::DESIGNATED, v1::REDESIGNATED,
                                   v1::SUSPENDED_ACTION, v1::REINSTATED,
                                   v1::REVOKED_ACTION));
  EXPECT_EQ(history.designations(0).decision_ref(),
            "중소벤처기업부 제2017-22호");
  EXPECT_EQ(history.designations(4).reason(), "지정 취소");
  EXPECT_THAT(history.designations(0).recorded_by(), HasSubstr("ADMIN#"));
}

TEST_F(RegistryServiceTest, CountsDesignationDecisionsByYearKindAndAction) {
  // A 2031 round (no other test uses that year): 3 new, 2 re-designations.
  std::vector<int64_t> ids;
  for (int i = 0; i < 3; ++i) {
    Partner institution = Hospital(absl::StrCat("협력기관 ", i), "");
    institution.set_kind(v1::COOPERATING_INSTITUTION);
    ids.push_back(Create(institution).id());
  }
  Partner out;
  for (int64_t id : ids) {
    ASSERT_TRUE(Designate(id, &out, "2029-03-01", "2031-02-28").ok());
  }
  for (int i = 0; i < 2; ++i) {
    v1::DesignationRequest renew;
    renew.set_id(ids[i]);
    renew.set_effective_on("2031-03-01");
    renew.set_term_ends_on("2033-02-28");
    ASSERT_TRUE(stub_->RedesignatePartner(As(admin()).get(), renew, &out).ok());
  }
  Partner late = Hospital("협력기관 신규", "");
  late.set_kind(v1::COOPERATING_INSTITUTION);
  for (const int64_t id : {Create(late).id()}) {
    ASSERT_TRUE(Designate(id, &out, "2031-06-01", "2033-05-31").ok());
  }
  const std::string council = Issue(auth::v1::COUNCIL);
  v1::CountDesignationsRequest request;
  request.set_year(2031);
  request.set_kind(v1::COOPERATING_INSTITUTION);
  v1::CountDesignationsResponse response;
  ASSERT_TRUE(
      stub_->CountDesignations(As(council).get(), request, &response).ok());
  std::map<v1::DesignationAction, int> by_action;
  for (const v1::DesignationCount& count : response.counts()) {
    EXPECT_EQ(count.year(), 2031);
    EXPECT_EQ(count.kind(), v1::COOPERATING_INSTITUTION);
    by_action[count.action()] = count.count();
  }
  EXPECT_EQ(by_action[v1::DESIGNATED], 1);
  EXPECT_EQ(by_action[v1::REDESIGNATED], 2);
  request.set_year(1);
  EXPECT_THAT(ViolatedFields(stub_->CountDesignations(As(council).get(),
                                                      request, &response)),
              ElementsAre("year"));
}

TEST_F(RegistryServiceTest, CountPartnersGroupsByKindAndRegion) {
  const std::string council = Issue(auth::v1::COUNCIL);
  auto count = [&](v1::PartnerStatus status) {
    v1::CountPartnersRequest request;
    request.set_status(status);
    v1::CountPartnersResponse response;
    grpc::Status s =
        stub_->CountPartners(As(council).get(), request, &response);
    EXPECT_TRUE(s.ok()) << s.error_message();
    std::map<std::pair<int, int>, int> by_cell;
    int sum = 0;
    for (const v1::PartnerCount& c : response.counts()) {
      by_cell[{c.kind(), c.region()}] = c.count();
      sum += c.count();
    }
    EXPECT_EQ(sum, response.total());
    return std::make_pair(by_cell, response.total());
  };
  const auto [before_all, total_before] = count(v1::PARTNER_STATUS_UNSPECIFIED);
  const auto [before_active, active_before] = count(v1::ACTIVE);
  // Three pending agencies in Yeouido and two clinics, one designated.
  Partner out;
  std::vector<int64_t> agencies;
  for (int i = 0; i < 3; ++i) {
    Partner agency = Hospital(absl::StrCat("유치업체 집계 ", i), "");
    agency.set_kind(v1::ATTRACTION_AGENCY);
    agency.set_region(v1::YEOUIDO);
    agencies.push_back(Create(agency).id());
  }
  const int64_t clinic = Create(Hospital("집계 의원 1", "")).id();
  Create(Hospital("집계 의원 2", ""));
  ASSERT_TRUE(Designate(clinic, &out, "2030-01-01", "2032-12-31").ok());

  const auto [after_all, total_after] = count(v1::PARTNER_STATUS_UNSPECIFIED);
  const auto [after_active, active_after] = count(v1::ACTIVE);
  const std::pair<int, int> agency_yeouido{v1::ATTRACTION_AGENCY, v1::YEOUIDO};
  const std::pair<int, int> operator_yeongdeungpo{v1::SPECIALIZED_OPERATOR,
                                                  v1::YEONGDEUNGPO};
  EXPECT_EQ(total_after - total_before, 5);
  EXPECT_EQ(active_after - active_before, 1);
  auto at = [](const std::map<std::pair<int, int>, int>& m,
               std::pair<int, int> key) {
    auto it = m.find(key);
    return it == m.end() ? 0 : it->second;
  };
  EXPECT_EQ(at(after_all, agency_yeouido) - at(before_all, agency_yeouido), 3);
  EXPECT_EQ(
      at(after_active, agency_yeouido) - at(before_active, agency_yeouido), 0);
  EXPECT_EQ(at(after_all, operator_yeongdeungpo) -
                at(before_all, operator_yeongdeungpo),
            2);
  EXPECT_EQ(at(after_active, operator_yeongdeungpo) -
                at(before_active, operator_yeongdeungpo),
            1);

  v1::CountPartnersRequest bad;
  bad.set_status(static_cast<v1::PartnerStatus>(42));
  v1::CountPartnersResponse response;
  EXPECT_THAT(
      ViolatedFields(stub_->CountPartners(As(council).get(), bad, &response)),
      ElementsAre("status"));
  const std::string partner = Issue(auth::v1::PARTNER, agencies[1]);
  EXPECT_EQ(stub_->CountPartners(As(partner).get(), {}, &response).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
}

TEST_F(RegistryServiceTest, ListPaginatesToTheEndWithFilters) {
  // Seven agencies speaking Zulu: a filter no other test matches.
  std::set<int64_t> created;
  for (int i = 0; i < 7; ++i) {
    Partner agency;
    agency.set_kind(v1::ATTRACTION_AGENCY);
    (*agency.mutable_name())["ko"] = absl::StrCat("유치업체 ", 7 - i);
    agency.add_languages("zu");
    agency.set_floor_area_m2(10 * i);
    created.insert(Create(agency).id());
  }
  v1::ListPartnersRequest request;
  request.set_language("zu");
  request.set_page_size(3);
  request.set_order_by("name desc");
  std::vector<int64_t> seen;
  std::vector<std::string> names;
  int pages = 0;
  do {
    v1::ListPartnersResponse response;
    grpc::Status status =
        stub_->ListPartners(As(admin()).get(), request, &response);
    ASSERT_TRUE(status.ok()) << status.error_message();
    EXPECT_EQ(response.total_size(), 7);
    for (const Partner& p : response.partners()) {
      seen.push_back(p.id());
      names.push_back(p.name().at("ko"));
    }
    request.set_page_token(response.next_page_token());
    ++pages;
  } while (!request.page_token().empty() && pages < 10);
  EXPECT_EQ(pages, 3);
  EXPECT_EQ(std::set<int64_t>(seen.begin(), seen.end()), created);
  EXPECT_EQ(seen.size(), 7u);
  EXPECT_TRUE(std::is_sorted(names.rbegin(), names.rend())) << names[0];

  // Filters combine; a token is only valid for the query that issued it.
  v1::ListPartnersRequest agencies;
  agencies.set_kind(v1::ATTRACTION_AGENCY);
  agencies.set_language("zu");
  agencies.set_page_size(2);
  v1::ListPartnersResponse first;
  ASSERT_TRUE(stub_->ListPartners(As(admin()).get(), agencies, &first).ok());
  agencies.set_page_token(first.next_page_token());
  agencies.set_language("en");
  v1::ListPartnersResponse out;
  grpc::Status mismatched =
      stub_->ListPartners(As(admin()).get(), agencies, &out);
  EXPECT_EQ(mismatched.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(ViolatedFields(mismatched), ElementsAre("page_token"));

  v1::ListPartnersRequest by_department;
  by_department.set_department("ophthalmology");
  by_department.set_region(v1::YEONGDEUNGPO);
  ASSERT_TRUE(stub_->ListPartners(As(admin()).get(), by_department, &out).ok());
  for (const Partner& p : out.partners()) {
    EXPECT_THAT(p.departments(), Contains("ophthalmology"));
  }

  v1::ListPartnersRequest invalid;
  invalid.set_page_size(-1);
  invalid.set_order_by("password");
  invalid.set_department("astrology");
  EXPECT_THAT(
      ViolatedFields(stub_->ListPartners(As(admin()).get(), invalid, &out)),
      UnorderedElementsAreArray({"page_size", "order_by", "department"}));
}

TEST_F(RegistryServiceTest, EveryOrderPaginatesWithoutGapsOrRepeats) {
  // Nine linked businesses speaking Xhosa, with tied floor areas so the id
  // tie-breaker matters, created at distinct (fake) times.
  std::set<int64_t> created;
  for (int i = 0; i < 9; ++i) {
    Partner hotel;
    hotel.set_kind(v1::LINKED_BUSINESS);
    hotel.set_linked_business_type(v1::LODGING);
    (*hotel.mutable_name())["ko"] = absl::StrCat("호텔 ", i % 4);
    hotel.set_floor_area_m2(100.25 * (i % 3));
    hotel.add_languages("xh");
    clock_->Advance(absl::Seconds(1));
    created.insert(Create(hotel).id());
  }
  for (const char* order :
       {"id", "id desc", "name", "name desc", "floor_area_m2",
        "floor_area_m2 desc", "update_time", "update_time desc"}) {
    v1::ListPartnersRequest request;
    request.set_language("xh");
    request.set_page_size(2);
    request.set_order_by(order);
    std::vector<Partner> seen;
    for (int page = 0; page < 10; ++page) {
      v1::ListPartnersResponse response;
      grpc::Status status =
          stub_->ListPartners(As(admin()).get(), request, &response);
      ASSERT_TRUE(status.ok()) << order << ": " << status.error_message();
      for (const Partner& p : response.partners()) seen.push_back(p);
      if (response.next_page_token().empty()) break;
      request.set_page_token(response.next_page_token());
    }
    std::set<int64_t> ids;
    for (const Partner& p : seen) ids.insert(p.id());
    EXPECT_EQ(seen.size(), 9u) << order;
    EXPECT_EQ(ids, created) << order;
    const bool descending = absl::EndsWith(order, "desc");
    for (size_t i = 1; i < seen.size(); ++i) {
      const Partner& a = descending ? seen[i] : seen[i - 1];
      const Partner& b = descending ? seen[i - 1] : seen[i];
      if (absl::StartsWith(order, "floor_area_m2")) {
        EXPECT_LE(a.floor_area_m2(), b.floor_area_m2()) << order;
      } else if (absl::StartsWith(order, "name")) {
        EXPECT_LE(a.name().at("ko"), b.name().at("ko")) << order;
      } else if (absl::StartsWith(order, "update_time")) {
        EXPECT_LE(a.update_time().seconds(), b.update_time().seconds())
            << order;
      } else {
        EXPECT_LT(a.id(), b.id()) << order;
      }
    }
  }
}

TEST_F(RegistryServiceTest, ListExpiringFindsTermsAndRegistrations) {
  // Today (fake clock) is 2026-11-23.
  Partner soon = Hospital("곧 만료 병원", "EXP-SOON");
  soon.set_registration_expires_on("2026-12-10");
  const Partner registration = Create(soon);
  const Partner term = Create(Hospital("임기 만료 병원", ""));
  Partner out;
  ASSERT_TRUE(Designate(term.id(), &out, "2024-12-20", "2026-12-20").ok());

  v1::ListExpiringRequest request;
  request.set_within_days(30);
  v1::ListExpiringResponse response;
  ASSERT_TRUE(stub_->ListExpiring(As(admin()).get(), request, &response).ok());
  bool found_registration = false;
  bool found_term = false;
  for (const v1::ExpiringItem& item : response.items()) {
    if (item.partner_id() == registration.id() &&
        item.kind() == v1::ATTRACTION_REGISTRATION) {
      found_registration = true;
      EXPECT_EQ(item.days_left(), 17);
      EXPECT_EQ(item.registration_number(), "EXP-SOON");
      EXPECT_EQ(item.partner_name().at("ko"), "곧 만료 병원");
    }
    if (item.partner_id() == term.id() && item.kind() == v1::DESIGNATION_TERM) {
      found_term = true;
      EXPECT_EQ(item.ends_on(), "2026-12-20");
    }
    EXPECT_GE(item.days_left(), 0);
    EXPECT_LE(item.days_left(), 30);
  }
  EXPECT_TRUE(found_registration);
  EXPECT_TRUE(found_term);

  request.set_within_days(10);
  request.set_kind(v1::DESIGNATION_TERM);
  ASSERT_TRUE(stub_->ListExpiring(As(admin()).get(), request, &response).ok());
  for (const v1::ExpiringItem& item : response.items()) {
    EXPECT_NE(item.partner_id(), term.id());
  }
  v1::ListExpiringRequest invalid;
  invalid.set_within_days(0);
  invalid.set_as_of("someday");
  EXPECT_THAT(ViolatedFields(
                  stub_->ListExpiring(As(admin()).get(), invalid, &response)),
              UnorderedElementsAreArray({"within_days", "as_of"}));
}

TEST_F(RegistryServiceTest, GrantsAreIdempotentScopedAndSummed) {
  const Partner hospital = Create(Hospital("계피부과의원", "KYE-1"));
  const Partner other = Create(Hospital("다른 의원", "OTHER-1"));
  v1::CreateGrantRequest request;
  request.set_request_id("grant-2022-interpretation");
  Grant* grant = request.mutable_grant();
  grant->set_partner_id(hospital.id());
  grant->set_year(2022);
  grant->set_programme(v1::INTERPRETATION_FEE);
  grant->set_amount_krw(3'000'000);
  (*grant->mutable_purpose())["ko"] = "협력기관 통·번역 이용료 지원";
  (*grant->mutable_purpose())["en"] = "Interpretation fee support";
  Grant first;
  Grant again;
  ASSERT_TRUE(stub_->CreateGrant(As(admin()).get(), request, &first).ok());
  ASSERT_TRUE(stub_->CreateGrant(As(admin()).get(), request, &again).ok());
  EXPECT_EQ(first.id(), again.id());
  EXPECT_EQ(first.purpose().at("en"), "Interpretation fee support");
  // The same request_id for another grant is refused.
  grant->set_amount_krw(4'000'000);
  const grpc::Status reused =
      stub_->CreateGrant(As(admin()).get(), request, &again);
  EXPECT_EQ(reused.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(ViolatedFields(reused), ElementsAre("request_id"));
  request.set_request_id("grant-2022-infrastructure");
  grant->set_programme(v1::INFRASTRUCTURE);
  grant->set_amount_krw(5'000'000);
  ASSERT_TRUE(stub_->CreateGrant(As(admin()).get(), request, &again).ok());

  // A key stored before keys carried their caller (kept under "*" by
  // migration 5): any admin's retry still gets the first grant back.
  ASSERT_TRUE(mariadb_
                  ->ExecuteAsRoot(absl::StrCat(
                      "UPDATE smz_registry.request_keys SET caller = '*' "
                      "WHERE method = 'CreateGrant' AND request_id = "
                      "'grant-2022-interpretation'"))
                  .ok());
  request.set_request_id("grant-2022-interpretation");
  grant->set_programme(v1::INTERPRETATION_FEE);
  grant->set_amount_krw(3'000'000);
  Grant legacy;
  ASSERT_TRUE(
      stub_->CreateGrant(As(Issue(auth::v1::ADMIN)).get(), request, &legacy)
          .ok());
  EXPECT_EQ(legacy.id(), first.id());

  const std::string partner = Issue(auth::v1::PARTNER, hospital.id());
  v1::ListGrantsRequest own;  // partner_id defaults to the caller's own
  v1::ListGrantsResponse listed;
  ASSERT_TRUE(stub_->ListGrants(As(partner).get(), own, &listed).ok());
  EXPECT_EQ(listed.grants_size(), 2);
  EXPECT_EQ(listed.total_amount_krw(), 8'000'000);
  v1::ListGrantsRequest theirs;
  theirs.set_partner_id(other.id());
  EXPECT_EQ(stub_->ListGrants(As(partner).get(), theirs, &listed).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);

  v1::CreateGrantRequest bad;
  bad.mutable_grant()->set_partner_id(hospital.id());
  bad.mutable_grant()->set_amount_krw(-3);
  Grant out;
  grpc::Status invalid = stub_->CreateGrant(As(admin()).get(), bad, &out);
  EXPECT_THAT(ViolatedFields(invalid),
              UnorderedElementsAreArray({"grant.year", "grant.programme",
                                         "grant.amount_krw", "grant.purpose"}));
  v1::ListGrantsRequest all;
  all.set_partner_id(hospital.id());
  ASSERT_TRUE(stub_->ListGrants(As(admin()).get(), all, &listed).ok());
  EXPECT_EQ(listed.grants_size(), 2);
}

// What a List method returns over all its pages of `page_size`, as keys
// (each page at most `page_size` long).
template <typename Request, typename Response>
std::vector<std::string> AllPages(
    Request request, int page_size,
    const std::function<grpc::Status(const Request&, Response*)>& call,
    const std::function<void(const Response&, std::vector<std::string>*)>&
        keys) {
  std::vector<std::string> seen;
  request.set_page_size(page_size);
  for (int pages = 0; pages < 100; ++pages) {
    Response response;
    const grpc::Status s = call(request, &response);
    EXPECT_TRUE(s.ok()) << s.error_message();
    if (!s.ok()) break;
    std::vector<std::string> page;
    keys(response, &page);
    EXPECT_LE(static_cast<int>(page.size()), page_size);
    seen.insert(seen.end(), page.begin(), page.end());
    if (response.next_page_token().empty()) break;
    request.set_page_token(response.next_page_token());
  }
  return seen;
}

TEST_F(RegistryServiceTest, SmallListsPageLikeOneLongPage) {
  const Partner hospital = Create(Hospital("페이지 의원", "PAGE-1"));
  Partner out;
  ASSERT_TRUE(Designate(hospital.id(), &out, "2024-12-01", "2026-12-01").ok());
  for (int year : {2021, 2022, 2023}) {
    v1::CreateGrantRequest grant;
    grant.set_request_id(absl::StrCat("paging-", year));
    grant.mutable_grant()->set_partner_id(hospital.id());
    grant.mutable_grant()->set_year(year);
    grant.mutable_grant()->set_programme(v1::INFRASTRUCTURE);
    grant.mutable_grant()->set_amount_krw(1'000'000);
    (*grant.mutable_grant()->mutable_purpose())["ko"] = "시설 개선";
    Grant created;
    ASSERT_TRUE(stub_->CreateGrant(As(admin()).get(), grant, &created).ok());
  }
  for (int i = 0; i < 3; ++i) Issue(auth::v1::PARTNER, hospital.id());

  v1::ListGrantsRequest grants;
  grants.set_partner_id(hospital.id());
  std::function<grpc::Status(const v1::ListGrantsRequest&,
                             v1::ListGrantsResponse*)>
      list_grants = [&](const auto& request, auto* response) {
        return stub_->ListGrants(As(admin()).get(), request, response);
      };
  std::function<void(const v1::ListGrantsResponse&, std::vector<std::string>*)>
      grant_ids = [](const auto& response, auto* keys) {
        for (const Grant& g : response.grants()) {
          keys->push_back(absl::StrCat(g.id()));
        }
      };
  const std::vector<std::string> all_grants =
      AllPages(grants, 200, list_grants, grant_ids);
  EXPECT_EQ(all_grants.size(), 3u);
  EXPECT_EQ(AllPages(grants, 1, list_grants, grant_ids), all_grants);

  v1::ListTokensRequest tokens;
  tokens.set_include_revoked(true);
  std::function<grpc::Status(const v1::ListTokensRequest&,
                             v1::ListTokensResponse*)>
      list_tokens = [&](const auto& request, auto* response) {
        return stub_->ListTokens(As(admin()).get(), request, response);
      };
  std::function<void(const v1::ListTokensResponse&, std::vector<std::string>*)>
      token_ids = [](const auto& response, auto* keys) {
        for (const v1::TokenInfo& t : response.tokens()) {
          keys->push_back(absl::StrCat(t.id()));
        }
      };
  const std::vector<std::string> all_tokens =
      AllPages(tokens, 200, list_tokens, token_ids);
  EXPECT_GE(all_tokens.size(), 4u);  // the admin's and the hospital's three
  EXPECT_EQ(AllPages(tokens, 2, list_tokens, token_ids), all_tokens);

  // Offset paging over terms and registrations together.
  v1::ListExpiringRequest expiring;
  expiring.set_within_days(3650);
  expiring.set_include_overdue(true);
  std::function<grpc::Status(const v1::ListExpiringRequest&,
                             v1::ListExpiringResponse*)>
      list_expiring = [&](const auto& request, auto* response) {
        return stub_->ListExpiring(As(admin()).get(), request, response);
      };
  std::function<void(const v1::ListExpiringResponse&,
                     std::vector<std::string>*)>
      expiring_keys = [](const auto& response, auto* keys) {
        for (const v1::ExpiringItem& item : response.items()) {
          keys->push_back(absl::StrCat(item.partner_id(), "/", item.kind()));
        }
      };
  const std::vector<std::string> all_expiring =
      AllPages(expiring, 200, list_expiring, expiring_keys);
  EXPECT_THAT(all_expiring,
              Contains(absl::StrCat(hospital.id(), "/",
                                    static_cast<int>(v1::DESIGNATION_TERM))));
  EXPECT_EQ(AllPages(expiring, 1, list_expiring, expiring_keys), all_expiring);

  // A token is bound to its query.
  v1::ListGrantsRequest first = grants;
  first.set_page_size(1);
  v1::ListGrantsResponse page;
  ASSERT_TRUE(stub_->ListGrants(As(admin()).get(), first, &page).ok());
  v1::ListGrantsRequest other_year = first;
  other_year.set_year(2022);
  other_year.set_page_token(page.next_page_token());
  EXPECT_THAT(
      ViolatedFields(stub_->ListGrants(As(admin()).get(), other_year, &page)),
      ElementsAre("page_token"));
}

TEST_F(RegistryServiceTest, IssueTokenValidatesRoleAndPartner) {
  v1::IssueTokenRequest request;
  v1::IssueTokenResponse response;
  EXPECT_THAT(
      ViolatedFields(stub_->IssueToken(As(admin()).get(), request, &response)),
      UnorderedElementsAreArray({"role", "display_name"}));
  request.set_role(auth::v1::PARTNER);
  request.set_display_name("hospital desk");
  EXPECT_THAT(
      ViolatedFields(stub_->IssueToken(As(admin()).get(), request, &response)),
      ElementsAre("partner_id"));
  request.set_partner_id(987654);
  EXPECT_EQ(
      stub_->IssueToken(As(admin()).get(), request, &response).error_code(),
      grpc::StatusCode::NOT_FOUND);
  request.set_role(auth::v1::ANALYST);
  EXPECT_THAT(
      ViolatedFields(stub_->IssueToken(As(admin()).get(), request, &response)),
      ElementsAre("partner_id"));
  request.set_partner_id(0);
  ASSERT_TRUE(stub_->IssueToken(As(admin()).get(), request, &response).ok());
  EXPECT_THAT(response.token(), HasSubstr("smz_"));
  EXPECT_EQ(response.info().role(), auth::v1::ANALYST);
  EXPECT_THAT(response.info().created_by(), HasSubstr("ADMIN#"));
}

TEST_F(RegistryServiceTest, OtherServicesAuthenticateThroughTheRegistry) {
  RemotePrincipalLookup lookup(*channel_);
  Authenticator authenticator(&lookup, clock_);
  absl::StatusOr<Principal> admin_principal =
      authenticator.Authenticate(absl::StrCat("Bearer ", admin()));
  ASSERT_TRUE(admin_principal.ok()) << admin_principal.status();
  EXPECT_EQ(admin_principal->role(), auth::v1::ADMIN);

  const Partner hospital = Create(Hospital("원격 인증 병원", ""));
  const std::string partner = Issue(auth::v1::PARTNER, hospital.id());
  absl::StatusOr<Principal> partner_principal =
      authenticator.Authenticate(absl::StrCat("Bearer ", partner));
  ASSERT_TRUE(partner_principal.ok()) << partner_principal.status();
  EXPECT_EQ(partner_principal->role(), auth::v1::PARTNER);
  EXPECT_EQ(partner_principal->partner_id(), hospital.id());

  EXPECT_EQ(authenticator.Authenticate("Bearer smz_forged").status().code(),
            absl::StatusCode::kUnauthenticated);

  // A registry that cannot be reached is an outage, not bad credentials.
  RemotePrincipalLookup unreachable(
      grpc::CreateChannel(absl::StrCat("127.0.0.1:", testing::PickUnusedPort()),
                          grpc::InsecureChannelCredentials()),
      absl::Milliseconds(500));
  Authenticator cut_off(&unreachable, clock_);
  EXPECT_EQ(
      cut_off.Authenticate(absl::StrCat("Bearer ", admin())).status().code(),
      absl::StatusCode::kUnavailable);
}

TEST_F(RegistryServiceTest, PartnerDirectoryReadsThroughACache) {
  const Partner hospital = Create(Hospital("디렉터리 병원", ""));
  Partner out;
  ASSERT_TRUE(Designate(hospital.id(), &out).ok());
  const std::string service_token = Issue(auth::v1::ANALYST);
  RegistryPartnerDirectory directory(*channel_, service_token, clock_,
                                     absl::Seconds(30));
  absl::StatusOr<Partner> first = directory.Get(hospital.id());
  ASSERT_TRUE(first.ok()) << first.status();
  EXPECT_EQ(first->status(), v1::ACTIVE);
  EXPECT_EQ(first->designations(0).effective_on(), "2017-12-14");

  // Served from the cache until it expires: a suspension shows up after.
  v1::DesignationRequest suspend;
  suspend.set_id(hospital.id());
  suspend.set_effective_on("2026-11-01");
  suspend.set_reason("test");
  ASSERT_TRUE(stub_->SuspendPartner(As(admin()).get(), suspend, &out).ok());
  EXPECT_EQ(directory.Get(hospital.id())->status(), v1::ACTIVE);
  clock_->Advance(absl::Seconds(31));
  EXPECT_EQ(directory.Get(hospital.id())->status(), v1::SUSPENDED);

  EXPECT_EQ(directory.Get(987654).status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(directory.Get(0).status().code(),
            absl::StatusCode::kInvalidArgument);
  RegistryPartnerDirectory wrong_token(*channel_, "smz_forged", clock_);
  EXPECT_EQ(wrong_token.Get(hospital.id()).status().code(),
            absl::StatusCode::kUnavailable);
}

TEST_F(RegistryServiceTest, MetricsCountRpcsByMethodAndCode) {
  Partner out;
  Get(admin(), 987654, &out);
  const std::string metrics = HttpGet(server_->metrics_port(), "/metrics");
  EXPECT_THAT(metrics, HasSubstr("smz_rpc_requests_total"));
  EXPECT_THAT(metrics, HasSubstr("code=\"NOT_FOUND\""));
  EXPECT_THAT(metrics, HasSubstr("method=\"GetPartner\""));
  EXPECT_THAT(metrics, HasSubstr("smz_rpc_duration_seconds_bucket"));
  EXPECT_THAT(metrics, HasSubstr("\nsmz_ready 1\n"));
  EXPECT_THAT(metrics, HasSubstr(absl::StrCat("smz_build_info{commit=\"",
                                              smz::Commit(), "\",release=\"",
                                              smz::Release(), "\"} 1")));
  // The connection pool, sampled with each health probe (every second).
  std::string pool;
  for (int i = 0; i < 40 && !absl::StrContains(pool, "state=\"in_use\""); ++i) {
    absl::SleepFor(absl::Milliseconds(100));
    pool = HttpGet(server_->metrics_port(), "/metrics");
  }
  EXPECT_THAT(pool, ::testing::ContainsRegex("\nsmz_db_pool_size [1-9]"));
  EXPECT_THAT(pool, ::testing::ContainsRegex(
                        "smz_db_pool_connections\\{state=\"idle\"\\} [1-9]"));
  EXPECT_THAT(pool, HasSubstr("smz_db_pool_connections{state=\"in_use\"}"));
  EXPECT_THAT(pool, HasSubstr("\nsmz_db_pool_exhausted_total 0\n"));
}

// GetPartner and ListPartners answer from memory on the callback path: with
// many readers and writers at once, every read after a write has it (and a
// partner's own list), whoever's read filled the cache.
TEST_F(RegistryServiceTest, ReadsFromMemorySeeEveryEarlierWrite) {
  const Partner created = Create(Hospital("기억 시험 병원", ""));
  const std::string council = Issue(auth::v1::COUNCIL);
  std::atomic<int> stale{0};
  std::atomic<int> failed{0};
  std::vector<std::thread> threads;
  // Readers keep the cache warm at whatever stamp is current.
  std::atomic<bool> writing{true};
  for (int r = 0; r < 4; ++r) {
    threads.emplace_back([&] {
      auto stub = v1::RegistryService::NewStub(*channel_);
      while (writing) {
        v1::GetPartnerRequest get;
        get.set_id(created.id());
        Partner out;
        if (!stub->GetPartner(As(council).get(), get, &out).ok()) ++failed;
        v1::ListPartnersRequest list;
        list.set_page_size(5);
        v1::ListPartnersResponse page;
        if (!stub->ListPartners(As(council).get(), list, &page).ok()) ++failed;
      }
    });
  }
  auto stub = v1::RegistryService::NewStub(*channel_);
  Partner current = created;
  for (int i = 0; i < 30; ++i) {
    clock_->Advance(absl::Seconds(1));  // the newest update_time is this one
    v1::UpdatePartnerRequest update;
    update.mutable_partner()->set_id(created.id());
    (*update.mutable_partner()->mutable_name())["ko"] =
        absl::StrCat("기억 시험 병원 ", i);
    update.mutable_update_mask()->add_paths("name");
    update.set_etag(current.etag());
    grpc::Status updated =
        stub->UpdatePartner(As(admin()).get(), update, &current);
    ASSERT_TRUE(updated.ok()) << updated.error_message();
    Partner read;
    ASSERT_TRUE(Get(council, created.id(), &read).ok());
    if (read.name().at("ko") != current.name().at("ko")) ++stale;
    // Twice: the second is answered from memory and its serialized page
    // kept, which the next write must drop.
    for (int twice = 0; twice < 2; ++twice) {
      v1::ListPartnersRequest list;
      list.set_page_size(1);
      list.set_order_by("update_time desc");
      v1::ListPartnersResponse page;
      ASSERT_TRUE(stub->ListPartners(As(council).get(), list, &page).ok());
      if (page.partners_size() != 1 ||
          page.partners(0).name().at("ko") != current.name().at("ko")) {
        ++stale;
      }
    }
  }
  writing = false;
  for (std::thread& thread : threads) thread.join();
  EXPECT_EQ(stale.load(), 0);
  EXPECT_EQ(failed.load(), 0);
  // WhoAmI too takes the callback path.
  auth::v1::Principal me;
  ASSERT_TRUE(stub->WhoAmI(As(council).get(), {}, &me).ok());
  EXPECT_EQ(me.role(), auth::v1::COUNCIL);
  EXPECT_EQ(stub->WhoAmI(As("smz_made_up").get(), {}, &me).error_code(),
            grpc::StatusCode::UNAUTHENTICATED);
}

// ListPartners is registered raw (its bytes are the key of the answers
// kept): bytes that are no ListPartnersRequest are INVALID_ARGUMENT, after
// authentication as for any call; the empty request is the first page; a
// page asked again is the same page. Its answers are shared by every caller,
// which holds while no role it admits sees only some rows.
TEST_F(RegistryServiceTest, ListPartnersTakesOnlyItsOwnRequestBytes) {
  Create(Hospital("바이트 병원", ""));
  const std::string council = Issue(auth::v1::COUNCIL);
  grpc::GenericStub generic(*channel_);
  auto call = [&](std::unique_ptr<grpc::ClientContext> context,
                  const std::string& bytes, v1::ListPartnersResponse* page) {
    grpc::Slice slice(bytes);
    grpc::ByteBuffer request(&slice, 1);
    grpc::ByteBuffer response;
    std::promise<grpc::Status> done;
    generic.UnaryCall(context.get(),
                      "/smz.registry.v1.RegistryService/ListPartners", {},
                      &request, &response,
                      [&](grpc::Status status) { done.set_value(status); });
    const grpc::Status status = done.get_future().get();
    std::string answer;
    if (status.ok()) {
      EXPECT_TRUE(ReadRawMessage(response, &answer));
      EXPECT_TRUE(page->ParseFromString(answer));
    }
    return status.error_code();
  };
  v1::ListPartnersResponse page;
  EXPECT_EQ(call(As(council), std::string("\xff\xff\xff", 3), &page),
            grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(call(As("smz_made_up"), std::string("\xff", 1), &page),
            grpc::StatusCode::UNAUTHENTICATED);

  // The empty request (no bytes at all), typed and raw, then a page asked
  // three times (the database, the rows kept, the answer kept).
  auto stub = v1::RegistryService::NewStub(*channel_);
  v1::ListPartnersResponse typed;
  ASSERT_TRUE(stub->ListPartners(As(council).get(), {}, &typed).ok());
  EXPECT_GE(typed.partners_size(), 1);
  ASSERT_EQ(call(As(council), "", &page), grpc::StatusCode::OK);
  EXPECT_TRUE(MessageDifferencer::Equals(page, typed));
  v1::ListPartnersRequest request;
  request.set_page_size(3);
  request.set_order_by("name");
  std::vector<v1::ListPartnersResponse> pages(3);
  for (v1::ListPartnersResponse& each : pages) {
    ASSERT_EQ(call(As(council), request.SerializeAsString(), &each),
              grpc::StatusCode::OK);
    EXPECT_GE(each.partners_size(), 1);
    // A map's entries have no fixed order between messages: compared parsed.
    EXPECT_TRUE(MessageDifferencer::Equals(each, pages.front()));
  }

  const google::protobuf::MethodDescriptor* list =
      google::protobuf::DescriptorPool::generated_pool()->FindMethodByName(
          "smz.registry.v1.RegistryService.ListPartners");
  ASSERT_NE(list, nullptr);
  const auth::v1::RoleList& roles =
      list->options().GetExtension(auth::v1::allowed_roles);
  EXPECT_FALSE(roles.anyone());
  for (int role : roles.roles()) EXPECT_NE(role, auth::v1::PARTNER);
}

// Last: it stops the database under the running service.
TEST_F(RegistryServiceTest, DatabaseDownIsUnavailableAndServiceRecovers) {
  const Partner created = Create(Hospital("복구 시험 병원", ""));
  const std::string fresh_token = Issue(auth::v1::COUNCIL);
  ASSERT_TRUE(mariadb_->Stop().ok());

  Partner out;
  const absl::Time start = absl::Now();
  grpc::Status down = Get(admin(), created.id(), &out);
  EXPECT_EQ(down.error_code(), grpc::StatusCode::UNAVAILABLE)
      << down.error_message();
  v1::CreatePartnerRequest create;
  *create.mutable_partner() = Hospital("쓰기 시험", "");
  EXPECT_EQ(stub_->CreatePartner(As(admin()).get(), create, &out).error_code(),
            grpc::StatusCode::UNAVAILABLE);
  // An uncached token cannot be verified: UNAVAILABLE, not UNAUTHENTICATED.
  EXPECT_EQ(Get(fresh_token, created.id(), &out).error_code(),
            grpc::StatusCode::UNAVAILABLE);
  EXPECT_LT(absl::Now() - start, absl::Seconds(10));

  const absl::Time deadline = absl::Now() + absl::Seconds(10);
  while (Health("") != grpc::health::v1::HealthCheckResponse::NOT_SERVING &&
         absl::Now() < deadline) {
    absl::SleepFor(absl::Milliseconds(100));
  }
  EXPECT_EQ(Health(""), grpc::health::v1::HealthCheckResponse::NOT_SERVING);

  ASSERT_TRUE(mariadb_->Restart().ok());
  const absl::Time recover_deadline = absl::Now() + absl::Seconds(15);
  grpc::Status recovered;
  do {
    recovered = Get(admin(), created.id(), &out);
    if (!recovered.ok()) absl::SleepFor(absl::Milliseconds(100));
  } while (!recovered.ok() && absl::Now() < recover_deadline);
  EXPECT_TRUE(recovered.ok()) << recovered.error_message();
  EXPECT_EQ(out.name().at("ko"), "복구 시험 병원");
  while (Health("") != grpc::health::v1::HealthCheckResponse::SERVING &&
         absl::Now() < recover_deadline) {
    absl::SleepFor(absl::Milliseconds(100));
  }
  EXPECT_EQ(Health(""), grpc::health::v1::HealthCheckResponse::SERVING);
  // Nothing half-written while it was down.
  v1::ListPartnersRequest list;
  list.set_page_size(200);
  v1::ListPartnersResponse all;
  ASSERT_TRUE(stub_->ListPartners(As(admin()).get(), list, &all).ok());
  for (const Partner& p : all.partners())
    EXPECT_NE(p.name().at("ko"), "쓰기 시험");
}

}  // namespace
}  // namespace smz::registry
