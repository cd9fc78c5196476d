#include "services/registry/registry_schema.h"

#include "common/aip/idempotency.h"
#include "common/mail/outbox.h"
#include "common/mysql/audit.h"
#include "common/mysql/write_stamps.h"

namespace smz::registry {

// Long by design: the schema's history, one migration after another (data, not
// logic; applied migrations never change).
const std::vector<Migration>& RegistryMigrations() {
  static const auto* const kMigrations = new std::vector<Migration>{
      {1,
       "partners, designations, grants, tokens, idempotency keys",
       {
           // `profile` holds the editable Partner fields as a serialized
           // smz.registry.v1.Partner (read it with the API or smzctl); the
           // columns beside it are the ones queries filter and sort on.
           "CREATE TABLE IF NOT EXISTS partners ("
           " id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,"
           " kind VARCHAR(32) NOT NULL,"
           " status VARCHAR(16) NOT NULL,"
           " region VARCHAR(32) NOT NULL,"
           " name_ko VARCHAR(200) NOT NULL,"
           " floor_area_m2 DECIMAL(12,2) NOT NULL,"
           " registration_number VARCHAR(64) NULL,"
           " registration_expires_on DATE NULL,"
           " term_ends_on DATE NULL,"
           " profile MEDIUMBLOB NOT NULL,"
           " version BIGINT NOT NULL,"
           " create_time_us BIGINT NOT NULL,"
           " update_time_us BIGINT NOT NULL,"
           " UNIQUE KEY partners_registration_number (registration_number),"
           " KEY partners_kind_status (kind, status),"
           " KEY partners_region (region),"
           " KEY partners_name (name_ko, id),"
           " KEY partners_floor_area (floor_area_m2, id),"
           " KEY partners_update_time (update_time_us, id),"
           " KEY partners_term (term_ends_on),"
           " KEY partners_registration_expiry (registration_expires_on)"
           ") ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci",
           "CREATE TABLE IF NOT EXISTS partner_departments ("
           " partner_id BIGINT NOT NULL,"
           " code VARCHAR(40) NOT NULL,"
           " PRIMARY KEY (partner_id, code),"
           " KEY partner_departments_code (code, partner_id),"
           " CONSTRAINT partner_departments_partner FOREIGN KEY (partner_id)"
           "  REFERENCES partners (id) ON DELETE CASCADE"
           ") ENGINE=InnoDB DEFAULT CHARSET=utf8mb4",
           "CREATE TABLE IF NOT EXISTS partner_languages ("
           " partner_id BIGINT NOT NULL,"
           " code VARCHAR(8) NOT NULL,"
           " PRIMARY KEY (partner_id, code),"
           " KEY partner_languages_code (code, partner_id),"
           " CONSTRAINT partner_languages_partner FOREIGN KEY (partner_id)"
           "  REFERENCES partners (id) ON DELETE CASCADE"
           ") ENGINE=InnoDB DEFAULT CHARSET=utf8mb4",
           "CREATE TABLE IF NOT EXISTS designation_events ("
           " id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,"
           " partner_id BIGINT NOT NULL,"
           " action VARCHAR(24) NOT NULL,"
           " effective_on DATE NOT NULL,"
           " term_ends_on DATE NULL,"
           " reason TEXT NOT NULL,"
           " decision_ref VARCHAR(100) NOT NULL,"
           " recorded_by VARCHAR(100) NOT NULL,"
           " record_time_us BIGINT NOT NULL,"
           " KEY designation_events_partner (partner_id, id),"
           " KEY designation_events_effective_on (effective_on),"
           " CONSTRAINT designation_events_partner FOREIGN KEY (partner_id)"
           "  REFERENCES partners (id)"
           ") ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci",
           "CREATE TABLE IF NOT EXISTS grants ("
           " id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,"
           " partner_id BIGINT NOT NULL,"
           " year INT NOT NULL,"
           " programme VARCHAR(32) NOT NULL,"
           " amount_krw BIGINT NOT NULL,"
           " purpose JSON NOT NULL,"
           " create_time_us BIGINT NOT NULL,"
           " KEY grants_partner_year (partner_id, year),"
           " KEY grants_year (year, programme),"
           " CONSTRAINT grants_partner FOREIGN KEY (partner_id)"
           "  REFERENCES partners (id)"
           ") ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci",
           // Only the SHA-256 of a token is stored.
           "CREATE TABLE IF NOT EXISTS api_tokens ("
           " id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,"
           " token_hash CHAR(64) NOT NULL,"
           " role VARCHAR(16) NOT NULL,"
           " partner_id BIGINT NULL,"
           " display_name VARCHAR(200) NOT NULL,"
           " created_by VARCHAR(100) NOT NULL,"
           " create_time_us BIGINT NOT NULL,"
           " revoke_time_us BIGINT NULL,"
           " UNIQUE KEY api_tokens_hash (token_hash),"
           " KEY api_tokens_partner (partner_id),"
           " CONSTRAINT api_tokens_partner FOREIGN KEY (partner_id)"
           "  REFERENCES partners (id)"
           ") ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci",
           // A retried create finds its first result here.
           "CREATE TABLE IF NOT EXISTS idempotency_keys ("
           " method VARCHAR(64) NOT NULL,"
           " request_id VARCHAR(64) NOT NULL,"
           " request_hash CHAR(64) NOT NULL,"
           " resource_id BIGINT NOT NULL,"
           " create_time_us BIGINT NOT NULL,"
           " PRIMARY KEY (method, request_id)"
           ") ENGINE=InnoDB DEFAULT CHARSET=utf8mb4",
       }},
      {2, "audit trail of partner changes", {kAuditTableDdl}},
      // CountPartners reads this index alone, not the rows with profiles.
      {3,
       "partners counted by status, kind and region",
       {"CREATE INDEX partners_status_kind_region ON partners "
        "(status, kind, region)"}},
      {4,
       "token expiry and last use",
       {"ALTER TABLE api_tokens ADD COLUMN expire_time_us BIGINT NULL, "
        "ADD COLUMN last_use_time_us BIGINT NULL"}},
      // The one request-key table (common/aip/idempotency.h), keyed by
      // caller as well. Keys stored before had no caller: a partner's comes
      // from its CREATE audit entry; grants were not audited, so theirs are
      // kept under "*", which CreateGrant and CreatePartner still consult
      // (LookUpLegacyKey in registry_store.cc): a retry across the upgrade
      // gets its first answer.
      {5,
       "one request-key table for every service, keyed by caller",
       {
           kRequestKeysTableDdl,
           "INSERT IGNORE INTO request_keys (caller, method, request_id, "
           "request_digest, result_id, response, create_us) SELECT "
           "COALESCE((SELECT a.actor FROM audit_events a WHERE "
           "k.method = 'CreatePartner' AND a.entity = 'partner' AND "
           "a.entity_id = k.resource_id AND a.action = 'CREATE' LIMIT 1), "
           "'*'), "
           "k.method, k.request_id, k.request_hash, k.resource_id, NULL, "
           "k.create_time_us FROM idempotency_keys k",
       }},
      // Apart from the copy, so that a start interrupted between the two
      // runs each again safely (DDL commits by itself).
      {6,
       "the old idempotency table dropped (its keys are in request_keys)",
       {"DROP TABLE IF EXISTS idempotency_keys"}},
      // Failed sign-ins per login name (hashed) and per client address
      // (sign_in_throttle.h); times in microseconds, 0: none.
      {7,
       "failed sign-ins per login and client address",
       {"CREATE TABLE IF NOT EXISTS sign_in_throttle ("
        " subject VARCHAR(100) NOT NULL PRIMARY KEY,"
        " failures INT NOT NULL,"
        " last_failure_us BIGINT NOT NULL,"
        " locked_until_us BIGINT NOT NULL,"
        " KEY sign_in_throttle_age (last_failure_us)"
        ") ENGINE=InnoDB DEFAULT CHARSET=ascii COLLATE=ascii_bin"}},
      // People's accounts (account_store.h). Credentials are hashes:
      // passwords Argon2id strings, links, sessions and recovery codes
      // SHA-256. The TOTP secret must be usable, so it is kept as it is
      // (hex); encrypting it at rest waits for the secrets of issue 17.
      {8,
       "accounts, their one-time links, sessions and recovery codes",
       {
           "CREATE TABLE IF NOT EXISTS accounts ("
           " id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,"
           // Compared byte for byte: a case- or accent-blind collation
           // would let "KIM" or "kím" find kim's row past kim's throttle.
           " login VARCHAR(64) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,"
           " email VARCHAR(254) NULL,"
           " display_name VARCHAR(400) NOT NULL,"
           " preferred_language VARCHAR(8) NOT NULL,"
           " role VARCHAR(16) NOT NULL,"
           " partner_id BIGINT NULL,"
           " state VARCHAR(16) NOT NULL,"
           " password_hash VARCHAR(255) NULL,"
           " totp_secret VARCHAR(40) NULL,"
           " totp_pending_secret VARCHAR(40) NULL,"
           " totp_last_step BIGINT NOT NULL DEFAULT 0,"
           " invited_by VARCHAR(100) NOT NULL,"
           " version BIGINT NOT NULL,"
           " create_time_us BIGINT NOT NULL,"
           " update_time_us BIGINT NOT NULL,"
           " last_sign_in_us BIGINT NULL,"
           " UNIQUE KEY accounts_login (login),"
           " UNIQUE KEY accounts_email (email),"
           " KEY accounts_role_state (role, state),"
           " KEY accounts_partner (partner_id),"
           " CONSTRAINT accounts_partner FOREIGN KEY (partner_id)"
           "  REFERENCES partners (id)"
           ") ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci",
           "CREATE TABLE IF NOT EXISTS account_links ("
           " id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,"
           " token_hash CHAR(64) NOT NULL,"
           " account_id BIGINT NOT NULL,"
           " purpose VARCHAR(16) NOT NULL,"
           " create_time_us BIGINT NOT NULL,"
           " expire_time_us BIGINT NOT NULL,"
           " used_time_us BIGINT NULL,"
           " UNIQUE KEY account_links_token (token_hash),"
           " KEY account_links_account (account_id),"
           " CONSTRAINT account_links_account FOREIGN KEY (account_id)"
           "  REFERENCES accounts (id)"
           ") ENGINE=InnoDB DEFAULT CHARSET=ascii COLLATE=ascii_bin",
           "CREATE TABLE IF NOT EXISTS account_sessions ("
           " id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,"
           " session_hash CHAR(64) NOT NULL,"
           " account_id BIGINT NOT NULL,"
           " create_time_us BIGINT NOT NULL,"
           " last_seen_us BIGINT NOT NULL,"
           " expire_time_us BIGINT NOT NULL,"
           " end_time_us BIGINT NULL,"
           " client_address VARCHAR(45) NOT NULL,"
           " UNIQUE KEY account_sessions_hash (session_hash),"
           " KEY account_sessions_account (account_id, end_time_us),"
           " CONSTRAINT account_sessions_account FOREIGN KEY (account_id)"
           "  REFERENCES accounts (id)"
           ") ENGINE=InnoDB DEFAULT CHARSET=ascii COLLATE=ascii_bin",
           "CREATE TABLE IF NOT EXISTS account_recovery_codes ("
           " account_id BIGINT NOT NULL,"
           " code_hash CHAR(64) NOT NULL,"
           " used_time_us BIGINT NULL,"
           " PRIMARY KEY (account_id, code_hash),"
           " CONSTRAINT account_recovery_codes_account FOREIGN KEY"
           "  (account_id) REFERENCES accounts (id)"
           ") ENGINE=InnoDB DEFAULT CHARSET=ascii COLLATE=ascii_bin",
       }},
      // Account invitations and password resets go by mail too
      // (account_mail.h), written with the link they carry.
      {9,
       "mail outbox (account links)",
       {kMailOutboxTableDdl, kMailOutboxEraseDdl, kMailOutboxQrDdl}},
      // deploy/backup/backup.sh ends each backup with a pending mark (and
      // this same statement, for a backup of an older schema): the first
      // start after its restore reviews credentials
      // (RegistryStore::ReviewAfterRestore).
      {10, "restore marks", {kRestoreMarksTableDdl}},
      // The directory's stamp, changed by every partner write in its
      // transaction: the registries' caches of the directory are exact
      // (RegistryStore::DirectoryCache).
      {11,
       "directory stamp",
       {"CREATE TABLE IF NOT EXISTS directory_version ("
        " id TINYINT NOT NULL PRIMARY KEY,"
        " stamp CHAR(36) NOT NULL"
        ") ENGINE=InnoDB DEFAULT CHARSET=ascii COLLATE=ascii_bin",
        "INSERT IGNORE INTO directory_version (id, stamp) VALUES (1, UUID())"}},
      // Leases on the stamp above (common/mysql/write_stamps.h): readers
      // answer from memory for a few milliseconds without asking for it,
      // and writers that move it wait out the leases before acknowledging.
      {12, "stamp leases", {kStampLeaseTableDdl, kStampLeaseSeedSql}},
  };
  return *kMigrations;
}

}  // namespace smz::registry
