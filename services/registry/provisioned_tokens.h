// Tokens supplied as read-only secret files (a Kubernetes Secret, a systemd
// credential), which the registry registers on start instead of minting
// them: the bootstrap ADMIN token and each service's own registry token.
// Several replicas may start at once on an empty database; only the hashes
// are stored (Registry::EnsureProvisionedTokens).
//
// A file holds the token itself ("smz_…", as the service that uses it reads
// it) or only its hash ("sha256:<64 hex>", deploy/secrets/make_secrets.sh's
// *.hash files): the registry needs no more, so an ADMIN token's plaintext
// can stay with the administrators.
//
//   absl::StatusOr<std::vector<ProvisionedToken>> tokens =
//       ReadProvisionedTokens("/run/secrets/admin.token.hash",
//                             "stats=/run/secrets/stats.registry-token,"
//                             "events=/run/secrets/events.registry-token");
//   options.provisioned_tokens = *tokens;
#ifndef SMZ_SERVICES_REGISTRY_PROVISIONED_TOKENS_H_
#define SMZ_SERVICES_REGISTRY_PROVISIONED_TOKENS_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "services/registry/registry.h"

namespace smz::registry {

// The most service tokens one registry takes (stats and events use one each;
// room for more services and tools).
inline constexpr int kMaxServiceTokenSecrets = 16;

// `admin_secret`: a file holding the ADMIN token or its hash ("" for none).
// `service_secrets`: "name=path" pairs, comma-separated ("" for none); each
// file holds that service's ANALYST token or its hash. Names are 1-40 of
// a-z 0-9 '-', each once. Every file must be a regular file (or a symlink to
// one, as Kubernetes mounts them) of at most 4 KiB that others may neither
// read nor write and its group may not write, holding a token that passes
// CheckProvisionedToken or "sha256:" and IsTokenHash; no token may appear
// twice. INVALID_ARGUMENT naming every bad entry (never a token), NOT_FOUND
// for a missing file.
absl::StatusOr<std::vector<ProvisionedToken>> ReadProvisionedTokens(
    const std::string& admin_secret, absl::string_view service_secrets);

}  // namespace smz::registry

#endif  // SMZ_SERVICES_REGISTRY_PROVISIONED_TOKENS_H_
