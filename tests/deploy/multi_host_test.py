#!/usr/bin/python3
"""smz on several hosts, on this machine: every service, two gateway replicas
and a MariaDB primary with its replica, each in a network namespace of its own
(ip netns + veth, joined by a bridge in a namespace of its own too, so that
nothing of the machine's own network changes), talking mutual TLS over those
links by host name (dns:/// targets; the names are each namespace's
/etc/hosts, which `ip netns exec` puts in place).

It checks what an operator of several hosts relies on:
  - calls flow: HTTPS through either gateway, gRPC to dns:///gateway (one
    name for both replicas) and to each, a council overview that fans out
    to every service, mutual TLS with the callers' identities logged, and
    no caller served without a certificate of the CA;
  - a client that writes partners (each with its request_id) through the
    gateways, and retries a failed write on the other gateway with the same
    request_id, keeps going while one gateway replica is killed, and then
    while the replica database is killed: every acknowledged write is there
    afterwards, once (no retry made a duplicate), and reads keep answering;
  - a replica's lag is visible: with the replica's SQL thread stopped, the
    registry's smz_db_replica_lag_seconds climbs past the bound and
    smz_db_replica_in_use drops to 0 (reads go to the primary); started
    again, the replica serves again.

Usage: multi_host_test.py <repo> <build dir>, as root; alone:
  ctest --test-dir build -R multi_host_test --output-on-failure
Exit 77 (skipped) when not root or when this machine makes no network
namespace. Everything it creates (namespaces smzmh<pid>-*, /etc/netns/<them>,
processes, the folder /tmp/smz-mh-<pid>-*) is removed at the end, failed or
not; with SMZ_KEEP_MULTI_HOST=1 a failed run keeps the folder (every
process's log, the certificates and keys) to look into. A run killed before
its cleanup is cleaned up by the next one. The services run as root here
(network namespaces need it), not as they would on real hosts.
"""
import ctypes
import http.client
import json
import os
import re
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import threading
import time

repo, build = sys.argv[1], sys.argv[2]

if os.geteuid() != 0:
    print("network namespaces need root: skipped")
    sys.exit(77)
for tool in ("ip", "mariadbd", "mariadb-install-db", "mariadb", "openssl"):
    if shutil.which(tool) is None:
        print(f"{tool} is not installed: skipped")
        sys.exit(77)

PREFIX = f"smzmh{os.getpid()}"
SUBNET = "10.77.0."
# host -> last byte of its address. One host per process, as on real hosts.
HOSTS = {
    "mariadb-primary": 11,
    "mariadb-replica": 12,
    "registry": 21,
    "stats": 22,
    "events": 23,
    "programme": 24,
    "gateway-1": 31,
    "gateway-2": 32,
    "client": 41,
}
SWITCH = f"{PREFIX}-switch"
GRPC_PORT = {"registry": 50051, "stats": 50052, "events": 50053,
             "programme": 50054, "gateway": 50055}
METRICS_PORT = 9464
HTTPS_PORT = 8443
MAX_LAG_SECONDS = 1

failures = []


def fail(message):
    print("FAIL:", message, flush=True)
    failures.append(message)


def log(message):
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


def ns(host):
    return f"{PREFIX}-{host}"


def address(host):
    return SUBNET + str(HOSTS[host])


def run(*argv, check=True, input=None, **kwargs):
    result = subprocess.run(list(argv), input=input, capture_output=True,
                            text=True, **kwargs)
    if check and result.returncode != 0:
        raise RuntimeError(f"{' '.join(argv)} exited {result.returncode}: "
                           f"{result.stdout}{result.stderr}")
    return result


def in_ns(host, *argv, **kwargs):
    return run("ip", "netns", "exec", ns(host), *argv, **kwargs)


# The namespaces can be made at all? (A container without CAP_SYS_ADMIN
# cannot.)
probe = subprocess.run(["ip", "netns", "add", f"{PREFIX}-probe"],
                       capture_output=True, text=True)
if probe.returncode != 0:
    print(f"no network namespace here ({probe.stderr.strip()}): skipped")
    sys.exit(77)
run("ip", "netns", "del", f"{PREFIX}-probe")

