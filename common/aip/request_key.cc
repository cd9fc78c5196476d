#include "common/aip/request_key.h"

#include <memory>

#include "common/auth/token.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/io/coded_stream.h"
#include "google/protobuf/io/zero_copy_stream_impl_lite.h"

namespace smz {

std::string DeterministicBytes(const google::protobuf::Message& message) {
  std::string bytes;
  {
    google::protobuf::io::StringOutputStream stream(&bytes);
    google::protobuf::io::CodedOutputStream coded(&stream);
    coded.SetSerializationDeterministic(true);
    message.SerializeToCodedStream(&coded);
  }
  return bytes;
}

std::string RequestDigest(const google::protobuf::Message& message) {
  return HashToken(DeterministicBytes(message));
}

RequestKey KeyOf(const Principal& caller, absl::string_view method,
                 const google::protobuf::Message& request) {
  RequestKey key;
  key.caller = PrincipalLabel(caller);
  key.method = std::string(method);
  const google::protobuf::FieldDescriptor* id_field =
      request.GetDescriptor()->FindFieldByName("request_id");
  if (id_field == nullptr ||
      id_field->type() != google::protobuf::FieldDescriptor::TYPE_STRING ||
      id_field->is_repeated()) {
    key.digest = RequestDigest(request);
    return key;
  }
  key.request_id = request.GetReflection()->GetString(request, id_field);
  std::unique_ptr<google::protobuf::Message> rest(request.New());
  rest->CopyFrom(request);
  rest->GetReflection()->ClearField(rest.get(), id_field);
  key.digest = RequestDigest(*rest);
  return key;
}

}  // namespace smz
