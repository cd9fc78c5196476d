#include "common/aip/idempotency.h"

#include <vector>

#include "absl/strings/str_cat.h"
#include "common/aip/status_macros.h"
#include "common/status_util.h"

namespace smz {
namespace {

absl::Status ReusedKey() {
  return InvalidField("request_id",
                      "was already used for a different request; use a new "
                      "request_id for a new request");
}

}  // namespace

absl::StatusOr<std::optional<FirstAnswer>> LookUpRequest(
    Session& session, const RequestKey& key) {
  if (key.request_id.empty()) return std::nullopt;
  SMZ_ASSIGN_OR_RETURN(
      std::vector<Row> seen,
      session.Query("SELECT request_digest, result_id, response, response IS "
                    "NULL FROM request_keys WHERE caller = ? AND method = ? "
                    "AND request_id = ?",
                    {key.caller, key.method, key.request_id}));
  if (seen.empty()) return std::nullopt;
  const Row& row = seen.front();
  if (row.Text(0) != key.digest) return ReusedKey();
  if (row.Int(1) == 0 && row.Int(3) == 1) {
    // Claimed by a transaction that has not committed its answer yet.
    return RetryableAbort(absl::StrCat(key.method, ": request_id '",
                                       key.request_id,
                                       "' is claimed but not yet answered"));
  }
  // The first answer's transaction may still be waiting out readers'
  // leases on a stamp it moved (write_stamps.h); a replay acknowledged
  // before it would let a reader answer without the write, so it waits too.
  session.MarkStampMoved();
  return FirstAnswer{row.Int(1), row.Text(2)};
}

absl::StatusOr<std::optional<FirstAnswer>> ClaimRequest(Session& session,
                                                        const RequestKey& key,
                                                        absl::Time now) {
  if (key.request_id.empty()) return std::nullopt;
  absl::StatusOr<int64_t> claimed = session.Execute(
      "INSERT INTO request_keys (caller, method, request_id, request_digest, "
      "result_id, response, create_us) VALUES (?, ?, ?, ?, 0, NULL, ?)",
      {key.caller, key.method, key.request_id, key.digest,
       SqlInt(absl::ToUnixMicros(now))});
  if (claimed.ok()) return std::nullopt;
  if (!absl::IsAlreadyExists(claimed.status())) return claimed.status();
  // The key exists and is committed (the insert waited for its owner).
  absl::StatusOr<std::optional<FirstAnswer>> first =
      LookUpRequest(session, key);
  if (first.ok() && !first->has_value()) {
    return RetryableAbort("request key vanished while claimed");
  }
  return first;
}

std::vector<SqlValue> RequestKeyRowValues(const RequestKey& key,
                                          int64_t result_id,
                                          absl::string_view response,
                                          absl::Time now) {
  return {key.caller,
          key.method,
          key.request_id,
          key.digest,
          SqlInt(result_id),
          std::string(response),
          SqlInt(absl::ToUnixMicros(now))};
}

absl::Status KeyRecordedByTwinError(absl::string_view method) {
  return RetryableAbort(absl::StrCat(
      method, ": a concurrent request with this request_id finished first"));
}

absl::Status RecordRequest(Session& session, const RequestKey& key,
                           int64_t result_id, absl::string_view response,
                           absl::Time now) {
  if (key.request_id.empty()) return absl::OkStatus();
  absl::Status recorded =
      session
          .Execute(
              absl::StrCat(kRequestKeyInsertHead, kRequestKeyRowPlaceholders),
              RequestKeyRowValues(key, result_id, response, now))
          .status();
  if (absl::IsAlreadyExists(recorded))
    return KeyRecordedByTwinError(key.method);
  return recorded;
}

absl::Status SetRequestResult(Session& session, const RequestKey& key,
                              int64_t result_id, absl::string_view response) {
  if (key.request_id.empty()) return absl::OkStatus();
  return session
      .Execute(
          "UPDATE request_keys SET result_id = ?, response = ? WHERE "
          "caller = ? AND method = ? AND request_id = ?",
          {SqlInt(result_id), std::string(response), key.caller, key.method,
           key.request_id})
      .status();
}

}  // namespace smz
