#!/usr/bin/python3
"""deploy/k8s rendered as Kubernetes would get it, and checked for the rules
the manifests promise: kubectl kustomize renders the small overlay (with
secrets made by deploy/k8s/make_secrets.sh), then every workload runs
confined (non-root, read-only root file system, no privilege escalation, no
capabilities, RuntimeDefault seccomp) with memory requests and limits, every
service has native gRPC readiness and liveness probes and a
PodDisruptionBudget (the registry keeping two of three), traffic is denied by
default with one allow per real call path (each dns:/// target a pod is
given), Secrets are mounted as files and never put in the environment (and the
ADMIN token's plaintext is in none: the registry gets its hash), the
MariaDB has a replica, the migrate Job runs --migrate_only, and every SMZ_*
setting is one the binary reads.

Usage (from CTest): kustomize_test.py <repo> <build dir>
Exit 77 (skipped) without kubectl, which Debian does not package.
"""
import base64
import os
import re
import shutil
import subprocess
import sys
import tempfile

import yaml

repo, build = sys.argv[1], sys.argv[2]
failures = []


def fail(message):
    failures.append(message)


# The overlay names the images deploy/images/build_images.sh makes: each
# localhost/smz/NAME at this build's release (checked without kubectl too).
with open(os.path.join(build, "common/generated/smz_build_version.h")) as f:
    release = re.search(r'#define SMZ_RELEASE "([^"]+)"', f.read()).group(1)
with open(os.path.join(repo, "deploy/k8s/overlays/small/kustomization.yaml")) as f:
    overlay = yaml.safe_load(f)
named = {i["name"]: i.get("newTag") for i in overlay.get("images", [])}
for name in ("registry", "stats", "events", "programme", "gateway", "migrate",
             "mariadb"):
    if named.get(f"localhost/smz/{name}") != release:
        fail(f"the small overlay names localhost/smz/{name} at "
             f"{named.get(f'localhost/smz/{name}')}, not {release}")

if shutil.which("kubectl") is None:
    for f in failures:
        print("FAIL:", f)
    if failures:
        sys.exit(1)
    print("kubectl is not installed: the rest is skipped")
    sys.exit(77)


with tempfile.TemporaryDirectory() as tmp:
    shutil.copytree(os.path.join(repo, "deploy/k8s"), os.path.join(tmp, "k8s"))
    secrets = os.path.join(tmp, "k8s/overlays/small/secrets")
    subprocess.run(["bash", os.path.join(repo, "deploy/k8s/make_secrets.sh"),
                    secrets], check=True, stdout=subprocess.DEVNULL)
    rendered = subprocess.run(
        ["kubectl", "kustomize", os.path.join(tmp, "k8s/overlays/small")],
        check=True, capture_output=True, text=True).stdout
    with open(os.path.join(secrets, "admin.token")) as f:
        admin_token = f.read().strip()

objects = [o for o in yaml.safe_load_all(rendered) if o]
by_kind = {}
for o in objects:
    by_kind.setdefault(o["kind"], []).append(o)
    if o["metadata"].get("namespace") != "smz":
        fail(f"{o['kind']} {o['metadata']['name']} is not in namespace smz")

SERVICES = ["registry", "stats", "events", "programme", "gateway"]
deployments = {d["metadata"]["name"]: d for d in by_kind.get("Deployment", [])}
for svc in SERVICES:
    if f"smz-{svc}" not in deployments:
        fail(f"no Deployment smz-{svc}")

secret_names = {s["metadata"]["name"] for s in by_kind.get("Secret", [])}
# The ADMIN token's plaintext stays with the administrators: the registry
# gets its hash.
for secret in by_kind.get("Secret", []):
    for key, value in secret.get("data", {}).items():
        if admin_token in base64.b64decode(value).decode(errors="replace"):
            fail(f"Secret {secret['metadata']['name']} holds the ADMIN token ({key})")


def pod_specs():
    for kind in ("Deployment", "StatefulSet", "Job"):
        for o in by_kind.get(kind, []):
            yield kind, o["metadata"]["name"], o["spec"]["template"]["spec"]


for kind, name, spec in pod_specs():
    where = f"{kind} {name}"
    security = spec.get("securityContext", {})
    if security.get("runAsNonRoot") is not True:
        fail(f"{where}: runAsNonRoot is not set")
    if security.get("seccompProfile", {}).get("type") != "RuntimeDefault":
        fail(f"{where}: no RuntimeDefault seccomp profile")
    if spec.get("automountServiceAccountToken") is not False:
        fail(f"{where}: mounts a service account token it does not use")
    for volume in spec.get("volumes", []):
        if "secret" in volume and volume["secret"]["secretName"] not in secret_names:
            fail(f"{where}: Secret {volume['secret']['secretName']} is not rendered")
    for container in spec.get("initContainers", []) + spec["containers"]:
        cwhere = f"{where} container {container['name']}"
        c = container.get("securityContext", {})
        if c.get("readOnlyRootFilesystem") is not True:
            fail(f"{cwhere}: root file system is writable")
        if c.get("allowPrivilegeEscalation") is not False:
            fail(f"{cwhere}: may escalate privileges")
        if c.get("capabilities", {}).get("drop") != ["ALL"]:
            fail(f"{cwhere}: keeps capabilities")
        resources = container.get("resources", {})
        request = resources.get("requests", {}).get("memory")
        limit = resources.get("limits", {}).get("memory")
        if not request or not limit:
            fail(f"{cwhere}: no memory request and limit")
        for env in container.get("env", []):
            if "valueFrom" in env and "secretKeyRef" in env["valueFrom"]:
                fail(f"{cwhere}: Secret {env['name']} in the environment")
            if admin_token in str(env.get("value", "")):
                fail(f"{cwhere}: a token in the environment")
        # Every SMZ_* setting is one its binary reads (the command's, where
        # the image holds several: the migrate Job's).
        image = container["image"].split(":")[0].split("/")[-1]
        if image != "mariadb" and container.get("command"):
            image = os.path.basename(container["command"][0])
        binary = os.path.join(build, "services", image, image)
        if image != "mariadb" and not os.path.exists(binary):
            fail(f"{cwhere}: no binary {binary} to check its settings against")
        if image != "mariadb" and os.path.exists(binary):
            with open(binary, "rb") as f:
                text = f.read()
            for env in container.get("env", []):
                if env["name"].startswith("SMZ_") and env["name"].encode() not in text:
                    fail(f"{cwhere}: {env['name']} is not read by {image}")

