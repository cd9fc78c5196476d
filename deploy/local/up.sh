#!/usr/bin/env bash
# Bring the whole smz suite up locally with demo data.
#
# Safe to re-run: packages, build, database and users are only created when
# missing, running services are restarted with the fresh build, and the demo
# loader is idempotent.
#
# Environment:
#   SMZ_STATE              local state dir (default <repo>/.smz)
#   SMZ_MYSQL_ADMIN_DSN    mysql://user:password@host:port of an existing
#                          server to use instead of a private MariaDB
#   SMZ_MYSQL_TLS_CA       that server's CA: TLS to it, its certificate
#                          checked (required beyond this host)
#   SMZ_TLS=1              mutual TLS between everything, HTTPS, and the
#                          private MariaDB with TLS only (below)
#   SMZ_MARIADB_PORT       private MariaDB port (default 33306)
#   SMZ_BASE_PORT          first gRPC port (default 50051)
#   SMZ_METRICS_BASE_PORT  first metrics port (default 9464)
#   SMZ_BUILD_TYPE         CMake build type (default RelWithDebInfo)
#   SMZ_SMTP_URL           a real mail relay for the services' mail (with
#                          SMZ_SMTP_USERNAME, SMZ_SMTP_PASSWORD_FILE,
#                          SMZ_MAIL_FROM); unset: a local capture server
#                          keeps every mail in $SMZ_STATE/mail
#   SMZ_MAIL_CAPTURE_PORT  that capture server's port (default 2525)
#   SMZ_DISTRICT_MAIL      the district's addresses for the weekly digest
#                          of terms and registrations running out
#   SMZ_PUBLIC_URL         where people reach the gateway, for the links
#                          mailed to those who sign up (default
#                          http(s)://127.0.0.1:$SMZ_HTTP_PORT)
set -euo pipefail

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
BUILD_DIR="$REPO_ROOT/build"

# shellcheck source=deploy/lib/mariadb.sh
source "$REPO_ROOT/deploy/lib/mariadb.sh"
# shellcheck source=deploy/local/services.sh
source "$REPO_ROOT/deploy/local/services.sh"

log() { echo "smz-up: $*"; }
die() {
  echo "smz-up: $*" >&2
  exit 1
}

# Absolute, because services run with a different cwd and read paths from it.
SMZ_STATE="${SMZ_STATE:-$REPO_ROOT/.smz}"
mkdir -p "$SMZ_STATE"
SMZ_STATE="$(cd "$SMZ_STATE" && pwd)"
export SMZ_STATE
mkdir -p "$SMZ_STATE"/{mariadb,logs,run,secrets}
chmod 700 "$SMZ_STATE/secrets"

bash "$REPO_ROOT/deploy/bootstrap.sh"
bash "$REPO_ROOT/deploy/build.sh"

# SMZ_TLS=1: every gRPC port speaks mutual TLS, with a private CA and a
# certificate per service made here once (deploy/tls/make_certs.sh; kept in
# $SMZ_STATE/tls, renewed by running that script again, no restart needed).
# This script's own tools (health probe, smzctl, demo loaders) use the
# "operator" certificate, exported; each service gets its own and requires
# its callers' (start_service). The gateway's HTTP side serves HTTPS with
# its certificate (names localhost and 127.0.0.1; a browser trusts it once
# ca.crt is imported, curl with --cacert).
TLS_DIR=""
HTTP_SCHEME=http
CURL_CA=""
# The CA the services check the database's certificate against: the local
# CA for the private MariaDB under SMZ_TLS=1, else the caller's
# SMZ_MYSQL_TLS_CA for an external server (empty: no TLS to the database).
MYSQL_TLS_CA="${SMZ_MYSQL_TLS_CA:-}"
TLS_NAMES=(registry stats events programme gateway operator mariadb)
if [[ "${SMZ_TLS:-0}" == 1 ]]; then
  TLS_DIR="$SMZ_STATE/tls"
  # Made once; made again (same CA) when one is missing or ends within 30
  # days.
  for name in "${TLS_NAMES[@]}"; do
    if ! openssl x509 -checkend 2592000 -noout -in "$TLS_DIR/$name.crt" >/dev/null 2>&1; then
      bash "$REPO_ROOT/deploy/tls/make_certs.sh" "$TLS_DIR" "${TLS_NAMES[@]}" >/dev/null
      break
    fi
  done
  export SMZ_TLS_CERT="$TLS_DIR/operator.crt" SMZ_TLS_KEY="$TLS_DIR/operator.key"
  export SMZ_TLS_CA="$TLS_DIR/ca.crt"
  HTTP_SCHEME=https
  # The private MariaDB takes TCP connections with TLS only; the services
  # check its certificate (SMZ_MYSQL_TLS_CA).
  export SMZ_MARIADB_TLS_DIR="$TLS_DIR"
  CURL_CA="--cacert $TLS_DIR/ca.crt "
