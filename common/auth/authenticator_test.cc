#include "common/auth/authenticator.h"

#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "common/auth/token.h"
#include "gtest/gtest.h"

namespace smz {
namespace {

// An in-memory token table that counts how often it is asked.
class TableLookup : public PrincipalLookup {
 public:
  absl::StatusOr<std::optional<Principal>> FindByToken(
      absl::string_view token, absl::string_view hash) override {
    ++lookups;
    if (!available) return absl::UnavailableError("store down");
    auto it = principals.find(hash);
    if (it == principals.end()) return std::nullopt;
    return it->second;
  }
  absl::flat_hash_map<std::string, Principal> principals;
  bool available = true;
  int lookups = 0;
};

class AuthenticatorTest : public ::testing::Test {
 protected:
  AuthenticatorTest() : clock_(absl::FromUnixSeconds(1700000000)) {
    Principal admin;
    admin.set_token_id(1);
    admin.set_role(auth::v1::ADMIN);
    lookup_.principals[HashToken("smz_admin")] = admin;
  }
  FakeClock clock_;
  TableLookup lookup_;
};

TEST_F(AuthenticatorTest, AcceptsBearerTokenAndCachesBriefly) {
  Authenticator auth(&lookup_, &clock_, absl::Seconds(10));
  absl::StatusOr<Principal> who = auth.Authenticate("Bearer smz_admin");
  ASSERT_TRUE(who.ok()) << who.status();
  EXPECT_EQ(who->role(), auth::v1::ADMIN);
  ASSERT_TRUE(auth.Authenticate("bearer  smz_admin ").ok());
  EXPECT_EQ(lookup_.lookups, 1);
  clock_.Advance(absl::Seconds(11));
  ASSERT_TRUE(auth.Authenticate("Bearer smz_admin").ok());
  EXPECT_EQ(lookup_.lookups, 2);
  auth.InvalidateCache();
  ASSERT_TRUE(auth.Authenticate("Bearer smz_admin").ok());
  EXPECT_EQ(lookup_.lookups, 3);
}

TEST_F(AuthenticatorTest, RejectsMissingMalformedAndUnknownTokens) {
  Authenticator auth(&lookup_, &clock_);
  EXPECT_EQ(auth.Authenticate(std::nullopt).status().code(),
            absl::StatusCode::kUnauthenticated);
  EXPECT_EQ(auth.Authenticate("Basic dXNlcjpwdw==").status().code(),
            absl::StatusCode::kUnauthenticated);
  EXPECT_EQ(auth.Authenticate("Bearer ").status().code(),
            absl::StatusCode::kUnauthenticated);
  EXPECT_EQ(auth.Authenticate("Bearer smz_unknown").status().code(),
            absl::StatusCode::kUnauthenticated);
  const int asked = lookup_.lookups;
  EXPECT_EQ(auth.Authenticate("Bearer smz_\x01bad token").status().code(),
            absl::StatusCode::kUnauthenticated);
  EXPECT_EQ(lookup_.lookups, asked) << "malformed tokens are never looked up";
}

// The callback path's form: what the cache knows, never a lookup.
TEST_F(AuthenticatorTest, FromCacheAnswersOnlyWhatItKnows) {
  Authenticator auth(&lookup_, &clock_, absl::Seconds(10));
  // Missing and malformed values are refused without any cache.
  auto missing = auth.AuthenticateFromCache(std::nullopt);
  ASSERT_TRUE(missing.has_value());
  EXPECT_EQ(missing->status().code(), absl::StatusCode::kUnauthenticated);
  auto malformed = auth.AuthenticateFromCache("Basic dXNlcjpwdw==");
  ASSERT_TRUE(malformed.has_value());
  EXPECT_EQ(malformed->status().code(), absl::StatusCode::kUnauthenticated);
  // Not yet looked up: only Authenticate can tell.
  EXPECT_FALSE(auth.AuthenticateFromCache("Bearer smz_admin").has_value());
  EXPECT_FALSE(auth.AuthenticateFromCache("Bearer smz_unknown").has_value());
  EXPECT_EQ(lookup_.lookups, 0);
  ASSERT_TRUE(auth.Authenticate("Bearer smz_admin").ok());
  ASSERT_FALSE(auth.Authenticate("Bearer smz_unknown").ok());
  auto known = auth.AuthenticateFromCache("Bearer smz_admin");
  ASSERT_TRUE(known.has_value());
  ASSERT_TRUE(known->ok()) << known->status();
  EXPECT_EQ((*known)->role(), auth::v1::ADMIN);
  auto unknown = auth.AuthenticateFromCache("Bearer smz_unknown");
  ASSERT_TRUE(unknown.has_value());
  EXPECT_EQ(unknown->status().code(), absl::StatusCode::kUnauthenticated);
  EXPECT_EQ(lookup_.lookups, 2);
  // The cache period ends (a revocation takes effect): ask again.
  clock_.Advance(absl::Seconds(11));
  EXPECT_FALSE(auth.AuthenticateFromCache("Bearer smz_admin").has_value());
  ASSERT_TRUE(auth.Authenticate("Bearer smz_admin").ok());
  auth.InvalidateCache();
  EXPECT_FALSE(auth.AuthenticateFromCache("Bearer smz_admin").has_value());
}

TEST_F(AuthenticatorTest, StoreDownIsUnavailableNotUnauthenticated) {
  lookup_.available = false;
  Authenticator auth(&lookup_, &clock_);
  EXPECT_EQ(auth.Authenticate("Bearer smz_admin").status().code(),
            absl::StatusCode::kUnavailable);
}

TEST_F(AuthenticatorTest, UnknownTokensAreRememberedBriefly) {
  Authenticator auth(&lookup_, &clock_, absl::Seconds(10));
  for (int i = 0; i < 100; ++i) {
    EXPECT_EQ(auth.Authenticate("Bearer smz_made_up").status().code(),
              absl::StatusCode::kUnauthenticated);
  }
  EXPECT_EQ(lookup_.lookups, 1) << "a repeated unknown token is asked once";
  clock_.Advance(absl::Seconds(11));
  EXPECT_FALSE(auth.Authenticate("Bearer smz_made_up").ok());
  EXPECT_EQ(lookup_.lookups, 2);
  // A store outage is not remembered as "unknown".
  lookup_.available = false;
  EXPECT_EQ(auth.Authenticate("Bearer smz_other").status().code(),
            absl::StatusCode::kUnavailable);
  lookup_.available = true;
  EXPECT_EQ(auth.Authenticate("Bearer smz_other").status().code(),
            absl::StatusCode::kUnauthenticated);
}

TEST(BearerTest, AcceptsToken68AndRefusesEverythingElse) {
  EXPECT_EQ(*ParseBearerAuthorization("Bearer smz_abc-DEF.1~+/=="),
            "smz_abc-DEF.1~+/==");
  EXPECT_EQ(*ParseBearerAuthorization("bearer   smz_a "), "smz_a");
  const std::string huge(1 << 20, 'a');
  for (const std::string& bad :
       {std::string(""), std::string("Bearer"), std::string("Bearer "),
        std::string("Bearersmz_a"), std::string("Basic dXNlcjpwdw=="),
        std::string("Bearer smz_\xFF"), std::string("Bearer smz_a\x01"),
        std::string("Bearer smz_a b"), std::string("Bearer =abc"),
        std::string("Bearer a=b"), std::string("Bearer smz_\xED\x95\x9C"),
        absl::StrCat("Bearer ", std::string(257, 'a')),
        absl::StrCat("Bearer ", huge), huge}) {
    absl::StatusOr<absl::string_view> token = ParseBearerAuthorization(bad);
    EXPECT_EQ(token.status().code(), absl::StatusCode::kUnauthenticated)
        << bad.substr(0, 40);
  }
}

TEST(AuthorizeTest, RolesAndPartnerScope) {
  Principal partner;
  partner.set_role(auth::v1::PARTNER);
  partner.set_partner_id(7);
  EXPECT_TRUE(Authorize(partner, RoleSet::Everyone()).ok());
  EXPECT_EQ(Authorize(partner, RoleSet::Staff()).code(),
            absl::StatusCode::kPermissionDenied);
  EXPECT_TRUE(AuthorizePartnerScope(partner, 7).ok());
  EXPECT_EQ(AuthorizePartnerScope(partner, 8).code(),
            absl::StatusCode::kPermissionDenied);
  Principal council;
  council.set_role(auth::v1::COUNCIL);
  EXPECT_EQ(Authorize(council, RoleSet::AdminOnly()).code(),
            absl::StatusCode::kPermissionDenied);
  EXPECT_TRUE(AuthorizePartnerScope(council, 8).ok());
  EXPECT_EQ(PrincipalLabel(partner), "PARTNER#0@partner:7");
}

TEST(TokenTest, TokensAreRandomAndHashesStable) {
  SecureRandom random;
  const std::string a = GenerateToken(random);
  const std::string b = GenerateToken(random);
  EXPECT_NE(a, b);
  EXPECT_EQ(a.rfind("smz_", 0), 0u);
  EXPECT_EQ(HashToken(a).size(), 64u);
  EXPECT_EQ(HashToken(a), HashToken(a));
  EXPECT_NE(HashToken(a), HashToken(b));
  EXPECT_EQ(HashToken("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST(TokenTest, TokenHashesAre64LowercaseHexDigits) {
  EXPECT_TRUE(IsTokenHash(HashToken("smz_x")));
  EXPECT_FALSE(IsTokenHash(""));
  EXPECT_FALSE(IsTokenHash(std::string(63, 'a')));
  EXPECT_FALSE(IsTokenHash(std::string(65, 'a')));
  EXPECT_FALSE(IsTokenHash(std::string(64, 'A')));
  EXPECT_FALSE(IsTokenHash(std::string(64, 'g')));
}

TEST(TokenTest, ProvisionedTokensNeedThePrefixAndFullStrength) {
  SecureRandom random;
  // What GenerateToken and deploy/secrets/make_secrets.sh make passes.
  EXPECT_TRUE(CheckProvisionedToken(GenerateToken(random)).ok());
  const std::string random_part(43, 'a');
  EXPECT_TRUE(CheckProvisionedToken("smz_" + random_part).ok());
  EXPECT_TRUE(CheckProvisionedToken("smz_" + std::string(200, '-')).ok());
  for (const std::string& bad : std::vector<std::string>{
           std::string(), "smz_", "smz_" + std::string(42, 'a'),
           "smz_" + std::string(201, 'a'), "smzs_" + random_part,
           "SMZ_" + random_part, random_part + "aaaa",
           "smz_" + random_part + "=", "smz_" + random_part + "+",
           "smz_" + random_part + " x", "smz_" + random_part + "\xc3\xa9"}) {
    absl::Status status = CheckProvisionedToken(bad);
    EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << bad;
    if (bad.size() > 10) {
      EXPECT_EQ(status.message().find(bad), absl::string_view::npos);
    }
  }
}

}  // namespace
}  // namespace smz
