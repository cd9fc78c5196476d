// People's accounts end to end: a private MariaDB, the real registry on an
// ephemeral loopback port, and AccountService called over gRPC, with a fake
// clock to walk through throttles, idle timeouts and second-factor steps.
#include <cctype>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/status_util.h"
#include "gmock/gmock.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/security/credentials.h"
#include "gtest/gtest.h"
#include "services/registry/registry_server.h"
#include "services/registry/totp.h"
#include "smz/registry/v1/accounts.grpc.pb.h"
#include "smz/registry/v1/registry.grpc.pb.h"
#include "tests/harness/local_stack.h"
#include "tests/harness/mariadb_server.h"

namespace smz::registry {
namespace {

using ::testing::Contains;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsSupersetOf;
using ::testing::StartsWith;

std::vector<std::string> ViolatedFields(const grpc::Status& status) {
  std::vector<std::string> fields;
  for (const FieldViolation& v : GetFieldViolations(FromGrpcStatus(status))) {
    fields.push_back(v.field);
  }
  return fields;
}

// RFC 4648 base32 (no padding), as EnrolSecondFactor answers the secret.
class AccountServiceTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    auto mariadb = testing::MariaDbServer::Start();
    ASSERT_TRUE(mariadb.ok()) << mariadb.status();
    mariadb_ = mariadb->release();
    auto database = mariadb_->CreateServiceDatabase("smz_registry");
    ASSERT_TRUE(database.ok()) << database.status();
    clock_ = new FakeClock(absl::FromCivil(
        absl::CivilSecond(2026, 12, 3, 9, 0, 0), SeoulTimeZone()));
    RegistryServerOptions options;
    options.database = *database;
    options.server.listen = "127.0.0.1:0";
    options.clock = clock_;
    // Cheap hashes: these tests are about the rules, the benchmark about
    // the cost.
    options.password_cost = PasswordCost{1, size_t{64} << 10};
    auto server = RegistryServer::Start(options);
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = server->release();
    admin_token_ = new std::string();
    ASSERT_TRUE(server_->registry()
                    .EnsureBootstrapAdminToken([](const std::string& token) {
                      *admin_token_ = token;
                      return absl::OkStatus();
                    })
                    .ok());
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
    accounts_ = v1::AccountService::NewStub(*channel_);
    registry_ = v1::RegistryService::NewStub(*channel_);
    // Each test signs in from an address of its own, so that failures one
    // test makes on purpose never throttle another's.
    static int next_address = 1;
    address_ = absl::StrCat("10.0.0.", next_address++);
    // Past every cache period: nothing one test cached is seen by the next.
    clock_->Advance(absl::Minutes(20));
  }

  // A context with `credential` (empty: none) from this test's address.
  std::unique_ptr<grpc::ClientContext> Ctx(const std::string& credential = "") {
    auto context = std::make_unique<grpc::ClientContext>();
    if (!credential.empty()) {
      context->AddMetadata("authorization",
                           absl::StrCat("Bearer ", credential));
    }
    context->AddMetadata(std::string(kClientAddressMetadata), address_);
    return context;
  }

  const std::string& admin() { return *admin_token_; }

  v1::AccountLinkResponse Invite(const std::string& login, auth::v1::Role role,
                                 int64_t partner_id = 0,
                                 const std::string& request_id = "") {
    v1::InviteAccountRequest request;
    request.set_login(login);
    request.set_display_name(absl::StrCat("Test ", login));
    request.set_role(role);
    request.set_partner_id(partner_id);
    request.set_request_id(request_id);
    v1::AccountLinkResponse response;
    grpc::Status status =
        accounts_->InviteAccount(Ctx(admin()).get(), request, &response);
    EXPECT_TRUE(status.ok()) << status.error_message();
    return response;
  }

  grpc::Status SetPassword(const std::string& token,
                           const std::string& password,
                           v1::Account* account = nullptr) {
    v1::SetPasswordWithLinkRequest request;
    request.set_token(token);
    request.set_new_password(password);
    v1::Account ignored;
    return accounts_->SetPasswordWithLink(
        Ctx().get(), request, account != nullptr ? account : &ignored);
  }

  grpc::Status SignIn(const std::string& login, const std::string& password,
                      v1::SignInResponse* response,
                      const std::string& code = "") {
    v1::SignInRequest request;
    request.set_login(login);
    request.set_password(password);
    request.set_second_factor_code(code);
    return accounts_->SignIn(Ctx().get(), request, response);
  }

  // An ACTIVE account with `password`, signed in: its session id.
  std::string SignedIn(const std::string& login, auth::v1::Role role,
                       const std::string& password = "correct horse 1") {
    v1::AccountLinkResponse invited = Invite(login, role);
    EXPECT_TRUE(SetPassword(invited.link().token(), password).ok());
    v1::SignInResponse response;
    grpc::Status status = SignIn(login, password, &response);
    EXPECT_TRUE(status.ok()) << status.error_message();
    return response.session_id();
  }

  grpc::Status WhoAmI(const std::string& credential, Principal* out) {
    return registry_->WhoAmI(Ctx(credential).get(), v1::WhoAmIRequest(), out);
  }

  v1::Account Get(int64_t id) {
    v1::GetAccountRequest request;
    request.set_account_id(id);
    v1::Account account;
    grpc::Status status =
        accounts_->GetAccount(Ctx(admin()).get(), request, &account);
    EXPECT_TRUE(status.ok()) << status.error_message();
    return account;
  }

