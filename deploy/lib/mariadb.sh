# shellcheck shell=bash
# Helpers for a private, throw-away MariaDB server and for provisioning one
# database + user per smz service. Source this file; it defines functions only.
#
# Globals:
#   SMZ_MARIADB_SOCKET   set by smz_mariadb_start; smz_mysql_root connects
#                        here unless SMZ_MYSQL_ADMIN_DSN is set.
#   SMZ_MYSQL_ADMIN_DSN  optional mysql://user:password@host[:port] of an
#                        external admin account; replaces the private server.
#   SMZ_STATE            state dir; secrets live in $SMZ_STATE/secrets.
#
# Every server we start is isolated with --no-defaults, so a system-wide
# /etc/mysql config (or a running system MariaDB) can never leak in.

# AF_UNIX socket paths are limited to 108 bytes including the NUL; a deep
# SMZ_STATE would otherwise fail with an obscure "socket path too long".
# (Not readonly: this file may be sourced more than once.)
_SMZ_MAX_SOCKET_PATH=107

_smz_log() { echo "mariadb: $*" >&2; }

_smz_abs_dir() { (cd "$1" && pwd); }

# Ping exits 0 whenever a server answers, even on access denied, so it is a
# pure "is something listening on this socket" check.
_smz_mariadb_ping() {
  mariadb-admin --no-defaults --socket="$1" -uroot --connect-timeout=2 ping >/dev/null 2>&1
}

_smz_pid_alive() {
  [[ -n "${1:-}" ]] && kill -0 "$1" 2>/dev/null
}

# mariadb-install-db creates passwordless root accounts for 127.0.0.1, ::1
# and the hostname as well. Together with a TCP port that would give every
# local user root on our server, so root is restricted to root@localhost,
# which (with --skip-name-resolve) only matches the socket, and the socket
# lives in a 0700 datadir. A server we start does this itself, from its
# init file (mariadb-lockdown.sql), before it accepts a connection; this
# pass is for a server that was already running when the script started
# (one an older version of this script started). Idempotent.
_smz_mariadb_lock_root() {
  local sock="$1" hosts host sql=""
  hosts="$(mariadb --no-defaults --batch --skip-column-names --socket="$sock" -uroot \
    -e "SELECT Host FROM mysql.user WHERE User='root' AND Host<>'localhost'")" || return 1
  while IFS= read -r host; do
    [[ -n "$host" ]] || continue
    sql+="DROP USER IF EXISTS 'root'@'${host//\'/\'\'}';"$'\n'
  done <<<"$hosts"
  if [[ -n "$sql" ]]; then
    printf '%s' "$sql" | mariadb --no-defaults --batch --socket="$sock" -uroot
  fi
}

