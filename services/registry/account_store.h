// People's accounts in the registry's database: the accounts, their one-time
// links (invitation and reset), their sign-in sessions and their recovery
// codes. Every credential is stored as a hash (HashToken: SHA-256), never as
// typed or issued; passwords as Argon2id strings made by PasswordHasher.
// Account writes go through the shared versioned-row path
// (common/aip/versioned_row.h): locked, etag checked, revision + 1, audited
// as entity "account"; sign-ins and refused ones are audited as entity
// "sign_in" (a SignInRecord).
//
//   AccountStore store(&database, &clock);
//   absl::StatusOr<Account> invited = store.Invite(account, key, link);
//   absl::StatusOr<std::optional<SignInSubject>> who =
//       store.FindForSignIn("kim");
//   ... the password checked (PasswordHasher) ...
//   absl::StatusOr<Account> signed_in =
//       store.StartSession(who->account.id(), session, record, "");
//   absl::StatusOr<std::optional<Principal>> owner =
//       store.FindSession(HashToken(session_id));
#ifndef SMZ_SERVICES_REGISTRY_ACCOUNT_STORE_H_
#define SMZ_SERVICES_REGISTRY_ACCOUNT_STORE_H_

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "absl/functional/function_ref.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "common/aip/request_key.h"
#include "common/auth/authenticator.h"
#include "common/auth/token.h"
#include "common/clock.h"
#include "common/mail/outbox.h"
#include "common/mysql/database.h"
#include "smz/audit/v1/audit.pb.h"
#include "smz/registry/v1/accounts.pb.h"

namespace smz::registry {

using v1::Account;

// A session is ended after this long unused, and kSessionLifetime
// (common/auth/token.h) after sign-in whatever its use.
inline constexpr absl::Duration kSessionIdleTimeout = absl::Minutes(30);
// How often a session's last use is written: an idle session may live up to
// this much longer than the idle timeout says, and a busy one costs one
// write a minute, not one per call.
inline constexpr absl::Duration kSessionTouchInterval = absl::Minutes(1);

// What a sign-in needs to know of an account, secrets included; never
// leaves the registry.
struct SignInSubject {
  Account account;
  std::string password_hash;  // empty for an invited account
  std::string totp_secret;    // 20 bytes when a second factor is enrolled
  int64_t totp_last_step = 0;
  // A PARTNER account whose partner is revoked cannot sign in.
  bool partner_revoked = false;
};

inline constexpr char kInviteLinkPurpose[] = "INVITE";
inline constexpr char kResetLinkPurpose[] = "RESET";

// A one-time link to store: the hash of its token and what it is for.
struct LinkToStore {
  std::string token_hash;
  std::string purpose;  // kInviteLinkPurpose or kResetLinkPurpose
  absl::Time expire_time;
  // The mail that brings it to the account's owner (account_mail.h), made
  // from the account as stored; queued with the link, in its transaction.
  // Unset, or nullopt for an account without an address: no mail.
  std::function<std::optional<OutgoingMail>(const Account&)> mail;
};

struct SessionToStore {
  std::string session_hash;
  absl::Time expire_time;  // the absolute end
  std::string client_address;
};

struct AccountQuery {
  auth::v1::Role role = auth::v1::ROLE_UNSPECIFIED;
  v1::AccountState state = v1::ACCOUNT_STATE_UNSPECIFIED;
  int64_t partner_id = 0;
  int64_t after_id = 0;
  int limit = 51;
};

class AccountStore {
 public:
  AccountStore(Database* database, const Clock* clock);

  // Creates an INVITED account unless `key` was answered before (then that
  // account), and stores `link` for it, voiding its earlier links.
  // ALREADY_EXISTS naming the field when the login or e-mail is in use;
  // NOT_FOUND / FAILED_PRECONDITION for a PARTNER account's unknown or
  // revoked partner.
  absl::StatusOr<Account> Invite(const Account& account, const RequestKey& key,
                                 const LinkToStore& link);

  absl::StatusOr<Account> Get(int64_t id);
  // At most query.limit accounts with id > query.after_id, by id.
  absl::StatusOr<std::vector<Account>> List(const AccountQuery& query);

  // The account a sign-in names (login lower-cased), nullopt when none.
  absl::StatusOr<std::optional<SignInSubject>> FindForSignIn(
      absl::string_view login);
  absl::StatusOr<std::optional<SignInSubject>> FindForSignInById(int64_t id);

  // Records TOTP step `step` as used, only if it is later than the last one
  // used: false when another sign-in used it (or a later one) first.
  absl::StatusOr<bool> UseTotpStep(int64_t account_id, int64_t step);
  // Marks an unused recovery code (its hash) used: false when there is none.
  absl::StatusOr<bool> UseRecoveryCode(int64_t account_id,
                                       absl::string_view code_hash);

