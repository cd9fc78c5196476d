#!/usr/bin/env bash
# deploy/images/build_images.sh as far as this machine goes: it builds every
# image (mmdebstrap + buildah, in a storage of the test's own), then each
# image is checked for what deploy/k8s relies on (runs as 65532, the right
# entrypoint, no shell in the service images, an OCI archive saved) and run
# the way a container runtime would run it, without one (none runs here:
# no Docker engine, podman's runtime cannot start in this sandbox): the
# image's root file system mounted read-only in a mount namespace of its
# own, /proc and /etc/hosts given, the entrypoint run as 65532 by chroot.
# Each service binary prints its version (its libraries all load from the
# image); the MariaDB image initialises a database and serves it.
#
# Usage (from CTest): images_test.sh <repo> <build dir>
# Exit 77 (skipped) when not root or without mmdebstrap or buildah.
set -euo pipefail
repo=$1
build=$2

if [[ "$(id -u)" -ne 0 ]]; then
  echo "images need root: skipped"
  exit 77
fi
for tool in mmdebstrap buildah unshare chroot; do
  if ! command -v "$tool" >/dev/null; then
    echo "$tool is not installed: skipped"
    exit 77
  fi
done

# What runs killed before their cleanup left (CTest's timeout is a
# SIGKILL): folders of this test and of build_images.sh whose process is
# gone.
for dir in /tmp/smz-images-test.* /tmp/smz-images.*; do
  [[ -f "$dir/pid" ]] || continue
  pid="$(<"$dir/pid")"
  if [[ "$pid" =~ ^[0-9]+$ ]] && ! kill -0 "$pid" 2>/dev/null; then rm -rf "$dir"; fi
done

