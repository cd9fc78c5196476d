// Authentication and authorization for every smz RPC, in one place.
//
// A caller sends "authorization: Bearer <credential>": an API token, or a
// person's session (common/auth/token.h). The Authenticator hashes it,
// resolves the hash to a Principal through a PrincipalLookup (the registry's
// token and session tables, or a remote call to the registry for other
// services), and caches the answer briefly so a busy service does not query
// per call; credentials found unknown are remembered as unknown for as long.
// Authorize() checks the principal's role against what an RPC allows; RpcRunner
// (common/server) calls both before any handler runs.
//
//   smz::Authenticator auth(&lookup, &smz::SystemClock::Get());
//   absl::StatusOr<Principal> who = auth.Authenticate(header_value);
//   absl::Status allowed = smz::Authorize(*who, smz::RoleSet::Staff());
#ifndef SMZ_COMMON_AUTH_AUTHENTICATOR_H_
#define SMZ_COMMON_AUTH_AUTHENTICATOR_H_

#include <cstdint>
#include <initializer_list>
#include <optional>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "common/clock.h"
#include "smz/auth/v1/auth.pb.h"

namespace smz {

using Principal = ::smz::auth::v1::Principal;
using Role = ::smz::auth::v1::Role;

class PrincipalLookup {
 public:
  virtual ~PrincipalLookup() = default;
  // The principal of an active (unrevoked) token, nullopt when there is none;
  // UNAVAILABLE when the lookup cannot answer. The registry looks the hash up
  // in its table; other services forward the token to the registry
  // (RemotePrincipalLookup).
  virtual absl::StatusOr<std::optional<Principal>> FindByToken(
      absl::string_view token, absl::string_view token_hash) = 0;
};

// A set of roles an RPC accepts.
class RoleSet {
 public:
  RoleSet(std::initializer_list<Role> roles);
  static RoleSet AdminOnly();
  // Every role but PARTNER.
  static RoleSet Staff();
  static RoleSet Everyone();
  void Add(Role role) {
    if (role >= 0 && role < 32) bits_ |= 1u << role;
  }
  bool Contains(Role role) const {
    return role >= 0 && role < 32 && ((bits_ >> role) & 1u);
  }

 private:
  uint32_t bits_ = 0;
};

class Authenticator {
 public:
  Authenticator(PrincipalLookup* lookup, const Clock* clock,
                absl::Duration cache_ttl = absl::Seconds(10));

  // The principal for an "authorization" metadata value ("Bearer <token>").
  // UNAUTHENTICATED when missing, malformed, unknown or revoked.
  absl::StatusOr<Principal> Authenticate(
      std::optional<absl::string_view> authorization);

  // Authenticate's answer when it needs no lookup (a missing or malformed
  // value, a credential cached as known or unknown); nullopt when only
  // Authenticate (which may wait for the lookup) can tell. Never blocks on
  // I/O: for callback-API handlers.
  std::optional<absl::StatusOr<Principal>> AuthenticateFromCache(
      std::optional<absl::string_view> authorization);

  // Drops cached principals, e.g. after a token is revoked.
  void InvalidateCache();

 private:
  struct Cached {
    Principal principal;
    absl::Time expires;
  };
  // The cache's answer for a credential's hash, if it has one.
  std::optional<absl::StatusOr<Principal>> FindCached(const std::string& hash,
                                                      absl::Time now)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  PrincipalLookup* const lookup_;
  const Clock* const clock_;
  const absl::Duration cache_ttl_;
  absl::Mutex mu_;
  absl::flat_hash_map<std::string, Cached> cache_ ABSL_GUARDED_BY(mu_);
  // Hashes of tokens the lookup did not know, until when: a client repeating
  // a made-up or revoked token costs one lookup per cache period, not one
  // per call.
  absl::flat_hash_map<std::string, absl::Time> unknown_ ABSL_GUARDED_BY(mu_);
  // Bumped by InvalidateCache, so a lookup that raced with a revocation does
  // not put the revoked principal back into the cache.
  uint64_t generation_ ABSL_GUARDED_BY(mu_) = 0;
};

// PERMISSION_DENIED unless the principal's role is in `allowed`.
absl::Status Authorize(const Principal& principal, const RoleSet& allowed);

// PERMISSION_DENIED unless the principal may act for `partner_id`: staff
// roles pass, a PARTNER only for its own id.
absl::Status AuthorizePartnerScope(const Principal& principal,
                                   int64_t partner_id);

// "ADMIN#12" or "PARTNER#7@partner:3" for tokens, "ADMIN@account:4" or
// "PARTNER@account:9@partner:3" for people signed in, "anonymous" for a
// caller without a role: for logs and audit; never contains a credential.
std::string PrincipalLabel(const Principal& principal);

}  // namespace smz

#endif  // SMZ_COMMON_AUTH_AUTHENTICATOR_H_
