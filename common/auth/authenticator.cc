#include "common/auth/authenticator.h"

#include <algorithm>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "common/aip/status_macros.h"
#include "common/auth/token.h"

namespace smz {
namespace {

constexpr size_t kMaxCachedPrincipals = 10000;

}  // namespace

RoleSet::RoleSet(std::initializer_list<Role> roles) {
  for (Role role : roles) Add(role);
}

RoleSet RoleSet::AdminOnly() { return RoleSet({auth::v1::ADMIN}); }

RoleSet RoleSet::Staff() {
  return RoleSet({auth::v1::ADMIN, auth::v1::ORGANIZER, auth::v1::ANALYST,
                  auth::v1::COUNCIL});
}

RoleSet RoleSet::Everyone() {
  return RoleSet({auth::v1::ADMIN, auth::v1::ORGANIZER, auth::v1::PARTNER,
                  auth::v1::ANALYST, auth::v1::COUNCIL});
}

Authenticator::Authenticator(PrincipalLookup* lookup, const Clock* clock,
                             absl::Duration cache_ttl)
    : lookup_(lookup), clock_(clock), cache_ttl_(cache_ttl) {}

absl::StatusOr<Principal> Authenticator::Authenticate(
    std::optional<absl::string_view> authorization) {
  if (!authorization.has_value()) {
    return absl::UnauthenticatedError(
        "missing credentials: send 'authorization: Bearer <token>'");
  }
  // Malformed values are refused here, never looked up or forwarded.
  SMZ_ASSIGN_OR_RETURN(absl::string_view parsed,
                       ParseBearerAuthorization(*authorization));
  const absl::string_view token = parsed;
  const std::string hash = HashToken(token);
  const absl::Time now = clock_->Now();
  uint64_t generation = 0;
  {
    absl::MutexLock lock(&mu_);
    std::optional<absl::StatusOr<Principal>> cached = FindCached(hash, now);
    if (cached.has_value()) return *std::move(cached);
    generation = generation_;
  }
  absl::StatusOr<std::optional<Principal>> found =
      lookup_->FindByToken(token, hash);
  if (!found.ok()) {
    if (absl::IsUnavailable(found.status())) return found.status();
    return absl::UnavailableError(
        absl::StrCat("cannot verify credentials: ", found.status().message()));
  }
  if (!found->has_value()) {
    absl::MutexLock lock(&mu_);
    if (generation == generation_) {
      // Bounded: a flood of distinct made-up tokens starts the map over
      // rather than growing it.
      if (unknown_.size() >= kMaxCachedPrincipals) unknown_.clear();
      unknown_[hash] = now + cache_ttl_;
    }
    return absl::UnauthenticatedError("unknown or revoked token");
  }
  absl::MutexLock lock(&mu_);
  if (generation == generation_) {
    if (cache_.size() >= kMaxCachedPrincipals) cache_.clear();
    cache_[hash] = Cached{**found, now + cache_ttl_};
  }
  return **found;
}

std::optional<absl::StatusOr<Principal>> Authenticator::AuthenticateFromCache(
    std::optional<absl::string_view> authorization) {
  if (!authorization.has_value()) {
    return Authenticate(authorization);  // refused without a lookup
  }
  absl::StatusOr<absl::string_view> parsed =
      ParseBearerAuthorization(*authorization);
  if (!parsed.ok()) return absl::StatusOr<Principal>(parsed.status());
  const std::string hash = HashToken(*parsed);
  absl::MutexLock lock(&mu_);
  return FindCached(hash, clock_->Now());
}

std::optional<absl::StatusOr<Principal>> Authenticator::FindCached(
    const std::string& hash, absl::Time now) {
  auto it = cache_.find(hash);
  if (it != cache_.end() && it->second.expires > now) {
    return absl::StatusOr<Principal>(it->second.principal);
  }
  auto unknown = unknown_.find(hash);
  if (unknown != unknown_.end() && unknown->second > now) {
    return absl::StatusOr<Principal>(
        absl::UnauthenticatedError("unknown or revoked token"));
  }
  return std::nullopt;
}

void Authenticator::InvalidateCache() {
  absl::MutexLock lock(&mu_);
  cache_.clear();
  unknown_.clear();
  ++generation_;
}

absl::Status Authorize(const Principal& principal, const RoleSet& allowed) {
  if (allowed.Contains(principal.role())) return absl::OkStatus();
  return absl::PermissionDeniedError(
      absl::StrCat("role ", auth::v1::Role_Name(principal.role()),
                   " may not call this method"));
}

absl::Status AuthorizePartnerScope(const Principal& principal,
                                   int64_t partner_id) {
  if (principal.role() != auth::v1::PARTNER) return absl::OkStatus();
  if (principal.partner_id() == partner_id) return absl::OkStatus();
  return absl::PermissionDeniedError(
      "a partner token may only access its own partner's data");
}

std::string PrincipalLabel(const Principal& principal) {
  if (principal.role() == auth::v1::ROLE_UNSPECIFIED) return "anonymous";
  // A person is named by account (their request keys and audit entries
  // follow them across sessions), a machine by token.
  std::string label = principal.account_id() != 0
                          ? absl::StrCat(auth::v1::Role_Name(principal.role()),
                                         "@account:", principal.account_id())
                          : absl::StrCat(auth::v1::Role_Name(principal.role()),
                                         "#", principal.token_id());
  if (principal.role() == auth::v1::PARTNER) {
    absl::StrAppend(&label, "@partner:", principal.partner_id());
  }
  return label;
}

}  // namespace smz