# Probes and disruption budgets of the services.
budgets = {p["spec"]["selector"]["matchLabels"]["app.kubernetes.io/name"]: p
           for p in by_kind.get("PodDisruptionBudget", [])}
for name, d in deployments.items():
    container = d["spec"]["template"]["spec"]["containers"][0]
    for probe, service in (("readinessProbe", "readiness"),
                           ("livenessProbe", "liveness")):
        grpc = container.get(probe, {}).get("grpc")
        if not grpc or grpc.get("service") != service:
            fail(f"{name}: no native gRPC {probe} for '{service}'")
    if name not in budgets:
        fail(f"{name}: no PodDisruptionBudget")
registry = deployments.get("smz-registry")
if registry and registry["spec"]["replicas"] < 3:
    fail("the registry runs fewer than 3 replicas")
if budgets.get("smz-registry", {}).get("spec", {}).get("minAvailable") != 2:
    fail("a drain may take the registry below 2 replicas")

# Network: deny by default, then one allow per call path.
policies = by_kind.get("NetworkPolicy", [])
if not any(p["spec"]["podSelector"] == {} and
           sorted(p["spec"]["policyTypes"]) == ["Egress", "Ingress"] and
           not p["spec"].get("ingress") and not p["spec"].get("egress")
           for p in policies):
    fail("no default-deny NetworkPolicy")


def selects(selector, app):
    labels = {"app.kubernetes.io/name": app, "app.kubernetes.io/part-of": "smz"}
    for key, value in selector.get("matchLabels", {}).items():
        if labels.get(key) != value:
            return False
    for expression in selector.get("matchExpressions", []):
        if expression["operator"] == "In" and labels.get(expression["key"]) not in expression["values"]:
            return False
    return True


def allowed(direction, app, peer, port):
    """Whether some policy allows `app` (ingress: from `peer`; egress: to)."""
    key = "ingress" if direction == "Ingress" else "egress"
    side = "from" if direction == "Ingress" else "to"
    for p in policies:
        if direction not in p["spec"]["policyTypes"] or not selects(p["spec"]["podSelector"], app):
            continue
        for rule in p["spec"].get(key, []):
            peers = rule.get(side)
            ports = [x["port"] for x in rule.get("ports", [])]
            if ports and port not in ports:
                continue
            if peers is None or any("podSelector" in x and "namespaceSelector" not in x and
                                    selects(x["podSelector"], peer) for x in peers):
                return True
    return False


paths = 0
for kind, name, spec in pod_specs():
    for container in spec.get("initContainers", []) + spec["containers"]:
        for env in container.get("env", []):
            value = str(env.get("value", ""))
            for host, port in re.findall(r"dns:///([a-z0-9-]+):(\d+)", value) + \
                    re.findall(r"mysql://[^@]+@([a-z0-9-]+):(\d+)", value):
                target = "smz-mariadb" if host.startswith("smz-mariadb") else host
                paths += 1
                if not allowed("Egress", name, target, int(port)):
                    fail(f"{name} may not reach {host}:{port}")
                if not allowed("Ingress", target, name, int(port)):
                    fail(f"{host} does not admit {name} on {port}")
if paths < 12:
    fail(f"only {paths} call paths found")
# And nothing else: a stranger pod reaches no service's gRPC port.
for name, d in deployments.items():
    for port in d["spec"]["template"]["spec"]["containers"][0]["ports"]:
        if port["name"] == "grpc" and allowed("Ingress", name, "stranger",
                                              port["containerPort"]):
            fail(f"{name} admits any pod on {port['containerPort']}")

# The database: a primary and a replica; the migrate Job.
statefulsets = {s["metadata"]["name"]: s for s in by_kind.get("StatefulSet", [])}
if statefulsets.get("smz-mariadb", {}).get("spec", {}).get("replicas", 0) < 2:
    fail("the MariaDB StatefulSet has no replica")
jobs = {j["metadata"]["name"]: j for j in by_kind.get("Job", [])}
migrate = jobs.get("smz-migrate")
if not migrate:
    fail("no migrate Job")
else:
    spec = migrate["spec"]["template"]["spec"]
    # The migrate image (deploy/images) holds each service's binary.
    migrated = [c["name"] for c in spec.get("initContainers", []) + spec["containers"]
                if "--migrate_only=true" in c.get("args", [])
                and c.get("image", "").startswith("localhost/smz/migrate:")
                and c.get("command") == [f"/usr/bin/{c['name']}"]]
    if migrated != ["registry", "stats", "events", "programme"]:
        fail(f"the migrate Job migrates {migrated}")

for f in failures:
    print("FAIL:", f)
print(f"{len(objects)} objects, {paths} call paths checked, {len(failures)} failures")
sys.exit(1 if failures else 0)
