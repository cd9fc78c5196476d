// The logic of AccountService (protos/smz/registry/v1/accounts.proto),
// independent of gRPC: who may do what to which account, the rules of
// logins, passwords and links, and the order of a sign-in (throttle, then
// password, then second factor, then session). AccountGrpcService
// authenticates the caller and calls one method here.
//
//   Accounts accounts(&store, &throttle, &hasher, &authenticator, &clock,
//                     &random);
//   absl::StatusOr<v1::SignInResponse> signed_in =
//       accounts.SignIn(request, client_address);
#ifndef SMZ_SERVICES_REGISTRY_ACCOUNTS_H_
#define SMZ_SERVICES_REGISTRY_ACCOUNTS_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "common/auth/authenticator.h"
#include "common/auth/token.h"
#include "common/clock.h"
#include "services/registry/account_store.h"
#include "services/registry/password_hasher.h"
#include "services/registry/sign_in_throttle.h"
#include "smz/registry/v1/accounts.pb.h"

namespace smz::registry {

// How long an invitation or reset link works.
inline constexpr absl::Duration kAccountLinkLifetime = absl::Hours(72);
// Where on the gateway a link is opened (its token follows after '#', so it
// never reaches a server log or a Referer header).
inline constexpr absl::string_view kAccountLinkPath = "/account/password";

// The one answer to every refused sign-in.
inline constexpr absl::string_view kSignInRefused =
    "sign-in refused: check the login name and password (administrators: and "
    "the code of the authenticator app)";

class Accounts {
 public:
  // None is owned; `authenticator` may be null (its cache is flushed when
  // sessions end or second factors change). `public_url`: the gateway's
  // address, for the links mailed to accounts with an address
  // (account_mail.h); empty: links are only answered, never mailed.
  Accounts(AccountStore* store, SignInThrottle* throttle,
           const PasswordHasher* hasher, Authenticator* authenticator,
           const Clock* clock, RandomSource* random,
           std::string public_url = "");

  // `client_address`: the client's address as AccountGrpcService found it
  // (the HTTP edge's report, else the gRPC peer; "" when unknown).
  absl::StatusOr<v1::SignInResponse> SignIn(const v1::SignInRequest& request,
                                            absl::string_view client_address);
  absl::Status SignOut(const Principal& caller);
  absl::Status SignOutEverywhere(const Principal& caller);

  absl::StatusOr<v1::AccountLinkResponse> InviteAccount(
      const Principal& caller, const v1::InviteAccountRequest& request);
  absl::StatusOr<Account> SetPasswordWithLink(
      const v1::SetPasswordWithLinkRequest& request);
  // `client_address` as for SignIn: a wrong current password is audited
  // as a refused sign-in.
  absl::Status ChangePassword(const Principal& caller,
                              const v1::ChangePasswordRequest& request,
                              absl::string_view client_address);
  absl::StatusOr<v1::AccountLinkResponse> ResetPassword(
      const Principal& caller, const v1::AccountActionRequest& request);
  absl::StatusOr<Account> DisableAccount(
      const Principal& caller, const v1::AccountActionRequest& request);
  absl::StatusOr<Account> EnableAccount(
      const Principal& caller, const v1::AccountActionRequest& request);
  absl::StatusOr<Account> SetAccountRole(
      const Principal& caller, const v1::SetAccountRoleRequest& request);
  absl::StatusOr<Account> GetAccount(const Principal& caller,
                                     const v1::GetAccountRequest& request);
  absl::StatusOr<v1::ListAccountsResponse> ListAccounts(
      const Principal& caller, const v1::ListAccountsRequest& request);
  absl::StatusOr<audit::v1::ListChangesResponse> ListAccountChanges(
      const Principal& caller, const audit::v1::ListChangesRequest& request);
  absl::StatusOr<v1::EnrolSecondFactorResponse> EnrolSecondFactor(
      const Principal& caller, const v1::EnrolSecondFactorRequest& request);
  absl::StatusOr<v1::ConfirmSecondFactorResponse> ConfirmSecondFactor(
      const Principal& caller, const v1::ConfirmSecondFactorRequest& request);

  // The break-glass path for people, for when no administrator can sign in
  // (passwords or authenticators lost): `login` becomes an ADMIN account
  // without a password or a second factor (created when missing; a
  // disabled one is INVITED again), its sessions end, and the answer holds
  // a one-time link to set its password, after which it enrols a second
  // factor anew. Audited as BREAK_GLASS by `actor`.
  absl::StatusOr<v1::AccountLinkResponse> BreakGlassAdminAccount(
      absl::string_view login, absl::string_view actor);

 private:
  absl::StatusOr<v1::AccountLinkResponse> WithNewLink(
      absl::string_view purpose,
      absl::FunctionRef<absl::StatusOr<Account>(const LinkToStore&)> save);
  // Whether `code` is a current TOTP code (then used up) or an unused
  // recovery code (then used up) of `subject`'s factor in force.
  absl::StatusOr<bool> UseSecondFactor(const SignInSubject& subject,
                                       absl::string_view code,
                                       bool* used_recovery_code);
  void FlushCredentialCache();

  AccountStore* const store_;
  SignInThrottle* const throttle_;
  const PasswordHasher* const hasher_;
  Authenticator* const authenticator_;
  const Clock* const clock_;
  RandomSource* const random_;
  const std::string public_url_;
};

// A login as stored and looked up: ASCII letters lower-cased (logins are
// 3-64 of a-z 0-9 . _ -, and anything else names no account).
std::string CanonicalLogin(absl::string_view login);

}  // namespace smz::registry

#endif  // SMZ_SERVICES_REGISTRY_ACCOUNTS_H_