  v1::AccountActionRequest Action(int64_t id, const std::string& reason = "") {
    v1::AccountActionRequest request;
    request.set_account_id(id);
    request.set_etag(Get(id).etag());
    request.set_reason(reason.empty() ? "test" : reason);
    return request;
  }

  std::vector<std::string> Trail(const std::string& entity, int64_t id) {
    audit::v1::ListChangesRequest request;
    request.set_entity(entity);
    request.set_entity_id(id);
    request.set_page_size(50);
    audit::v1::ListChangesResponse response;
    grpc::Status status =
        accounts_->ListAccountChanges(Ctx(admin()).get(), request, &response);
    EXPECT_TRUE(status.ok()) << status.error_message();
    std::vector<std::string> actions;
    for (const auto& change : response.changes()) {
      actions.push_back(change.action());
    }
    return actions;
  }

  static testing::MariaDbServer* mariadb_;
  static FakeClock* clock_;
  static RegistryServer* server_;
  static std::string* admin_token_;
  static std::shared_ptr<grpc::Channel>* channel_;
  std::unique_ptr<v1::AccountService::Stub> accounts_;
  std::unique_ptr<v1::RegistryService::Stub> registry_;
  std::string address_;
};

testing::MariaDbServer* AccountServiceTest::mariadb_ = nullptr;
FakeClock* AccountServiceTest::clock_ = nullptr;
RegistryServer* AccountServiceTest::server_ = nullptr;
std::string* AccountServiceTest::admin_token_ = nullptr;
std::shared_ptr<grpc::Channel>* AccountServiceTest::channel_ = nullptr;

TEST_F(AccountServiceTest,
       InvitedPersonSetsPasswordSignsInAndIsKnownByAccount) {
  v1::AccountLinkResponse invited =
      Invite("Kim.Organizer", auth::v1::ORGANIZER);
  EXPECT_EQ(invited.account().login(), "kim.organizer");
  EXPECT_EQ(invited.account().state(), v1::ACCOUNT_INVITED);
  EXPECT_EQ(invited.account().preferred_language(), "ko");
  EXPECT_THAT(invited.account().invited_by(), StartsWith("ADMIN#"));
  EXPECT_THAT(invited.link().token(), StartsWith("smzl_"));
  EXPECT_EQ(invited.link().path(),
            absl::StrCat("/account/password#", invited.link().token()));
  EXPECT_EQ(invited.link().expire_time().seconds(),
            absl::ToUnixSeconds(clock_->Now() + absl::Hours(72)));

  // Invited, not yet able to sign in.
  v1::SignInResponse signed_in;
  EXPECT_EQ(SignIn("kim.organizer", "correct horse 1", &signed_in).error_code(),
            grpc::StatusCode::UNAUTHENTICATED);

  v1::Account active;
  ASSERT_TRUE(
      SetPassword(invited.link().token(), "correct horse 1", &active).ok());
  EXPECT_EQ(active.state(), v1::ACCOUNT_ACTIVE);
  // A link works once.
  EXPECT_EQ(SetPassword(invited.link().token(), "another horse 2").error_code(),
            grpc::StatusCode::UNAUTHENTICATED);

  // Logins are matched without regard to case.
  grpc::Status status = SignIn("KIM.Organizer", "correct horse 1", &signed_in);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_THAT(signed_in.session_id(), StartsWith("smzs_"));
  EXPECT_FALSE(signed_in.second_factor_required());
  EXPECT_EQ(signed_in.account().id(), invited.account().id());
  EXPECT_TRUE(signed_in.account().has_last_sign_in_time());

  Principal me;
  ASSERT_TRUE(WhoAmI(signed_in.session_id(), &me).ok());
  EXPECT_EQ(me.role(), auth::v1::ORGANIZER);
  EXPECT_EQ(me.account_id(), invited.account().id());
  EXPECT_GT(me.session_id(), 0);
  EXPECT_EQ(me.token_id(), 0);

  // One's own account, by id 0; another's is for administrators.
  v1::GetAccountRequest own;
  v1::Account read;
  ASSERT_TRUE(
      accounts_->GetAccount(Ctx(signed_in.session_id()).get(), own, &read)
          .ok());
  EXPECT_EQ(read.login(), "kim.organizer");
  v1::GetAccountRequest other;
  other.set_account_id(invited.account().id() + 1000);
  EXPECT_EQ(
      accounts_->GetAccount(Ctx(signed_in.session_id()).get(), other, &read)
          .error_code(),
      grpc::StatusCode::PERMISSION_DENIED);

  EXPECT_THAT(Trail("account", invited.account().id()),
              ElementsAre("CREATE", "ACCEPT_INVITATION"));
  EXPECT_THAT(Trail("sign_in", invited.account().id()),
              ElementsAre("REFUSED", "SIGN_IN"));
}

