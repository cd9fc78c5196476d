// URL query parameters into a request message, typed by the message's own
// descriptor, the way google.api.http maps them: a parameter names a field
// by its proto name or JSON name, dotted for fields of nested messages
// ("filter.regions=DAERIM"); a repeated field takes one parameter per value;
// each value is read as the field's type (integers and enums by name or
// number, booleans, strings, base64 bytes; timestamps, durations and field
// masks as their JSON strings, "2026-01-31T09:00:00Z", "1.5s",
// "address,contacts"). Path variables go through it too (http_routes.h). So
// "programme_code=2018" is the string "2018", and "year=2018" the number.
//
//   smz::gateway::v1::GetKpiTableRequest request;
//   absl::Status merged = smz::gateway::MergeQueryParameters(
//       {{"programme_code", "smz-2018"}, {"as_of", "2020-12-31"}}, &request);
//
// Every bad parameter is named in one INVALID_ARGUMENT. The input is
// untrusted: the work is linear in it, bounded by the limits below, and no
// value reaches a call that asserts.
#ifndef SMZ_SERVICES_GATEWAY_QUERY_PARAMS_H_
#define SMZ_SERVICES_GATEWAY_QUERY_PARAMS_H_

#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "google/protobuf/message.h"

namespace smz::gateway {

using QueryParameter = std::pair<std::string, std::string>;

inline constexpr size_t kMaxQueryParameters = 100;
inline constexpr size_t kMaxQueryKeyBytes = 100;
inline constexpr size_t kMaxQueryValueBytes = 4096;
inline constexpr int kMaxQueryFieldDepth = 8;

absl::Status MergeQueryParameters(const std::vector<QueryParameter>& params,
                                  google::protobuf::Message* message);

}  // namespace smz::gateway

#endif  // SMZ_SERVICES_GATEWAY_QUERY_PARAMS_H_
