#!/usr/bin/env bash
# Stop everything deploy/local/up.sh started.
#
#   deploy/local/down.sh           stop services and the private MariaDB
#   deploy/local/down.sh --purge   ...and delete $SMZ_STATE (data, logs,
#                                  secrets). No prompt: it is local state.
set -euo pipefail

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"

# shellcheck source=deploy/lib/mariadb.sh
source "$REPO_ROOT/deploy/lib/mariadb.sh"
# shellcheck source=deploy/local/services.sh
source "$REPO_ROOT/deploy/local/services.sh"

purge=false
for arg in "$@"; do
  case "$arg" in
    --purge) purge=true ;;
    -h | --help)
      sed -n '2,7p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'
      exit 0
      ;;
    *)
      echo "smz-down: unknown argument: $arg (usage: down.sh [--purge])" >&2
      exit 2
      ;;
  esac
done

SMZ_STATE="${SMZ_STATE:-$REPO_ROOT/.smz}"
if [[ ! -d "$SMZ_STATE" ]]; then
  echo "smz-down: nothing to do ($SMZ_STATE does not exist)"
  exit 0
fi
SMZ_STATE="$(cd "$SMZ_STATE" && pwd)"
export SMZ_STATE

# Reverse start order, so nothing loses a dependency while still serving.
for ((i = ${#SERVICES[@]} - 1; i >= 0; i--)); do
  smz_stop_service "${SERVICES[i]}"
done

capture_pidfile="$SMZ_STATE/run/mail-capture.pid"
if [[ -s "$capture_pidfile" ]] &&
  grep -qs smtp_capture "/proc/$(cat "$capture_pidfile")/cmdline"; then
  kill "$(cat "$capture_pidfile")" 2>/dev/null || true
fi
if [[ -e "$capture_pidfile" ]]; then
  rm -f "$capture_pidfile"
fi

# Only a server living in our own datadir is ours; an external server given
# via SMZ_MYSQL_ADMIN_DSN is never touched.
if [[ -d "$SMZ_STATE/mariadb/mysql" ]]; then
  smz_mariadb_stop "$SMZ_STATE/mariadb"
fi

if [[ "$purge" == true ]]; then
  # Guard against a mis-set SMZ_STATE wiping something that is not ours.
  case "$SMZ_STATE" in
    / | "$HOME" | "$REPO_ROOT") echo "smz-down: refusing to purge $SMZ_STATE" >&2; exit 1 ;;
  esac
  rm -rf -- "$SMZ_STATE"
  echo "smz-down: purged $SMZ_STATE"
  if [[ -n "${SMZ_MYSQL_ADMIN_DSN:-}" ]]; then
    echo "smz-down: note: databases and users on the external server were left in place"
  fi
fi
echo "smz-down: stopped."