TEST_F(AccountServiceTest, InvitationNamesEveryBadFieldAndRefusesDuplicates) {
  v1::InviteAccountRequest request;
  request.set_login("x");
  request.set_email("not an address");
  request.set_preferred_language("fr");
  request.set_role(auth::v1::PARTNER);
  v1::AccountLinkResponse response;
  grpc::Status status =
      accounts_->InviteAccount(Ctx(admin()).get(), request, &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(ViolatedFields(status),
              ElementsAre("login", "email", "display_name",
                          "preferred_language", "partner_id"));

  request = v1::InviteAccountRequest();
  request.set_login("lee.analyst");
  request.set_display_name("이분석");
  request.set_email("Lee@Example.org");
  request.set_role(auth::v1::ANALYST);
  request.set_partner_id(3);
  status = accounts_->InviteAccount(Ctx(admin()).get(), request, &response);
  EXPECT_THAT(ViolatedFields(status), ElementsAre("partner_id"));

  request.set_partner_id(0);
  request.set_request_id("invite-lee-1");
  ASSERT_TRUE(
      accounts_->InviteAccount(Ctx(admin()).get(), request, &response).ok());
  EXPECT_EQ(response.account().email(), "lee@example.org");
  // A retry: the same account, a new link, the first link void.
  v1::AccountLinkResponse retried;
  ASSERT_TRUE(
      accounts_->InviteAccount(Ctx(admin()).get(), request, &retried).ok());
  EXPECT_EQ(retried.account().id(), response.account().id());
  EXPECT_NE(retried.link().token(), response.link().token());
  EXPECT_EQ(
      SetPassword(response.link().token(), "correct horse 1").error_code(),
      grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_TRUE(SetPassword(retried.link().token(), "correct horse 1").ok());
  // Once the password is set, a retry answers the account and no link (a
  // link now would be a reset without its etag, reason and audit entry).
  ASSERT_TRUE(
      accounts_->InviteAccount(Ctx(admin()).get(), request, &retried).ok());
  EXPECT_EQ(retried.account().state(), v1::ACCOUNT_ACTIVE);
  EXPECT_FALSE(retried.has_link());

  // Another request for a login or an e-mail address in use.
  request.set_request_id("");
  status = accounts_->InviteAccount(Ctx(admin()).get(), request, &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::ALREADY_EXISTS);
  EXPECT_THAT(status.error_message(), HasSubstr("login lee.analyst"));
  request.set_login("lee.second");
  request.set_email("LEE@example.org");
  status = accounts_->InviteAccount(Ctx(admin()).get(), request, &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::ALREADY_EXISTS);
  EXPECT_THAT(status.error_message(), HasSubstr("e-mail"));

  // A PARTNER account needs a partner that exists.
  request = v1::InviteAccountRequest();
  request.set_login("clerk.nowhere");
  request.set_display_name("nobody's clerk");
  request.set_role(auth::v1::PARTNER);
  request.set_partner_id(99999);
  EXPECT_EQ(accounts_->InviteAccount(Ctx(admin()).get(), request, &response)
                .error_code(),
            grpc::StatusCode::NOT_FOUND);

  // Only administrators invite; nobody without credentials.
  const std::string organizer = SignedIn("park.organizer", auth::v1::ORGANIZER);
  request.set_role(auth::v1::COUNCIL);
  request.set_partner_id(0);
  EXPECT_EQ(accounts_->InviteAccount(Ctx(organizer).get(), request, &response)
                .error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(
      accounts_->InviteAccount(Ctx().get(), request, &response).error_code(),
      grpc::StatusCode::UNAUTHENTICATED);
  v1::ListAccountsResponse list;
  EXPECT_EQ(
      accounts_->ListAccounts(Ctx().get(), v1::ListAccountsRequest(), &list)
          .error_code(),
      grpc::StatusCode::UNAUTHENTICATED);
}

TEST_F(AccountServiceTest, EveryRefusedSignInGetsTheSameAnswer) {
  SignedIn("choi.council", auth::v1::COUNCIL, "right password 1");
  Invite("invited.only", auth::v1::COUNCIL);
  const std::string disabled_session =
      SignedIn("gone.council", auth::v1::COUNCIL, "right password 1");
  Principal gone;
  ASSERT_TRUE(WhoAmI(disabled_session, &gone).ok());
  v1::Account disabled;
  ASSERT_TRUE(accounts_
                  ->DisableAccount(Ctx(admin()).get(),
                                   Action(gone.account_id()), &disabled)
                  .ok());

  std::vector<std::string> messages;
  for (const auto& [login, password] :
       std::vector<std::pair<std::string, std::string>>{
           {"no.such.person", "right password 1"},
           {"choi.council", "wrong password 1"},
           {"invited.only", "right password 1"},
           {"gone.council", "right password 1"}}) {
    address_ = absl::StrCat("10.1.0.", messages.size() + 1);
    v1::SignInResponse response;
    grpc::Status status = SignIn(login, password, &response);
    EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAUTHENTICATED) << login;
    messages.push_back(status.error_message());
  }
  EXPECT_THAT(messages, Contains(std::string(kSignInRefused)).Times(4));

  // Sizes are checked; the rules of passwords are not (they are for
  // setting one).
  v1::SignInResponse response;
  grpc::Status status =
      SignIn("choi.council", std::string(257, 'x'), &response);
  EXPECT_THAT(ViolatedFields(status), ElementsAre("password"));
  status = SignIn("", "", &response);
  EXPECT_THAT(ViolatedFields(status), ElementsAre("login", "password"));
  // A stale or made-up credential does not stand in the way of signing in.
  v1::SignInRequest request;
  request.set_login("choi.council");
  request.set_password("right password 1");
  EXPECT_TRUE(
      accounts_->SignIn(Ctx("smzs_madeup").get(), request, &response).ok());
}

TEST_F(AccountServiceTest, FailuresSlowDownThenLockTheLoginAndAreAudited) {
  SignedIn("yoon.analyst", auth::v1::ANALYST, "right password 1");
  v1::SignInResponse response;
  // Three failures are free, and a fourth at once is still heard...
  for (int i = 0; i < 4; ++i) {
    EXPECT_EQ(SignIn("yoon.analyst", "wrong", &response).error_code(),
              grpc::StatusCode::UNAUTHENTICATED);
  }
  // ...but the fifth at once waits, whatever the password, and is not
  // charged.
  grpc::Status status = SignIn("yoon.analyst", "right password 1", &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);
  EXPECT_THAT(status.error_message(), HasSubstr("try again in"));
  // From another address too: the login itself is slowed down.
  address_ = "10.2.0.1";
  EXPECT_EQ(SignIn("yoon.analyst", "right password 1", &response).error_code(),
            grpc::StatusCode::RESOURCE_EXHAUSTED);
  for (int i = 4; i < 10; ++i) {
    clock_->Advance(absl::Seconds(31));
    EXPECT_EQ(SignIn("yoon.analyst", "wrong", &response).error_code(),
              grpc::StatusCode::UNAUTHENTICATED);
  }
  clock_->Advance(absl::Seconds(31));
  EXPECT_EQ(SignIn("yoon.analyst", "right password 1", &response).error_code(),
            grpc::StatusCode::RESOURCE_EXHAUSTED);
  clock_->Advance(absl::Minutes(16));
  ASSERT_TRUE(SignIn("yoon.analyst", "right password 1", &response).ok());
  EXPECT_THAT(Trail("sign_in", response.account().id()),
              IsSupersetOf({"SIGN_IN", "REFUSED", "LOCKOUT"}));
}

TEST_F(AccountServiceTest, SessionsEndWhenIdleAtTheirLifetimeAndOnSignOut) {
  const std::string session = SignedIn("han.partnerless", auth::v1::COUNCIL);
  Principal me;
  // Used every 25 minutes, it lives on...
  for (int i = 0; i < 4; ++i) {
    clock_->Advance(absl::Minutes(25));
    ASSERT_TRUE(WhoAmI(session, &me).ok()) << i;
  }
  // ...until 31 minutes pass unused.
  clock_->Advance(absl::Minutes(31));
  EXPECT_EQ(WhoAmI(session, &me).error_code(),
            grpc::StatusCode::UNAUTHENTICATED);

  // However busy, a session ends 12 hours after sign-in.
  v1::SignInResponse fresh;
  ASSERT_TRUE(SignIn("han.partnerless", "correct horse 1", &fresh).ok());
  for (int i = 0; i < 28; ++i) {
    clock_->Advance(absl::Minutes(25));
    ASSERT_TRUE(WhoAmI(fresh.session_id(), &me).ok()) << i;
  }
  clock_->Advance(absl::Minutes(25));
  EXPECT_EQ(WhoAmI(fresh.session_id(), &me).error_code(),
            grpc::StatusCode::UNAUTHENTICATED);

  // Signing out ends that session only; everywhere ends all of them.
  v1::SignInResponse a, b, c;
  ASSERT_TRUE(SignIn("han.partnerless", "correct horse 1", &a).ok());
  ASSERT_TRUE(SignIn("han.partnerless", "correct horse 1", &b).ok());
  ASSERT_TRUE(SignIn("han.partnerless", "correct horse 1", &c).ok());
  google::protobuf::Empty empty;
  ASSERT_TRUE(
      accounts_
          ->SignOut(Ctx(a.session_id()).get(), v1::SignOutRequest(), &empty)
          .ok());
  EXPECT_EQ(WhoAmI(a.session_id(), &me).error_code(),
            grpc::StatusCode::UNAUTHENTICATED);
  ASSERT_TRUE(WhoAmI(b.session_id(), &me).ok());
  ASSERT_TRUE(accounts_
                  ->SignOutEverywhere(Ctx(b.session_id()).get(),
                                      v1::SignOutRequest(), &empty)
                  .ok());
  EXPECT_EQ(WhoAmI(b.session_id(), &me).error_code(),
            grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_EQ(WhoAmI(c.session_id(), &me).error_code(),
            grpc::StatusCode::UNAUTHENTICATED);
  // An API token has no session to end.
  EXPECT_EQ(accounts_->SignOut(Ctx(admin()).get(), v1::SignOutRequest(), &empty)
                .error_code(),
            grpc::StatusCode::FAILED_PRECONDITION);
}

TEST_F(AccountServiceTest, ChangingThePasswordEndsTheOtherSessions) {
  const std::string here =
      SignedIn("seo.organizer", auth::v1::ORGANIZER, "first password 1");
  v1::SignInResponse elsewhere;
  ASSERT_TRUE(SignIn("seo.organizer", "first password 1", &elsewhere).ok());

  v1::ChangePasswordRequest request;
  request.set_current_password("not it at all");
  request.set_new_password("short");
  google::protobuf::Empty empty;
  grpc::Status status =
      accounts_->ChangePassword(Ctx(here).get(), request, &empty);
  EXPECT_THAT(ViolatedFields(status), ElementsAre("new_password"));
  request.set_new_password("second password 2");
  status = accounts_->ChangePassword(Ctx(here).get(), request, &empty);
  EXPECT_THAT(ViolatedFields(status), ElementsAre("current_password"));
  request.set_current_password("first password 1");
  ASSERT_TRUE(accounts_->ChangePassword(Ctx(here).get(), request, &empty).ok());

  Principal me;
  EXPECT_TRUE(WhoAmI(here, &me).ok());
  EXPECT_EQ(WhoAmI(elsewhere.session_id(), &me).error_code(),
            grpc::StatusCode::UNAUTHENTICATED);
  v1::SignInResponse response;
  EXPECT_EQ(SignIn("seo.organizer", "first password 1", &response).error_code(),
            grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_TRUE(SignIn("seo.organizer", "second password 2", &response).ok());
  // API tokens have no password.
  EXPECT_EQ(accounts_->ChangePassword(Ctx(admin()).get(), request, &empty)
                .error_code(),
            grpc::StatusCode::FAILED_PRECONDITION);
}

TEST_F(AccountServiceTest, AdminResetsDisablesEnablesAndChangesRoles) {
  const std::string session = SignedIn("jung.clerk", auth::v1::ORGANIZER);
  Principal me;
  ASSERT_TRUE(WhoAmI(session, &me).ok());
  const int64_t id = me.account_id();

  // Reset: the account's sessions end, and a new link sets a password.
  v1::AccountActionRequest stale = Action(id);
  v1::AccountLinkResponse reset;
  v1::AccountActionRequest bad;
  bad.set_account_id(id);
  grpc::Status status =
      accounts_->ResetPassword(Ctx(admin()).get(), bad, &reset);
  EXPECT_THAT(ViolatedFields(status), ElementsAre("etag", "reason"));
  ASSERT_TRUE(
      accounts_->ResetPassword(Ctx(admin()).get(), Action(id), &reset).ok());
  EXPECT_EQ(WhoAmI(session, &me).error_code(),
            grpc::StatusCode::UNAUTHENTICATED);
  // The old password no longer works: the reset may be for a leaked one.
  v1::SignInResponse old_password;
  EXPECT_EQ(SignIn("jung.clerk", "correct horse 1", &old_password).error_code(),
            grpc::StatusCode::UNAUTHENTICATED);
  ASSERT_TRUE(SetPassword(reset.link().token(), "after reset 123").ok());
  v1::SignInResponse signed_in;
  ASSERT_TRUE(SignIn("jung.clerk", "after reset 123", &signed_in).ok());

  // A stale etag changes nothing.
  v1::Account account;
  EXPECT_EQ(accounts_->DisableAccount(Ctx(admin()).get(), stale, &account)
                .error_code(),
            grpc::StatusCode::ABORTED);
  ASSERT_TRUE(WhoAmI(signed_in.session_id(), &me).ok());

  // Disabling ends the sessions and refuses sign-ins.
  ASSERT_TRUE(
      accounts_->DisableAccount(Ctx(admin()).get(), Action(id), &account).ok());
  EXPECT_EQ(account.state(), v1::ACCOUNT_DISABLED);
  EXPECT_EQ(WhoAmI(signed_in.session_id(), &me).error_code(),
            grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_EQ(SignIn("jung.clerk", "after reset 123", &signed_in).error_code(),
            grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_EQ(accounts_->DisableAccount(Ctx(admin()).get(), Action(id), &account)
                .error_code(),
            grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_EQ(accounts_->ResetPassword(Ctx(admin()).get(), Action(id), &reset)
                .error_code(),
            grpc::StatusCode::FAILED_PRECONDITION);
  ASSERT_TRUE(
      accounts_->EnableAccount(Ctx(admin()).get(), Action(id), &account).ok());
  EXPECT_EQ(account.state(), v1::ACCOUNT_ACTIVE);
  EXPECT_EQ(accounts_->EnableAccount(Ctx(admin()).get(), Action(id), &account)
                .error_code(),
            grpc::StatusCode::FAILED_PRECONDITION);

  // A new role ends the sessions; it holds from the next sign-in.
  ASSERT_TRUE(SignIn("jung.clerk", "after reset 123", &signed_in).ok());
  v1::SetAccountRoleRequest role;
  role.set_account_id(id);
  role.set_etag(Get(id).etag());
  role.set_role(auth::v1::PARTNER);
  role.set_reason("moved to a hospital");
  status = accounts_->SetAccountRole(Ctx(admin()).get(), role, &account);
  EXPECT_THAT(ViolatedFields(status), ElementsAre("partner_id"));
  role.set_role(auth::v1::ANALYST);
  ASSERT_TRUE(
      accounts_->SetAccountRole(Ctx(admin()).get(), role, &account).ok());
  EXPECT_EQ(WhoAmI(signed_in.session_id(), &me).error_code(),
            grpc::StatusCode::UNAUTHENTICATED);
  ASSERT_TRUE(SignIn("jung.clerk", "after reset 123", &signed_in).ok());
  ASSERT_TRUE(WhoAmI(signed_in.session_id(), &me).ok());
  EXPECT_EQ(me.role(), auth::v1::ANALYST);

  EXPECT_THAT(Trail("account", id),
              ElementsAre("CREATE", "ACCEPT_INVITATION", "RESET_PASSWORD",
                          "SET_PASSWORD", "DISABLE", "ENABLE", "SET_ROLE"));
  v1::ListAccountsRequest list;
  list.set_role(auth::v1::ANALYST);
  list.set_state(v1::ACCOUNT_ACTIVE);
  v1::ListAccountsResponse listed;
  ASSERT_TRUE(accounts_->ListAccounts(Ctx(admin()).get(), list, &listed).ok());
  std::vector<std::string> logins;
  for (const v1::Account& a : listed.accounts()) logins.push_back(a.login());
  EXPECT_THAT(logins, Contains("jung.clerk"));
}

TEST_F(AccountServiceTest, AdministratorsEnrolASecondFactorBeforeChanging) {
  const std::string session = SignedIn("kang.admin", auth::v1::ADMIN);
  Principal me;
  ASSERT_TRUE(WhoAmI(session, &me).ok());
  EXPECT_TRUE(me.second_factor_required());

  // Signing in again with the session at hand works (open to anyone).
  v1::SignInRequest again;
  again.set_login("kang.admin");
  again.set_password("correct horse 1");
  v1::SignInResponse again_response;
  EXPECT_TRUE(
      accounts_->SignIn(Ctx(session).get(), again, &again_response).ok());
  // Reads are open; changes are not.
  v1::ListPartnersResponse partners;
  EXPECT_TRUE(registry_
                  ->ListPartners(Ctx(session).get(), v1::ListPartnersRequest(),
                                 &partners)
                  .ok());
  v1::AccountLinkResponse invited;
  v1::InviteAccountRequest invite;
  invite.set_login("via.kang");
  invite.set_display_name("via kang");
  invite.set_role(auth::v1::COUNCIL);
  grpc::Status status =
      accounts_->InviteAccount(Ctx(session).get(), invite, &invited);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_THAT(status.error_message(), HasSubstr("second factor"));

  v1::EnrolSecondFactorResponse enrolment;
  ASSERT_TRUE(accounts_
                  ->EnrolSecondFactor(Ctx(session).get(),
                                      v1::EnrolSecondFactorRequest(),
                                      &enrolment)
                  .ok());
  EXPECT_THAT(enrolment.otpauth_uri(),
              StartsWith("otpauth://totp/smz:kang.admin?secret="));
  const std::string secret = DecodeBase32(enrolment.secret_base32());
  ASSERT_EQ(secret.size(), 20u);
  v1::ConfirmSecondFactorRequest confirm;
  confirm.set_code("12345");
  v1::ConfirmSecondFactorResponse confirmed;
  status =
      accounts_->ConfirmSecondFactor(Ctx(session).get(), confirm, &confirmed);
  EXPECT_THAT(ViolatedFields(status), ElementsAre("code"));
  confirm.set_code(TotpCode(secret, clock_->Now() + absl::Minutes(5)));
  status =
      accounts_->ConfirmSecondFactor(Ctx(session).get(), confirm, &confirmed);
  EXPECT_THAT(ViolatedFields(status), ElementsAre("code"));
  confirm.set_code(TotpCode(secret, clock_->Now()));
  ASSERT_TRUE(
      accounts_->ConfirmSecondFactor(Ctx(session).get(), confirm, &confirmed)
          .ok());
  ASSERT_EQ(confirmed.recovery_codes_size(), kRecoveryCodeCount);
  EXPECT_TRUE(confirmed.account().second_factor_enrolled());
  // In force at once for this session.
  status = accounts_->InviteAccount(Ctx(session).get(), invite, &invited);
  EXPECT_TRUE(status.ok()) << status.error_message();
  EXPECT_THAT(invited.account().invited_by(), HasSubstr("ADMIN@account:"));

  // From now on a sign-in needs a current code, each code once...
  clock_->Advance(absl::Seconds(60));
  v1::SignInResponse signed_in;
  EXPECT_EQ(SignIn("kang.admin", "correct horse 1", &signed_in).error_code(),
            grpc::StatusCode::UNAUTHENTICATED);
  const std::string code = TotpCode(secret, clock_->Now());
  ASSERT_TRUE(SignIn("kang.admin", "correct horse 1", &signed_in, code).ok());
  EXPECT_FALSE(signed_in.second_factor_required());
  EXPECT_EQ(
      SignIn("kang.admin", "correct horse 1", &signed_in, code).error_code(),
      grpc::StatusCode::UNAUTHENTICATED);
  // ...or a recovery code, typed loosely, each once.
  std::string typed = confirmed.recovery_codes(0);
  for (char& c : typed) c = static_cast<char>(toupper(c));
  ASSERT_TRUE(SignIn("kang.admin", "correct horse 1", &signed_in,
                     absl::StrCat(" ", typed, " "))
                  .ok());
  EXPECT_EQ(SignIn("kang.admin", "correct horse 1", &signed_in,
                   confirmed.recovery_codes(0))
                .error_code(),
            grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_THAT(Trail("account", me.account_id()),
              Contains("ENROL_SECOND_FACTOR"));

  // Replacing the factor in force takes a current code (a stolen session
  // alone cannot), and then ends the account's other sessions.
  v1::SignInResponse other;
  clock_->Advance(absl::Seconds(60));
  ASSERT_TRUE(SignIn("kang.admin", "correct horse 1", &other,
                     TotpCode(secret, clock_->Now()))
                  .ok());
  v1::EnrolSecondFactorRequest re_enrol;
  grpc::Status refused = accounts_->EnrolSecondFactor(
      Ctx(signed_in.session_id()).get(), re_enrol, &enrolment);
  EXPECT_THAT(ViolatedFields(refused), ElementsAre("current_code"));
  re_enrol.set_current_code(confirmed.recovery_codes(1));
  ASSERT_TRUE(accounts_
                  ->EnrolSecondFactor(Ctx(signed_in.session_id()).get(),
                                      re_enrol, &enrolment)
                  .ok());
  const std::string new_secret = DecodeBase32(enrolment.secret_base32());
  confirm.set_code(TotpCode(new_secret, clock_->Now()));
  ASSERT_TRUE(accounts_
                  ->ConfirmSecondFactor(Ctx(signed_in.session_id()).get(),
                                        confirm, &confirmed)
                  .ok());
  EXPECT_TRUE(WhoAmI(signed_in.session_id(), &me).ok());
  EXPECT_EQ(WhoAmI(other.session_id(), &me).error_code(),
            grpc::StatusCode::UNAUTHENTICATED);

  // Administrators cannot disable themselves or change their own role.
  v1::Account account;
  EXPECT_EQ(accounts_
                ->DisableAccount(Ctx(signed_in.session_id()).get(),
                                 Action(me.account_id()), &account)
                .error_code(),
            grpc::StatusCode::FAILED_PRECONDITION);
}

TEST_F(AccountServiceTest, TheLastActiveAdminAccountStays) {
  // Every active ADMIN account but one disabled by the token...
  v1::ListAccountsRequest list;
  list.set_role(auth::v1::ADMIN);
  list.set_state(v1::ACCOUNT_ACTIVE);
  v1::ListAccountsResponse admins;
  ASSERT_TRUE(accounts_->ListAccounts(Ctx(admin()).get(), list, &admins).ok());
  if (admins.accounts_size() == 0) {
    SignedIn("last.admin", auth::v1::ADMIN);
    ASSERT_TRUE(
        accounts_->ListAccounts(Ctx(admin()).get(), list, &admins).ok());
  }
  ASSERT_GE(admins.accounts_size(), 1);
  v1::Account account;
  for (int i = 1; i < admins.accounts_size(); ++i) {
    ASSERT_TRUE(accounts_
                    ->DisableAccount(Ctx(admin()).get(),
                                     Action(admins.accounts(i).id()), &account)
                    .ok());
  }
  // ...and the last one is kept, as it is.
  const int64_t last = admins.accounts(0).id();
  grpc::Status status =
      accounts_->DisableAccount(Ctx(admin()).get(), Action(last), &account);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_THAT(status.error_message(), HasSubstr("no active ADMIN account"));
  EXPECT_EQ(Get(last).state(), v1::ACCOUNT_ACTIVE);
}

// Only logins as stored are looked up: a name the database's collation
// would fold onto one (case beyond ASCII, accents, full-width letters) is
// no way past that login's throttle.
TEST_F(AccountServiceTest, NamesThatAreNoLoginNameNoAccount) {
  SignedIn("min.council", auth::v1::COUNCIL, "right password 1");
  v1::SignInResponse response;
  for (const std::string& typed :
       {std::string("m\xC3\xADn.council"),      // í
        std::string("\xEF\xBD\x8Din.council"),  // full-width m
        std::string("min.council ")}) {
    EXPECT_EQ(SignIn(typed, "right password 1", &response).error_code(),
              grpc::StatusCode::UNAUTHENTICATED)
        << typed;
  }
  EXPECT_TRUE(SignIn("MIN.Council", "right password 1", &response).ok());
}

// A revoked partner's people lose access with its tokens.
TEST_F(AccountServiceTest, RevokingAPartnerEndsItsPeoplesAccess) {
  v1::CreatePartnerRequest create;
  *create.mutable_partner() = testing::TestHospital(
      "취소병원", v1::YEONGDEUNGPO, v1::SPECIALIZED_OPERATOR);
  v1::Partner partner;
  ASSERT_TRUE(
      registry_->CreatePartner(Ctx(admin()).get(), create, &partner).ok());
  v1::DesignationRequest designate;
  designate.set_id(partner.id());
  designate.set_effective_on("2026-12-01");
  designate.set_term_ends_on("2029-11-30");
  ASSERT_TRUE(
      registry_->DesignatePartner(Ctx(admin()).get(), designate, &partner)
          .ok());
  v1::AccountLinkResponse invited =
      Invite("clerk.revoked", auth::v1::PARTNER, partner.id());
  ASSERT_TRUE(SetPassword(invited.link().token(), "clerk password 1").ok());
  v1::SignInResponse signed_in;
  ASSERT_TRUE(SignIn("clerk.revoked", "clerk password 1", &signed_in).ok());
  Principal me;
  ASSERT_TRUE(WhoAmI(signed_in.session_id(), &me).ok());
  EXPECT_EQ(me.partner_id(), partner.id());

  v1::DesignationRequest revoke;
  revoke.set_id(partner.id());
  revoke.set_effective_on("2026-12-03");
  revoke.set_reason("test");
  ASSERT_TRUE(
      registry_->RevokePartner(Ctx(admin()).get(), revoke, &partner).ok());
  clock_->Advance(absl::Seconds(11));  // past the credential cache
  EXPECT_EQ(WhoAmI(signed_in.session_id(), &me).error_code(),
            grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_EQ(
      SignIn("clerk.revoked", "clerk password 1", &signed_in).error_code(),
      grpc::StatusCode::UNAUTHENTICATED);
}

// A disabled account's pending links are void, and stay so when enabled.
TEST_F(AccountServiceTest, DisablingVoidsPendingLinks) {
  v1::AccountLinkResponse invited = Invite("pending.one", auth::v1::COUNCIL);
  v1::Account account;
  ASSERT_TRUE(accounts_
                  ->DisableAccount(Ctx(admin()).get(),
                                   Action(invited.account().id()), &account)
                  .ok());
  EXPECT_EQ(
      SetPassword(invited.link().token(), "pending password").error_code(),
      grpc::StatusCode::UNAUTHENTICATED);
  ASSERT_TRUE(accounts_
                  ->EnableAccount(Ctx(admin()).get(),
                                  Action(invited.account().id()), &account)
                  .ok());
  EXPECT_EQ(account.state(), v1::ACCOUNT_INVITED);
  EXPECT_EQ(
      SetPassword(invited.link().token(), "pending password").error_code(),
      grpc::StatusCode::UNAUTHENTICATED);
}

// Sign-ins at once from one address (an office) share its throttle row:
// none may fail for the others (a deadlock once made some ABORTED).
TEST_F(AccountServiceTest, SignInsAtOnceFromOneAddressAllSucceed) {
  constexpr int kPeople = 16;
  for (int i = 0; i < kPeople; ++i) {
    v1::AccountLinkResponse invited =
        Invite(absl::StrCat("office.", i), auth::v1::ANALYST);
    ASSERT_TRUE(SetPassword(invited.link().token(), "office password").ok());
  }
  for (int round = 0; round < 3; ++round) {
    std::vector<grpc::Status> statuses(kPeople);
    std::vector<std::thread> threads;
    for (int i = 0; i < kPeople; ++i) {
      threads.emplace_back([&, i] {
        auto stub = v1::AccountService::NewStub(*channel_);
        v1::SignInRequest request;
        request.set_login(absl::StrCat("office.", i));
        request.set_password("office password");
        v1::SignInResponse response;
        statuses[i] = stub->SignIn(Ctx().get(), request, &response);
      });
    }
    for (std::thread& t : threads) t.join();
    for (int i = 0; i < kPeople; ++i) {
      EXPECT_TRUE(statuses[i].ok()) << i << ": " << statuses[i].error_message();
    }
  }
}

// Invitations sent at once (an office's staff onboarded by a script): each
// succeeds without a single InnoDB deadlock, even one a retry would hide.
TEST_F(AccountServiceTest, InvitationsAtOnceNeverDeadlock) {
  const absl::StatusOr<int64_t> deadlocks_before = mariadb_->InnodbDeadlocks();
  ASSERT_TRUE(deadlocks_before.ok()) << deadlocks_before.status();
  std::vector<std::thread> threads;
  for (int desk = 0; desk < 8; ++desk) {
    threads.emplace_back([&, desk] {
      for (int i = 0; i < 10; ++i) {
        Invite(absl::StrCat("onboard.", desk, ".", i), auth::v1::ANALYST,
               /*partner_id=*/0, absl::StrCat("onboard-", desk, "-", i));
      }
    });
  }
  for (std::thread& t : threads) t.join();
  const absl::StatusOr<int64_t> deadlocks_after = mariadb_->InnodbDeadlocks();
  ASSERT_TRUE(deadlocks_after.ok()) << deadlocks_after.status();
  EXPECT_EQ(*deadlocks_after, *deadlocks_before)
      << mariadb_->InnodbStatus().value_or("(no InnoDB status)");
}

TEST_F(AccountServiceTest, BreakGlassMakesAnAdminAccountWithALink) {
  absl::StatusOr<v1::AccountLinkResponse> link =
      server_->accounts().BreakGlassAdminAccount("Rescue", "root@host");
  ASSERT_TRUE(link.ok()) << link.status();
  EXPECT_EQ(link->account().role(), auth::v1::ADMIN);
  EXPECT_EQ(link->account().invited_by(), "root@host");
  ASSERT_TRUE(SetPassword(link->link().token(), "rescue password 1").ok());
  v1::SignInResponse signed_in;
  ASSERT_TRUE(SignIn("rescue", "rescue password 1", &signed_in).ok());
  EXPECT_TRUE(signed_in.second_factor_required());

  // Again for an existing account: re-enabled, made ADMIN, a new link, its
  // sessions ended.
  const std::string council = SignedIn("was.council", auth::v1::COUNCIL);
  link = server_->accounts().BreakGlassAdminAccount("was.council", "root@host");
  ASSERT_TRUE(link.ok()) << link.status();
  EXPECT_EQ(link->account().role(), auth::v1::ADMIN);
  Principal me;
  EXPECT_EQ(WhoAmI(council, &me).error_code(),
            grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_THAT(Trail("account", link->account().id()), Contains("BREAK_GLASS"));
  // Its old password no longer works; the new one does, and as an ADMIN
  // without a second factor (lost ones are dropped) it enrols anew.
  v1::SignInResponse signed_in_again;
  EXPECT_EQ(
      SignIn("was.council", "correct horse 1", &signed_in_again).error_code(),
      grpc::StatusCode::UNAUTHENTICATED);
  ASSERT_TRUE(SetPassword(link->link().token(), "glass password 1").ok());
  ASSERT_TRUE(SignIn("was.council", "glass password 1", &signed_in_again).ok());
  EXPECT_TRUE(signed_in_again.second_factor_required());
  EXPECT_EQ(server_->accounts()
                .BreakGlassAdminAccount("no", "root@host")
                .status()
                .code(),
            absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace smz::registry
