#!/usr/bin/env bash
# The systemd units of deploy/systemd: systemd's own checker accepts them
# (systemd-analyze verify, with the built binaries in place of the installed
# paths), their confinement rates at most 2.0 ("OK") in systemd-analyze
# security, and every SMZ_* setting they name is one the binary reads.
#
# Usage (from CTest): systemd_units_test.sh <repo> <build dir>
set -euo pipefail

repo=$1
build=$2
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
status=0
fail() {
  echo "FAIL: $*" >&2
  status=1
}

for unit in "$repo"/deploy/systemd/*; do
  name="$(basename "$unit")"
  sed -e "s|/usr/local/bin/smz-\([a-z]*\)|$build/services/\1/\1|" \
    -e "s|/usr/local/lib/smz/deploy|$repo/deploy|" "$unit" >"$tmp/$name"
done

# verify loads each unit as systemd would and prints what it dislikes.
out="$(cd "$tmp" && systemd-analyze verify --man=no ./*.service ./*.target ./*.timer 2>&1)" ||
  fail "systemd-analyze verify: exit $?"
[[ -z $out ]] || fail "systemd-analyze verify says: $out"

for unit in "$tmp"/*.service; do
  rating="$(systemd-analyze security --offline=yes --no-pager "$unit" 2>&1 | tail -n 1)"
  echo "$(basename "$unit"): $rating"
  systemd-analyze security --offline=yes --threshold=20 --no-pager "$unit" \
    >/dev/null 2>&1 || fail "$(basename "$unit") is exposed: $rating"
done

for name in registry stats events programme gateway; do
  unit="$repo/deploy/systemd/smz-$name.service"
  binary="$build/services/$name/$name"
  grep -q '^DynamicUser=yes$' "$unit" || fail "$unit runs without DynamicUser"
  grep -q '^PartOf=smz.target$' "$unit" || fail "$unit is not part of smz.target"
  grep -q "smz-$name.service" "$repo/deploy/systemd/smz.target" ||
    fail "smz.target does not want smz-$name.service"
  grep -q '^MemoryMax=[0-9]' "$unit" || fail "$unit has no memory limit"
  for variable in $(grep -o 'SMZ_[A-Z_]*' "$unit" | sort -u); do
    grep -aq "$variable" "$binary" ||
      fail "smz-$name.service names $variable, which $binary does not read"
  done
  # Credentials are handed over as files, never in the environment file.
  if grep -q '^#   SMZ_MYSQL_PASSWORD' "$unit"; then
    fail "$unit puts a password in the environment"
  fi
done
exit "$status"