def remove_leftovers():
    """What an earlier run killed before its cleanup (CTest's timeout sends
    SIGKILL) left: its processes, namespaces and /etc/netns folders. Only
    runs of this test (the name's prefix) whose process is gone."""
    listed = run("ip", "netns", "list", check=False).stdout
    for line in listed.splitlines():
        match = re.match(r"(smzmh(\d+)-[a-z0-9-]+)", line)
        if not match or os.path.exists(f"/proc/{match.group(2)}"):
            continue
        namespace = match.group(1)
        pids = run("ip", "netns", "pids", namespace, check=False).stdout
        for pid in pids.split():
            try:
                os.kill(int(pid), 9)
            except (OSError, ValueError):
                pass
        run("ip", "netns", "del", namespace, check=False)
        shutil.rmtree(f"/etc/netns/{namespace}", ignore_errors=True)
    # Its folder holds keys, passwords and the admin token.
    for name in os.listdir(tempfile.gettempdir()):
        match = re.match(r"smz-mh-(\d+)-", name)
        if match and not os.path.exists(f"/proc/{match.group(1)}"):
            shutil.rmtree(os.path.join(tempfile.gettempdir(), name),
                          ignore_errors=True)


remove_leftovers()
# CTest's timeout kills with SIGKILL (CMake 3.25), which no cleanup
# survives: this deadline comes first (tests/CMakeLists.txt gives 600 s), and
# SIGTERM from an operator is handled the same way.


def _deadline(*_):
    raise TimeoutError("the test's own deadline (480 s) passed")


signal.signal(signal.SIGALRM, _deadline)
signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
signal.alarm(480)
work = tempfile.mkdtemp(prefix=f"smz-mh-{os.getpid()}-")
os.chmod(work, 0o700)
processes = {}  # name -> Popen
made_namespaces = []


def cleanup():
    for name, process in processes.items():
        if process.poll() is None:
            process.kill()
    for process in processes.values():
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            pass
    for namespace in made_namespaces:
        subprocess.run(["ip", "netns", "del", namespace], capture_output=True)
        shutil.rmtree(f"/etc/netns/{namespace}", ignore_errors=True)
    if failures and os.environ.get("SMZ_KEEP_MULTI_HOST"):
        print(f"kept {work}")
    else:
        shutil.rmtree(work, ignore_errors=True)


def make_network():
    """A bridge in a namespace of its own, one veth to each host's eth0."""
    run("ip", "netns", "add", SWITCH)
    made_namespaces.append(SWITCH)
    run("ip", "-n", SWITCH, "link", "add", "br0", "type", "bridge")
    run("ip", "-n", SWITCH, "link", "set", "br0", "up")
    hosts_file = ["127.0.0.1 localhost"]
    for host, last in HOSTS.items():
        name = host
        if host.startswith("gateway-"):
            # Both replicas answer to "gateway": dns:/// gives both.
            name = f"gateway {host}"
        hosts_file.append(f"{address(host)} {name}")
    for host, last in HOSTS.items():
        namespace = ns(host)
        run("ip", "netns", "add", namespace)
        made_namespaces.append(namespace)
        os.makedirs(f"/etc/netns/{namespace}", exist_ok=True)
        with open(f"/etc/netns/{namespace}/hosts", "w") as f:
            f.write("\n".join(hosts_file) + "\n")
        port = f"p{last}"
        run("ip", "-n", SWITCH, "link", "add", port, "type", "veth", "peer",
            "name", "eth0", "netns", namespace)
        run("ip", "-n", SWITCH, "link", "set", port, "master", "br0", "up")
        run("ip", "-n", namespace, "addr", "add", f"{address(host)}/24",
            "dev", "eth0")
        run("ip", "-n", namespace, "link", "set", "eth0", "up")
        run("ip", "-n", namespace, "link", "set", "lo", "up")


def make_certificates():
    tls = os.path.join(work, "tls")
    script = os.path.join(repo, "deploy/tls/make_certs.sh")
    run("bash", script, tls, "registry", "stats", "events", "programme",
        "operator")
    env = dict(os.environ)
    # One certificate for both replicas, by either name; not by their
    # addresses (each gateway calls itself at its own, checked as 127.0.0.1).
    env["SMZ_TLS_SANS"] = "DNS:gateway-1,DNS:gateway-2"
    run("bash", script, tls, "gateway", env=env)
    for server in ("mariadb-primary", "mariadb-replica"):
        run("bash", script, tls, server)
    return tls


