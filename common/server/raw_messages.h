// Messages as bytes, for handlers registered raw (gRPC's
// WithRawCallbackMethod_*): the request's bytes as one string, and an answer
// kept serialized in memory sent without a copy. A handler that keeps whole
// answers by the request's bytes sends a repeated answer without parsing,
// building or serializing anything.
//
//   std::string request_bytes;
//   if (!ReadRawMessage(*request, &request_bytes)) {
//     return UnreadableRequestError();  // from the handler's step
//   }
//   std::shared_ptr<const std::string> page = ...;  // kept serialized
//   ShareAsResponse(std::move(page), response);
#ifndef SMZ_COMMON_SERVER_RAW_MESSAGES_H_
#define SMZ_COMMON_SERVER_RAW_MESSAGES_H_

#include <memory>
#include <string>

#include "absl/status/status.h"
#include "grpcpp/support/byte_buffer.h"

namespace smz {

// `message`'s bytes into `*bytes` (empty for a message of no bytes); false
// when there is no message (no buffer) or gRPC cannot read it.
bool ReadRawMessage(const grpc::ByteBuffer& message, std::string* bytes);

// INVALID_ARGUMENT, "the request could not be read": what a raw handler
// answers when ReadRawMessage fails, or (the gateway's council tables) its
// request type cannot parse the bytes. (A message of no bytes is an empty
// request, and fine.)
absl::Status UnreadableRequestError();

// Makes `*response` (what it held is replaced) refer to `bytes`, without a
// copy; gRPC sends it when the call finishes. The bytes stay alive while
// gRPC holds them: its last reference is released after they are sent.
void ShareAsResponse(std::shared_ptr<const std::string> bytes,
                     grpc::ByteBuffer* response);

}  // namespace smz

#endif  // SMZ_COMMON_SERVER_RAW_MESSAGES_H_