fi

PROBE="$BUILD_DIR/common/smz_health_probe"
SMZCTL="$BUILD_DIR/common/smzctl"
DEMO_LOADER="$BUILD_DIR/services/registry/registry_load_demo"
DEMO_CSV="$REPO_ROOT/deploy/demo/specialized_operators.csv"
STATS_DEMO_LOADER="$BUILD_DIR/services/stats/stats_load_demo"
STATS_DEMO_CSV="$REPO_ROOT/deploy/demo/foreign_patients_reported.csv"
EVENTS_DEMO_LOADER="$BUILD_DIR/services/events/events_load_demo"
EVENTS_DEMO_CSV="$REPO_ROOT/deploy/demo/activities_2018_2022.csv"
PROGRAMME_DEMO_LOADER="$BUILD_DIR/services/programme/programme_load_demo"
for f in "$PROBE" "$SMZCTL" "$DEMO_LOADER" "$STATS_DEMO_LOADER" "$EVENTS_DEMO_LOADER" \
    "$PROGRAMME_DEMO_LOADER"; do
  [[ -x "$f" ]] || die "build did not produce $f"
done
for f in "$DEMO_CSV" "$STATS_DEMO_CSV" "$EVENTS_DEMO_CSV" \
    "$REPO_ROOT/deploy/demo/programme_budget_2018_2022.csv" \
    "$REPO_ROOT/deploy/demo/kpi_targets_and_results.csv" \
    "$REPO_ROOT/deploy/demo/department_budget_2022.csv"; do
  [[ -r "$f" ]] || die "demo data missing: $f"
done

if [[ -z "${SMZ_MYSQL_ADMIN_DSN:-}" ]]; then
  MYSQL_HOST=127.0.0.1
  MYSQL_PORT="${SMZ_MARIADB_PORT:-33306}"
  smz_mariadb_start "$SMZ_STATE/mariadb" "$MYSQL_PORT" "$SMZ_STATE/logs/mariadb.log"
  MYSQL_DESC="private MariaDB at $MYSQL_HOST:$MYSQL_PORT (data: $SMZ_STATE/mariadb)"
  MYSQL_TLS_CA=""
  if [[ -n "$TLS_DIR" ]]; then
    secure="$(mariadb --no-defaults --batch --skip-column-names \
      --socket="$SMZ_MARIADB_SOCKET" -uroot -e 'SELECT @@require_secure_transport')"
    [[ "$secure" == 1 ]] || die "the private MariaDB was already running without TLS: run deploy/local/down.sh, then SMZ_TLS=1 deploy/local/up.sh"
    # A server that was already running reads a renewed certificate now.
    mariadb --no-defaults --batch --socket="$SMZ_MARIADB_SOCKET" -uroot -e 'FLUSH SSL'
    MYSQL_TLS_CA="$TLS_DIR/ca.crt"
    MYSQL_DESC="$MYSQL_DESC, TLS only"
  fi
else
  smz_parse_admin_dsn "$SMZ_MYSQL_ADMIN_DSN"
  MYSQL_HOST="$SMZ_ADMIN_HOST"
  MYSQL_PORT="$SMZ_ADMIN_PORT"
  MYSQL_DESC="external MySQL at $MYSQL_HOST:$MYSQL_PORT (from SMZ_MYSQL_ADMIN_DSN)"
fi

ADMIN_TOKEN_FILE="$SMZ_STATE/secrets/admin.token"
# Remember whether the registry mints the token during this run: only then is
# it shown, so it never ends up in the scrollback of every later `up`.
admin_token_existed=false
[[ -e "$ADMIN_TOKEN_FILE" ]] && admin_token_existed=true