def start(name, host, argv, env=None, log_name=None):
    log_file = open(os.path.join(work, f"{log_name or name}.log"), "ab")
    full_env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin")}
    full_env.update(env or {})
    processes[name] = subprocess.Popen(
        ["ip", "netns", "exec", ns(host)] + argv, env=full_env,
        stdin=subprocess.DEVNULL, stdout=log_file, stderr=subprocess.STDOUT,
        start_new_session=True)
    log_file.close()
    return processes[name]


def mariadb_root(server, sql):
    socket = os.path.join(work, server, "mariadb.sock")
    return run("mariadb", "--no-defaults", "--batch", "--skip-column-names",
               f"--socket={socket}", "-uroot", input=sql).stdout.strip()


def start_mariadb(server, server_id, tls, replica):
    datadir = os.path.join(work, server)
    os.makedirs(datadir)
    os.chmod(datadir, 0o700)
    # A temporary folder of its own: a MariaDB starting elsewhere (another
    # test's) deletes every "#sql*" file in /tmp, this one's included.
    tmpdir = os.path.join(work, f"{server}-tmp")
    os.makedirs(tmpdir)
    run("mariadb-install-db", "--no-defaults", f"--datadir={datadir}",
        "--auth-root-authentication-method=normal", "--user=root",
        "--skip-test-db", f"--tmpdir={tmpdir}",
        env={**os.environ, "TMPDIR": tmpdir})
    argv = [
        "mariadbd", "--no-defaults", f"--datadir={datadir}",
        f"--socket={datadir}/mariadb.sock", "--port=3306", f"--tmpdir={tmpdir}",
        f"--bind-address={address(server)}", "--skip-name-resolve",
        "--user=root",
        f"--init-file={repo}/deploy/lib/mariadb-lockdown.sql",
        f"--ssl-cert={tls}/{server}.crt", f"--ssl-key={tls}/{server}.key",
        f"--ssl-ca={tls}/ca.crt", "--require-secure-transport=ON",
        f"--server-id={server_id}", f"--gtid-domain-id={server_id}",
        "--log-bin=smz-bin", "--binlog-format=ROW", "--gtid-strict-mode=ON",
        "--log-slave-updates=ON",
        "--rpl-semi-sync-master-wait-point=AFTER_SYNC",
        # A primary whose replica is gone waits this long per commit
        # before it goes on asynchronously.
        "--rpl-semi-sync-master-timeout=2000",
        f"--pid-file={datadir}/mariadbd.pid",
        f"--log-error={work}/{server}.log",
    ]
    if replica:
        argv += ["--rpl-semi-sync-slave-enabled=ON", "--read-only=ON",
                 "--skip-slave-start"]
    else:
        argv += ["--rpl-semi-sync-master-enabled=ON"]
    start(server, server, argv, log_name=f"{server}-stdout")
    deadline = time.time() + 60
    while time.time() < deadline:
        ping = run("mariadb-admin", "--no-defaults",
                   f"--socket={datadir}/mariadb.sock", "-uroot",
                   "--connect-timeout=2", "ping", check=False)
        if ping.returncode == 0:
            return
        if processes[server].poll() is not None:
            break
        time.sleep(0.5)
    raise RuntimeError(f"{server} did not start; see {work}/{server}.log")


