#!/usr/bin/env bash
# One consistent backup of every smz service's database, together: the
# services refer to each other's ids (a report's partner, a registration's
# event), so the four are dumped in one transaction of one connection
# (mariadb-dump --single-transaction: InnoDB's consistent snapshot) while
# the services keep serving.
#
#   deploy/backup/backup.sh OUT_DIR
#
# writes OUT_DIR/smz-<UTC time>.sql.gz (mode 0600: it holds people's
# details and password hashes) and its .sha256, then keeps the newest
# SMZ_BACKUP_KEEP (default 14) and deletes older ones. The server is the
# local stack's private MariaDB (SMZ_STATE, default .smz), or
# SMZ_MYSQL_ADMIN_DSN (mysql://user:password@host[:port], with
# SMZ_MYSQL_TLS_CA beyond this host), as for deploy/local/up.sh; the account
# needs SELECT, SHOW VIEW and TRIGGER. SMZ_BACKUP_DATABASES (default
# "smz_registry smz_stats smz_events smz_programme") names the databases,
# SMZ_BACKUP_REGISTRY_DATABASE (default smz_registry) the registry's among
# them, where the backup's restore mark goes (without it a restore could
# not make the registry review credentials: refused).
# deploy/backup/restore.sh puts one back.
set -euo pipefail

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
# shellcheck source=deploy/lib/mariadb.sh
source "$REPO_ROOT/deploy/lib/mariadb.sh"

if [[ $# -ne 1 ]]; then
  sed -n '2,21p' "$0" >&2
  exit 2
fi
out_dir=$1
keep=${SMZ_BACKUP_KEEP:-14}
if [[ ! $keep =~ ^[1-9][0-9]{0,3}$ ]]; then
  echo "backup.sh: SMZ_BACKUP_KEEP must be a number of backups (1-9999)" >&2
  exit 2
fi
SMZ_STATE="${SMZ_STATE:-$REPO_ROOT/.smz}"
if [[ -z "${SMZ_MYSQL_ADMIN_DSN:-}" ]]; then
  SMZ_MARIADB_SOCKET="${SMZ_MARIADB_SOCKET:-$SMZ_STATE/mariadb/mariadb.sock}"
  [[ -S $SMZ_MARIADB_SOCKET ]] || {
    echo "backup.sh: no MariaDB at $SMZ_MARIADB_SOCKET (deploy/local/up.sh starts it; or set SMZ_MYSQL_ADMIN_DSN)" >&2
    exit 1
  }
fi

umask 077
mkdir -p "$out_dir"
stamp="$(date -u +%Y%m%dT%H%M%SZ)"
file="$out_dir/smz-$stamp.sql.gz"
[[ ! -e $file ]] || {
  echo "backup.sh: $file exists" >&2
  exit 1
}
databases=()
for db in ${SMZ_BACKUP_DATABASES:-smz_registry smz_stats smz_events smz_programme}; do
  [[ $db =~ ^[A-Za-z0-9_]{1,64}$ ]] || {
    echo "backup.sh: not a database name: $db" >&2
    exit 2
  }
  databases+=("$db")
done
# Only the databases that exist (a stack may run without one service).
present=()
existing="$(smz_mysql_root --skip-column-names -e 'SHOW DATABASES')"
for db in "${databases[@]}"; do
  if grep -Fqx "$db" <<<"$existing"; then present+=("$db"); fi
done
if [[ ${#present[@]} -eq 0 ]]; then
  echo "backup.sh: none of ${databases[*]} exists" >&2
  exit 1
fi

# Written beside the final name and renamed once complete and checked: a
# backup that stopped half way is never mistaken for one.
tmp="$file.partial"
trap 'rm -f "$tmp"' EXIT
registry_db=${SMZ_BACKUP_REGISTRY_DATABASE:-smz_registry}
[[ $registry_db =~ ^[A-Za-z0-9_]{1,64}$ ]] || {
  echo "backup.sh: not a database name: $registry_db" >&2
  exit 2
}
if ! grep -Fqx "$registry_db" <<<"$(printf '%s\n' "${present[@]}")"; then
  echo "backup.sh: the registry's database $registry_db is not among ${present[*]}: a restore could not review credentials (set SMZ_BACKUP_REGISTRY_DATABASE)" >&2
  exit 1
fi
{
  smz_mysql_dump --single-transaction --quick --hex-blob --routines \
    --triggers --default-character-set=utf8mb4 --add-drop-database \
    --databases "${present[@]}"
  # A restore of this file leaves a pending mark: the registry's first start
  # after it makes every credential from before prove itself again
  # (README, Backups). The table as the registry's migration 10 makes it
  # (services/registry/registry_schema.h), for a backup of an older schema.
  if grep -Fqx "$registry_db" <<<"$(printf '%s\n' "${present[@]}")"; then
    printf '%s\n' \
      "CREATE TABLE IF NOT EXISTS \`$registry_db\`.restore_marks (id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY, backup_label VARCHAR(100) NOT NULL, backup_time_us BIGINT NOT NULL, review_time_us BIGINT NULL) ENGINE=InnoDB DEFAULT CHARSET=ascii COLLATE=ascii_bin;" \
      "INSERT INTO \`$registry_db\`.restore_marks (backup_label, backup_time_us) VALUES ('smz-$stamp', $(date -u +%s%6N));"
  fi
  echo "-- smz backup complete"
} | gzip -6 >"$tmp"
# mariadb-dump ends a complete dump with "-- Dump completed"; the line above
# follows it.
if ! gzip -dc "$tmp" | tail -n 4 | grep -q '^-- Dump completed' ||
  ! gzip -dc "$tmp" | tail -n 1 | grep -qx -- '-- smz backup complete'; then
  echo "backup.sh: the dump did not complete" >&2
  exit 1
fi
mv "$tmp" "$file"
trap - EXIT
(cd "$out_dir" && sha256sum "$(basename "$file")" >"$(basename "$file").sha256")
echo "backup: $file ($(du -h "$file" | cut -f1); ${present[*]})"

# The newest $keep stay.
mapfile -t old < <(ls -1 "$out_dir"/smz-*.sql.gz 2>/dev/null | sort -r | tail -n +"$((keep + 1))")
for f in "${old[@]}"; do
  rm -f "$f" "$f.sha256"
  echo "backup: removed $f"
done
