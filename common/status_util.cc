#include "common/status_util.h"

#include <algorithm>

#include "absl/strings/cord.h"
#include "absl/strings/str_cat.h"
#include "common/text_checks.h"
#include "google/protobuf/util/json_util.h"
#include "google/rpc/error_details.pb.h"
#include "google/rpc/status.pb.h"

namespace smz {

namespace {

// google.rpc.Status details travel base64-encoded beside the message; with
// these budgets grpc-status, grpc-message (percent-encoded: up to 3 bytes a
// byte) and grpc-status-details-bin stay well under gRPC's 8 KiB.
constexpr size_t kMaxDetailsBytes = 3000;
// What google.rpc.Status adds around its message and payloads (code, type
// URL, framing).
constexpr size_t kDetailsOverhead = 128;

}  // namespace

void FieldViolations::Add(std::string field, std::string description) {
  // Both often quote the caller: cut to size, and valid UTF-8 without
  // control characters, so every client can decode and show them.
  violations_.push_back({Abbreviate(field, kMaxFieldBytes),
                         Abbreviate(description, kMaxDescriptionBytes)});
}

absl::Status FieldViolations::ToStatus() const {
  if (violations_.empty()) return absl::OkStatus();
  google::rpc::BadRequest bad_request;
  const size_t listed = std::min(violations_.size(), kMaxDetailedViolations);
  std::string message =
      violations_.size() <= kMaxDetailedViolations
          ? "invalid request: "
          : absl::StrCat("invalid request (", violations_.size(),
                         " problems, the first ", listed, " listed): ");
  for (size_t i = 0; i < listed; ++i) {
    auto* v = bad_request.add_field_violations();
    v->set_field(violations_[i].field);
    v->set_description(violations_[i].description);
    absl::StrAppend(&message, i == 0 ? "" : "; ", violations_[i].field, ": ",
                    violations_[i].description);
  }
  absl::Status status =
      absl::InvalidArgumentError(Abbreviate(message, kMaxMessageBytes));
  status.SetPayload(kBadRequestTypeUrl,
                    absl::Cord(bad_request.SerializeAsString()));
  return status;
}

std::vector<FieldViolation> GetFieldViolations(const absl::Status& status) {
  std::vector<FieldViolation> result;
  auto payload = status.GetPayload(kBadRequestTypeUrl);
  if (!payload.has_value()) return result;
  google::rpc::BadRequest bad_request;
  if (!bad_request.ParseFromString(std::string(*payload))) return result;
  for (const auto& v : bad_request.field_violations()) {
    result.push_back({v.field(), v.description()});
  }
  return result;
}

absl::Status InvalidField(std::string field, std::string description) {
  FieldViolations violations;
  violations.Add(std::move(field), std::move(description));
  return violations.ToStatus();
}

grpc::Status ToGrpcStatus(const absl::Status& status) {
  if (status.ok()) return grpc::Status::OK;
  const auto code = static_cast<grpc::StatusCode>(status.code());
  const std::string message = Abbreviate(status.message(), kMaxMessageBytes);
  google::rpc::Status details;
  details.set_code(static_cast<int>(status.code()));
  details.set_message(message);
  status.ForEachPayload([&details, &message](absl::string_view type_url,
                                             const absl::Cord& payload) {
    auto* any = details.add_details();
    any->set_type_url(std::string(type_url));
    if (type_url != kBadRequestTypeUrl) {
      any->set_value(std::string(payload));
      return;
    }
    // Violations beyond the budget are dropped from the end; the message
    // still says how many there were.
    google::rpc::BadRequest bad_request;
    if (!bad_request.ParseFromString(std::string(payload))) return;
    while (bad_request.field_violations_size() > 0 &&
           bad_request.ByteSizeLong() + message.size() + kDetailsOverhead >
               kMaxDetailsBytes) {
      bad_request.mutable_field_violations()->RemoveLast();
    }
    any->set_value(bad_request.SerializeAsString());
  });
  if (details.details_size() == 0) return grpc::Status(code, message);
  std::string serialized = details.SerializeAsString();
  if (serialized.size() > kMaxDetailsBytes) {
    // A payload of some other kind that is too big: the code and message
    // still reach the caller.
    return grpc::Status(code, message);
  }
  return grpc::Status(code, message, std::move(serialized));
}

absl::Status FromGrpcStatus(const grpc::Status& status) {
  if (status.ok()) return absl::OkStatus();
  absl::Status result(static_cast<absl::StatusCode>(status.error_code()),
                      status.error_message());
  google::rpc::Status details;
  if (!status.error_details().empty() &&
      details.ParseFromString(status.error_details())) {
    for (const auto& any : details.details()) {
      result.SetPayload(any.type_url(), absl::Cord(any.value()));
    }
  }
  return result;
}

std::string StatusToJson(const absl::Status& status) {
  google::rpc::Status proto;
  proto.set_code(static_cast<int>(status.code()));
  proto.set_message(Abbreviate(status.message(), kMaxMessageBytes));
  const std::vector<FieldViolation> violations = GetFieldViolations(status);
  if (!violations.empty()) {
    google::rpc::BadRequest bad_request;
    for (const FieldViolation& v : violations) {
      auto* violation = bad_request.add_field_violations();
      violation->set_field(v.field);
      violation->set_description(v.description);
    }
    proto.add_details()->PackFrom(bad_request);
  }
  google::protobuf::util::JsonPrintOptions print;
  print.preserve_proto_field_names = true;
  std::string json;
  if (!google::protobuf::util::MessageToJsonString(proto, &json, print).ok()) {
    // Only text that is not UTF-8 can fail; the code alone still says what
    // happened.
    return absl::StrCat("{\"code\":", proto.code(), "}");
  }
  return json;
}

}  // namespace smz
