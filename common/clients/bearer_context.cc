#include "common/clients/bearer_context.h"

#include <chrono>

#include "absl/strings/str_cat.h"

namespace smz {

std::unique_ptr<grpc::ClientContext> BearerContext(const std::string& token,
                                                   absl::Duration deadline) {
  auto context = std::make_unique<grpc::ClientContext>();
  if (!token.empty()) {
    context->AddMetadata("authorization", absl::StrCat("Bearer ", token));
  }
  context->set_deadline(std::chrono::system_clock::now() +
                        absl::ToChronoMicroseconds(deadline));
  return context;
}

}  // namespace smz
