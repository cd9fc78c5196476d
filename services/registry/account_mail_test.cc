// Account links by mail, end to end: a private MariaDB, the registry with
// its mail worker and a real SMTP server (tests/tools/smtp_capture.py). An
// invitation with an address brings the person the link (in their
// language) in the same transaction that stores it, and the mailed link
// sets the password; a reset mails a new one and voids the first; an
// account without an address gets none (the link is still answered to the
// administrator); the outbox keeps no link once the
// mail is sent (outbox_test); the district sees the registry's mail. The
// mail is in build/test-artifacts/account_mail_test/.
#include <cctype>
#include <memory>
#include <string>

#include "absl/strings/str_cat.h"
#include "common/clock.h"
#include "common/server/rpc_runner.h"
#include "gmock/gmock.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/security/credentials.h"
#include "gtest/gtest.h"
#include "services/registry/registry_server.h"
#include "smz/mail/v1/mail.pb.h"
#include "smz/registry/v1/accounts.grpc.pb.h"
#include "smz/registry/v1/registry.grpc.pb.h"
#include "tests/harness/local_stack.h"
#include "tests/harness/mail_capture.h"
#include "tests/harness/mariadb_server.h"

namespace smz::registry {
namespace {

using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::SizeIs;

const std::string& Field(const google::protobuf::Struct& mail,
                         const std::string& name) {
  return mail.fields().at(name).string_value();
}

// The token after "#" in the first link of a mail's text.
std::string TokenIn(const std::string& text) {
  const size_t at = text.find("/account/password#");
  if (at == std::string::npos) return "";
  const size_t start = at + 18;
  size_t end = start;
  while (end < text.size() &&
         !std::isspace(static_cast<unsigned char>(text[end]))) {
    ++end;
  }
  return text.substr(start, end - start);
}

std::unique_ptr<grpc::ClientContext> As(const std::string& token) {
  auto context = std::make_unique<grpc::ClientContext>();
  if (!token.empty()) {
    context->AddMetadata("authorization", absl::StrCat("Bearer ", token));
  }
  context->AddMetadata(std::string(kClientAddressMetadata), "10.9.8.7");
  return context;
}

// Long by design: one invitation and one reset, from the mail's arrival to
// the password set with the link it carried.
TEST(AccountMailTest, TheLinkArrivesByMailAndSetsThePassword) {
  FakeClock clock(absl::FromCivil(absl::CivilSecond(2026, 12, 4, 9, 0, 0),
                                  SeoulTimeZone()));
  auto capture = testing::MailCapture::Start(
      absl::StrCat(SMZ_TEST_ARTIFACT_DIR, "/account_mail_test"));
  ASSERT_TRUE(capture.ok()) << capture.status();
  auto mariadb = testing::MariaDbServer::Start();
  ASSERT_TRUE(mariadb.ok()) << mariadb.status();
  auto database = (*mariadb)->CreateServiceDatabase("smz_registry");
  ASSERT_TRUE(database.ok()) << database.status();
  RegistryServerOptions options;
  options.database = *database;
  options.server.listen = "127.0.0.1:0";
  options.clock = &clock;
  options.password_cost = PasswordCost{1, size_t{64} << 10};
  options.smtp = (*capture)->SmtpOptions();
  options.mail_poll = absl::Milliseconds(50);
  options.public_url = "https://smz.example.org";
  auto server = RegistryServer::Start(options);
  ASSERT_TRUE(server.ok()) << server.status();
  std::string admin;
  ASSERT_TRUE((*server)
                  ->registry()
                  .EnsureBootstrapAdminToken([&](const std::string& token) {
                    admin = token;
                    return absl::OkStatus();
                  })
                  .ok());
  auto channel =
      grpc::CreateChannel(absl::StrCat("127.0.0.1:", (*server)->port()),
                          grpc::InsecureChannelCredentials());
  auto accounts = v1::AccountService::NewStub(channel);
  auto registry = v1::RegistryService::NewStub(channel);

  // Invited with an address, in Korean.
  v1::InviteAccountRequest invite;
  invite.set_login("analyst.kim");
  invite.set_email("kim@analysis.example");
  invite.set_display_name("김분석");
  invite.set_role(auth::v1::ANALYST);
  v1::AccountLinkResponse invited;
  grpc::Status s = accounts->InviteAccount(As(admin).get(), invite, &invited);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_TRUE(invited.mailed());
  auto mail = (*capture)->WaitForMailTo("kim@analysis.example", 1);
  ASSERT_THAT(mail, SizeIs(1));
  EXPECT_EQ(Field(mail[0], "subject"),
            "영등포 스마트메디컬특구 계정이 만들어졌습니다");
  EXPECT_THAT(Field(mail[0], "text"), HasSubstr("김분석님, 안녕하세요."));
  EXPECT_THAT(Field(mail[0], "text"),
              HasSubstr(absl::StrCat("https://smz.example.org",
                                     invited.link().path())));
  const std::string first_token = TokenIn(Field(mail[0], "text"));
  EXPECT_EQ(first_token, invited.link().token());

  // An administrator resets it before it was used: a new mail, in English
  // now, and the first link stops working.
  v1::GetAccountRequest get;
  get.set_account_id(invited.account().id());
  v1::Account account;
  ASSERT_TRUE(accounts->GetAccount(As(admin).get(), get, &account).ok());
  v1::AccountActionRequest reset;
  reset.set_account_id(account.id());
  reset.set_etag(account.etag());
  reset.set_reason("the invitation went astray");
  v1::AccountLinkResponse again;
  s = accounts->ResetPassword(As(admin).get(), reset, &again);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_TRUE(again.mailed());
  mail = (*capture)->WaitForMailTo("kim@analysis.example", 2);
  ASSERT_THAT(mail, SizeIs(2));
  EXPECT_EQ(Field(mail[1], "subject"),
            "영등포 스마트메디컬특구 비밀번호 재설정");
  const std::string second_token = TokenIn(Field(mail[1], "text"));
  ASSERT_FALSE(second_token.empty());
  EXPECT_NE(second_token, first_token);

  v1::SetPasswordWithLinkRequest set;
  set.set_token(first_token);
  set.set_new_password("a long enough passphrase 1");
  v1::Account done;
  s = accounts->SetPasswordWithLink(As("").get(), set, &done);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::UNAUTHENTICATED);
  set.set_token(second_token);
  s = accounts->SetPasswordWithLink(As("").get(), set, &done);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(done.state(), v1::ACCOUNT_ACTIVE);

