# shellcheck shell=bash
# The one list of services run by deploy/local/{up,down}.sh, and the port and
# pid helpers both share, so starting and stopping always agree.
#
# Order matters: services start in this order and stop in reverse, so put a
# service after everything it depends on. Adding a service is one more word.
SERVICES=(registry stats events programme gateway)

# Service i (0-based position in SERVICES) listens for gRPC on
# SMZ_BASE_PORT+i and serves Prometheus metrics on SMZ_METRICS_BASE_PORT+i.
smz_service_index() {
  local i
  for i in "${!SERVICES[@]}"; do
    if [[ "${SERVICES[i]}" == "$1" ]]; then
      echo "$i"
      return 0
    fi
  done
  echo "unknown service: $1" >&2
  return 1
}

smz_grpc_port() {
  local i
  i="$(smz_service_index "$1")" || return 1
  echo $((${SMZ_BASE_PORT:-50051} + i))
}

smz_metrics_port() {
  local i
  i="$(smz_service_index "$1")" || return 1
  echo $((${SMZ_METRICS_BASE_PORT:-9464} + i))
}

smz_service_pidfile() {
  echo "$SMZ_STATE/run/$1.pid"
}

# Prints the pid of the running instance of SERVICE, or nothing.
# The pid file can outlive its process (reboot, kill -9) and the pid may have
# been reused since, so only trust it if that process still runs our binary
# (up.sh always starts it by its build path, services/<svc>/<svc>).
smz_service_pid() {
  local pidfile pid args
  pidfile="$(smz_service_pidfile "$1")"
  [[ -r "$pidfile" ]] || return 0
  pid="$(<"$pidfile")"
  [[ "$pid" =~ ^[0-9]+$ ]] || return 0
  args="$(ps -o args= -p "$pid" 2>/dev/null || true)"
  if [[ "$args" == *"services/$1/$1"* ]]; then
    echo "$pid"
  fi
}

# Stops SERVICE if running: SIGTERM for a graceful drain, SIGKILL after 15 s.
smz_stop_service() {
  local svc="$1" pid pidfile deadline
  pidfile="$(smz_service_pidfile "$svc")"
  pid="$(smz_service_pid "$svc")"
  if [[ -z "$pid" ]]; then
    rm -f "$pidfile"
    return 0
  fi

  echo "stopping $svc (pid $pid)"
  kill -TERM "$pid" 2>/dev/null || true
  deadline=$((SECONDS + 15))
  while kill -0 "$pid" 2>/dev/null && ((SECONDS < deadline)); do
    sleep 0.2
  done
  if kill -0 "$pid" 2>/dev/null; then
    echo "$svc did not exit within 15 s; sending SIGKILL" >&2
    kill -KILL "$pid" 2>/dev/null || true
    deadline=$((SECONDS + 5))
    while kill -0 "$pid" 2>/dev/null && ((SECONDS < deadline)); do
      sleep 0.2
    done
  fi
  rm -f "$pidfile"
}