def provision_databases(tls):
    """Replication first, then the databases and users on the primary, which
    replication copies: the replica has the same users, who may connect
    only from their own host, with TLS."""
    password = os.urandom(12).hex()
    mariadb_root("mariadb-primary", f"""
CREATE USER 'smz_replication'@'{address('mariadb-replica')}'
  IDENTIFIED BY '{password}' REQUIRE SSL;
GRANT REPLICATION SLAVE, SLAVE MONITOR ON *.* TO
  'smz_replication'@'{address('mariadb-replica')}';
""")
    primary_pos = mariadb_root("mariadb-primary", "SELECT @@gtid_binlog_pos")
    own_pos = mariadb_root("mariadb-replica", "SELECT @@gtid_binlog_pos")
    positions = ",".join(p for p in (primary_pos, own_pos) if p)
    mariadb_root("mariadb-replica", f"""
SET GLOBAL gtid_slave_pos = '{positions}';
CHANGE MASTER TO MASTER_HOST='mariadb-primary', MASTER_PORT=3306,
  MASTER_USER='smz_replication', MASTER_PASSWORD='{password}',
  MASTER_SSL=1, MASTER_SSL_CA='{tls}/ca.crt',
  MASTER_SSL_VERIFY_SERVER_CERT=1,
  MASTER_USE_GTID=slave_pos, MASTER_CONNECT_RETRY=1;
START SLAVE;
""")
    secrets = os.path.join(work, "secrets")
    os.makedirs(secrets, mode=0o700, exist_ok=True)
    sql = []
    for service in ("registry", "stats", "events", "programme"):
        service_password = os.urandom(12).hex()
        path = os.path.join(secrets, f"{service}.mysql")
        with open(os.open(path, os.O_WRONLY | os.O_CREAT, 0o600), "w") as f:
            f.write(f"password={service_password}\n")
        account = f"'smz_{service}'@'{address(service)}'"
        sql.append(f"CREATE DATABASE smz_{service} CHARACTER SET utf8mb4 "
                   "COLLATE utf8mb4_unicode_ci;")
        sql.append(f"CREATE USER {account} IDENTIFIED BY "
                   f"'{service_password}' REQUIRE SSL;")
        sql.append(f"GRANT ALL PRIVILEGES ON smz_{service}.* TO {account};")
    mariadb_root("mariadb-primary", "\n".join(sql))
    position = mariadb_root("mariadb-primary", "SELECT @@gtid_binlog_pos")
    waited = mariadb_root("mariadb-replica",
                          f"SELECT MASTER_GTID_WAIT('{position}', 30)")
    if waited != "0":
        raise RuntimeError("the replica did not catch up: " +
                           mariadb_root("mariadb-replica", "SHOW SLAVE STATUS\\G"))
    return secrets


def tls_env(tls, name):
    return {
        "SMZ_TLS_CERT": f"{tls}/{name}.crt",
        "SMZ_TLS_KEY": f"{tls}/{name}.key",
        "SMZ_TLS_CA": f"{tls}/ca.crt",
        "SMZ_TLS_CLIENT_AUTH": "require",
    }


def probe_env(tls):
    return {"SMZ_TLS_CERT": f"{tls}/operator.crt",
            "SMZ_TLS_KEY": f"{tls}/operator.key", "SMZ_TLS_CA": f"{tls}/ca.crt"}


def wait_serving(name, target, tls):
    """The health probe, from the client's host, over mutual TLS."""
    deadline = time.time() + 60
    while time.time() < deadline:
        result = in_ns("client", f"{build}/common/smz_health_probe",
                       f"--target={target}", "--service=readiness",
                       check=False, env={**os.environ, **probe_env(tls)})
        if result.returncode == 0:
            return
        if processes[name].poll() is not None:
            break
        time.sleep(0.5)
    raise RuntimeError(f"{name} is not serving at {target}; see "
                       f"{work}/{name}.log")


