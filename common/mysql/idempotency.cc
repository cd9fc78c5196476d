#include "common/mysql/idempotency.h"

#include "absl/strings/str_cat.h"
#include "common/auth/token.h"
#include "common/status_util.h"
#include "google/protobuf/io/coded_stream.h"
#include "google/protobuf/io/zero_copy_stream_impl_lite.h"

namespace smz {

std::string RequestDigest(const google::protobuf::Message& message) {
  std::string bytes;
  {
    google::protobuf::io::StringOutputStream stream(&bytes);
    google::protobuf::io::CodedOutputStream coded(&stream);
    coded.SetSerializationDeterministic(true);
    message.SerializeToCodedStream(&coded);
  }
  return HashToken(bytes);
}

absl::StatusOr<std::optional<int64_t>> ClaimRequest(Session& session,
                                                    const RequestKey& key,
                                                    absl::Time now) {
  if (key.request_id.empty()) return std::nullopt;
  absl::StatusOr<int64_t> claimed = session.Execute(
      "INSERT INTO idempotency_keys (caller, request_id, method, "
      "request_digest, result_id, create_us) VALUES (?, ?, ?, ?, 0, ?)",
      {key.caller, key.request_id, key.method, key.digest,
       SqlInt(absl::ToUnixMicros(now))});
  if (claimed.ok()) return std::nullopt;
  if (!absl::IsAlreadyExists(claimed.status())) return claimed.status();
  // The key exists and is committed (the insert waited for its owner).
  absl::StatusOr<std::vector<Row>> seen = session.Query(
      "SELECT request_digest, result_id FROM idempotency_keys "
      "WHERE caller = ? AND method = ? AND request_id = ?",
      {key.caller, key.method, key.request_id});
  if (!seen.ok()) return seen.status();
  if (seen->empty() || seen->front().Int(1) == 0) {
    return RetryableAbort(absl::StrCat(key.method, ": request_id '",
                                       key.request_id,
                                       "' is claimed but not yet readable"));
  }
  if (seen->front().Text(0) != key.digest) {
    return InvalidField("request_id",
                        "was already used for a different request; use a new "
                        "request_id for a new request");
  }
  return seen->front().Int(1);
}

absl::Status SetRequestResult(Session& session, const RequestKey& key,
                              int64_t result_id) {
  if (key.request_id.empty()) return absl::OkStatus();
  return session
      .Execute(
          "UPDATE idempotency_keys SET result_id = ? WHERE caller = ? AND "
          "method = ? AND request_id = ?",
          {SqlInt(result_id), key.caller, key.method, key.request_id})
      .status();
}

}  // namespace smz
