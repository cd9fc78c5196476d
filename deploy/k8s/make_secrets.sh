#!/usr/bin/env bash
# The files an overlay's secretGenerator reads (never commit them):
#
#   deploy/k8s/make_secrets.sh deploy/k8s/overlays/small/secrets
#
# A private CA and a certificate per service naming its Service
# (deploy/tls/make_certs.sh; the gateway's also "gateway", the name the
# services trust as the edge), the MariaDB's naming its Services and pods;
# the bootstrap ADMIN token and the stats and events services' registry
# tokens (deploy/secrets/make_secrets.sh); a password per database service;
# and the SQL the MariaDB primary applies at start (databases, users
# limited to their own database and required to use TLS, a replication
# account) and the replica's. Run again: what exists is kept.
set -euo pipefail

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
if [[ $# -ne 1 ]]; then
  sed -n '2,14p' "$0" >&2
  exit 2
fi
dir=$1
umask 077
mkdir -p "$dir"

for svc in registry stats events programme; do
  SMZ_TLS_SANS="DNS:smz-$svc" bash "$REPO_ROOT/deploy/tls/make_certs.sh" "$dir" "$svc" >/dev/null
done
SMZ_TLS_SANS="DNS:smz-gateway" bash "$REPO_ROOT/deploy/tls/make_certs.sh" "$dir" gateway >/dev/null
SMZ_TLS_SANS="DNS:smz-mariadb-primary,DNS:smz-mariadb-replica,DNS:smz-mariadb-0.smz-mariadb,DNS:smz-mariadb-1.smz-mariadb" \
  bash "$REPO_ROOT/deploy/tls/make_certs.sh" "$dir" mariadb >/dev/null
bash "$REPO_ROOT/deploy/secrets/make_secrets.sh" "$dir" stats events >/dev/null

password() {
  local file="$dir/$1"
  if [[ ! -e $file ]]; then
    printf 'password=%s\n' "$(openssl rand -hex 24)" >"$file"
  fi
  sed -n 's/^password=//p' "$file"
}

sql="$dir/primary.sql"
if [[ ! -e $sql ]]; then
  {
    for svc in registry stats events programme; do
      pw="$(password "$svc.mysql")"
      echo "CREATE DATABASE IF NOT EXISTS smz_$svc CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;"
      echo "CREATE USER IF NOT EXISTS 'smz_$svc'@'%' IDENTIFIED BY '$pw' REQUIRE SSL;"
      echo "ALTER USER 'smz_$svc'@'%' IDENTIFIED BY '$pw' REQUIRE SSL;"
      echo "GRANT ALL PRIVILEGES ON smz_$svc.* TO 'smz_$svc'@'%';"
    done
    pw="$(password replication.mysql)"
    echo "CREATE USER IF NOT EXISTS 'smz_replication'@'%' IDENTIFIED BY '$pw' REQUIRE SSL;"
    echo "ALTER USER 'smz_replication'@'%' IDENTIFIED BY '$pw' REQUIRE SSL;"
    echo "GRANT REPLICATION SLAVE, SLAVE MONITOR ON *.* TO 'smz_replication'@'%';"
  } >"$sql"
fi
if [[ ! -e $dir/replica.sql ]]; then
  pw="$(password replication.mysql)"
  cat >"$dir/replica.sql" <<SQL
CHANGE MASTER TO MASTER_HOST='smz-mariadb-0.smz-mariadb', MASTER_PORT=3306, MASTER_USER='smz_replication', MASTER_PASSWORD='$pw', MASTER_SSL=1, MASTER_SSL_CA='/run/secrets/smz-tls/ca.crt', MASTER_SSL_VERIFY_SERVER_CERT=1, MASTER_USE_GTID=slave_pos;
START SLAVE;
SQL
fi
echo "secrets in $dir: $(ls "$dir" | wc -l) files"