def start_services(tls, secrets):
    make = os.path.join(repo, "deploy/secrets/make_secrets.sh")
    run("bash", make, secrets, "stats", "events")
    public_url = f"https://gateway:{HTTPS_PORT}"

    def database_env(service, replica):
        env = {
            "SMZ_MYSQL_DSN":
                f"mysql://smz_{service}@mariadb-primary:3306/smz_{service}",
            "SMZ_MYSQL_CREDENTIALS_FILE": f"{secrets}/{service}.mysql",
            "SMZ_MYSQL_TLS_CA": f"{tls}/ca.crt",
        }
        if replica:
            env["SMZ_MYSQL_REPLICA"] = "mariadb-replica:3306"
            env["SMZ_MYSQL_REPLICA_MAX_LAG"] = f"{MAX_LAG_SECONDS}s"
        return env

    def listen_env(host, port):
        return {"SMZ_LISTEN": f"{address(host)}:{port}",
                "SMZ_METRICS_LISTEN": f"{address(host)}:{METRICS_PORT}"}

    registry_target = f"dns:///registry:{GRPC_PORT['registry']}"
    start("registry", "registry", [f"{build}/services/registry/registry"], {
        **listen_env("registry", GRPC_PORT["registry"]),
        **tls_env(tls, "registry"), **database_env("registry", True),
        "SMZ_BOOTSTRAP_ADMIN_TOKEN_SECRET": f"{secrets}/admin.token.hash",
        "SMZ_SERVICE_TOKEN_SECRETS":
            f"stats={secrets}/stats.registry-token.hash,"
            f"events={secrets}/events.registry-token.hash",
        "SMZ_PUBLIC_URL": public_url,
    })
    wait_serving("registry", f"dns:///registry:{GRPC_PORT['registry']}", tls)
    for service in ("stats", "events", "programme"):
        env = {**listen_env(service, GRPC_PORT[service]),
               **tls_env(tls, service),
               **database_env(service, service == "stats"),
               "SMZ_REGISTRY_TARGET": registry_target}
        if service != "programme":
            env["SMZ_REGISTRY_TOKEN_FILE"] = \
                f"{secrets}/{service}.registry-token"
            env["SMZ_PUBLIC_URL"] = public_url
        start(service, service, [f"{build}/services/{service}/{service}"],
              env)
    for service in ("stats", "events", "programme"):
        wait_serving(service, f"dns:///{service}:{GRPC_PORT[service]}", tls)
    for replica in ("gateway-1", "gateway-2"):
        start(replica, replica, [f"{build}/services/gateway/gateway"], {
            **listen_env(replica, GRPC_PORT["gateway"]),
            **tls_env(tls, "gateway"),
            "SMZ_REGISTRY_TARGET": registry_target,
            "SMZ_STATS_TARGET": f"dns:///stats:{GRPC_PORT['stats']}",
            "SMZ_EVENTS_TARGET": f"dns:///events:{GRPC_PORT['events']}",
            "SMZ_PROGRAMME_TARGET":
                f"dns:///programme:{GRPC_PORT['programme']}",
            "SMZ_HTTP_LISTEN": f"{address(replica)}:{HTTPS_PORT}",
            "SMZ_HTTP_TLS_CERT": f"{tls}/gateway.crt",
            "SMZ_HTTP_TLS_KEY": f"{tls}/gateway.key",
        })
    for replica in ("gateway-1", "gateway-2"):
        wait_serving(replica, f"{replica}:{GRPC_PORT['gateway']}", tls)


# The rest of this process speaks from the client's host: its sockets are
# made in the client's namespace (setns applies to the calling thread, and
# threads started later inherit it).
def enter_client_namespace():
    libc = ctypes.CDLL(None, use_errno=True)
    clone_newnet = 0x40000000
    fd = os.open(f"/run/netns/{ns('client')}", os.O_RDONLY)
    try:
        if libc.setns(fd, clone_newnet) != 0:
            raise OSError(ctypes.get_errno(), "setns")
    finally:
        os.close(fd)


class _NamedHttps(http.client.HTTPSConnection):
    """HTTPS to a replica's address, its certificate checked for its name
    (this process has no /etc/hosts of the client's namespace)."""

    def __init__(self, replica, port, context, timeout):
        super().__init__(address(replica), port, context=context,
                         timeout=timeout)
        self.replica = replica

    def connect(self):
        sock = socket.create_connection((self.host, self.port), self.timeout)
        self.sock = self._context.wrap_socket(sock,
                                              server_hostname=self.replica)


class Gateways:
    """HTTPS to the gateway replicas, trusting only the private CA."""

    def __init__(self, tls, token):
        self.context = ssl.create_default_context(cafile=f"{tls}/ca.crt")
        self.token = token

    def request(self, replica, method, path, body=None, timeout=10):
        connection = _NamedHttps(replica, HTTPS_PORT, self.context, timeout)
        try:
            headers = {"Authorization": f"Bearer {self.token}"}
            data = None
            if body is not None:
                data = json.dumps(body).encode()
                headers["Content-Type"] = "application/json"
            connection.request(method, path, body=data, headers=headers)
            response = connection.getresponse()
            return response.status, response.read()
        finally:
            connection.close()


