#!/usr/bin/env bash
# Puts back a backup of deploy/backup/backup.sh, every service's database
# together, into a server whose services are stopped:
#
#   deploy/backup/restore.sh [--force] [--unchecked] BACKUP.sql.gz
#
# The server: the local stack's private MariaDB (SMZ_STATE, default .smz;
# started here when it is not running, so a restore into an empty stack is
# this, then deploy/local/up.sh), or SMZ_MYSQL_ADMIN_DSN (with
# SMZ_MYSQL_TLS_CA beyond this host), as for up.sh. The backup must match
# its .sha256 (written by backup.sh; without one, only with --unchecked). A
# database of the backup that already holds tables is replaced only with
# --force (stop its service first). The SQL runs in the client's sandbox
# (no shell, no files). The services' users and passwords are not in a
# backup: up.sh (or the administrator, as when installing) creates them.
#
# SMZ_BACKUP_REGISTRY_DATABASE (default smz_registry) names the registry's
# database. The first start of the registry afterwards revokes every API
# token but
# those it is given as provisioned secrets, ends every session and voids
# unused account links (README, Backups): a backup brings back tokens
# revoked since it was taken. In the local stack the tokens kept in
# SMZ_STATE/secrets are set aside here, so that up.sh mints and issues new
# ones.
set -euo pipefail

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
# shellcheck source=deploy/lib/mariadb.sh
source "$REPO_ROOT/deploy/lib/mariadb.sh"

force=false
unchecked=false
while [[ ${1:-} == --* ]]; do
  case $1 in
    --force) force=true ;;
    --unchecked) unchecked=true ;;
    *)
      echo "restore.sh: unknown option $1" >&2
      exit 2
      ;;
  esac
  shift
done
if [[ $# -ne 1 ]]; then
  sed -n '2,24p' "$0" >&2
  exit 2
fi
backup=$1
die() {
  echo "restore.sh: $*" >&2
  exit 1
}
[[ -r $backup ]] || die "cannot read $backup"
if [[ -e $backup.sha256 ]]; then
  # The file's own hash against the line for its name (sha256sum -c would
  # check whichever file the .sha256 names).
  read -r expected name <"$backup.sha256" || true
  actual="$(sha256sum <"$backup" | cut -d' ' -f1)"
  [[ $name == "$(basename "$backup")" && $expected == "$actual" ]] ||
    die "$backup does not match its checksum ($backup.sha256): not restored"
elif [[ $unchecked == true ]]; then
  echo "restore.sh: no $backup.sha256 beside it; restoring unchecked (--unchecked)" >&2
else
  die "no $backup.sha256 beside it (add --unchecked to restore anyway)"
fi
gzip -t "$backup" || die "$backup is not a whole gzip file"
gzip -dc "$backup" | tail -n 1 | grep -qx -- '-- smz backup complete' ||
  die "$backup is not a complete backup of backup.sh"

SMZ_STATE="${SMZ_STATE:-$REPO_ROOT/.smz}"
if [[ -z "${SMZ_MYSQL_ADMIN_DSN:-}" ]]; then
  SMZ_MARIADB_SOCKET="${SMZ_MARIADB_SOCKET:-$SMZ_STATE/mariadb/mariadb.sock}"
  if ! _smz_mariadb_ping "$SMZ_MARIADB_SOCKET"; then
    mkdir -p "$SMZ_STATE/logs"
    smz_mariadb_start "$SMZ_STATE/mariadb" "${SMZ_MARIADB_PORT:-33306}" \
      "$SMZ_STATE/logs/mariadb.log"
  fi
fi

# The databases the backup creates, as mariadb-dump --databases writes them.
mapfile -t databases < <(gzip -dc "$backup" |
  sed -n 's/^CREATE DATABASE \/\*!32312 IF NOT EXISTS\*\/ `\([A-Za-z0-9_]*\)`.*/\1/p')
[[ ${#databases[@]} -gt 0 ]] || die "$backup creates no database"
for db in "${databases[@]}"; do
  tables="$(smz_mysql_root --skip-column-names -e \
    "SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = '$db'")"
  if [[ $tables != 0 && $force != true ]]; then
    die "$db already holds $tables tables: stop its service and add --force to replace it"
  fi
done

# Whatever happens from here, a registry database left behind gets a
# pending mark (its rows may be the backup's): the registry's next start
# reviews credentials, even after a restore that stopped half way (the
# backup's own mark, its last statement, would not have run).
mark_registry() {
  local db=${SMZ_BACKUP_REGISTRY_DATABASE:-smz_registry} label
  [[ $db =~ ^[A-Za-z0-9_]{1,64}$ ]] || return 0
  label="$(basename "$backup" | tr -cd 'A-Za-z0-9._-' | cut -c1-100)"
  if smz_mysql_root --skip-column-names -e "SHOW DATABASES" | grep -Fqx "$db"; then
    smz_mysql_root -e "CREATE TABLE IF NOT EXISTS \`$db\`.restore_marks (id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY, backup_label VARCHAR(100) NOT NULL, backup_time_us BIGINT NOT NULL, review_time_us BIGINT NULL) ENGINE=InnoDB DEFAULT CHARSET=ascii COLLATE=ascii_bin; INSERT INTO \`$db\`.restore_marks (backup_label, backup_time_us) VALUES ('$label', $(date -u +%s%6N))" ||
      echo "restore.sh: could not mark $db for review: do not start the registry before running restore.sh again" >&2
    # A new directory stamp: a registry still running keeps no partner it
    # had in memory (its cache is exact by this stamp).
    smz_mysql_root -e "UPDATE \`$db\`.directory_version SET stamp = UUID() WHERE id = 1" 2>/dev/null ||
      echo "restore.sh: no directory stamp changed in $db (a backup from before 0.18?): restart any registry still running" >&2
  fi
}
trap mark_registry EXIT
# --sandbox: a backup is SQL, and the client's own commands (\! runs a
# shell) must not run from it.
gzip -dc "$backup" | smz_mysql_root --sandbox
echo "restore: ${databases[*]} from $backup"

# up.sh loads no demo data over it (its loaders' request keys were the old
# administrator's: they would add the demo a second time).
if [[ -z "${SMZ_MYSQL_ADMIN_DSN:-}" ]]; then
  mkdir -p "$SMZ_STATE"
  basename "$backup" >"$SMZ_STATE/restored-from"
fi
if [[ -z "${SMZ_MYSQL_ADMIN_DSN:-}" && -d $SMZ_STATE/secrets ]]; then
  # Revoked at the registry's next start: up.sh makes new ones.
  aside="$SMZ_STATE/secrets/before-restore-$(date -u +%Y%m%dT%H%M%SZ)"
  for f in "$SMZ_STATE"/secrets/*.token "$SMZ_STATE"/secrets/*.registry-token; do
    [[ -e $f ]] || continue
    mkdir -p "$aside"
    mv "$f" "$aside/"
  done
  [[ ! -d ${aside:-/nonexistent} ]] || echo "restore: API tokens set aside in $aside (the registry revokes them at its next start)"
fi
echo "restore: now start the services (deploy/local/up.sh); the registry's log says what it revoked"
