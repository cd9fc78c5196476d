#!/usr/bin/env bash
# The tokens an installation supplies as read-only secrets instead of letting
# the registry mint them (Kubernetes Secrets, systemd credentials):
#
#   deploy/secrets/make_secrets.sh DIR [SERVICE ...]
#
# writes DIR/admin.token (the bootstrap ADMIN token) and, for each SERVICE
# (default: stats events), DIR/SERVICE.registry-token (that service's own
# ANALYST token for the registry): "smz_" and 256 random bits in base64url
# each, mode 0400; beside each, FILE.hash ("sha256:<hex>"), which is all the
# registry needs (the ADMIN token itself stays with the administrators). An
# existing file is kept, never replaced (a token already registered would
# no longer match). Then
#
#   registry --bootstrap_admin_token_secret=DIR/admin.token.hash \
#     --service_token_secrets=stats=DIR/stats.registry-token.hash,events=...
#   stats --registry_token_file=DIR/stats.registry-token
#
# registers the hashes on start. To replace a leaked token: delete its file
# and its .hash, run this again, restart the registry (the old token still
# works), then the service, and only then revoke the old one
# (RegistryService/RevokeToken): a revoked provisioned token stops the
# registry's start.
set -euo pipefail

if [[ $# -lt 1 ]]; then
  sed -n '2,22p' "$0" >&2
  exit 2
fi
dir=$1
shift
services=("$@")
[[ ${#services[@]} -gt 0 ]] || services=(stats events)
for svc in "${services[@]}"; do
  if [[ ! $svc =~ ^[a-z0-9-]{1,40}$ ]]; then
    echo "make_secrets.sh: a service name is 1-40 of a-z 0-9 -: $svc" >&2
    exit 2
  fi
done

umask 077
mkdir -p "$dir"

new_token() {
  # 32 bytes of randomness, base64url without padding: 43 characters.
  local random
  random="$(openssl rand -base64 32 | tr '+/' '-_' | tr -d '=\n')"
  [[ ${#random} -eq 43 ]] || {
    echo "make_secrets.sh: openssl gave no randomness" >&2
    exit 1
  }
  printf 'smz_%s\n' "$random"
}

# FILE (the token, 0400) and FILE.hash ("sha256:<hex>", all the registry
# needs), made once.
write_once() {
  local file=$1 tmp token
  if [[ -e $file ]]; then
    echo "kept     $file"
  else
    tmp="$(mktemp "$dir/.token.XXXXXX")"
    new_token >"$tmp"
    chmod 0400 "$tmp"
    mv "$tmp" "$file"
    echo "made     $file"
  fi
  if [[ ! -e $file.hash ]]; then
    token="$(tr -d '[:space:]' <"$file")"
    tmp="$(mktemp "$dir/.hash.XXXXXX")"
    printf 'sha256:%s\n' "$(printf '%s' "$token" | sha256sum | cut -d' ' -f1)" >"$tmp"
    chmod 0400 "$tmp"
    mv "$tmp" "$file.hash"
  fi
}

write_once "$dir/admin.token"
for svc in "${services[@]}"; do
  write_once "$dir/$svc.registry-token"
done