  // English, and one without an address: no mail, said so.
  invite.set_login("council.lee");
  invite.set_email("lee@council.example");
  invite.set_display_name("Councillor Lee");
  invite.set_preferred_language("en");
  invite.set_role(auth::v1::COUNCIL);
  s = accounts->InviteAccount(As(admin).get(), invite, &invited);
  ASSERT_TRUE(s.ok()) << s.error_message();
  mail = (*capture)->WaitForMailTo("lee@council.example", 1);
  ASSERT_THAT(mail, SizeIs(1));
  EXPECT_EQ(Field(mail[0], "subject"),
            "Your account in the Yeongdeungpo Smart Medical Zone");
  EXPECT_THAT(Field(mail[0], "text"), HasSubstr("Dear Councillor Lee,"));
  invite.set_login("organizer.park");
  invite.clear_email();
  invite.set_role(auth::v1::ORGANIZER);
  s = accounts->InviteAccount(As(admin).get(), invite, &invited);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_FALSE(invited.mailed());
  EXPECT_FALSE(invited.link().token().empty());  // for the administrator

  // The district's view: three mails, all sent.
  mail::v1::ListMailRequest list;
  mail::v1::ListMailResponse listed;
  const absl::Time deadline = absl::Now() + absl::Seconds(10);
  do {
    s = registry->ListRegistryMail(As(admin).get(), list, &listed);
    ASSERT_TRUE(s.ok()) << s.error_message();
    if (listed.sent_count() == 3) break;
    absl::SleepFor(absl::Milliseconds(50));
  } while (absl::Now() < deadline);
  EXPECT_EQ(listed.sent_count(), 3);
  EXPECT_EQ(listed.mail(0).topic(), "account.invited");
  EXPECT_EQ(listed.mail(1).topic(), "account.reset");
  EXPECT_THAT((*capture)->Duplicates(), IsEmpty());
  s = registry->ListRegistryMail(As("").get(), list, &listed);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::UNAUTHENTICATED);
}

