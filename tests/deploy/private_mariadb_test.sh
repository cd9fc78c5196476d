#!/usr/bin/env bash
# The local stack's private MariaDB (deploy/lib/mariadb.sh) never answers
# root without a password on its TCP port, from its very first start: the
# server is started with an init file that drops those accounts before it
# accepts a connection. Run by CTest.
set -euo pipefail
REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
# shellcheck source=../../deploy/lib/mariadb.sh
source "$REPO_ROOT/deploy/lib/mariadb.sh"

dir="$(mktemp -d /tmp/smz-private-mariadb-XXXXXX)"
port="$(/usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"
cleanup() {
  smz_mariadb_stop "$dir/data" >/dev/null 2>&1 || true
  rm -rf "$dir"
}
trap cleanup EXIT

fail() { echo "FAIL: $*" >&2; exit 1; }

smz_mariadb_start "$dir/data" "$port" "$dir/mariadb.log" 2>/dev/null ||
  fail "the server did not start; $(tail -5 "$dir/mariadb.log")"

if mariadb --no-defaults -h127.0.0.1 -P"$port" -uroot -e 'SELECT 1' >/dev/null 2>&1; then
  fail "root logged in over TCP without a password"
fi
# The port itself answers: an account with a password gets in.
mariadb --no-defaults --socket="$dir/data/mariadb.sock" -uroot \
  -e "CREATE USER 'probe'@'127.0.0.1' IDENTIFIED BY 'probe-secret'"
mariadb --no-defaults -h127.0.0.1 -P"$port" -uprobe -pprobe-secret \
  -e 'SELECT 1' >/dev/null || fail "the TCP port refuses a valid login"
accounts="$(mariadb --no-defaults --socket="$dir/data/mariadb.sock" -uroot \
  --batch --skip-column-names -e "SELECT CONCAT(User,'@',Host) FROM mysql.user WHERE User='root' OR User=''")"
[[ "$accounts" == "root@localhost" ]] || fail "root accounts left: $accounts"
[[ "$(stat -c %a "$dir/data")" == "700" ]] || fail "the datadir is not 0700"

# A second start of the same datadir keeps it so.
smz_mariadb_stop "$dir/data" >/dev/null 2>&1
smz_mariadb_start "$dir/data" "$port" "$dir/mariadb.log" 2>/dev/null ||
  fail "the server did not start again"
if mariadb --no-defaults -h127.0.0.1 -P"$port" -uroot -e 'SELECT 1' >/dev/null 2>&1; then
  fail "root logged in over TCP after a restart"
fi
echo "PASS: the private MariaDB refuses passwordless root over TCP"
