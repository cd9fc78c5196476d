#include "tests/harness/grpc_reflection.h"


#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "common/server/raw_messages.h"
#include "grpcpp/generic/generic_stub.h"
#include "grpcpp/support/byte_buffer.h"

namespace smz::testing {

grpc::Status ListServicesByReflection(
    const std::shared_ptr<grpc::Channel>& channel, std::string* reply) {
  // ServerReflectionRequest{list_services: "*"}: field 7, length 1, "*".
  const std::string request("\x3a\x01*", 3);
  grpc::GenericStub generic(channel);
  grpc::CompletionQueue queue;
  grpc::ClientContext context;
  context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(10)));
  auto call = generic.PrepareCall(
      &context,
      "/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo", &queue);
  void* tag;
  bool ok;
  call->StartCall(reinterpret_cast<void*>(1));
  queue.Next(&tag, &ok);
  grpc::Slice slice(request);
  grpc::ByteBuffer outgoing(&slice, 1);
  call->WriteLast(outgoing, grpc::WriteOptions(), reinterpret_cast<void*>(2));
  queue.Next(&tag, &ok);
  grpc::ByteBuffer incoming;
  call->Read(&incoming, reinterpret_cast<void*>(3));
  const bool read = queue.Next(&tag, &ok) && ok;
  grpc::Status status;
  call->Finish(&status, reinterpret_cast<void*>(4));
  queue.Next(&tag, &ok);
  reply->clear();
  if (read) (void)ReadRawMessage(incoming, reply);
  return status;
}

}  // namespace smz::testing
