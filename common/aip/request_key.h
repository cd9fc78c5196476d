// What identifies a write request for idempotency (AIP-155): who sent it,
// which method, its request_id, and a digest of everything else in it.
//
//   smz::RequestKey key = smz::KeyOf(caller, "CreateProject", request);
//   // key.request_id == request.request_id(); key.digest covers the rest
//
// A retry (same caller, method and request_id, same digest) gets the first
// answer; the same id with another digest is refused (common/aip/
// idempotency.h). The caller is part of the key, so one caller's ids never
// collide with, or reveal, another's.
#ifndef SMZ_COMMON_AIP_REQUEST_KEY_H_
#define SMZ_COMMON_AIP_REQUEST_KEY_H_

#include <string>

#include "absl/strings/string_view.h"
#include "common/auth/authenticator.h"
#include "google/protobuf/message.h"

namespace smz {

struct RequestKey {
  std::string caller;      // a principal label ("ADMIN#1")
  std::string method;      // "CreateProject"
  std::string request_id;  // empty: the write is not idempotent
  std::string digest;      // RequestDigest of the request without its id
};

// The message's deterministic serialization (map order fixed).
std::string DeterministicBytes(const google::protobuf::Message& message);

// SHA-256 (hex) of the deterministic serialization.
std::string RequestDigest(const google::protobuf::Message& message);

// The key of `request`: its top-level `request_id` field (a string; empty
// when the message has none) and the digest of the rest of it.
RequestKey KeyOf(const Principal& caller, absl::string_view method,
                 const google::protobuf::Message& request);

}  // namespace smz

#endif  // SMZ_COMMON_AIP_REQUEST_KEY_H_