// The district's weekly digest of what runs out: from Monday 09:00, once a
// week, to the district's addresses, listing a designation that ends in
// 58 days.
TEST(AccountMailTest, TheDistrictHearsWeeklyOfTermsRunningOut) {
  // Friday 2026-12-04, 09:00 in Seoul.
  FakeClock clock(absl::FromCivil(absl::CivilSecond(2026, 12, 4, 9, 0, 0),
                                  SeoulTimeZone()));
  auto capture = testing::MailCapture::Start(
      absl::StrCat(SMZ_TEST_ARTIFACT_DIR, "/expiry_digest_test"));
  ASSERT_TRUE(capture.ok()) << capture.status();
  auto mariadb = testing::MariaDbServer::Start();
  ASSERT_TRUE(mariadb.ok()) << mariadb.status();
  auto database = (*mariadb)->CreateServiceDatabase("smz_registry");
  ASSERT_TRUE(database.ok()) << database.status();
  RegistryServerOptions options;
  options.database = *database;
  options.server.listen = "127.0.0.1:0";
  options.clock = &clock;
  options.password_cost = PasswordCost{1, size_t{64} << 10};
  options.smtp = (*capture)->SmtpOptions();
  options.mail_poll = absl::Milliseconds(50);
  options.public_url = "https://smz.example.org";
  options.district_mail = {"partners@ydp.example", "bad address"};
  // An address mail cannot carry is refused at start.
  EXPECT_EQ(RegistryServer::Start(options).status().code(),
            absl::StatusCode::kInvalidArgument);
  options.district_mail = {"partners@ydp.example"};
  auto server = RegistryServer::Start(options);
  ASSERT_TRUE(server.ok()) << server.status();
  std::string admin;
  ASSERT_TRUE((*server)
                  ->registry()
                  .EnsureBootstrapAdminToken([&](const std::string& token) {
                    admin = token;
                    return absl::OkStatus();
                  })
                  .ok());
  auto registry = v1::RegistryService::NewStub(
      grpc::CreateChannel(absl::StrCat("127.0.0.1:", (*server)->port()),
                          grpc::InsecureChannelCredentials()));
  v1::CreatePartnerRequest create;
  *create.mutable_partner() = testing::TestHospital("여의도병원", v1::YEOUIDO,
                                                    v1::SPECIALIZED_OPERATOR);
  v1::Partner created;
  grpc::Status s = registry->CreatePartner(As(admin).get(), create, &created);
  ASSERT_TRUE(s.ok()) << s.error_message();
  v1::DesignationRequest designate;
  designate.set_id(created.id());
  designate.set_effective_on("2025-02-01");
  designate.set_term_ends_on("2027-01-31");
  s = registry->DesignatePartner(As(admin).get(), designate, &created);
  ASSERT_TRUE(s.ok()) << s.error_message();

  clock.Advance(absl::Hours(1));  // the next hourly sweep
  auto digest = (*capture)->WaitForMailTo("partners@ydp.example", 1);
  ASSERT_THAT(digest, SizeIs(1));
  EXPECT_EQ(Field(digest[0], "subject"),
            "[2026-11-30 주] 90일 안에 끝나는 지정·등록 1건");
  EXPECT_THAT(Field(digest[0], "text"),
              HasSubstr("여의도병원 — 지정 기간 끝 2027-01-31 · D-58"));
  EXPECT_THAT(Field(digest[0], "text"),
              HasSubstr("https://smz.example.org/admin/partners"));
  // Later that week: still one. Next Monday before 09:00: still one; after
  // it, the next week's.
  clock.Advance(absl::Hours(30));
  absl::SleepFor(absl::Milliseconds(400));
  clock.Set(absl::FromCivil(absl::CivilSecond(2026, 12, 7, 8, 0, 0),
                            SeoulTimeZone()));
  absl::SleepFor(absl::Milliseconds(400));
  EXPECT_THAT((*capture)->Received(), SizeIs(1));
  clock.Set(absl::FromCivil(absl::CivilSecond(2026, 12, 7, 9, 30, 0),
                            SeoulTimeZone()));
  digest = (*capture)->WaitForMailTo("partners@ydp.example", 2);
  ASSERT_THAT(digest, SizeIs(2));
  EXPECT_THAT(Field(digest[1], "subject"), HasSubstr("[2026-12-07 주]"));
  EXPECT_THAT(Field(digest[1], "text"), HasSubstr("D-55"));
}

}  // namespace
}  // namespace smz::registry
