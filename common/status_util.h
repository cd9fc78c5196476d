// Errors for smz services: absl::Status values that carry every bad field of a
// request, and their lossless mapping to and from grpc::Status.
//
// Validation code collects violations instead of stopping at the first one, so
// a client learns every bad field in one round trip:
//
//   smz::FieldViolations violations;
//   if (name.empty()) violations.Add("partner.name", "'ko' is required");
//   if (area < 0) violations.Add("partner.floor_area_m2", "must be >= 0");
//   if (!violations.empty()) return violations.ToStatus();
//
// At the gRPC boundary, ToGrpcStatus() puts the violations in the standard
// `google.rpc.Status` details (as `google.rpc.BadRequest`) and also lists them
// in the message for clients that do not decode details.
//
// Errors travel in gRPC trailers, which a client refuses beyond 8 KiB, and a
// violation often quotes what the caller sent. So every piece is bounded: a
// field name to kMaxFieldBytes, a description to kMaxDescriptionBytes, the
// details to the first kMaxDetailedViolations, the message to
// kMaxMessageBytes, with the total count of violations always stated ("501
// problems, the first 20 listed"): a CSV import with 500 bad lines still gets
// a readable INVALID_ARGUMENT.
#ifndef SMZ_COMMON_STATUS_UTIL_H_
#define SMZ_COMMON_STATUS_UTIL_H_

#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "grpcpp/support/status.h"

namespace smz {

struct FieldViolation {
  std::string field;
  std::string description;
  bool operator==(const FieldViolation& other) const {
    return field == other.field && description == other.description;
  }
};

inline constexpr size_t kMaxFieldBytes = 200;
inline constexpr size_t kMaxDescriptionBytes = 300;
inline constexpr size_t kMaxDetailedViolations = 20;
inline constexpr size_t kMaxMessageBytes = 1024;

class FieldViolations {
 public:
  // Field and description are cut to their byte limits here (see above).
  void Add(std::string field, std::string description);
  bool empty() const { return violations_.empty(); }
  size_t size() const { return violations_.size(); }
  const std::vector<FieldViolation>& violations() const { return violations_; }

  // INVALID_ARGUMENT naming the violations (all of them, up to the limits
  // above, and their number); OK when there are none.
  absl::Status ToStatus() const;

 private:
  std::vector<FieldViolation> violations_;
};

// The payload key under which violations travel inside an absl::Status.
inline constexpr absl::string_view kBadRequestTypeUrl =
    "type.googleapis.com/google.rpc.BadRequest";

// The violations carried by `status` (empty if none).
std::vector<FieldViolation> GetFieldViolations(const absl::Status& status);

// Convenience for a single bad field.
absl::Status InvalidField(std::string field, std::string description);

// absl -> grpc: same code and message; payloads become google.rpc.Status
// details. The message is cut to kMaxMessageBytes and the details to what
// fits in a client's trailer limit, whatever the status holds.
grpc::Status ToGrpcStatus(const absl::Status& status);

// grpc -> absl, restoring payloads from the details (used by clients and
// tests).
absl::Status FromGrpcStatus(const grpc::Status& status);

// The status as google.rpc.Status in protobuf's JSON mapping, field names as
// in the .proto (as every smz JSON answer), with a google.rpc.BadRequest
// detail holding the violations:
//   {"code":3,"message":"...","details":[{"@type":
//    "type.googleapis.com/google.rpc.BadRequest","field_violations":[...]}]}
// The HTTP edge answers errors with it and smzctl prints them with it.
std::string StatusToJson(const absl::Status& status);

}  // namespace smz

#endif  // SMZ_COMMON_STATUS_UTIL_H_