work="$(mktemp -d /tmp/smz-images-test.XXXXXX)"
echo "$$" >"$work/pid"
storage="$work/storage"
bah() { buildah --storage-driver vfs --root "$storage/root" --runroot "$storage/run" "$@"; }
containers=()
cleanup() {
  local c
  for c in "${containers[@]}"; do
    bah umount "$c" >/dev/null 2>&1 || true
    bah rm "$c" >/dev/null 2>&1 || true
  done
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 143' TERM INT

failures=0
fail() {
  echo "FAIL: $*"
  failures=$((failures + 1))
}

install -d -m 0755 "$work/out"
# Within CTest's timeout, so that the cleanup above runs.
SMZ_BUILD_DIR="$build" SMZ_IMAGE_STORAGE="$storage" \
  timeout -s TERM 600 bash "$repo/deploy/images/build_images.sh" "$work/out"

version="$("$build/services/registry/registry" --version | awk '{print $2}')"
release="${version%%+*}"

# run_in IMAGE USER COMMAND...: COMMAND in IMAGE's root file system, read
# only, as USER, with /proc, a /etc/hosts and a writable /tmp (and, for
# MariaDB, its data and socket folders: a container's volumes).
declare -A roots
for image in registry stats events programme gateway migrate mariadb; do
  c="$(bah from "localhost/smz/$image:$release")"
  containers+=("$c")
  roots[$image]="$(bah mount "$c")"
done
run_in() {
  local image=$1 user=$2 root
  shift 2
  root="${roots[$image]}"
  printf '127.0.0.1 localhost\n' >"$work/hosts"
  mkdir -p "$work/volumes/$image/tmp" "$work/volumes/$image/data" "$work/volumes/$image/run"
  chown -R 65532:65532 "$work/volumes/$image"
  # shellcheck disable=SC2016
  unshare --mount --pid --fork sh -eu -c '
    root=$1 volumes=$2 hosts=$3 user=$4
    shift 4
    mount --make-rprivate /
    mount --bind "$root" "$root"
    mount --bind "$hosts" "$root/etc/hosts"
    mount --bind "$volumes/tmp" "$root/tmp"
    if [ -d "$root/var/lib/mysql" ]; then
      mount --bind "$volumes/data" "$root/var/lib/mysql"
      mount --bind "$volumes/run" "$root/run/mysqld"
    fi
    mount -o remount,bind,ro "$root"
    mount -t proc proc "$root/proc"
    exec env -i PATH=/usr/bin:/bin:/usr/sbin:/sbin chroot --userspec="$user" "$root" "$@"
  ' sh "$root" "$work/volumes/$image" "$work/hosts" "$user" "$@"
}

config_of() {  # IMAGE FIELD: a field of the image's OCI config (Go's %v)
  bah inspect --type image --format "{{.OCIv1.Config.$2}}" "localhost/smz/$1:$release"
}

# Each archive names its image as the manifests do (deploy/k8s), by a name
# no public registry serves.
for name in registry stats events programme gateway migrate mariadb; do
  archive="$work/out/smz-$name.oci.tar"
  ref="$(tar -xOf "$archive" index.json 2>/dev/null |
    /usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)["manifests"][0]["annotations"]["org.opencontainers.image.ref.name"])' 2>&1)" ||
    ref="(not an OCI archive: $ref)"
  [[ "$ref" == "localhost/smz/$name:$release" ]] ||
    fail "smz-$name.oci.tar names '$ref', not localhost/smz/$name:$release"
  grep -q "image: localhost/smz/$name\b" "$repo"/deploy/k8s/base/*.yaml ||
    fail "deploy/k8s names no localhost/smz/$name"
done

for svc in registry stats events programme gateway; do
  [[ "$(config_of "$svc" User)" == 65532:65532 ]] || fail "$svc runs as $(config_of "$svc" User)"
  [[ "$(config_of "$svc" Entrypoint)" == "[/usr/bin/$svc]" ]] ||
    fail "$svc's entrypoint is $(config_of "$svc" Entrypoint)"
  entrypoint="/usr/bin/$svc"
  out="$(run_in "$svc" 65532:65532 "$entrypoint" --version 2>&1)" ||
    fail "$svc --version in its image: $out"
  [[ "$out" == "smz $version" ]] || fail "$svc in its image says '$out', not 'smz $version'"
  # Nothing to run but the service: no shell to exec into, no package
  # manager, no apt configuration (the mirrors) left behind.
  for path in bin/sh usr/bin/sh bin/bash usr/bin/bash bin/dash usr/bin/dash \
      bin/busybox usr/bin/busybox usr/bin/apt usr/bin/dpkg etc/apt; do
    if [[ -e "${roots[$svc]}/$path" || -L "${roots[$svc]}/$path" ]]; then
      fail "the $svc image has /$path"
    fi
  done
done

# The migrate Job's image: each database service's binary.
[[ "$(config_of migrate User)" == 65532:65532 ]] || fail "migrate runs as $(config_of migrate User)"
for svc in registry stats events programme; do
  out="$(run_in migrate 65532:65532 "/usr/bin/$svc" --version 2>&1)" ||
    fail "$svc --version in the migrate image: $out"
done
# Without a database to reach it says so and fails, as the Job expects
# (a retry), rather than crash for a missing library or a read-only root.
out="$(run_in migrate 65532:65532 /usr/bin/registry --migrate_only=true \
  --mysql_dsn=mysql://smz_registry@127.0.0.1:1/smz_registry 2>&1)" && fail "migrate without a database succeeded"
[[ "$out" == *credentials* || "$out" == *password* || "$out" == *database* ]] ||
  fail "migrate without a database said: $out"

# MariaDB: initialises its data folder and serves, as 65532, read-only root.
[[ "$(config_of mariadb User)" == 65532:65532 ]] || fail "mariadb runs as $(config_of mariadb User)"
# shellcheck disable=SC2016
out="$(run_in mariadb 65532:65532 /bin/sh -eu -c '
  if touch /written 2>/dev/null; then echo "the root file system is writable"; exit 1; fi
  mariadb-install-db --no-defaults --datadir=/var/lib/mysql --skip-test-db \
    --auth-root-authentication-method=socket >/dev/null
  mariadbd --no-defaults --datadir=/var/lib/mysql --socket=/run/mysqld/mysqld.sock \
    --skip-networking --log-error=/tmp/mariadb.log &
  server=$!
  i=0
  until mariadb-admin --no-defaults --socket=/run/mysqld/mysqld.sock ping >/dev/null 2>&1; do
    i=$((i + 1)); [ "$i" -lt 60 ] || { cat /tmp/mariadb.log; exit 1; }
    sleep 0.5
  done
  mariadbd --version
  kill "$server"
  wait "$server" || true
' 2>&1)" || fail "MariaDB in its image: $out"
[[ "$out" == *MariaDB* ]] || fail "MariaDB in its image said: $out"

du -sh "$work/out"/*.oci.tar
if ((failures > 0)); then
  echo "$failures failure(s)"
  exit 1
fi
echo "images: all checks passed"