class Writer(threading.Thread):
    """Creates partners through the gateways, alternately; a write that
    fails for want of an answer (connection refused or reset, 502/503/504)
    is sent again with the same request_id to the other replica, as a
    client of several replicas does. Keeps what was acknowledged."""

    def __init__(self, gateways, count):
        super().__init__(daemon=True)
        self.gateways = gateways
        self.count = count
        self.acknowledged = {}  # name -> partner id, under `progress`
        self.bodies = {}  # name -> the request sent
        self.retried = 0
        # Retries of a request a replica took and never answered (reset or
        # timed out: it may have been done), not refused connections.
        self.cut = 0
        self.errors = []
        self.progress = threading.Condition()
        self.pause_between = 0.05

    def wait_for(self, acknowledged, timeout=120):
        with self.progress:
            return self.progress.wait_for(
                lambda: len(self.acknowledged) >= acknowledged or
                not self.is_alive(), timeout)

    def run(self):
        replicas = ["gateway-1", "gateway-2"]
        for i in range(self.count):
            name = f"다중 호스트 병원 {i:04d}"
            body = {
                "request_id": f"{PREFIX}-partner-{i}",
                "partner": {
                    "kind": "COOPERATING_INSTITUTION",
                    "name": {"ko": name, "en": f"Multi-host clinic {i:04d}"},
                    "region": "YEONGDEUNGPO",
                },
            }
            self.bodies[name] = body
            first = i % 2
            acknowledged = False
            for attempt in range(6):
                replica = replicas[(first + attempt) % 2]
                try:
                    status, payload = self.gateways.request(
                        replica, "POST", "/v1/partners", body, timeout=3)
                except ConnectionRefusedError as error:
                    status, payload = None, str(error).encode()
                except OSError as error:  # reset, timed out
                    status, payload = None, str(error).encode()
                    self.cut += 1
                if status == 200:
                    with self.progress:
                        self.acknowledged[name] = json.loads(payload)["id"]
                    acknowledged = True
                    break
                if status not in (None, 502, 503, 504):
                    self.errors.append(f"{name}: {status} {payload[:300]}")
                    break
                self.retried += 1
                time.sleep(0.2 * attempt)
            if not acknowledged and len(self.errors) < 5:
                self.errors.append(f"{name}: never acknowledged")
            with self.progress:
                self.progress.notify_all()
            time.sleep(self.pause_between)
        with self.progress:
            self.progress.notify_all()


def metric(text, name):
    """The value of an unlabelled gauge; -2 when it is missing (so a
    comparison fails rather than raise)."""
    match = re.search(rf"^{name}(?:{{[^}}]*}})? (\S+)$", text, re.M)
    return float(match.group(1)) if match else -2


def registry_metrics():
    connection = http.client.HTTPConnection(address("registry"),
                                            METRICS_PORT, timeout=5)
    try:
        connection.request("GET", "/metrics")
        return connection.getresponse().read().decode()
    finally:
        connection.close()


def read_text(path):
    with open(path, encoding="utf-8", errors="replace") as f:
        return f.read()


def wait_until(what, predicate, timeout=30):
    deadline = time.time() + timeout
    while time.time() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.5)
    fail(f"not within {timeout} s: {what}")
    return None


def list_partner_names(gateways, replica):
    names = []
    token = ""
    for _ in range(100):
        path = "/v1/partners?page_size=200&kind=COOPERATING_INSTITUTION"
        if token:
            path += f"&page_token={token}"
        status, payload = gateways.request(replica, "GET", path)
        if status != 200:
            fail(f"listing partners through {replica}: {status} "
                 f"{payload[:300]}")
            return names
        page = json.loads(payload)
        names += [p["name"]["ko"] for p in page.get("partners", [])]
        token = page.get("next_page_token", "")
        if not token:
            break
    return names


