#include "common/server/raw_messages.h"

#include <utility>
#include <vector>

#include "grpcpp/support/slice.h"

namespace smz {

bool ReadRawMessage(const grpc::ByteBuffer& message, std::string* bytes) {
  bytes->clear();
  // A message of no bytes comes as an empty buffer; no buffer at all means
  // no message was sent.
  if (!message.Valid()) return false;
  std::vector<grpc::Slice> slices;
  if (!message.Dump(&slices).ok()) return false;
  size_t size = 0;
  for (const grpc::Slice& slice : slices) size += slice.size();
  bytes->reserve(size);
  for (const grpc::Slice& slice : slices) {
    bytes->append(reinterpret_cast<const char*>(slice.begin()), slice.size());
  }
  return true;
}

absl::Status UnreadableRequestError() {
  return absl::InvalidArgumentError("the request could not be read");
}

void ShareAsResponse(std::shared_ptr<const std::string> bytes,
                     grpc::ByteBuffer* response) {
  // The slice holds a reference of its own, released by gRPC's last unref.
  auto* owner = new std::shared_ptr<const std::string>(std::move(bytes));
  grpc::Slice slice(
      const_cast<char*>((*owner)->data()), (*owner)->size(),
      [](void* held) {
        delete static_cast<std::shared_ptr<const std::string>*>(held);
      },
      owner);
  grpc::ByteBuffer buffer(&slice, 1);
  response->Swap(&buffer);
}

}  // namespace smz
