// AIP-155 request ids for writes in a service's own database: the first
// request with a (caller, method, request_id) key does the work and records
// its result id; a retry with the same key gets that id back, and a
// different request under a used key is INVALID_ARGUMENT.
//
//   // In the service's migrations:
//   {1, "...", {..., smz::kIdempotencyTableDdl}},
//
//   // Inside the write's transaction, before anything else:
//   smz::RequestKey key{caller_label, "CreateProject", request.request_id(),
//                       smz::RequestDigest(request_without_id)};
//   absl::StatusOr<std::optional<int64_t>> first =
//       smz::ClaimRequest(session, key, now);
//   if (!first.ok()) return first.status();
//   if (first->has_value()) return Load(session, **first);   // a retry
//   ... insert, get the new id ...
//   if (absl::Status s = smz::SetRequestResult(session, key, id); !s.ok())
//     return s;
//
// The key is claimed by an INSERT, not looked up first: a concurrent retry
// waits on the claim and, once the first commits, reads its result (the
// transaction is re-run, see RetryableAbort), and the transaction takes no
// consistent-read snapshot before its own locks.
#ifndef SMZ_COMMON_MYSQL_IDEMPOTENCY_H_
#define SMZ_COMMON_MYSQL_IDEMPOTENCY_H_

#include <cstdint>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "common/mysql/database.h"
#include "google/protobuf/message.h"

namespace smz {

inline constexpr char kIdempotencyTableDdl[] =
    "CREATE TABLE IF NOT EXISTS idempotency_keys ("
    " caller VARCHAR(100) NOT NULL,"
    " request_id VARCHAR(64) NOT NULL,"
    " method VARCHAR(40) NOT NULL,"
    " request_digest CHAR(64) NOT NULL,"
    " result_id BIGINT NOT NULL,"
    " create_us BIGINT NOT NULL,"
    " PRIMARY KEY (caller, method, request_id)"
    ") ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin";

struct RequestKey {
  std::string caller;      // a principal label
  std::string method;      // e.g. "CreateProject"
  std::string request_id;  // empty: the write is not idempotent
  std::string digest;      // RequestDigest of the request without its id
};

// SHA-256 (hex) of the message's deterministic serialization.
std::string RequestDigest(const google::protobuf::Message& message);

// nullopt: the request is new (its key is now claimed, result 0); a value:
// the first request's result. INVALID_ARGUMENT on "request_id" when the key
// was used for a different request.
absl::StatusOr<std::optional<int64_t>> ClaimRequest(Session& session,
                                                    const RequestKey& key,
                                                    absl::Time now);

// Records the claimed request's result. No-op without a request_id.
absl::Status SetRequestResult(Session& session, const RequestKey& key,
                              int64_t result_id);

}  // namespace smz

#endif  // SMZ_COMMON_MYSQL_IDEMPOTENCY_H_
