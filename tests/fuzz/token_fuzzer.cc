// Authorization values as any client sends them: parsed at the edge, then
// through the Authenticator (with its caches) to a lookup. The same bytes as
// a traceparent (metadata any caller sends) and as a provisioned token's
// secret file.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>

#include "absl/strings/string_view.h"
#include "common/auth/authenticator.h"
#include "common/auth/token.h"
#include "common/clock.h"
#include "common/tracing/trace_context.h"

namespace {

class NoTokens : public smz::PrincipalLookup {
 public:
  absl::StatusOr<std::optional<smz::Principal>> FindByToken(
      absl::string_view token, absl::string_view hash) override {
    // Only well-formed tokens may ever reach a lookup.
    for (char c : token) {
      if (c <= ' ' || c > '~') __builtin_trap();
    }
    if (token == "smz_admin") {
      smz::Principal admin;
      admin.set_role(smz::auth::v1::ADMIN);
      return admin;
    }
    return std::nullopt;
  }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static NoTokens* lookup = new NoTokens();
  static smz::FakeClock* clock = new smz::FakeClock(absl::UnixEpoch());
  static smz::Authenticator* authenticator =
      new smz::Authenticator(lookup, clock);
  const absl::string_view value(reinterpret_cast<const char*>(data), size);
  absl::StatusOr<absl::string_view> token =
      smz::ParseBearerAuthorization(value);
  if (token.ok() && token->size() > smz::kMaxTokenBytes) __builtin_trap();
  (void)authenticator->Authenticate(value);
  clock->Advance(absl::Seconds(1));
  if (std::optional<smz::TraceContext> trace = smz::ParseTraceparent(value)) {
    // What is read is what a version-00 value said, nothing more.
    const std::string again = smz::FormatTraceparent(*trace);
    if (value.substr(0, 2) == "00" && again != value) __builtin_trap();
    if (again.size() != 55) __builtin_trap();
  }
  (void)smz::CheckProvisionedToken(value);
  return 0;
}