# Polls the gRPC health service until SERVING. Bails out early if the process
# died, and shows the log tail either way so failures are diagnosable here.
wait_healthy() {
  local svc="$1" port="$2" pid="$3" logfile="$4"
  local deadline=$((SECONDS + 30))
  while ((SECONDS < deadline)); do
    # timeout: a wedged server must not hang the probe past our deadline.
    if timeout 5 "$PROBE" --target="127.0.0.1:$port" >/dev/null 2>&1; then
      return 0
    fi
    if ! kill -0 "$pid" 2>/dev/null; then
      echo "smz-up: $svc (pid $pid) exited during startup" >&2
      break
    fi
    sleep 0.5
  done
  echo "smz-up: $svc is not healthy on 127.0.0.1:$port; last 30 lines of $logfile:" >&2
  tail -n 30 "$logfile" >&2 || true
  exit 1
}

# A service's own read-only registry token (ANALYST), issued once with the
# admin token and kept 0600 beside the other secrets; re-issued if revoked.
ensure_registry_token() {
  local svc="$1" file="$SMZ_STATE/secrets/$1.registry-token" out token
  if [[ -s "$file" ]] && "$SMZCTL" --target="127.0.0.1:$(smz_grpc_port registry)" \
      --token_file="$file" call smz.registry.v1.RegistryService/WhoAmI '{}' \
      >/dev/null 2>&1; then
    return 0
  fi
  out="$("$SMZCTL" --target="127.0.0.1:$(smz_grpc_port registry)" \
    --token_file="$ADMIN_TOKEN_FILE" call smz.registry.v1.RegistryService/IssueToken \
    "{\"role\":\"ANALYST\",\"display_name\":\"$svc service\"}")" ||
    die "cannot issue a registry token for $svc"
  token="$(printf '%s' "$out" | tr -d '\n' | sed -n 's/.*"token": *"\([^"]*\)".*/\1/p')"
  [[ -n "$token" ]] || die "no token in the registry's answer for $svc"
  (umask 077 && printf '%s\n' "$token" >"$file")
}

start_service() {
  local svc="$1" port mport bin logfile pidfile pid
  port="$(smz_grpc_port "$svc")"
  mport="$(smz_metrics_port "$svc")"
  bin="$BUILD_DIR/services/$svc/$svc"
  logfile="$SMZ_STATE/logs/$svc.log"
  pidfile="$(smz_service_pidfile "$svc")"
  [[ -x "$bin" ]] || die "build did not produce $bin"

  # Restart rather than skip: the binary may just have been rebuilt.
  smz_stop_service "$svc"

  local env_vars=(
    "SMZ_LISTEN=127.0.0.1:$port"
    "SMZ_METRICS_LISTEN=127.0.0.1:$mport"
  )
  if [[ -n "$TLS_DIR" ]]; then
    env_vars+=("SMZ_TLS_CERT=$TLS_DIR/$svc.crt" "SMZ_TLS_KEY=$TLS_DIR/$svc.key"
               "SMZ_TLS_CA=$TLS_DIR/ca.crt" "SMZ_TLS_CLIENT_AUTH=require")
  fi
  # The gateway is stateless: no database of its own.
  if [[ "$svc" != gateway ]]; then
    smz_provision_service_db "$svc"
    env_vars+=(
      # No password in the DSN: it comes from the 0600 credentials file, so it
      # never shows up in /proc/<pid>/environ or in logged configuration.
      "SMZ_MYSQL_DSN=mysql://smz_$svc@$MYSQL_HOST:$MYSQL_PORT/smz_$svc"
      "SMZ_MYSQL_CREDENTIALS_FILE=$SMZ_STATE/secrets/$svc.mysql"
    )
    # Always said, empty too: an SMZ_MYSQL_TLS_CA exported for an external
    # server must not reach services of the private one.
    env_vars+=("SMZ_MYSQL_TLS_CA=$MYSQL_TLS_CA")
  fi
  case "$svc" in
    registry)
      env_vars+=(
        "SMZ_BOOTSTRAP_ADMIN_TOKEN_FILE=$ADMIN_TOKEN_FILE"
        # Invitations and password resets are mailed with the gateway's
        # link; the district's weekly digest of terms running out goes to
        # SMZ_DISTRICT_MAIL (the demo's: captured like the rest).
        "SMZ_PUBLIC_URL=${SMZ_PUBLIC_URL:-${HTTP_SCHEME}://127.0.0.1:${SMZ_HTTP_PORT:-8055}}"
        "SMZ_DISTRICT_MAIL=${SMZ_DISTRICT_MAIL:-medical.zone@yeongdeungpo.example}"
      )
      ;;
    # Only resolves callers' tokens there; reads nothing with its own.
    programme) env_vars+=("SMZ_REGISTRY_TARGET=127.0.0.1:$(smz_grpc_port registry)") ;;
    gateway)
      env_vars+=(
        "SMZ_REGISTRY_TARGET=127.0.0.1:$(smz_grpc_port registry)"
        "SMZ_STATS_TARGET=127.0.0.1:$(smz_grpc_port stats)"
        "SMZ_EVENTS_TARGET=127.0.0.1:$(smz_grpc_port events)"
        "SMZ_PROGRAMME_TARGET=127.0.0.1:$(smz_grpc_port programme)"
        "SMZ_HTTP_LISTEN=127.0.0.1:${SMZ_HTTP_PORT:-8055}"
      )
      if [[ -n "$TLS_DIR" ]]; then
        env_vars+=("SMZ_HTTP_TLS_CERT=$TLS_DIR/gateway.crt"
                   "SMZ_HTTP_TLS_KEY=$TLS_DIR/gateway.key")
      fi
      ;;
    events|stats)
      ensure_registry_token "$svc"
      env_vars+=(
        "SMZ_REGISTRY_TARGET=127.0.0.1:$(smz_grpc_port registry)"
        "SMZ_REGISTRY_TOKEN_FILE=$SMZ_STATE/secrets/$svc.registry-token"
        # The links mailed (sign-ups, report reminders) open the gateway's
        # pages.
        "SMZ_PUBLIC_URL=${SMZ_PUBLIC_URL:-${HTTP_SCHEME}://127.0.0.1:${SMZ_HTTP_PORT:-8055}}"
      )
      ;;
    *)
      ensure_registry_token "$svc"
      env_vars+=(
        "SMZ_REGISTRY_TARGET=127.0.0.1:$(smz_grpc_port registry)"
        "SMZ_REGISTRY_TOKEN_FILE=$SMZ_STATE/secrets/$svc.registry-token"
      )
      ;;
  esac

  log "starting $svc on 127.0.0.1:$port (metrics :$mport)"
  # A marker makes it obvious in the appended log where this run begins.
  echo "=== $(date -Is) smz-up: starting $svc" >>"$logfile"
  # setsid + nohup: the service must outlive this script and the terminal.
  # As we are not a process-group leader, setsid execs in place, so $! is the
  # service's own pid.
  env "${env_vars[@]}" setsid nohup "$bin" </dev/null >>"$logfile" 2>&1 &
  pid=$!
  echo "$pid" >"$pidfile"

  wait_healthy "$svc" "$port" "$pid" "$logfile"
  log "$svc is serving (pid $pid)"
}

