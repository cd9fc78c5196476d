// smzctl: call any smz gRPC method with JSON in and JSON out, for operators
// and developers (protobuf's JSON mapping; field names as in the .proto).
//
//   smzctl [--target=127.0.0.1:50051] [--token_file=F] list
//   smzctl [--target=...] [--token_file=F] call
//   smz.registry.v1.RegistryService/GetPartner '{"id":1}'
//
// Exit status: 0 on OK, 1 on an RPC error (printed as JSON with the code,
// message and field violations), 2 on a usage error.
#include <cstdio>
#include <fstream>
#include <future>
#include <memory>
#include <sstream>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"
#include "common/logging.h"
#include "common/server/raw_messages.h"
#include "common/smz_services.h"
#include "common/status_util.h"
#include "common/tls/tls_options.h"
#include "common/version.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/message.h"
#include "google/protobuf/util/json_util.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/generic/generic_stub.h"
#include "grpcpp/security/credentials.h"

ABSL_FLAG(std::string, target, "127.0.0.1:50051", "server address");
ABSL_FLAG(std::string, token_file, "", "file holding a bearer token");
ABSL_FLAG(absl::Duration, timeout, absl::Seconds(10), "call deadline");

namespace {

// The services this tool knows; naming them also links their descriptors in.
const std::vector<const google::protobuf::ServiceDescriptor*>& Services() {
  static const auto* const kServices = [] {
    auto* services =
        new std::vector<const google::protobuf::ServiceDescriptor*>(
            smz::SmzServices());
    services->push_back(
        grpc::health::v1::HealthCheckRequest::descriptor()->file()->service(0));
    return services;
  }();
  return *kServices;
}

const google::protobuf::MethodDescriptor* FindMethod(absl::string_view path) {
  const size_t slash = path.rfind('/');
  if (slash == absl::string_view::npos) return nullptr;
  for (const auto* service : Services()) {
    if (service->full_name() == path.substr(0, slash)) {
      return service->FindMethodByName(std::string(path.substr(slash + 1)));
    }
  }
  return nullptr;
}

std::string ReadToken(const std::string& path) {
  if (path.empty()) return "";
  std::ifstream in(path);
  std::stringstream buffer;
  buffer << in.rdbuf();
  return std::string(absl::StripAsciiWhitespace(buffer.str()));
}

int PrintError(const grpc::Status& status) {
  const std::string json = smz::StatusToJson(smz::FromGrpcStatus(status));
  std::fprintf(stderr, "%s\n", json.c_str());
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  absl::SetProgramUsageMessage(
      "smzctl [flags] list | call <package.Service/Method> '<json request>'");
  smz::InstallVersionFlag();
  std::vector<char*> args = absl::ParseCommandLine(argc, argv);
  if (args.size() >= 2 && std::string(args[1]) == "list") {
    for (const auto* service : Services()) {
      for (int i = 0; i < service->method_count(); ++i) {
        const auto* method = service->method(i);
        std::printf("%s/%s(%s) returns (%s)\n", service->full_name().c_str(),
                    method->name().c_str(),
                    method->input_type()->full_name().c_str(),
                    method->output_type()->full_name().c_str());
      }
    }
    return 0;
  }
  if (args.size() < 3 || std::string(args[1]) != "call") {
    std::fprintf(stderr, "usage: %s\n", absl::ProgramUsageMessage().data());
    return 2;
  }
  const google::protobuf::MethodDescriptor* method = FindMethod(args[2]);
  if (method == nullptr) {
    std::fprintf(stderr, "unknown method %s (see: smzctl list)\n", args[2]);
    return 2;
  }
  auto* factory = google::protobuf::MessageFactory::generated_factory();
  std::unique_ptr<google::protobuf::Message> request(
      factory->GetPrototype(method->input_type())->New());
  std::unique_ptr<google::protobuf::Message> response(
      factory->GetPrototype(method->output_type())->New());
  const std::string json = args.size() >= 4 ? args[3] : "{}";
  if (auto s = google::protobuf::util::JsonStringToMessage(json, request.get());
      !s.ok()) {
    std::fprintf(stderr, "bad request JSON for %s: %s\n",
                 method->input_type()->full_name().c_str(),
                 s.ToString().c_str());
    return 2;
  }
  absl::StatusOr<smz::TlsOptions> tls = smz::LoadTlsOptions();
  if (!tls.ok()) {
    std::fprintf(stderr, "%s\n", std::string(tls.status().message()).c_str());
    return 2;
  }
  auto channel = grpc::CreateChannel(absl::GetFlag(FLAGS_target),
                                     smz::ChannelCredentialsFor(*tls));
  grpc::GenericStub stub(channel);
  grpc::ClientContext context;
  context.set_deadline(
      absl::ToChronoTime(absl::Now() + absl::GetFlag(FLAGS_timeout)));
  const std::string token = ReadToken(absl::GetFlag(FLAGS_token_file));
  if (!token.empty()) {
    context.AddMetadata("authorization", absl::StrCat("Bearer ", token));
  }
  const std::string bytes = request->SerializeAsString();
  grpc::Slice slice(bytes);
  grpc::ByteBuffer request_buffer(&slice, 1);
  grpc::ByteBuffer response_buffer;
  std::promise<grpc::Status> done;
  stub.UnaryCall(
      &context,
      absl::StrCat("/", method->service()->full_name(), "/", method->name()),
      grpc::StubOptions(), &request_buffer, &response_buffer,
      [&done](grpc::Status status) { done.set_value(status); });
  const grpc::Status status = done.get_future().get();
  if (!status.ok()) return PrintError(status);
  std::string reply;
  (void)smz::ReadRawMessage(response_buffer, &reply);
  if (!response->ParseFromString(reply)) {
    std::fprintf(stderr, "cannot parse the response\n");
    return 1;
  }
  std::string out;
  google::protobuf::util::JsonPrintOptions options;
  options.add_whitespace = true;
  options.preserve_proto_field_names = true;
  (void)google::protobuf::util::MessageToJsonString(*response, &out, options);
  std::printf("%s\n", out.c_str());
  return 0;
}
