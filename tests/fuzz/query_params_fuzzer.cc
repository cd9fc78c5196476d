// What a browser or script sends the gateway's HTTP edge for a method:
// query parameters typed by the request message, or a JSON body.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"
#include "google/protobuf/util/json_util.h"
#include "services/gateway/query_params.h"
#include "smz/gateway/v1/gateway.pb.h"
#include "smz/programme/v1/programme.pb.h"
#include "smz/stats/v1/stats.pb.h"

namespace {

std::unique_ptr<google::protobuf::Message> RequestOfKind(uint8_t kind) {
  using namespace smz;
  switch (kind % 5) {
    case 0:
      return std::make_unique<gateway::v1::GetKpiTableRequest>();
    case 1:
      return std::make_unique<gateway::v1::GetCouncilReportRequest>();
    case 2:
      return std::make_unique<stats::v1::AggregateRequest>();
    case 3:
      return std::make_unique<programme::v1::GetBudgetTableRequest>();
    default:
      return std::make_unique<gateway::v1::GetPartnerProfileRequest>();
  }
}

}  // namespace

// Input: one byte choosing the request type, then either "{..." (a JSON
// body) or lines "key=value".
extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  std::unique_ptr<google::protobuf::Message> request = RequestOfKind(data[0]);
  const absl::string_view text(reinterpret_cast<const char*>(data + 1),
                               size - 1);
  if (!text.empty() && text[0] == '{') {
    google::protobuf::util::JsonParseOptions options;
    options.ignore_unknown_fields = false;
    (void)google::protobuf::util::JsonStringToMessage(std::string(text),
                                                      request.get(), options);
    return 0;
  }
  std::vector<smz::gateway::QueryParameter> params;
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    std::pair<absl::string_view, absl::string_view> kv =
        absl::StrSplit(line, absl::MaxSplits('=', 1));
    params.emplace_back(std::string(kv.first), std::string(kv.second));
  }
  (void)smz::gateway::MergeQueryParameters(params, request.get());
  std::string bytes;
  request->SerializeToString(&bytes);
  return 0;
}