# Mail: without a relay of the user's, a real SMTP server on loopback keeps
# every mail the services send as .eml and .json files.
MAIL_DESC=""
if [[ -z "${SMZ_SMTP_URL:-}" ]]; then
  capture_port="${SMZ_MAIL_CAPTURE_PORT:-2525}"
  capture_pidfile="$SMZ_STATE/run/mail-capture.pid"
  # Only our own capture server (a pid may have been reused since).
  if [[ -s "$capture_pidfile" ]] &&
    grep -qs smtp_capture "/proc/$(cat "$capture_pidfile")/cmdline"; then
    kill "$(cat "$capture_pidfile")" 2>/dev/null || true
    sleep 0.5
  fi
  # Mail holds people's names and addresses: ours to read only.
  mkdir -p "$SMZ_STATE/mail"
  chmod 700 "$SMZ_STATE/mail"
  setsid nohup /usr/bin/python3 "$REPO_ROOT/tests/tools/smtp_capture.py" \
    --dir "$SMZ_STATE/mail" --port "$capture_port" --detached \
    </dev/null >"$SMZ_STATE/logs/mail-capture.log" 2>&1 &
  echo "$!" >"$capture_pidfile"
  for _ in $(seq 1 50); do
    grep -q '^PORT ' "$SMZ_STATE/logs/mail-capture.log" 2>/dev/null && break
    sleep 0.1
  done
  grep -q '^PORT ' "$SMZ_STATE/logs/mail-capture.log" ||
    die "the mail capture server did not start (see $SMZ_STATE/logs/mail-capture.log)"
  export SMZ_SMTP_URL="smtp://127.0.0.1:$capture_port"
  export SMZ_SMTP_PLAINTEXT=yes
  MAIL_DESC="captured by a local SMTP server at 127.0.0.1:$capture_port: read $SMZ_STATE/mail/*.json (or the .eml files)"