  // A successful sign-in: the session, the sign-in time, the password's new
  // hash when its parameters changed (else empty), and the audit entry; in
  // one transaction. Returns the account.
  absl::StatusOr<Account> StartSession(int64_t account_id,
                                       const SessionToStore& session,
                                       const v1::SignInRecord& record,
                                       absl::string_view new_password_hash);
  // A refused sign-in, audited (account 0 when the login names none).
  absl::Status RecordRefusedSignIn(int64_t account_id,
                                   const v1::SignInRecord& record);

  // The principal of an unended, unexpired session of an ACTIVE account
  // (nullopt otherwise); its last use is written at most once a minute.
  absl::StatusOr<std::optional<Principal>> FindSession(
      absl::string_view session_hash);
  // Ends one session (no error when it had ended).
  absl::Status EndSession(int64_t session_id);
  // Ends every session of the account but `except_session_id` (0: all),
  // audited as `action` by `actor`.
  absl::Status EndSessions(int64_t account_id, int64_t except_session_id,
                           absl::string_view action, absl::string_view actor);

  // Sets the password of the account a valid, unused, unexpired link
  // (`token_hash`) belongs to and uses the link up; an INVITED account
  // becomes ACTIVE. UNAUTHENTICATED for any other link (one message);
  // FAILED_PRECONDITION for a disabled account.
  absl::StatusOr<Account> SetPasswordWithLink(absl::string_view token_hash,
                                              absl::string_view password_hash);
  // Whether SetPasswordWithLink would take the link (UNAUTHENTICATED with
  // its message if not): checked before a password is hashed, so that made-up
  // links cost no Argon2id work.
  absl::Status CheckLink(absl::string_view token_hash);

  // Changes the account under its lock (etag checked when given), with
  // whatever else the action does: `end_sessions` ends its sessions; `link`
  // (when set) voids its links and stores this one, `void_links` only voids
  // them; `password_hash` (when not empty) becomes its password, and
  // `clear_password` leaves it none (a reset: the old one must stop
  // working); `clear_second_factor` drops its TOTP secret and recovery
  // codes (break-glass); `keep_an_admin` refuses
  // (FAILED_PRECONDITION) a change after which no ACTIVE ADMIN account
  // would remain where there was one. Audited as `action` by `actor`, also when
  // no field of the account changed.
  struct Change {
    absl::string_view action;
    absl::string_view actor;
    absl::string_view etag;
    bool end_sessions = false;
    int64_t keep_session_id = 0;  // not ended by end_sessions
    const LinkToStore* link = nullptr;
    bool void_links = false;
    absl::string_view password_hash;
    bool clear_password = false;
    bool clear_second_factor = false;
    bool keep_an_admin = false;
  };
  absl::StatusOr<Account> Modify(
      int64_t id, const Change& change,
      absl::FunctionRef<absl::Status(Account&)> mutate);

  // A new second-factor secret awaiting its first code (replacing any
  // other awaiting one); the one in force stays until it is confirmed.
  absl::Status SetPendingSecondFactor(int64_t account_id,
                                      absl::string_view secret);
  absl::StatusOr<std::string> PendingSecondFactor(int64_t account_id);
  // Puts `secret` (still the pending one, else FAILED_PRECONDITION) in
  // force with `step` as its last used step and these recovery codes
  // (hashes; the old ones are dropped); audited as ENROL_SECOND_FACTOR.
  // Replacing a factor in force ends the account's other sessions. Not on
  // the versioned-row path: the change is conditional on the pending secret
  // (an UPDATE ... WHERE), not on an etag the caller holds.
  absl::StatusOr<Account> ConfirmSecondFactor(
      int64_t account_id, absl::string_view secret, int64_t step,
      const std::vector<std::string>& recovery_code_hashes,
      absl::string_view actor, int64_t keep_session_id);

  // The audit trail of entities "account" and "sign_in".
  absl::StatusOr<audit::v1::ListChangesResponse> ListChanges(
      const audit::v1::ListChangesRequest& request);

 private:
  // The sign-in view of the account whose `column` ("login" or "id") is
  // `value`.
  absl::StatusOr<std::optional<SignInSubject>> FindSubject(
      absl::string_view column, SqlValue value);

  Database* const database_;
  const Clock* const clock_;
};

// "smzs_" + 256 random bits (unpadded base64url): a session id.
std::string NewSessionId(RandomSource& random);
// "smzl_" + 256 random bits: a one-time link's token.
std::string NewLinkToken(RandomSource& random);

// The stored form of a recovery code: keyed by its account, so one code
// hash says nothing about another account's.
std::string RecoveryCodeHash(int64_t account_id, absl::string_view code);

}  // namespace smz::registry

#endif  // SMZ_SERVICES_REGISTRY_ACCOUNT_STORE_H_