# smz_mariadb_start DATADIR PORT [LOGFILE]
# Initialises DATADIR on first use and starts a server bound to
# 127.0.0.1:PORT plus DATADIR/mariadb.sock. No-op if it is already up.
smz_mariadb_start() {
  if (($# < 2)); then
    _smz_log "usage: smz_mariadb_start DATADIR PORT [LOGFILE]"
    return 2
  fi
  local datadir port logfile
  mkdir -p "$1"
  datadir="$(_smz_abs_dir "$1")"
  port="$2"
  logfile="${3:-$datadir/mariadb.log}"
  mkdir -p "$(dirname "$logfile")"

  local sock="$datadir/mariadb.sock"
  if ((${#sock} > _SMZ_MAX_SOCKET_PATH)); then
    _smz_log "socket path is longer than $_SMZ_MAX_SOCKET_PATH bytes: $sock"
    _smz_log "use a shorter data directory (e.g. SMZ_STATE=/tmp/smz)"
    return 1
  fi
  SMZ_MARIADB_SOCKET="$sock"

  # mariadbd refuses to run as root unless told to, and --user is only
  # meaningful (and only allowed) for root.
  local as_root=()
  if [[ "$(id -u)" -eq 0 ]]; then
    as_root=(--user=root)
  fi

  # The socket inherits reachability from the datadir; keep others out.
  chmod 700 "$datadir"

  if [[ ! -d "$datadir/mysql" ]]; then
    _smz_log "initialising $datadir"
    # "normal" auth for root: passwordless root over the private socket,
    # instead of unix_socket auth that would tie access to the OS user.
    if ! mariadb-install-db --no-defaults --datadir="$datadir" \
        --auth-root-authentication-method=normal "${as_root[@]}" \
        --skip-test-db >/dev/null; then
      _smz_log "mariadb-install-db failed; remove $datadir before retrying"
      return 1
    fi
  fi

  if _smz_mariadb_ping "$sock"; then
    _smz_log "already running on $sock"
    _smz_mariadb_lock_root "$sock"
    return 0
  fi

  # The init file runs at every start before the server accepts its first
  # connection: the passwordless root accounts that mariadb-install-db makes
  # for 127.0.0.1, ::1 and the hostname (and any anonymous account) are gone
  # before the TCP port answers, even on the very first start. Root remains
  # only as root@localhost, the socket in the 0700 datadir.
  local init_file
  init_file="$(_smz_abs_dir "$(dirname "${BASH_SOURCE[0]}")")/mariadb-lockdown.sql"

  # SMZ_MARIADB_TLS_DIR: serve TCP with TLS only, with DIR/mariadb.crt and
  # .key (deploy/tls/make_certs.sh DIR mariadb) and client certificates
  # checked against DIR/ca.crt. The private socket stays as it is.
  local tls=()
  if [[ -n "${SMZ_MARIADB_TLS_DIR:-}" ]]; then
    tls=(--ssl-cert="$SMZ_MARIADB_TLS_DIR/mariadb.crt"
         --ssl-key="$SMZ_MARIADB_TLS_DIR/mariadb.key"
         --ssl-ca="$SMZ_MARIADB_TLS_DIR/ca.crt" --require-secure-transport=ON)
  fi

  _smz_log "starting on 127.0.0.1:$port${tls:+ with TLS only} (log: $logfile)"
  # setsid + nohup: the server must survive the end of this script and any
  # SIGHUP/SIGINT sent to the terminal's process group.
  setsid nohup mariadbd --no-defaults --datadir="$datadir" --socket="$sock" \
    --port="$port" --bind-address=127.0.0.1 --skip-name-resolve --skip-log-bin \
    --init-file="$init_file" "${tls[@]}" \
    --pid-file="$datadir/mariadbd.pid" --log-error="$logfile" \
    "${as_root[@]}" </dev/null >/dev/null 2>&1 &
  local pid=$!

  local i
  for ((i = 0; i < 60; i++)); do
    if _smz_mariadb_ping "$sock"; then
      return 0
    fi
    # Fail fast instead of waiting the full 30 s when startup already died
    # (port taken, corrupt datadir, ...).
    if ! _smz_pid_alive "$pid"; then
      break
    fi
    sleep 0.5
  done

  _smz_log "server did not come up; last lines of $logfile:"
  tail -n 30 "$logfile" >&2 2>/dev/null || true
  return 1
}

# smz_mariadb_stop DATADIR
# Shuts down the server owned by DATADIR, if running, and waits for it to exit.
smz_mariadb_stop() {
  if (($# < 1)); then
    _smz_log "usage: smz_mariadb_stop DATADIR"
    return 2
  fi
  local datadir="$1"
  local sock="$datadir/mariadb.sock"
  local pidfile="$datadir/mariadbd.pid"

  if ! _smz_mariadb_ping "$sock"; then
    return 0
  fi

  # Read the pid before shutdown: the server deletes the file on exit.
  local pid=""
  if [[ -r "$pidfile" ]]; then
    pid="$(<"$pidfile")"
  fi

  _smz_log "stopping server in $datadir"
  mariadb-admin --no-defaults --socket="$sock" -uroot shutdown

  local i
  for ((i = 0; i < 60; i++)); do
    if ! _smz_pid_alive "$pid" && ! _smz_mariadb_ping "$sock"; then
      return 0
    fi
    sleep 0.5
  done
  _smz_log "server in $datadir did not stop within 30 s (pid ${pid:-unknown})"
  return 1
}

# Decodes %XX escapes so passwords with ':', '@' or '/' can live in a DSN.
_smz_urldecode() {
  local s="$1" out="" c i=0
  while ((i < ${#s})); do
    c="${s:i:1}"
    if [[ "$c" == "%" && "${s:i+1:2}" =~ ^[0-9A-Fa-f]{2}$ ]]; then
      printf -v c '%b' "\\x${s:i+1:2}"
      i=$((i + 3))
    else
      i=$((i + 1))
    fi
    out+="$c"
  done
  printf '%s' "$out"
}

# smz_parse_admin_dsn DSN
# Splits mysql://user:password@host[:port][/...] into the globals
# SMZ_ADMIN_USER, SMZ_ADMIN_PASSWORD, SMZ_ADMIN_HOST and SMZ_ADMIN_PORT.
# User and password may be percent-encoded. IPv6 literals are not supported.
smz_parse_admin_dsn() {
  local dsn="$1"
  if [[ "$dsn" != mysql://*@* ]]; then
    _smz_log "SMZ_MYSQL_ADMIN_DSN must look like mysql://user:password@host:port"
    return 1
  fi
  local rest="${dsn#mysql://}"
  # Split on the last '@' so an unencoded '@' in the password still works.
  local userinfo="${rest%@*}"
  local hostport="${rest##*@}"
  hostport="${hostport%%/*}"

  SMZ_ADMIN_USER="$(_smz_urldecode "${userinfo%%:*}")"
  if [[ "$userinfo" == *:* ]]; then
    SMZ_ADMIN_PASSWORD="$(_smz_urldecode "${userinfo#*:}")"
  else
    SMZ_ADMIN_PASSWORD=""
  fi
  SMZ_ADMIN_HOST="${hostport%%:*}"
  if [[ "$hostport" == *:* ]]; then
    SMZ_ADMIN_PORT="${hostport#*:}"
  else
    SMZ_ADMIN_PORT=3306
  fi

  if [[ -z "$SMZ_ADMIN_USER" || -z "$SMZ_ADMIN_HOST" || ! "$SMZ_ADMIN_PORT" =~ ^[0-9]+$ ]]; then
    _smz_log "cannot parse SMZ_MYSQL_ADMIN_DSN (expected mysql://user:password@host:port)"
    return 1
  fi
}

# smz_mysql_root [EXTRA_CLIENT_ARGS...] < SQL
# Runs the mariadb client with admin rights against the external server from
# SMZ_MYSQL_ADMIN_DSN if set, else against the private server's socket.
# shellcheck disable=SC2120  # extra args are for callers outside this file
# _smz_admin_client PROGRAM ARGS...: runs a MariaDB client program
# (mariadb, mariadb-dump) on the admin connection.
_smz_admin_client() {
  local program="$1"
  shift
  if [[ -n "${SMZ_MYSQL_ADMIN_DSN:-}" ]]; then
    smz_parse_admin_dsn "$SMZ_MYSQL_ADMIN_DSN" || return 1
    # The services' passwords (CREATE USER) and every row of a backup cross
    # this connection: with SMZ_MYSQL_TLS_CA it is TLS with the server's
    # certificate checked; a server beyond this host without it is refused.
    local tls=()
    if [[ -n "${SMZ_MYSQL_TLS_CA:-}" ]]; then
      tls=(--ssl --ssl-ca="$SMZ_MYSQL_TLS_CA" --ssl-verify-server-cert)
    elif [[ "$SMZ_ADMIN_HOST" != 127.* && "$SMZ_ADMIN_HOST" != localhost && "$SMZ_ADMIN_HOST" != ::1 ]]; then
      _smz_log "SMZ_MYSQL_ADMIN_DSN names $SMZ_ADMIN_HOST: set SMZ_MYSQL_TLS_CA (its CA) so that the services' passwords do not cross the network in plaintext"
      return 1
    fi
    # Password goes through the environment of the client only: argv is
    # world-readable via ps, the environment is not.
    MYSQL_PWD="$SMZ_ADMIN_PASSWORD" "$program" --no-defaults \
      --protocol=TCP -h "$SMZ_ADMIN_HOST" -P "$SMZ_ADMIN_PORT" \
      -u "$SMZ_ADMIN_USER" "${tls[@]}" "$@"
  else
    if [[ -z "${SMZ_MARIADB_SOCKET:-}" ]]; then
      _smz_log "no server: call smz_mariadb_start or set SMZ_MYSQL_ADMIN_DSN"
      return 1
    fi
    "$program" --no-defaults --protocol=SOCKET \
      --socket="$SMZ_MARIADB_SOCKET" -uroot "$@"
  fi
}

smz_mysql_root() { _smz_admin_client mariadb --batch "$@"; }

# smz_mysql_dump ARGS...: mariadb-dump on the admin connection.
smz_mysql_dump() { _smz_admin_client mariadb-dump "$@"; }

# Escapes a value for use inside a single-quoted SQL string literal.
_smz_sql_quote() {
  local s="$1"
  s="${s//\\/\\\\}"
  s="${s//\'/\\\'}"
  printf "'%s'" "$s"
}

# Prints 24 random alphanumeric characters.
_smz_random_password() {
  local pw="" chunk
  # Read a bounded amount per round rather than piping an endless
  # /dev/urandom into head, which dies of SIGPIPE under pipefail.
  while ((${#pw} < 24)); do
    chunk="$(head -c 512 /dev/urandom | LC_ALL=C tr -dc 'A-Za-z0-9')"
    pw+="$chunk"
  done
  printf '%s' "${pw:0:24}"
}

# smz_provision_service_db SERVICE
# Idempotently creates database smz_SERVICE and user smz_SERVICE (granted on
# that database only). The password is kept in
# $SMZ_STATE/secrets/SERVICE.mysql as a single line "password=<pw>"; it is
# generated on first use and reused afterwards, so re-provisioning never
# breaks a running service.
smz_provision_service_db() {
  if (($# != 1)) || [[ ! "$1" =~ ^[a-z][a-z0-9_]*$ ]]; then
    # The name ends up in SQL identifiers; refuse anything needing quoting.
    _smz_log "usage: smz_provision_service_db SERVICE (lowercase [a-z0-9_])"
    return 2
  fi
  if [[ -z "${SMZ_STATE:-}" ]]; then
    _smz_log "SMZ_STATE is not set"
    return 1
  fi
  local service="$1"
  local name="smz_${service}"
  local secrets_dir="$SMZ_STATE/secrets"
  local secret_file="$secrets_dir/${service}.mysql"
  local password=""

  mkdir -p "$secrets_dir"
  chmod 700 "$secrets_dir"

  if [[ -f "$secret_file" ]]; then
    local line
    line="$(head -n 1 "$secret_file")"
    if [[ "$line" != password=?* ]]; then
      _smz_log "$secret_file is malformed (want one line: password=<pw>); delete it to regenerate"
      return 1
    fi
    password="${line#password=}"
    chmod 600 "$secret_file"
  else
    password="$(_smz_random_password)"
    # Write-then-rename so a crash never leaves a truncated secret behind, and
    # umask 077 so the file is never readable by others, not even briefly.
    (
      umask 077
      printf 'password=%s\n' "$password" >"$secret_file.tmp"
      mv -f "$secret_file.tmp" "$secret_file"
    )
  fi

  local hosts=("127.0.0.1" "localhost")
  if [[ -n "${SMZ_MYSQL_ADMIN_DSN:-}" ]]; then
    # An external server sees us from some other address.
    hosts+=("%")
  fi

  local qpw sql host account
  qpw="$(_smz_sql_quote "$password")"
  sql="CREATE DATABASE IF NOT EXISTS \`$name\` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;"$'\n'
  for host in "${hosts[@]}"; do
    account="'$name'@'$host'"
    sql+="CREATE USER IF NOT EXISTS $account IDENTIFIED BY $qpw;"$'\n'
    # ALTER as well, so an account left over from an older secret file gets
    # the current password.
    sql+="ALTER USER $account IDENTIFIED BY $qpw;"$'\n'
    sql+="GRANT ALL PRIVILEGES ON \`$name\`.* TO $account;"$'\n'
  done

  # SQL (and the password in it) goes through stdin, never argv.
  if ! printf '%s' "$sql" | smz_mysql_root; then
    _smz_log "provisioning database $name failed"
    return 1
  fi
  _smz_log "provisioned database and user $name"
}