else
  MAIL_DESC="sent through $SMZ_SMTP_URL"
fi

for svc in "${SERVICES[@]}"; do
  start_service "$svc"
done

# A stack restored from a backup (deploy/backup/restore.sh) holds its own
# data: the demo loaders' request keys belong to the administrator before the
# restore, so loading again would add the demo a second time.
RESTORED_MARK="$SMZ_STATE/restored-from"
DEMO_LINKS=()
if [[ -e "$RESTORED_MARK" ]]; then
  log "data restored from $(cat "$RESTORED_MARK"): no demo data loaded, no demo accounts invited"
else
  log "loading demo data"
  if ! "$DEMO_LOADER" --target="127.0.0.1:$(smz_grpc_port registry)" \
      --token_file="$ADMIN_TOKEN_FILE" --csv="$DEMO_CSV"; then
    die "loading demo data failed (see $SMZ_STATE/logs/registry.log)"
  fi
  if ! "$STATS_DEMO_LOADER" --registry="127.0.0.1:$(smz_grpc_port registry)" \
      --stats="127.0.0.1:$(smz_grpc_port stats)" \
      --token_file="$ADMIN_TOKEN_FILE" --csv="$STATS_DEMO_CSV"; then
    die "loading statistics demo data failed (see $SMZ_STATE/logs/stats.log)"
  fi
  if ! "$EVENTS_DEMO_LOADER" --registry="127.0.0.1:$(smz_grpc_port registry)" \
      --events="127.0.0.1:$(smz_grpc_port events)" \
      --token_file="$ADMIN_TOKEN_FILE" --csv="$EVENTS_DEMO_CSV"; then
    die "loading events demo data failed (see $SMZ_STATE/logs/events.log)"
  fi
  if ! "$PROGRAMME_DEMO_LOADER" --programme="127.0.0.1:$(smz_grpc_port programme)" \
      --token_file="$ADMIN_TOKEN_FILE" --dir="$REPO_ROOT/deploy/demo"; then
    die "loading programme demo data failed (see $SMZ_STATE/logs/programme.log)"
  fi

  # Demo people: a council member and a district officer, invited once
  # (request ids make a rerun find the same accounts). Until a person has set
  # a password, each run prints a fresh one-time link for it.
  invite_demo_account() {
    local login="$1" role="$2" name="$3" partner_id="${4:-0}" out state path
    out="$("$SMZCTL" --target="127.0.0.1:$(smz_grpc_port registry)" \
      --token_file="$ADMIN_TOKEN_FILE" call smz.registry.v1.AccountService/InviteAccount \
      "{\"request_id\":\"demo-account-$login\",\"login\":\"$login\",\"display_name\":\"$name\",\"role\":\"$role\",\"partner_id\":$partner_id}")" ||
      die "cannot invite the demo account $login"
    out="$(printf '%s' "$out" | tr -d '\n')"
    state="$(printf '%s' "$out" | sed -n 's/.*"state": *"\([A-Z_]*\)".*/\1/p')"
    path="$(printf '%s' "$out" | sed -n 's/.*"path": *"\([^"]*\)".*/\1/p')"
    if [[ "$state" == ACCOUNT_INVITED && -n "$path" ]]; then
      DEMO_LINKS+=("$(printf '%-8s %-8s %s://127.0.0.1:%s%s' "$login" "$role" "$HTTP_SCHEME" "${SMZ_HTTP_PORT:-8055}" "$path")")
    else
      DEMO_LINKS+=("$(printf '%-8s %-8s signs in with the password already set' "$login" "$role")")
    fi
  }
  log "inviting demo accounts"
  invite_demo_account council COUNCIL "구의회 의원 (demo)"
  invite_demo_account officer ADMIN "보건소 담당자 (demo)"
  # A clerk of the first designated hospital, for the hospital's pages.
  demo_hospital="$("$SMZCTL" --target="127.0.0.1:$(smz_grpc_port registry)" \
    --token_file="$ADMIN_TOKEN_FILE" call smz.registry.v1.RegistryService/ListPartners \
    '{"kind":"SPECIALIZED_OPERATOR","status":"ACTIVE","page_size":1}' |
    tr -d '\n' | sed -n 's/^[^[]*\[ *{ *"id": *"\([0-9]*\)".*/\1/p')"
  if [[ -n "$demo_hospital" ]]; then
    invite_demo_account clerk PARTNER "병원 담당자 (demo)" "$demo_hospital"
  fi

fi

echo
echo "smz is up."
for svc in "${SERVICES[@]}"; do
  printf '  %-12s gRPC 127.0.0.1:%s   metrics http://127.0.0.1:%s/metrics\n' \
    "$svc" "$(smz_grpc_port "$svc")" "$(smz_metrics_port "$svc")"
done
echo "  dashboard    ${HTTP_SCHEME}://127.0.0.1:${SMZ_HTTP_PORT:-8055}/   (sign in with an account: set its password first)"
echo "  public       ${HTTP_SCHEME}://127.0.0.1:${SMZ_HTTP_PORT:-8055}/public/events   (no sign-in: events open to the public, sign-up; the link to confirm is in the captured mail)"
for line in "${DEMO_LINKS[@]}"; do echo "  account      $line"; done
echo "  HTTP/JSON    ${HTTP_SCHEME}://127.0.0.1:${SMZ_HTTP_PORT:-8055}/v1/…   (every method; see /openapi.json)"
echo "  database     $MYSQL_DESC"
echo "  logs         $SMZ_STATE/logs/"
if [[ -n "$TLS_DIR" ]]; then
  echo "  gRPC TLS     mutual TLS, CA $TLS_DIR/ca.crt; tools need SMZ_TLS_CERT=$TLS_DIR/operator.crt SMZ_TLS_KEY=$TLS_DIR/operator.key SMZ_TLS_CA=$TLS_DIR/ca.crt"
fi
echo "  mail         $MAIL_DESC"
if [[ ! -s "$ADMIN_TOKEN_FILE" ]]; then
  echo "  admin token  WARNING: $ADMIN_TOKEN_FILE was not created by the registry" >&2
elif [[ "$admin_token_existed" == false ]]; then
  echo
  echo "  Admin token (shown once; kept in $ADMIN_TOKEN_FILE, mode 0600):"
  echo "    $(<"$ADMIN_TOKEN_FILE")"
  echo
else
  echo "  admin token  $ADMIN_TOKEN_FILE"
fi
echo "  try          build/common/smzctl --token_file=$ADMIN_TOKEN_FILE call smz.registry.v1.RegistryService/ListPartners '{\"region\":\"DAERIM\"}'"
echo "               build/common/smzctl --target=127.0.0.1:$(smz_grpc_port stats) --token_file=$ADMIN_TOKEN_FILE call smz.stats.v1.StatsService/GetKpiProgress '{\"year\":2020,\"as_of\":\"2020-12-31\"}'"
echo "               build/common/smzctl --target=127.0.0.1:$(smz_grpc_port events) --token_file=$ADMIN_TOKEN_FILE call smz.events.v1.EventsService/CountCompletedEvents '{\"year_from\":2019,\"year_to\":2022}'"
echo "               build/common/smzctl --target=127.0.0.1:$(smz_grpc_port programme) --token_file=$ADMIN_TOKEN_FILE call smz.programme.v1.ProgrammeService/GetBudgetTable '{\"year\":2022,\"as_of_date\":\"2022-10-31\"}'"
echo "               build/common/smzctl --target=127.0.0.1:$(smz_grpc_port gateway) --token_file=$ADMIN_TOKEN_FILE call smz.gateway.v1.GatewayService/GetKpiTable '{\"programme_code\":\"smz-2018\",\"as_of\":\"2020-12-31\"}'"
echo "               curl ${CURL_CA}-H \"Authorization: Bearer \$(cat $ADMIN_TOKEN_FILE)\" '${HTTP_SCHEME}://127.0.0.1:${SMZ_HTTP_PORT:-8055}/v1/council/zoneOverviews/2020'"
echo "               build/common/smzctl list   (every method)"
echo "  stop with    deploy/local/down.sh   (add --purge to also delete $SMZ_STATE)"
