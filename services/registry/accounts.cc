#include "services/registry/accounts.h"

#include <utility>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/aip/etag.h"
#include "common/aip/pager.h"
#include "common/aip/request_key.h"
#include "common/aip/status_macros.h"
#include "common/logging.h"
#include "common/mail/mail_message.h"
#include "common/request_fields.h"
#include "common/status_util.h"
#include "common/text_checks.h"
#include "google/protobuf/util/time_util.h"
#include "services/registry/account_mail.h"
#include "services/registry/totp.h"

namespace smz::registry {
namespace {

using ::google::protobuf::util::TimeUtil;

constexpr size_t kMaxLoginBytes = 64;
// What SignIn accepts as a login to look at: room for an e-mail address
// typed in its place (it then names no account, see IsLogin).
constexpr size_t kMaxSignInLoginBytes = 254;
constexpr size_t kMinLoginBytes = 3;
constexpr size_t kMaxDisplayNameChars = 100;
constexpr size_t kMaxReasonChars = 500;
// Longer than any code or recovery code, as typed with spaces.
constexpr size_t kMaxSecondFactorBytes = 32;
constexpr size_t kMaxLinkTokenBytes = 100;
// The issuer an authenticator app shows beside the account.
constexpr char kTotpIssuer[] = "smz";

bool IsLogin(absl::string_view login) {
  if (login.size() < kMinLoginBytes || login.size() > kMaxLoginBytes) {
    return false;
  }
  for (char c : login) {
    if (!absl::ascii_islower(static_cast<unsigned char>(c)) &&
        !absl::ascii_isdigit(static_cast<unsigned char>(c)) && c != '.' &&
        c != '_' && c != '-') {
      return false;
    }
  }
  return true;
}

bool IsRole(auth::v1::Role role) {
  return role != auth::v1::ROLE_UNSPECIFIED && auth::v1::Role_IsValid(role);
}

void ValidateRoleAndPartner(auth::v1::Role role, int64_t partner_id,
                            FieldViolations* violations) {
  if (!IsRole(role)) {
    violations->Add(
        "role", "is required: ADMIN, ORGANIZER, PARTNER, ANALYST or COUNCIL");
  } else if (role == auth::v1::PARTNER && partner_id <= 0) {
    violations->Add("partner_id", "is required for a PARTNER account");
  } else if (role != auth::v1::PARTNER && partner_id != 0) {
    violations->Add("partner_id", "applies only to PARTNER accounts");
  }
}

void ValidateReason(absl::string_view reason, FieldViolations* violations) {
  if (reason.empty() || !IsValidUtf8(reason) ||
      Utf8Length(reason) > kMaxReasonChars) {
    violations->Add("reason", absl::StrCat("is required: 1-", kMaxReasonChars,
                                           " characters of UTF-8"));
  }
}

// The checks every ADMIN action on an account shares.
void ValidateAction(int64_t account_id, absl::string_view etag,
                    absl::string_view reason, FieldViolations* violations) {
  if (account_id <= 0) violations->Add("account_id", "must be an account id");
  RequireEtag(etag, "etag", violations);
  ValidateReason(reason, violations);
}

void ValidateAction(const v1::AccountActionRequest& request,
                    FieldViolations* violations) {
  ValidateAction(request.account_id(), request.etag(), request.reason(),
                 violations);
}

// CheckPasswordRules' findings among the request's other violations.
void ValidateNewPassword(absl::string_view password,
                         FieldViolations* violations) {
  for (const FieldViolation& v :
       GetFieldViolations(CheckPasswordRules(password, "new_password"))) {
    violations->Add(v.field, v.description);
  }
}

// Methods for a person's own account need a session: an API token has no
// account.
absl::Status RequireAccount(const Principal& caller) {
  if (caller.account_id() == 0) {
    return absl::FailedPreconditionError(
        "this needs a person signed in (SignIn); API tokens have no account");
  }
  return absl::OkStatus();
}

absl::Status RefuseOwnAccount(const Principal& caller, int64_t account_id,
                              absl::string_view what) {
  if (caller.account_id() == account_id) {
    return absl::FailedPreconditionError(
        absl::StrCat("administrators cannot ", what,
                     " their own account: another administrator must"));
  }
  return absl::OkStatus();
}

}  // namespace

std::string CanonicalLogin(absl::string_view login) {
  return absl::AsciiStrToLower(login);
}

Accounts::Accounts(AccountStore* store, SignInThrottle* throttle,
                   const PasswordHasher* hasher, Authenticator* authenticator,
                   const Clock* clock, RandomSource* random,
                   std::string public_url)
    : store_(store),
      throttle_(throttle),
      hasher_(hasher),
      authenticator_(authenticator),
      clock_(clock),
      random_(random),
      public_url_(std::move(public_url)) {}

void Accounts::FlushCredentialCache() {
  if (authenticator_ != nullptr) authenticator_->InvalidateCache();
}

absl::StatusOr<v1::SignInResponse> Accounts::SignIn(
    const v1::SignInRequest& request, absl::string_view client_address) {
  // Only sizes are checked here: the rules of a login or a password are for
  // setting one, and a refusal by rule would tell what exists.
  FieldViolations violations;
  if (request.login().empty() ||
      request.login().size() > kMaxSignInLoginBytes) {
    violations.Add("login", absl::StrCat("is required (at most ",
                                         kMaxSignInLoginBytes, " bytes)"));
  }
  if (request.password().empty() ||
      request.password().size() > kMaxPasswordBytes) {
    violations.Add("password", absl::StrCat("is required (at most ",
                                            kMaxPasswordBytes, " bytes)"));
  }
  if (request.second_factor_code().size() > kMaxSecondFactorBytes) {
    violations.Add(
        "second_factor_code",
        absl::StrCat("is at most ", kMaxSecondFactorBytes, " bytes"));
  }
  if (!violations.empty()) return violations.ToStatus();

  // The throttle's subject is the login as stored; a name that cannot be a
  // login (other case folded away, accents, full-width letters) names no
  // account, and is never looked up.
  const std::string login = CanonicalLogin(request.login());
  std::vector<std::string> subjects = {LoginSubject(login)};
  if (std::string address = AddressSubject(client_address); !address.empty()) {
    subjects.push_back(std::move(address));
  }
  // Charged before anything is checked (sign_in_throttle.h).
  SMZ_ASSIGN_OR_RETURN(const bool charge_locked, throttle_->Attempt(subjects));

  v1::SignInRecord record;
  record.set_login_subject(subjects.front());
  record.set_client_address(std::string(client_address));
  std::optional<SignInSubject> found;
  if (IsLogin(login)) {
    SMZ_ASSIGN_OR_RETURN(found, store_->FindForSignIn(login));
  }
  bool right = false;
  if (!found.has_value() || found->account.state() != v1::ACCOUNT_ACTIVE ||
      found->password_hash.empty() || found->partner_revoked) {
    SMZ_RETURN_IF_ERROR(hasher_->BurnVerify(request.password()));
  } else {
    SMZ_ASSIGN_OR_RETURN(
        right, hasher_->Verify(found->password_hash, request.password()));
  }
  if (right && !found->totp_secret.empty()) {
    bool used_recovery_code = false;
    SMZ_ASSIGN_OR_RETURN(right,
                         UseSecondFactor(*found, request.second_factor_code(),
                                         &used_recovery_code));
    record.set_used_recovery_code(used_recovery_code);
  }
  if (!right) {
    record.set_outcome(charge_locked ? "LOCKED" : "REFUSED");
    absl::Status audited = store_->RecordRefusedSignIn(
        found.has_value() ? found->account.id() : 0, record);
    if (!audited.ok()) {
      Log(LogLevel::kWarning, "refused sign-in not audited",
          {{"error", audited.message()}});
    }
    return absl::UnauthenticatedError(kSignInRefused);
  }
  SMZ_RETURN_IF_ERROR(throttle_->Succeeded(subjects));
  std::string new_hash;
  if (hasher_->NeedsRehash(found->password_hash)) {
    absl::StatusOr<std::string> rehashed = hasher_->Hash(request.password());
    // Best effort: the old hash still works.
    if (rehashed.ok()) new_hash = *std::move(rehashed);
  }
  const absl::Time now = clock_->Now();
  const std::string session_id = NewSessionId(*random_);
  SessionToStore session{HashToken(session_id), now + kSessionLifetime,
                         std::string(client_address)};
  record.set_outcome("SIGNED_IN");
  SMZ_ASSIGN_OR_RETURN(
      Account account,
      store_->StartSession(found->account.id(), session, record, new_hash));
  v1::SignInResponse response;
  response.set_session_id(session_id);
  *response.mutable_expire_time() = TimeUtil::MicrosecondsToTimestamp(
      absl::ToUnixMicros(now + kSessionIdleTimeout));
  response.set_second_factor_required(account.role() == auth::v1::ADMIN &&
                                      !account.second_factor_enrolled());
  *response.mutable_account() = std::move(account);
  return response;
}

absl::StatusOr<bool> Accounts::UseSecondFactor(const SignInSubject& subject,
                                               absl::string_view code,
                                               bool* used_recovery_code) {
  *used_recovery_code = false;
  if (code.size() == static_cast<size_t>(kTotpDigits)) {
    absl::StatusOr<int64_t> step = VerifyTotp(
        subject.totp_secret, code, clock_->Now(), subject.totp_last_step);
    if (!step.ok()) return false;
    // Conditional: the same code raced through two replicas counts once.
    return store_->UseTotpStep(subject.account.id(), *step);
  }
  const std::string recovery = NormalizeRecoveryCode(code);
  if (recovery.empty()) return false;
  SMZ_ASSIGN_OR_RETURN(const bool used,
                       store_->UseRecoveryCode(
                           subject.account.id(),
                           RecoveryCodeHash(subject.account.id(), recovery)));
  *used_recovery_code = used;
  return used;
}

absl::Status Accounts::SignOut(const Principal& caller) {
  if (caller.session_id() == 0) {
    return absl::FailedPreconditionError(
        "signed in with an API token: there is no session to end (revoke the "
        "token instead)");
  }
  SMZ_RETURN_IF_ERROR(store_->EndSession(caller.session_id()));
  FlushCredentialCache();
  return absl::OkStatus();
}

absl::Status Accounts::SignOutEverywhere(const Principal& caller) {
  SMZ_RETURN_IF_ERROR(RequireAccount(caller));
  SMZ_RETURN_IF_ERROR(store_->EndSessions(
      caller.account_id(), 0, "SIGN_OUT_EVERYWHERE", PrincipalLabel(caller)));
  FlushCredentialCache();
  return absl::OkStatus();
}

absl::StatusOr<v1::AccountLinkResponse> Accounts::WithNewLink(
    absl::string_view purpose,
    absl::FunctionRef<absl::StatusOr<Account>(const LinkToStore&)> save) {
  const std::string token = NewLinkToken(*random_);
  LinkToStore link{HashToken(token), std::string(purpose),
                   clock_->Now() + kAccountLinkLifetime};
  const std::string path = absl::StrCat(kAccountLinkPath, "#", token);
  if (!public_url_.empty()) {
    link.mail = [&](const Account& account) -> std::optional<OutgoingMail> {
      if (account.email().empty()) return std::nullopt;
      return RenderAccountLinkMail(account, link.purpose,
                                   absl::StrCat(public_url_, path),
                                   link.expire_time);
    };
  }
  SMZ_ASSIGN_OR_RETURN(Account account, save(link));
  v1::AccountLinkResponse response;
  // Stored only for an account still to set a password (a retried
  // invitation of one that has: no link).
  const bool link_stored =
      account.state() == v1::ACCOUNT_INVITED || purpose == kResetLinkPurpose;
  const bool mailed = link_stored && link.mail && !account.email().empty();
  *response.mutable_account() = std::move(account);
  if (!link_stored) return response;
  response.set_mailed(mailed);
  v1::AccountLink* out = response.mutable_link();
  out->set_token(token);
  out->set_path(path);
  *out->mutable_expire_time() =
      TimeUtil::MicrosecondsToTimestamp(absl::ToUnixMicros(link.expire_time));
  return response;
}

absl::StatusOr<v1::AccountLinkResponse> Accounts::InviteAccount(
    const Principal& caller, const v1::InviteAccountRequest& request) {
  FieldViolations violations;
  ValidateRequestId(request.request_id(), &violations);
  const std::string login = CanonicalLogin(request.login());
  if (!IsLogin(login)) {
    violations.Add("login", "must be 3-64 of a-z 0-9 . _ -");
  }
  // An address the outbox can write as it is, so that the link's mail is
  // never dropped after the response said it went (mail_message.h).
  if (!request.email().empty() &&
      (!IsEmailAddress(request.email()) || !IsMailAddress(request.email()))) {
    violations.Add("email", "is not an e-mail address");
  }
  if (request.display_name().empty() || !IsValidUtf8(request.display_name()) ||
      Utf8Length(request.display_name()) > kMaxDisplayNameChars) {
    violations.Add("display_name", "is required: 1-100 characters of UTF-8");
  }
  if (!request.preferred_language().empty() &&
      request.preferred_language() != "ko" &&
      request.preferred_language() != "en") {
    violations.Add("preferred_language", "must be \"ko\" or \"en\"");
  }
  ValidateRoleAndPartner(request.role(), request.partner_id(), &violations);
  if (!violations.empty()) return violations.ToStatus();

  Account account;
  account.set_login(login);
  account.set_email(absl::AsciiStrToLower(request.email()));
  account.set_display_name(request.display_name());
  account.set_preferred_language(request.preferred_language().empty()
                                     ? "ko"
                                     : request.preferred_language());
  account.set_role(request.role());
  account.set_partner_id(request.partner_id());
  account.set_invited_by(PrincipalLabel(caller));
  const RequestKey key = KeyOf(caller, "InviteAccount", request);
  return WithNewLink(kInviteLinkPurpose, [&](const LinkToStore& link) {
    return store_->Invite(account, key, link);
  });
}

absl::StatusOr<Account> Accounts::SetPasswordWithLink(
    const v1::SetPasswordWithLinkRequest& request) {
  FieldViolations violations;
  if (!absl::StartsWith(request.token(), kLinkTokenPrefix) ||
      request.token().size() > kMaxLinkTokenBytes) {
    violations.Add("token", "is not an account link's token (smzl_...)");
  }
  ValidateNewPassword(request.new_password(), &violations);
  if (!violations.empty()) return violations.ToStatus();
  const std::string token_hash = HashToken(request.token());
  // A made-up link costs a lookup, not an Argon2id hash.
  SMZ_RETURN_IF_ERROR(store_->CheckLink(token_hash));
  SMZ_ASSIGN_OR_RETURN(std::string hash, hasher_->Hash(request.new_password()));
  SMZ_ASSIGN_OR_RETURN(Account account,
                       store_->SetPasswordWithLink(token_hash, hash));
  FlushCredentialCache();
  return account;
}

absl::Status Accounts::ChangePassword(const Principal& caller,
                                      const v1::ChangePasswordRequest& request,
                                      absl::string_view client_address) {
  SMZ_RETURN_IF_ERROR(RequireAccount(caller));
  FieldViolations violations;
  if (request.current_password().empty() ||
      request.current_password().size() > kMaxPasswordBytes) {
    violations.Add("current_password", "is required (at most 256 bytes)");
  }
  ValidateNewPassword(request.new_password(), &violations);
  if (!violations.empty()) return violations.ToStatus();
  SMZ_ASSIGN_OR_RETURN(std::optional<SignInSubject> found,
                       store_->FindForSignInById(caller.account_id()));
  if (!found.has_value()) {
    return absl::NotFoundError("the caller's account no longer exists");
  }
  // Guessing the current password with a stolen session is throttled as
  // guessing it at sign-in is.
  const std::vector<std::string> subjects = {
      LoginSubject(found->account.login())};
  SMZ_RETURN_IF_ERROR(throttle_->Attempt(subjects).status());
  bool right = false;
  if (found->password_hash.empty()) {
    SMZ_RETURN_IF_ERROR(hasher_->BurnVerify(request.current_password()));
  } else {
    SMZ_ASSIGN_OR_RETURN(right, hasher_->Verify(found->password_hash,
                                                request.current_password()));
  }
  if (!right) {
    // A wrong password is a refused sign-in, whoever holds the session.
    v1::SignInRecord record;
    record.set_login_subject(subjects.front());
    record.set_client_address(std::string(client_address));
    record.set_outcome("REFUSED");
    absl::Status audited =
        store_->RecordRefusedSignIn(caller.account_id(), record);
    if (!audited.ok()) {
      Log(LogLevel::kWarning, "refused password change not audited",
          {{"error", audited.message()}});
    }
    return InvalidField("current_password", "is not the account's password");
  }
  SMZ_RETURN_IF_ERROR(throttle_->Succeeded(subjects));
  SMZ_ASSIGN_OR_RETURN(std::string hash, hasher_->Hash(request.new_password()));
  const std::string actor = PrincipalLabel(caller);
  AccountStore::Change change;
  change.action = "CHANGE_PASSWORD";
  change.actor = actor;
  change.password_hash = hash;
  change.end_sessions = true;
  change.keep_session_id = caller.session_id();
  change.void_links = true;  // a pending reset would undo this
  SMZ_RETURN_IF_ERROR(store_
                          ->Modify(caller.account_id(), change,
                                   [](Account&) { return absl::OkStatus(); })
                          .status());
  FlushCredentialCache();
  return absl::OkStatus();
}

absl::StatusOr<v1::AccountLinkResponse> Accounts::ResetPassword(
    const Principal& caller, const v1::AccountActionRequest& request) {
  FieldViolations violations;
  ValidateAction(request, &violations);
  if (!violations.empty()) return violations.ToStatus();
  const std::string actor = PrincipalLabel(caller);
  SMZ_ASSIGN_OR_RETURN(
      v1::AccountLinkResponse response,
      WithNewLink(kResetLinkPurpose, [&](const LinkToStore& link) {
        AccountStore::Change change;
        change.action = "RESET_PASSWORD";
        change.actor = actor;
        change.etag = request.etag();
        change.end_sessions = true;
        change.link = &link;
        // A reset is often for a password someone else has learnt.
        change.clear_password = true;
        return store_->Modify(
            request.account_id(), change, [](Account& account) {
              if (account.state() == v1::ACCOUNT_DISABLED) {
                return absl::FailedPreconditionError(
                    "the account is disabled: enable it first");
              }
              return absl::OkStatus();
            });
      }));
  FlushCredentialCache();
  return response;
}

absl::StatusOr<Account> Accounts::DisableAccount(
    const Principal& caller, const v1::AccountActionRequest& request) {
  FieldViolations violations;
  ValidateAction(request, &violations);
  if (!violations.empty()) return violations.ToStatus();
  SMZ_RETURN_IF_ERROR(
      RefuseOwnAccount(caller, request.account_id(), "disable"));
  const std::string actor = PrincipalLabel(caller);
  AccountStore::Change change;
  change.action = "DISABLE";
  change.actor = actor;
  change.etag = request.etag();
  change.end_sessions = true;
  change.void_links = true;
  change.keep_an_admin = true;
  SMZ_ASSIGN_OR_RETURN(
      Account account,
      store_->Modify(request.account_id(), change, [](Account& a) {
        if (a.state() == v1::ACCOUNT_DISABLED) {
          return absl::FailedPreconditionError("the account is disabled");
        }
        a.set_state(v1::ACCOUNT_DISABLED);
        return absl::OkStatus();
      }));
  FlushCredentialCache();
  return account;
}

absl::StatusOr<Account> Accounts::EnableAccount(
    const Principal& caller, const v1::AccountActionRequest& request) {
  FieldViolations violations;
  ValidateAction(request, &violations);
  if (!violations.empty()) return violations.ToStatus();
  const std::string actor = PrincipalLabel(caller);
  // Read before the account's lock, yet current: only a link sets a
  // password, links are void while an account is disabled, and the etag
  // below refuses any change in between.
  SMZ_ASSIGN_OR_RETURN(std::optional<SignInSubject> found,
                       store_->FindForSignInById(request.account_id()));
  const bool has_password = found.has_value() && !found->password_hash.empty();
  AccountStore::Change change;
  change.action = "ENABLE";
  change.actor = actor;
  change.etag = request.etag();
  return store_->Modify(request.account_id(), change, [&](Account& a) {
    if (a.state() != v1::ACCOUNT_DISABLED) {
      return absl::FailedPreconditionError("the account is not disabled");
    }
    a.set_state(has_password ? v1::ACCOUNT_ACTIVE : v1::ACCOUNT_INVITED);
    return absl::OkStatus();
  });
}

absl::StatusOr<Account> Accounts::SetAccountRole(
    const Principal& caller, const v1::SetAccountRoleRequest& request) {
  FieldViolations violations;
  ValidateAction(request.account_id(), request.etag(), request.reason(),
                 &violations);
  ValidateRoleAndPartner(request.role(), request.partner_id(), &violations);
  if (!violations.empty()) return violations.ToStatus();
  SMZ_RETURN_IF_ERROR(
      RefuseOwnAccount(caller, request.account_id(), "change the role of"));
  const std::string actor = PrincipalLabel(caller);
  AccountStore::Change change;
  change.action = "SET_ROLE";
  change.actor = actor;
  change.etag = request.etag();
  // The new role is in force from the next sign-in.
  change.end_sessions = true;
  change.keep_an_admin = true;
  SMZ_ASSIGN_OR_RETURN(
      Account account,
      store_->Modify(request.account_id(), change, [&](Account& a) {
        a.set_role(request.role());
        a.set_partner_id(request.partner_id());
        return absl::OkStatus();
      }));
  FlushCredentialCache();
  return account;
}

absl::StatusOr<Account> Accounts::GetAccount(
    const Principal& caller, const v1::GetAccountRequest& request) {
  if (request.account_id() < 0) {
    return InvalidField("account_id", "must be an account id, or 0 for yours");
  }
  int64_t id = request.account_id();
  if (id == 0) {
    SMZ_RETURN_IF_ERROR(RequireAccount(caller));
    id = caller.account_id();
  }
  if (caller.role() != auth::v1::ADMIN && id != caller.account_id()) {
    return absl::PermissionDeniedError(
        "only administrators read other people's accounts");
  }
  return store_->Get(id);
}

absl::StatusOr<v1::ListAccountsResponse> Accounts::ListAccounts(
    const Principal& caller, const v1::ListAccountsRequest& request) {
  FieldViolations violations;
  if (!auth::v1::Role_IsValid(request.role())) {
    violations.Add("role", "is not a role");
  }
  if (!v1::AccountState_IsValid(request.state())) {
    violations.Add("state", "is not an account state");
  }
  if (request.partner_id() < 0) {
    violations.Add("partner_id", "must be a partner id, or 0 for all");
  }
  Pager pager = PagerFor(request, &violations);
  if (!violations.empty()) return violations.ToStatus();
  AccountQuery query;
  query.role = request.role();
  query.state = request.state();
  query.partner_id = request.partner_id();
  query.after_id = pager.after_id();
  query.limit = pager.fetch_limit();
  SMZ_ASSIGN_OR_RETURN(std::vector<Account> accounts, store_->List(query));
  v1::ListAccountsResponse response;
  response.set_next_page_token(
      pager.Finish(&accounts, [](const Account& a) { return a.id(); }));
  for (Account& account : accounts) {
    *response.add_accounts() = std::move(account);
  }
  return response;
}

absl::StatusOr<audit::v1::ListChangesResponse> Accounts::ListAccountChanges(
    const Principal& /*caller: ADMIN, by the method's roles*/,
    const audit::v1::ListChangesRequest& request) {
  return store_->ListChanges(request);
}

absl::StatusOr<v1::EnrolSecondFactorResponse> Accounts::EnrolSecondFactor(
    const Principal& caller, const v1::EnrolSecondFactorRequest& request) {
  SMZ_RETURN_IF_ERROR(RequireAccount(caller));
  if (request.current_code().size() > kMaxSecondFactorBytes) {
    return InvalidField(
        "current_code",
        absl::StrCat("is at most ", kMaxSecondFactorBytes, " bytes"));
  }
  SMZ_ASSIGN_OR_RETURN(std::optional<SignInSubject> found,
                       store_->FindForSignInById(caller.account_id()));
  if (!found.has_value()) {
    return absl::NotFoundError("the caller's account no longer exists");
  }
  if (!found->totp_secret.empty()) {
    // Replacing a factor in force takes that factor: a session alone
    // (perhaps a stolen one) must not lock its owner out.
    bool used_recovery_code = false;
    SMZ_ASSIGN_OR_RETURN(
        const bool right,
        UseSecondFactor(*found, request.current_code(), &used_recovery_code));
    if (!right) {
      return InvalidField("current_code",
                          "is required to replace the second factor in force: "
                          "its current code or an unused recovery code");
    }
  }
  const Account& account = found->account;
  const std::string secret = NewTotpSecret(*random_);
  SMZ_RETURN_IF_ERROR(
      store_->SetPendingSecondFactor(caller.account_id(), secret));
  v1::EnrolSecondFactorResponse response;
  response.set_secret_base32(Base32(secret));
  response.set_otpauth_uri(TotpUri(secret, kTotpIssuer, account.login()));
  return response;
}

absl::StatusOr<v1::ConfirmSecondFactorResponse> Accounts::ConfirmSecondFactor(
    const Principal& caller, const v1::ConfirmSecondFactorRequest& request) {
  SMZ_RETURN_IF_ERROR(RequireAccount(caller));
  SMZ_ASSIGN_OR_RETURN(std::string secret,
                       store_->PendingSecondFactor(caller.account_id()));
  absl::StatusOr<int64_t> step =
      VerifyTotp(secret, request.code(), clock_->Now(), /*last_step=*/0);
  if (!step.ok()) {
    return InvalidField("code", absl::IsInvalidArgument(step.status())
                                    ? "must be the app's 6-digit code"
                                    : "is not the app's current code");
  }
  const std::vector<std::string> codes = NewRecoveryCodes(*random_);
  std::vector<std::string> hashes;
  for (const std::string& code : codes) {
    hashes.push_back(RecoveryCodeHash(caller.account_id(), code));
  }
  SMZ_ASSIGN_OR_RETURN(
      Account account,
      store_->ConfirmSecondFactor(caller.account_id(), secret, *step, hashes,
                                  PrincipalLabel(caller), caller.session_id()));
  FlushCredentialCache();
  v1::ConfirmSecondFactorResponse response;
  for (const std::string& code : codes) response.add_recovery_codes(code);
  *response.mutable_account() = std::move(account);
  return response;
}

absl::StatusOr<v1::AccountLinkResponse> Accounts::BreakGlassAdminAccount(
    absl::string_view login_typed, absl::string_view actor) {
  const std::string login = CanonicalLogin(login_typed);
  if (!IsLogin(login)) {
    return InvalidField("login", "must be 3-64 of a-z 0-9 . _ -");
  }
  SMZ_ASSIGN_OR_RETURN(std::optional<SignInSubject> found,
                       store_->FindForSignIn(login));
  if (!found.has_value()) {
    Account account;
    account.set_login(login);
    account.set_display_name(login);
    account.set_preferred_language("ko");
    account.set_role(auth::v1::ADMIN);
    account.set_invited_by(std::string(actor));
    RequestKey key;
    key.caller = std::string(actor);
    key.method = "BreakGlassAdminAccount";
    return WithNewLink(kInviteLinkPurpose, [&](const LinkToStore& link) {
      return store_->Invite(account, key, link);
    });
  }
  // An account of that name: made an ADMIN without a password or a second
  // factor (whoever lost access may have lost them to someone), its
  // sessions ended, and a link to set a new password.
  return WithNewLink(kResetLinkPurpose, [&](const LinkToStore& link) {
    AccountStore::Change change;
    change.action = "BREAK_GLASS";
    change.actor = actor;
    change.end_sessions = true;
    change.link = &link;
    change.clear_password = true;
    change.clear_second_factor = true;
    return store_->Modify(found->account.id(), change, [](Account& a) {
      a.set_role(auth::v1::ADMIN);
      a.set_partner_id(0);
      if (a.state() == v1::ACCOUNT_DISABLED) a.set_state(v1::ACCOUNT_INVITED);
      return absl::OkStatus();
    });
  });
}

}  // namespace smz::registry
