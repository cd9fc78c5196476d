#include "services/registry/account_store.h"

#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "common/aip/change_log.h"
#include "common/aip/etag.h"
#include "common/aip/status_macros.h"
#include "common/aip/versioned_row.h"
#include "common/auth/token.h"
#include "common/logging.h"
#include "common/mysql/audit.h"
#include "google/protobuf/util/time_util.h"

namespace smz::registry {
namespace {

using ::google::protobuf::util::TimeUtil;

constexpr char kAccountColumns[] =
    "id, login, email, display_name, preferred_language, role, partner_id, "
    "state, totp_secret IS NOT NULL, invited_by, create_time_us, "
    "update_time_us, last_sign_in_us, version";
constexpr int kAccountColumnCount = 14;

constexpr char kUnusableLink[] =
    "this link is unknown, used or expired: ask the district's administrator "
    "for a new one";

Account AccountFromRow(const Row& row) {
  Account account;
  account.set_id(row.Int(0));
  account.set_login(row.Text(1));
  account.set_email(row.Text(2));
  account.set_display_name(row.Text(3));
  account.set_preferred_language(row.Text(4));
  auth::v1::Role role = auth::v1::ROLE_UNSPECIFIED;
  auth::v1::Role_Parse(row.Text(5), &role);
  account.set_role(role);
  account.set_partner_id(row.Int(6));
  v1::AccountState state = v1::ACCOUNT_STATE_UNSPECIFIED;
  v1::AccountState_Parse(row.Text(7), &state);
  account.set_state(state);
  account.set_second_factor_enrolled(row.Int(8) != 0);
  account.set_invited_by(row.Text(9));
  *account.mutable_create_time() =
      TimeUtil::MicrosecondsToTimestamp(row.Int(10));
  *account.mutable_update_time() =
      TimeUtil::MicrosecondsToTimestamp(row.Int(11));
  if (!row.IsNull(12)) {
    *account.mutable_last_sign_in_time() =
        TimeUtil::MicrosecondsToTimestamp(row.Int(12));
  }
  account.set_etag(EtagOf(row.Int(13)));
  return account;
}

absl::StatusOr<Account> ReadAccount(Session& session, int64_t id, bool lock) {
  SMZ_ASSIGN_OR_RETURN(std::vector<Row> rows,
                       session.Query(absl::StrCat("SELECT ", kAccountColumns,
                                                  " FROM accounts WHERE id = ?",
                                                  lock ? " FOR UPDATE" : ""),
                                     {SqlInt(id)}));
  if (rows.empty()) {
    return absl::NotFoundError(absl::StrCat("account ", id, " does not exist"));
  }
  return AccountFromRow(rows.front());
}

// A unique key's violation, as the field the caller sent.
absl::Status NameDuplicate(const absl::Status& status, const Account& account) {
  if (!absl::IsAlreadyExists(status)) return status;
  if (status.message().find("accounts_email") != absl::string_view::npos) {
    return absl::AlreadyExistsError(absl::StrCat(
        "e-mail address ", account.email(), " belongs to another account"));
  }
  return absl::AlreadyExistsError(
      absl::StrCat("login ", account.login(), " belongs to another account"));
}

absl::Status CheckPartnerForAccount(Session& session, const Account& account) {
  if (account.role() != auth::v1::PARTNER) return absl::OkStatus();
  SMZ_ASSIGN_OR_RETURN(
      std::vector<Row> rows,
      session.Query(
          "SELECT status FROM partners WHERE id = ? LOCK IN SHARE MODE",
          {SqlInt(account.partner_id())}));
  if (rows.empty()) {
    return absl::NotFoundError(
        absl::StrCat("partner ", account.partner_id(), " does not exist"));
  }
  if (rows.front().Text(0) == "REVOKED") {
    return absl::FailedPreconditionError(
        absl::StrCat("partner ", account.partner_id(),
                     " is REVOKED and cannot have accounts"));
  }
  return absl::OkStatus();
}

VersionedTable<Account> AccountRows() {
  VersionedTable<Account> table;
  table.entity = "account";
  table.read = ReadAccount;
  table.etag = [](const Account& a) { return a.etag(); };
  table.insert = [](Session& session, const Account& a,
                    absl::Time now) -> absl::StatusOr<int64_t> {
    SMZ_RETURN_IF_ERROR(CheckPartnerForAccount(session, a));
    const int64_t now_us = absl::ToUnixMicros(now);
    absl::StatusOr<int64_t> inserted = session.Execute(
        "INSERT INTO accounts (login, email, display_name, "
        "preferred_language, role, partner_id, state, invited_by, version, "
        "create_time_us, update_time_us) "
        "VALUES (?, ?, ?, ?, ?, ?, 'ACCOUNT_INVITED', ?, 1, ?, ?)",
        {a.login(), SqlNullIfEmpty(a.email()), a.display_name(),
         a.preferred_language(), auth::v1::Role_Name(a.role()),
         a.role() == auth::v1::PARTNER ? SqlInt(a.partner_id())
                                       : SqlValue(nullptr),
         a.invited_by(), SqlInt(now_us), SqlInt(now_us)});
    if (!inserted.ok()) return NameDuplicate(inserted.status(), a);
    return session.LastInsertId();
  };
  table.write = [](Session& session, const Account& before, const Account& a,
                   absl::Time now) -> absl::Status {
    if (a.role() != before.role() || a.partner_id() != before.partner_id()) {
      SMZ_RETURN_IF_ERROR(CheckPartnerForAccount(session, a));
    }
    absl::StatusOr<int64_t> updated = session.Execute(
        "UPDATE accounts SET email = ?, display_name = ?, "
        "preferred_language = ?, role = ?, partner_id = ?, state = ?, "
        "version = version + 1, update_time_us = ? WHERE id = ?",
        {SqlNullIfEmpty(a.email()), a.display_name(), a.preferred_language(),
         auth::v1::Role_Name(a.role()),
         a.role() == auth::v1::PARTNER ? SqlInt(a.partner_id())
                                       : SqlValue(nullptr),
         v1::AccountState_Name(a.state()), SqlInt(absl::ToUnixMicros(now)),
         SqlInt(a.id())});
    if (!updated.ok()) return NameDuplicate(updated.status(), a);
    return absl::OkStatus();
  };
  // The sign-in time moves with every sign-in; it is no change of the
  // account to audit.
  table.changed_fields = [](const Account& before, const Account& after) {
    Account b = before;
    Account a = after;
    b.clear_last_sign_in_time();
    a.clear_last_sign_in_time();
    return ChangedFields(b, a);
  };
  return table;
}

absl::Status VoidLinks(Session& session, int64_t account_id, absl::Time now) {
  SMZ_RETURN_IF_ERROR(
      session
          .Execute(
              "UPDATE account_links SET used_time_us = ? WHERE account_id = ? "
              "AND used_time_us IS NULL",
              {SqlInt(absl::ToUnixMicros(now)), SqlInt(account_id)})
          .status());
  // A void link's mail, still waiting, goes nowhere: it would carry a dead
  // link, and its token would wait in plain text (account_mail.h keys).
  return session
      .Execute(
          "DELETE FROM mail_outbox WHERE state = ? AND (dedupe_key LIKE ? OR "
          "dedupe_key LIKE ?)",
          {SqlInt(static_cast<int>(OutboxState::kPending)),
           absl::StrCat("account.invited.", account_id, ".%"),
           absl::StrCat("account.reset.", account_id, ".%")})
      .status();
}

// `new_account`: one created in this transaction has no links to void (and
// voiding "them" would lock the gaps past the end of the links' and the
// outbox's indexes, which concurrent invitations then deadlock on).
absl::Status StoreLink(Session& session, const Account& account,
                       const LinkToStore& link, absl::Time now,
                       bool new_account = false) {
  // Only the newest link works: a reset voids the invitation, a retried
  // invitation its first link.
  if (!new_account) SMZ_RETURN_IF_ERROR(VoidLinks(session, account.id(), now));
  SMZ_RETURN_IF_ERROR(
      session
          .Execute(
              "INSERT INTO account_links (token_hash, account_id, purpose, "
              "create_time_us, expire_time_us) VALUES (?, ?, ?, ?, ?)",
              {link.token_hash, SqlInt(account.id()), link.purpose,
               SqlInt(absl::ToUnixMicros(now)),
               SqlInt(absl::ToUnixMicros(link.expire_time))})
          .status());
  if (!link.mail) return absl::OkStatus();
  std::optional<OutgoingMail> mail = link.mail(account);
  if (!mail.has_value()) return absl::OkStatus();
  absl::StatusOr<bool> queued = EnqueueMail(session, *mail, now);
  // An address kept from before addresses were checked for mail: the
  // link is still answered to the administrator.
  if (absl::IsInvalidArgument(queued.status())) {
    Log(LogLevel::kWarning, "account link mail not written",
        {{"account_id", absl::StrCat(account.id())},
         {"error", queued.status().message()}});
    return absl::OkStatus();
  }
  return queued.status();
}

absl::Status EndSessionsIn(Session& session, int64_t account_id,
                           int64_t except_session_id, absl::Time now) {
  return session
      .Execute(
          "UPDATE account_sessions SET end_time_us = ? WHERE account_id = ? "
          "AND end_time_us IS NULL AND id <> ?",
          {SqlInt(absl::ToUnixMicros(now)), SqlInt(account_id),
           SqlInt(except_session_id)})
      .status();
}

absl::Status AuditSignIn(Session& session, int64_t account_id,
                         absl::string_view action,
                         const v1::SignInRecord& record, absl::Time now) {
  return AppendAudit(session, AuditEntry{"sign_in",
                                         account_id,
                                         std::string(action),
                                         "anonymous",
                                         now,
                                         "",
                                         record.SerializeAsString(),
                                         {}});
}

// Abseil 20220623's HexStringToBytes does not check its input.
bool DecodeHex(absl::string_view hex, std::string* bytes) {
  if (hex.size() % 2 != 0) return false;
  for (char c : hex) {
    if (!absl::ascii_isxdigit(static_cast<unsigned char>(c))) return false;
  }
  *bytes = absl::HexStringToBytes(hex);
  return true;
}

absl::StatusOr<std::optional<SignInSubject>> SubjectFrom(
    std::vector<Row> rows) {
  if (rows.empty()) return std::optional<SignInSubject>();
  const Row& row = rows.front();
  SignInSubject subject;
  subject.account = AccountFromRow(row);
  subject.password_hash = row.Text(kAccountColumnCount);
  if (!row.IsNull(kAccountColumnCount + 1)) {
    std::string secret;
    if (!DecodeHex(row.Text(kAccountColumnCount + 1), &secret)) {
      return absl::InternalError("a stored second-factor secret is no hex");
    }
    subject.totp_secret = std::move(secret);
  }
  subject.totp_last_step = row.Int(kAccountColumnCount + 2);
  subject.partner_revoked = row.Text(kAccountColumnCount + 3) == "REVOKED";
  return std::optional<SignInSubject>(std::move(subject));
}

}  // namespace

std::string NewSessionId(RandomSource& random) {
  return absl::StrCat(kSessionIdPrefix,
                      GenerateToken(random).substr(kApiTokenPrefix.size()));
}

std::string NewLinkToken(RandomSource& random) {
  return absl::StrCat(kLinkTokenPrefix,
                      GenerateToken(random).substr(kApiTokenPrefix.size()));
}

std::string RecoveryCodeHash(int64_t account_id, absl::string_view code) {
  return HashToken(absl::StrCat("recovery:", account_id, ":", code));
}

AccountStore::AccountStore(Database* database, const Clock* clock)
    : database_(database), clock_(clock) {}

absl::StatusOr<Account> AccountStore::Invite(const Account& account,
                                             const RequestKey& key,
                                             const LinkToStore& link) {
  return database_->TransactFor<Account>(
      [&](Session& session) -> absl::StatusOr<Account> {
        const WriteContext write{key.caller, clock_->Now()};
        bool created = false;
        SMZ_ASSIGN_OR_RETURN(
            Account stored,
            CreateVersioned<Account>(session, AccountRows(), key, write,
                                     account, nullptr, &created));
        // A retry gets a new link only while the invitation is open: for an
        // account that has set its password since, a link would be a reset
        // without the reset's etag, reason and audit entry.
        if (stored.state() == v1::ACCOUNT_INVITED) {
          SMZ_RETURN_IF_ERROR(StoreLink(session, stored, link, write.now,
                                        /*new_account=*/created));
        }
        return stored;
      });
}

absl::StatusOr<Account> AccountStore::Get(int64_t id) {
  return database_->RunFor<Account>(
      [&](Session& session) { return ReadAccount(session, id, false); });
}

absl::StatusOr<std::vector<Account>> AccountStore::List(
    const AccountQuery& query) {
  using AccountList = std::vector<Account>;
  return database_->RunFor<AccountList>(
      [&](Session& session) -> absl::StatusOr<AccountList> {
        std::string sql = absl::StrCat("SELECT ", kAccountColumns,
                                       " FROM accounts WHERE id > ?");
        std::vector<SqlValue> params = {SqlInt(query.after_id)};
        if (query.role != auth::v1::ROLE_UNSPECIFIED) {
          sql += " AND role = ?";
          params.push_back(auth::v1::Role_Name(query.role));
        }
        if (query.state != v1::ACCOUNT_STATE_UNSPECIFIED) {
          sql += " AND state = ?";
          params.push_back(v1::AccountState_Name(query.state));
        }
        if (query.partner_id != 0) {
          sql += " AND partner_id = ?";
          params.push_back(SqlInt(query.partner_id));
        }
        sql += " ORDER BY id LIMIT ?";
        params.push_back(SqlInt(query.limit));
        SMZ_ASSIGN_OR_RETURN(std::vector<Row> rows, session.Query(sql, params));
        AccountList accounts;
        for (const Row& row : rows) accounts.push_back(AccountFromRow(row));
        return accounts;
      });
}

absl::StatusOr<std::optional<SignInSubject>> AccountStore::FindSubject(
    absl::string_view column, SqlValue value) {
  using Found = std::optional<SignInSubject>;
  return database_->RunFor<Found>(
      [&](Session& session) -> absl::StatusOr<Found> {
        SMZ_ASSIGN_OR_RETURN(
            std::vector<Row> rows,
            session.Query(
                absl::StrCat("SELECT ", kAccountColumns,
                             ", password_hash, totp_secret, totp_last_step, "
                             "(SELECT status FROM partners p WHERE p.id = "
                             "accounts.partner_id) FROM accounts WHERE ",
                             column, " = ?"),
                {std::move(value)}));
        return SubjectFrom(std::move(rows));
      });
}

absl::StatusOr<std::optional<SignInSubject>> AccountStore::FindForSignIn(
    absl::string_view login) {
  return FindSubject("login", std::string(login));
}

absl::StatusOr<std::optional<SignInSubject>> AccountStore::FindForSignInById(
    int64_t id) {
  return FindSubject("id", SqlInt(id));
}

absl::StatusOr<bool> AccountStore::UseTotpStep(int64_t account_id,
                                               int64_t step) {
  return database_->RunFor<bool>([&](Session& session) -> absl::StatusOr<bool> {
    SMZ_ASSIGN_OR_RETURN(
        int64_t changed,
        session.Execute("UPDATE accounts SET totp_last_step = ? WHERE id = ? "
                        "AND totp_last_step < ?",
                        {SqlInt(step), SqlInt(account_id), SqlInt(step)}));
    return changed == 1;
  });
}

absl::StatusOr<bool> AccountStore::UseRecoveryCode(
    int64_t account_id, absl::string_view code_hash) {
  return database_->RunFor<bool>([&](Session& session) -> absl::StatusOr<bool> {
    SMZ_ASSIGN_OR_RETURN(
        int64_t changed,
        session.Execute(
            "UPDATE account_recovery_codes SET used_time_us = ? WHERE "
            "account_id = ? AND code_hash = ? AND used_time_us IS NULL",
            {SqlInt(absl::ToUnixMicros(clock_->Now())), SqlInt(account_id),
             std::string(code_hash)}));
    return changed == 1;
  });
}

absl::StatusOr<Account> AccountStore::StartSession(
    int64_t account_id, const SessionToStore& new_session,
    const v1::SignInRecord& record, absl::string_view new_password_hash) {
  return database_->TransactFor<Account>([&](Session& session)
                                             -> absl::StatusOr<Account> {
    const absl::Time now = clock_->Now();
    const int64_t now_us = absl::ToUnixMicros(now);
    // Disabled between the password check and now: no session.
    SMZ_ASSIGN_OR_RETURN(Account account,
                         ReadAccount(session, account_id, true));
    if (account.state() != v1::ACCOUNT_ACTIVE) {
      return absl::UnauthenticatedError("the account cannot sign in");
    }
    SMZ_RETURN_IF_ERROR(
        session
            .Execute(
                new_password_hash.empty()
                    ? "UPDATE accounts SET last_sign_in_us = ? WHERE id = ?"
                    : "UPDATE accounts SET last_sign_in_us = ?, "
                      "password_hash = ? WHERE id = ?",
                new_password_hash.empty()
                    ? std::vector<SqlValue>{SqlInt(now_us), SqlInt(account_id)}
                    : std::vector<SqlValue>{SqlInt(now_us),
                                            std::string(new_password_hash),
                                            SqlInt(account_id)})
            .status());
    SMZ_RETURN_IF_ERROR(
        session
            .Execute("INSERT INTO account_sessions (session_hash, account_id, "
                     "create_time_us, last_seen_us, expire_time_us, "
                     "client_address) VALUES (?, ?, ?, ?, ?, ?)",
                     {new_session.session_hash, SqlInt(account_id),
                      SqlInt(now_us), SqlInt(now_us),
                      SqlInt(absl::ToUnixMicros(new_session.expire_time)),
                      new_session.client_address})
            .status());
    SMZ_RETURN_IF_ERROR(
        AuditSignIn(session, account_id, "SIGN_IN", record, now));
    return ReadAccount(session, account_id, false);
  });
}

absl::Status AccountStore::RecordRefusedSignIn(int64_t account_id,
                                               const v1::SignInRecord& record) {
  return database_->Transact([&](Session& session) {
    return AuditSignIn(session, account_id,
                       record.outcome() == "LOCKED" ? "LOCKOUT" : "REFUSED",
                       record, clock_->Now());
  });
}

absl::StatusOr<std::optional<Principal>> AccountStore::FindSession(
    absl::string_view session_hash) {
  using Found = std::optional<Principal>;
  return database_->RunFor<Found>([&](Session& session)
                                      -> absl::StatusOr<Found> {
    const absl::Time now = clock_->Now();
    SMZ_ASSIGN_OR_RETURN(
        std::vector<Row> rows,
        session.Query(
            "SELECT s.id, s.account_id, s.last_seen_us, s.expire_time_us, "
            "a.role, a.partner_id, a.display_name, a.state, "
            "a.totp_secret IS NOT NULL, p.status FROM account_sessions s "
            "JOIN accounts a ON a.id = s.account_id LEFT JOIN partners p ON "
            "p.id = a.partner_id WHERE s.session_hash = ? AND "
            "s.end_time_us IS NULL",
            {std::string(session_hash)}));
    if (rows.empty()) return Found();
    const Row& row = rows.front();
    const absl::Time last_seen = absl::FromUnixMicros(row.Int(2));
    // A revoked partner's people lose access with its tokens (its API
    // tokens are revoked; its accounts are kept for a re-designation).
    if (now >= absl::FromUnixMicros(row.Int(3)) ||
        now >= last_seen + kSessionIdleTimeout ||
        row.Text(7) != "ACCOUNT_ACTIVE" || row.Text(9) == "REVOKED") {
      return Found();
    }
    if (last_seen + kSessionTouchInterval <= now) {
      // Best effort: a failed write must not refuse a valid session.
      absl::StatusOr<int64_t> touched = session.Execute(
          "UPDATE account_sessions SET last_seen_us = ? WHERE id = ?",
          {SqlInt(absl::ToUnixMicros(now)), SqlInt(row.Int(0))});
      if (!touched.ok()) {
        Log(LogLevel::kWarning, "session last use not recorded",
            {{"error", touched.status().message()}});
      }
    }
    Principal principal;
    principal.set_session_id(row.Int(0));
    principal.set_account_id(row.Int(1));
    auth::v1::Role role = auth::v1::ROLE_UNSPECIFIED;
    auth::v1::Role_Parse(row.Text(4), &role);
    principal.set_role(role);
    principal.set_partner_id(row.Int(5));
    principal.set_display_name(row.Text(6));
    principal.set_second_factor_required(role == auth::v1::ADMIN &&
                                         row.Int(8) == 0);
    return Found(std::move(principal));
  });
}

absl::Status AccountStore::EndSession(int64_t session_id) {
  return database_->Run([&](Session& session) {
    return session
        .Execute(
            "UPDATE account_sessions SET end_time_us = ? WHERE id = ? AND "
            "end_time_us IS NULL",
            {SqlInt(absl::ToUnixMicros(clock_->Now())), SqlInt(session_id)})
        .status();
  });
}

absl::Status AccountStore::EndSessions(int64_t account_id,
                                       int64_t except_session_id,
                                       absl::string_view action,
                                       absl::string_view actor) {
  return database_->Transact([&](Session& session) -> absl::Status {
    const absl::Time now = clock_->Now();
    // The account's lock, as StartSession takes it: a sign-in racing this
    // either ends with the others or starts after them, never in between.
    SMZ_RETURN_IF_ERROR(ReadAccount(session, account_id, true).status());
    SMZ_RETURN_IF_ERROR(
        EndSessionsIn(session, account_id, except_session_id, now));
    return AppendAudit(session, AuditEntry{"account",
                                           account_id,
                                           std::string(action),
                                           std::string(actor),
                                           now,
                                           "",
                                           "",
                                           {}});
  });
}

absl::Status AccountStore::CheckLink(absl::string_view token_hash) {
  return database_->Run([&](Session& session) -> absl::Status {
    SMZ_ASSIGN_OR_RETURN(
        std::vector<Row> links,
        session.Query("SELECT id FROM account_links WHERE token_hash = ? AND "
                      "used_time_us IS NULL AND expire_time_us > ?",
                      {std::string(token_hash),
                       SqlInt(absl::ToUnixMicros(clock_->Now()))}));
    if (links.empty()) return absl::UnauthenticatedError(kUnusableLink);
    return absl::OkStatus();
  });
}

absl::StatusOr<Account> AccountStore::SetPasswordWithLink(
    absl::string_view token_hash, absl::string_view password_hash) {
  return database_->TransactFor<Account>([&](Session& session)
                                             -> absl::StatusOr<Account> {
    const absl::Time now = clock_->Now();
    const int64_t now_us = absl::ToUnixMicros(now);
    SMZ_ASSIGN_OR_RETURN(
        std::vector<Row> links,
        session.Query("SELECT id, account_id, purpose FROM account_links "
                      "WHERE token_hash = ? AND used_time_us IS NULL AND "
                      "expire_time_us > ? FOR UPDATE",
                      {std::string(token_hash), SqlInt(now_us)}));
    if (links.empty()) {
      return absl::UnauthenticatedError(kUnusableLink);
    }
    const int64_t account_id = links.front().Int(1);
    const std::string purpose = links.front().Text(2);
    SMZ_RETURN_IF_ERROR(
        session
            .Execute("UPDATE account_links SET used_time_us = ? WHERE id = ?",
                     {SqlInt(now_us), SqlInt(links.front().Int(0))})
            .status());
    // The link is the credential: whoever holds it acts.
    const WriteContext write{"anonymous", now};
    return ModifyVersioned<Account>(
        session, AccountRows(), account_id, "",
        purpose == kInviteLinkPurpose ? "ACCEPT_INVITATION" : "SET_PASSWORD",
        write,
        [&](Session& s, Account& account) -> absl::Status {
          if (account.state() == v1::ACCOUNT_DISABLED) {
            return absl::FailedPreconditionError(
                "this account is disabled: ask the district's "
                "administrator to enable it");
          }
          account.set_state(v1::ACCOUNT_ACTIVE);
          SMZ_RETURN_IF_ERROR(
              s.Execute("UPDATE accounts SET password_hash = ? WHERE id = ?",
                        {std::string(password_hash), SqlInt(account_id)})
                  .status());
          return EndSessionsIn(s, account_id, 0, now);
        },
        /*record_unchanged=*/true);
  });
}

absl::StatusOr<Account> AccountStore::Modify(
    int64_t id, const Change& change,
    absl::FunctionRef<absl::Status(Account&)> mutate) {
  return database_->TransactFor<Account>([&](Session& session)
                                             -> absl::StatusOr<Account> {
    const WriteContext write{std::string(change.actor), clock_->Now()};
    size_t admins_before = 0;
    if (change.keep_an_admin) {
      // Every ACTIVE ADMIN account is locked first, in id order, so two
      // administrators demoting each other at once are serialized.
      SMZ_ASSIGN_OR_RETURN(
          std::vector<Row> admins,
          session.Query("SELECT id FROM accounts WHERE role = 'ADMIN' AND "
                        "state = 'ACCOUNT_ACTIVE' ORDER BY id FOR UPDATE",
                        {}));
      admins_before = admins.size();
    }
    SMZ_ASSIGN_OR_RETURN(
        Account changed,
        ModifyVersioned<Account>(
            session, AccountRows(), id, change.etag, change.action, write,
            [&](Session& s, Account& account) -> absl::Status {
              SMZ_RETURN_IF_ERROR(mutate(account));
              if (change.clear_password) {
                SMZ_RETURN_IF_ERROR(
                    s.Execute("UPDATE accounts SET password_hash = NULL WHERE "
                              "id = ?",
                              {SqlInt(id)})
                        .status());
              }
              if (change.clear_second_factor) {
                SMZ_RETURN_IF_ERROR(
                    s.Execute("UPDATE accounts SET totp_secret = NULL, "
                              "totp_pending_secret = NULL, totp_last_step = 0 "
                              "WHERE id = ?",
                              {SqlInt(id)})
                        .status());
                SMZ_RETURN_IF_ERROR(
                    s.Execute("DELETE FROM account_recovery_codes WHERE "
                              "account_id = ?",
                              {SqlInt(id)})
                        .status());
              }
              if (change.void_links) {
                SMZ_RETURN_IF_ERROR(VoidLinks(s, id, write.now));
              }
              if (!change.password_hash.empty()) {
                SMZ_RETURN_IF_ERROR(
                    s.Execute("UPDATE accounts SET password_hash = ? WHERE id "
                              "= ?",
                              {std::string(change.password_hash), SqlInt(id)})
                        .status());
              }
              if (change.link != nullptr) {
                SMZ_RETURN_IF_ERROR(
                    StoreLink(s, account, *change.link, write.now));
              }
              if (change.end_sessions) {
                SMZ_RETURN_IF_ERROR(
                    EndSessionsIn(s, id, change.keep_session_id, write.now));
              }
              return absl::OkStatus();
            },
            /*record_unchanged=*/true));
    if (change.keep_an_admin) {
      SMZ_ASSIGN_OR_RETURN(
          std::vector<Row> admins,
          session.Query("SELECT COUNT(*) FROM accounts WHERE role = "
                        "'ADMIN' AND state = 'ACCOUNT_ACTIVE'",
                        {}));
      // A deployment still run with tokens alone has none to keep.
      if (admins_before > 0 && admins.front().Int(0) == 0) {
        return absl::FailedPreconditionError(
            "this would leave no active ADMIN account");
      }
    }
    return changed;
  });
}

absl::Status AccountStore::SetPendingSecondFactor(int64_t account_id,
                                                  absl::string_view secret) {
  return database_->Run([&](Session& session) -> absl::Status {
    SMZ_ASSIGN_OR_RETURN(
        int64_t changed,
        session.Execute(
            "UPDATE accounts SET totp_pending_secret = ? WHERE id = ?",
            {absl::BytesToHexString(secret), SqlInt(account_id)}));
    if (changed != 1) {
      return absl::NotFoundError(
          absl::StrCat("account ", account_id, " does not exist"));
    }
    return absl::OkStatus();
  });
}

absl::StatusOr<std::string> AccountStore::PendingSecondFactor(
    int64_t account_id) {
  return database_->RunFor<std::string>(
      [&](Session& session) -> absl::StatusOr<std::string> {
        SMZ_ASSIGN_OR_RETURN(
            std::vector<Row> rows,
            session.Query(
                "SELECT totp_pending_secret FROM accounts WHERE id = ?",
                {SqlInt(account_id)}));
        std::string secret;
        if (rows.empty() || rows.front().IsNull(0) ||
            !DecodeHex(rows.front().Text(0), &secret)) {
          return absl::FailedPreconditionError(
              "no second factor awaits confirmation: call EnrolSecondFactor "
              "first");
        }
        return secret;
      });
}

absl::StatusOr<Account> AccountStore::ConfirmSecondFactor(
    int64_t account_id, absl::string_view secret, int64_t step,
    const std::vector<std::string>& recovery_code_hashes,
    absl::string_view actor, int64_t keep_session_id) {
  return database_->TransactFor<Account>(
      [&](Session& session) -> absl::StatusOr<Account> {
        const absl::Time now = clock_->Now();
        const std::string hex = absl::BytesToHexString(secret);
        SMZ_ASSIGN_OR_RETURN(Account before,
                             ReadAccount(session, account_id, true));
        SMZ_ASSIGN_OR_RETURN(
            int64_t changed,
            session.Execute(
                "UPDATE accounts SET totp_secret = totp_pending_secret, "
                "totp_pending_secret = NULL, totp_last_step = ?, "
                "version = version + 1, update_time_us = ? WHERE id = ? AND "
                "totp_pending_secret = ?",
                {SqlInt(step), SqlInt(absl::ToUnixMicros(now)),
                 SqlInt(account_id), hex}));
        if (changed != 1) {
          return absl::FailedPreconditionError(
              "the second factor awaiting confirmation was replaced: enrol "
              "again");
        }
        SMZ_RETURN_IF_ERROR(
            session
                .Execute(
                    "DELETE FROM account_recovery_codes WHERE account_id = ?",
                    {SqlInt(account_id)})
                .status());
        for (const std::string& hash : recovery_code_hashes) {
          SMZ_RETURN_IF_ERROR(
              session
                  .Execute("INSERT INTO account_recovery_codes (account_id, "
                           "code_hash) VALUES (?, ?)",
                           {SqlInt(account_id), hash})
                  .status());
        }
        if (before.second_factor_enrolled()) {
          // A factor replaced: whoever else holds a session may have
          // replaced it, or may know the old one.
          SMZ_RETURN_IF_ERROR(
              EndSessionsIn(session, account_id, keep_session_id, now));
        }
        SMZ_ASSIGN_OR_RETURN(Account after,
                             ReadAccount(session, account_id, false));
        SMZ_RETURN_IF_ERROR(
            AppendAudit(session, AuditEntry{"account",
                                            account_id,
                                            "ENROL_SECOND_FACTOR",
                                            std::string(actor),
                                            now,
                                            before.SerializeAsString(),
                                            after.SerializeAsString(),
                                            {"second_factor_enrolled"}}));
        return after;
      });
}

absl::StatusOr<audit::v1::ListChangesResponse> AccountStore::ListChanges(
    const audit::v1::ListChangesRequest& request) {
  static const auto* const kEntities =
      new AuditedEntities{{"account", Account::descriptor()},
                          {"sign_in", v1::SignInRecord::descriptor()}};
  return smz::ListChanges(*database_, *kEntities, request);
}

}  // namespace smz::registry