def main():
    log(f"namespaces {PREFIX}-*, work folder {work}")
    make_network()
    tls = make_certificates()
    start_mariadb("mariadb-primary", 1, tls, replica=False)
    start_mariadb("mariadb-replica", 2, tls, replica=True)
    secrets = provision_databases(tls)
    log("MariaDB primary and replica up, replicating over TLS")
    start_services(tls, secrets)
    log("registry, stats, events, programme and two gateways serving")

    with open(f"{secrets}/admin.token") as f:
        admin_token = f.read().strip()
    operator = {**os.environ, **probe_env(tls)}
    token_file = f"{secrets}/admin.token"

    # gRPC by the name of both gateway replicas, and by each one's own. (One
    # process's calls spread over both: service_channel_test; each smzctl
    # is a new process, whose first call goes to the first address.)
    for target in ("gateway", "gateway-1", "gateway-2"):
        called = in_ns("client", f"{build}/common/smzctl",
                       f"--target=dns:///{target}:{GRPC_PORT['gateway']}",
                       f"--token_file={token_file}", "call",
                       "smz.gateway.v1.GatewayService/GetZoneOverview",
                       '{"year": 2022}', check=False, env=operator)
        if called.returncode != 0:
            fail(f"GetZoneOverview over gRPC to dns:///{target}: "
                 f"{called.stdout}{called.stderr}")
    # Services write info lines in batches (common/logging.h): up to 100 ms
    # after the call.
    for replica in ("gateway-1", "gateway-2"):
        wait_until(f"a gRPC call reached {replica}",
                   lambda: '"method":"GetZoneOverview"' in read_text(
                       f"{work}/{replica}.log"), timeout=5)
    # Mutual TLS between hosts: the operator's certificate is served (the
    # probes above), but not a plaintext caller, nor one with no
    # certificate, nor one whose certificate another CA signed.
    stranger = os.path.join(work, "stranger")
    run("bash", os.path.join(repo, "deploy/tls/make_certs.sh"), stranger,
        "operator")
    for what, env in (
            ("plaintext", {}),
            ("no certificate", {"SMZ_TLS_CA": f"{tls}/ca.crt"}),
            ("another CA's certificate", {
                "SMZ_TLS_CERT": f"{stranger}/operator.crt",
                "SMZ_TLS_KEY": f"{stranger}/operator.key",
                "SMZ_TLS_CA": f"{tls}/ca.crt"})):
        refused = in_ns("client", f"{build}/common/smz_health_probe",
                        f"--target=registry:{GRPC_PORT['registry']}",
                        check=False, env={"PATH": os.environ["PATH"], **env})
        if refused.returncode == 0 or \
                "health check failed" not in refused.stderr + refused.stdout:
            fail(f"the registry served a {what} caller: "
                 f"{refused.stdout}{refused.stderr}")

    enter_client_namespace()
    gateways = Gateways(tls, admin_token)
    for replica in ("gateway-1", "gateway-2"):
        status, payload = gateways.request(
            replica, "GET", "/v1/council/zoneOverviews/2022")
        if status != 200:
            fail(f"zone overview through {replica}: {status} {payload[:300]}")
    # The identities of the callers are logged by the service they call.
    for caller in ("gateway", "stats"):
        wait_until(f"the registry's log names the peer '{caller}'",
                   lambda: re.search(rf'"peer[^"]*":"[^"]*{caller}',
                                     read_text(f"{work}/registry.log")),
                   timeout=5)

    # The replica serves the registry's lists once it has caught up.
    wait_until("the registry reads from its replica", lambda: metric(
        registry_metrics(), "smz_db_replica_in_use") == 1)

    writer = Writer(gateways, count=240)
    writer.start()

    # 1. One gateway replica dies (SIGKILL: no drain, requests cut).
    if not writer.wait_for(40):
        fail(f"the writer stalled before the gateway was killed: "
             f"{writer.errors}")
    # Frozen first: a write sent to it is taken and never answered, and the
    # writer sends it again to gateway-2 with the same request_id.
    log(f"{len(writer.acknowledged)} writes acknowledged; freezing gateway-1")
    processes["gateway-1"].send_signal(signal.SIGSTOP)
    wait_until("a write cut off by the frozen gateway, sent again",
               lambda: writer.cut >= 1)
    log("killing gateway-1")
    processes["gateway-1"].kill()
    processes["gateway-1"].wait()
    status, _ = gateways.request("gateway-2", "GET", "/v1/partners?page_size=5")
    if status != 200:
        fail(f"reads through gateway-2 after gateway-1 died: {status}")

    # 2. The replica falls behind: visible as lag, reads leave it.
    if not writer.wait_for(90):
        fail(f"the writer stalled after the gateway was killed: "
             f"{writer.errors}")
    log("stopping the replica's SQL thread")
    mariadb_root("mariadb-replica", "STOP SLAVE SQL_THREAD")
    lagging = wait_until(
        "smz_db_replica_lag_seconds above the bound, replica not in use",
        lambda: (lambda text: metric(text, "smz_db_replica_lag_seconds") >
                 MAX_LAG_SECONDS
                 and metric(text, "smz_db_replica_in_use") == 0 and text)(
                     registry_metrics()))
    if lagging:
        log("registry sees the replica "
            f"{metric(lagging, 'smz_db_replica_lag_seconds'):.1f} s behind "
            "and reads from the primary")
    # A list read now must see the newest acknowledged write (it reads
    # the primary).
    with writer.progress:
        newest = max(writer.acknowledged)
    if newest not in list_partner_names(gateways, "gateway-2"):
        fail(f"with the replica behind, a list misses {newest}")
    mariadb_root("mariadb-replica", "START SLAVE SQL_THREAD")
    wait_until("the replica in use again after catching up", lambda: metric(
        registry_metrics(), "smz_db_replica_in_use") == 1)

    # 3. The replica database dies.
    if not writer.wait_for(140):
        fail(f"the writer stalled before the replica was killed: "
             f"{writer.errors}")
    log(f"{len(writer.acknowledged)} writes acknowledged; killing the "
        "replica database")
    processes["mariadb-replica"].kill()
    processes["mariadb-replica"].wait()
    for _ in range(10):
        status, payload = gateways.request(
            "gateway-2", "GET", "/v1/partners?page_size=10")
        if status != 200:
            fail(f"a list read after the replica died: {status} "
                 f"{payload[:300]}")
            break
        time.sleep(0.2)
    status, payload = gateways.request(
        "gateway-2", "GET", "/v1/council/zoneOverviews/2022")
    if status != 200:
        fail(f"zone overview after the replica died: {status}")
    wait_until("the replica out of use once it is gone", lambda: metric(
        registry_metrics(), "smz_db_replica_in_use") == 0)

    writer.join(timeout=180)
    if writer.is_alive():
        fail("the writer did not finish")
    log(f"writer done: {len(writer.acknowledged)} acknowledged, "
        f"{writer.retried} retries, {writer.cut} of them after no answer")
    for error in writer.errors:
        fail(f"write: {error}")
    if len(writer.acknowledged) != writer.count:
        fail(f"{writer.count - len(writer.acknowledged)} writes were never "
             "acknowledged")

    if writer.cut < 1:
        fail("no write was cut off by the frozen gateway")
    # A write sent again through the other replica with its request_id is
    # answered with what the first one made, not made twice.
    for name in sorted(writer.acknowledged)[:6]:
        status, payload = gateways.request("gateway-2", "POST", "/v1/partners",
                                           writer.bodies[name])
        if status != 200 or json.loads(payload)["id"] != \
                writer.acknowledged[name]:
            fail(f"{name} sent again: {status} {payload[:200]}")

    # Every acknowledged write is there, once.
    names = list_partner_names(gateways, "gateway-2")
    missing = [n for n in writer.acknowledged if n not in names]
    duplicated = sorted({n for n in names if names.count(n) > 1})
    if missing:
        fail(f"{len(missing)} acknowledged writes lost, e.g. {missing[:3]}")
    if duplicated:
        fail(f"{len(duplicated)} writes duplicated, e.g. {duplicated[:3]}")
    log(f"{len(names)} partners listed; none lost, none duplicated")


try:
    main()
except Exception as error:  # a setup step that failed: say which
    fail(f"{type(error).__name__}: {error}")
finally:
    signal.alarm(0)
    if failures:
        # Every process's last words (SMZ_KEEP_MULTI_HOST=1 keeps them all).
        for name in sorted(os.listdir(work)):
            if name.endswith(".log"):
                with open(os.path.join(work, name), errors="replace") as f:
                    print(f"--- last lines of {name}")
                    print("".join(f.readlines()[-8:]))
    cleanup()

if failures:
    print(f"{len(failures)} failure(s)")
    sys.exit(1)
print("multi-host: all checks passed")
