// One idempotency table for every smz service (AIP-155): the first request
// under a (caller, method, request_id) key does the work and records its
// answer; a retry under that key gets the first answer back, and another
// request under a used key is INVALID_ARGUMENT on "request_id".
//
//   // In the service's migrations (once):
//   {5, "request keys", {smz::kRequestKeysTableDdl}},
//
//   // Inside the write's transaction, before anything else:
//   SMZ_ASSIGN_OR_RETURN(std::optional<smz::FirstAnswer> first,
//                        smz::ClaimRequest(session, key, now));
//   if (first.has_value()) return Load(session, first->result_id);  // retry
//   ... insert, get the new id ...
//   SMZ_RETURN_IF_ERROR(smz::SetRequestResult(session, key, id));
//
// A method whose answer is not a stored resource keeps the answer itself
// (SetRequestResult's `response`, a serialized message). Writes that already
// hold a lock of their own use LookUpRequest and RecordRequest instead.
//
// The key is claimed by an INSERT, not looked up first: a concurrent twin
// waits on the claim and, once the first commits, reads its answer (it runs
// its transaction again, see RetryableAbort), and the transaction takes no
// consistent-read snapshot before its own locks. Keys are kept: a retry may
// come at any time.
#ifndef SMZ_COMMON_AIP_IDEMPOTENCY_H_
#define SMZ_COMMON_AIP_IDEMPOTENCY_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "common/aip/request_key.h"
#include "common/mysql/database.h"

namespace smz {

inline constexpr char kRequestKeysTableDdl[] =
    "CREATE TABLE IF NOT EXISTS request_keys ("
    " caller VARCHAR(100) NOT NULL,"
    " method VARCHAR(64) NOT NULL,"
    " request_id VARCHAR(64) NOT NULL,"
    " request_digest CHAR(64) NOT NULL,"
    " result_id BIGINT NOT NULL,"
    " response MEDIUMBLOB NULL,"
    " create_us BIGINT NOT NULL,"
    " PRIMARY KEY (caller, method, request_id)"
    ") ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin";

// The table events and programme kept their keys in before request_keys, as
// their first migrations created it: never edit (migrations are
// checksummed).
inline constexpr char kLegacyIdempotencyKeysDdl[] =
    "CREATE TABLE IF NOT EXISTS idempotency_keys ("
    " caller VARCHAR(100) NOT NULL,"
    " request_id VARCHAR(64) NOT NULL,"
    " method VARCHAR(40) NOT NULL,"
    " request_digest CHAR(64) NOT NULL,"
    " result_id BIGINT NOT NULL,"
    " create_us BIGINT NOT NULL,"
    " PRIMARY KEY (caller, method, request_id)"
    ") ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin";

// For a service whose old `idempotency_keys` table was already keyed by
// (caller, method, request_id) (events, programme): its keys, copied into
// request_keys by a migration.
inline constexpr char kCopyCallerKeyedIdempotencyKeys[] =
    "INSERT IGNORE INTO request_keys (caller, method, request_id, "
    "request_digest, result_id, response, create_us) SELECT caller, "
    "method, request_id, request_digest, result_id, NULL, create_us "
    "FROM idempotency_keys";

// What the first request under a key answered.
struct FirstAnswer {
  int64_t result_id = 0;  // the resource it created or changed
  std::string response;   // a serialized answer, when one was kept
};

// nullopt: the request is new and its key is now claimed. A value: the
// first request's answer. INVALID_ARGUMENT on "request_id" when the key was
// used for a different request. Without a request_id: nullopt, nothing
// stored.
absl::StatusOr<std::optional<FirstAnswer>> ClaimRequest(Session& session,
                                                        const RequestKey& key,
                                                        absl::Time now);

// ClaimRequest without claiming: for a dry run, which must still refuse a
// used key and show what a retry would answer. A plain read: a locking one
// of a missing key would lock the gap where concurrent writers insert
// their own keys, and deadlock them.
absl::StatusOr<std::optional<FirstAnswer>> LookUpRequest(Session& session,
                                                         const RequestKey& key);

// For writes already serialized by a lock of their own (a report's row, an
// event's row): LookUpRequest after taking that lock, and RecordRequest with
// the answer at the end, one statement instead of a claim and an update. A
// twin that committed first makes RecordRequest a RetryableAbort: the
// transaction runs again and finds the twin's answer.
absl::Status RecordRequest(Session& session, const RequestKey& key,
                           int64_t result_id, absl::string_view response,
                           absl::Time now);

// RecordRequest for many keys in one multi-row statement (a group of report
// submissions): the INSERT up to VALUES, one row's placeholders, a key's
// values in their order. Give no row to a key without a request_id
// (RecordRequest skips those). When the statement fails with
// ALREADY_EXISTS, a twin committed first: KeyRecordedByTwinError() is what
// RecordRequest answers then. A writer that records keys late like this
// must write them before it looks up the same key again in the same
// transaction: LookUpRequest reads only the table.
inline constexpr char kRequestKeyInsertHead[] =
    "INSERT INTO request_keys (caller, method, request_id, request_digest, "
    "result_id, response, create_us) VALUES ";
inline constexpr char kRequestKeyRowPlaceholders[] = "(?, ?, ?, ?, ?, ?, ?)";
std::vector<SqlValue> RequestKeyRowValues(const RequestKey& key,
                                          int64_t result_id,
                                          absl::string_view response,
                                          absl::Time now);
absl::Status KeyRecordedByTwinError(absl::string_view method);

// Records the claimed request's answer. No-op without a request_id.
absl::Status SetRequestResult(Session& session, const RequestKey& key,
                              int64_t result_id,
                              absl::string_view response = {});

}  // namespace smz

#endif  // SMZ_COMMON_AIP_IDEMPOTENCY_H_
