#!/usr/bin/env bash
# Container images of smz, made from Debian's packages and this build, with
# no image registry (none is needed, nor reachable from every site):
#
#   deploy/images/build_images.sh [OUT_DIR]
#
# 1. A root file system of the Debian packages holding the shared libraries
#    the binaries name (readelf, then dpkg -S; their own dependencies come
#    with them) and tzdata: no shell, no package manager, Debian's
#    "distroless". mmdebstrap's extract variant makes it from the archive of
#    the Debian release this machine runs (the binaries were built against
#    its libraries); nothing is run inside it, nothing of the build is run
#    as root.
# 2. buildah turns it into the base image (one user, smz 65532, written
#    into its /etc here), and commits one image per service (smz/registry,
#    smz/stats, smz/events, smz/programme, smz/gateway) with that service's
#    binary as its entrypoint, smz/migrate with the four database services'
#    binaries for the migrate Job (deploy/k8s), and smz/mariadb (the server,
#    its client tools and a shell, for the StatefulSet's start.sh). Every
#    image runs as 65532 and needs nothing written to its root file system
#    (Kubernetes' readOnlyRootFilesystem).
# 3. Each is saved as OUT_DIR/smz-NAME.oci.tar, an OCI archive naming
#    localhost/smz/NAME:RELEASE (the version without its commit; the
#    deploy/k8s manifests name the same: "localhost/" is never a public
#    registry, so a node without the image fails to pull rather than fetch
#    somebody else's). Load it with `podman load -i`, `kind load
#    image-archive`, `ctr -n k8s.io images import`, or push it to a registry
#    of yours with `skopeo copy oci-archive:FILE docker://…` (and the
#    overlay's images: newName).
#
# Settings: SMZ_BUILD_DIR (default REPO/build, built by deploy/build.sh);
# SMZ_DEBIAN_MIRROR and SMZ_DEBIAN_SECURITY_MIRROR (default deb.debian.org's
# debian and debian-security; a site without the Internet names mirrors of
# both); SMZ_IMAGE_STORAGE (buildah's storage, default a temporary folder
# removed at the end; "system" for the machine's containers-storage, where
# podman finds the images). OUT_DIR (default REPO/build/images) must be
# root's. Needs root (mmdebstrap's root mode, buildah's storage), mmdebstrap
# and buildah (deploy/bootstrap.sh installs both). Running the images needs
# a container runtime; see README ("Container images").
set -euo pipefail

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
BUILD_DIR="${SMZ_BUILD_DIR:-$REPO_ROOT/build}"
OUT_DIR="${1:-$BUILD_DIR/images}"
MIRROR="${SMZ_DEBIAN_MIRROR:-http://deb.debian.org/debian}"
SECURITY_MIRROR="${SMZ_DEBIAN_SECURITY_MIRROR:-http://deb.debian.org/debian-security}"
# The one user every image runs as (deploy/k8s: runAsUser 65532).
SMZ_UID=65532

SERVICES=(registry stats events programme gateway)
DATABASE_SERVICES=(registry stats events programme)

die() {
  echo "build_images.sh: $*" >&2
  exit 1
}

[[ "$(id -u)" -eq 0 ]] || die "run as root (mmdebstrap and buildah's storage)"
for tool in mmdebstrap buildah dpkg readelf ldconfig; do
  command -v "$tool" >/dev/null || die "$tool is not installed (deploy/bootstrap.sh)"
done
# A mirror is a URL and nothing else: an option such as [trusted=yes] would
# turn off the archive's signature check.
for url in "$MIRROR" "$SECURITY_MIRROR"; do
  [[ "$url" =~ ^https?://[A-Za-z0-9._~:/%+-]+$ ]] || die "'$url' is not a mirror's http(s) URL"
done
# The libraries' packages are this machine's: the same release.
# shellcheck disable=SC1091
SUITE="$(. /etc/os-release && echo "${VERSION_CODENAME:-}")"
[[ "$SUITE" =~ ^[a-z]+$ ]] || die "no Debian release in /etc/os-release"

binaries=()
for svc in "${SERVICES[@]}"; do
  binaries+=("$BUILD_DIR/services/$svc/$svc")
done
for bin in "${binaries[@]}"; do
  [[ -f "$bin" ]] || die "no $bin: run deploy/build.sh first"
done
# The version the build wrote (read, not run: the build tree may be
# somebody else's, and this runs as root).
version_header="$BUILD_DIR/common/generated/smz_build_version.h"
release="$(sed -n 's/^#define SMZ_RELEASE "\([0-9A-Za-z.-]*\)"$/\1/p' "$version_header")"
commit="$(sed -n 's/^#define SMZ_COMMIT "\([0-9a-f]*\)"$/\1/p' "$version_header")"
[[ "$release" =~ ^[0-9][0-9A-Za-z.-]{0,40}$ ]] || die "no release in $version_header"
version="$release${commit:++$commit}"

# Root writes here: a folder of root's that nobody else can change.
if [[ ! -d "$OUT_DIR" ]]; then
  install -d -m 0755 "$OUT_DIR"
fi
OUT_DIR="$(cd "$OUT_DIR" && pwd -P)"
[[ "$(stat -c '%u %A' "$OUT_DIR")" =~ ^0\ d....-..-.$ ]] ||
  die "$OUT_DIR must be root's and writable by root alone"

work="$(mktemp -d /tmp/smz-images.XXXXXX)"
# Whose it is: tests/deploy/images_test.sh removes those of runs killed
# before their cleanup.
echo "$$" >"$work/pid"
storage="${SMZ_IMAGE_STORAGE:-$work/storage}"
buildah_cmd=(buildah)
if [[ "$storage" != system ]]; then
  # vfs: works where overlay mounts are not allowed (in a container).
  buildah_cmd+=(--storage-driver vfs --root "$storage/root" --runroot "$storage/run")
fi
bah() { "${buildah_cmd[@]}" "$@"; }

containers=()
cleanup() {
  local c
  for c in "${containers[@]}"; do
    bah rm "$c" >/dev/null 2>&1 || true
  done
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 143' TERM INT
# set -e ends a script without a word: say where.
trap 'echo "build_images.sh: a command failed at line $LINENO" >&2' ERR

# 1. The packages of the libraries the binaries name (NEEDED), found by
# their paths on this machine; their dependencies come with them.
needed="$work/needed"
for bin in "${binaries[@]}"; do
  readelf -d "$bin" | sed -n 's/.*(NEEDED).*\[\(.*\)\]$/\1/p'
done | sort -u >"$needed"
[[ -s "$needed" ]] || die "the binaries name no shared library"
packages_file="$work/packages"
: >"$packages_file"
# Once, into a file: awk leaving a pipe early would end ldconfig with
# SIGPIPE, and pipefail the script, now and then.
ldconfig -p >"$work/ldconfig"
while read -r soname; do
  # The 64-bit one ("libc6,x86-64", "libc6,AArch64"), not a 32-bit copy.
  path="$(awk -v s="$soname" '$1 == s && tolower($0) ~ /x86-64|aarch64/ {print $NF; exit}' "$work/ldconfig")"
  [[ -n "$path" ]] || die "no $soname on this machine"
  pkg=""
  # dpkg knows a file by the path its package installs (usrmerge: /lib and
  # /usr/lib are one folder, and one of them is in dpkg's list).
  for candidate in "$path" "/usr$path" "${path#/usr}" "$(readlink -f "$path")"; do
    pkg="$(dpkg -S "$candidate" 2>/dev/null | head -n1 | cut -d: -f1)" || true
    [[ -n "$pkg" ]] && break
  done
  [[ -n "$pkg" ]] || die "no Debian package holds $path ($soname)"
  echo "$pkg" >>"$packages_file"
done <"$needed"
echo tzdata >>"$packages_file"
include="$(sort -u "$packages_file" | paste -sd, -)"
echo "build_images.sh: root file system from $include ($SUITE)"

# make_rootfs DIR PACKAGES(comma-separated): the packages' files and their
# dependencies' (extract: no maintainer script, nothing run inside, nothing
# mounted), with what a container's /etc needs and extract leaves out: the
# one user, the libraries' cache, how names resolve (the runtime mounts
# /etc/hosts and /etc/resolv.conf over the empty ones), the zone's time
# zone. apt's configuration (the mirrors) stays out of the image.
make_rootfs() {
  local dir="$1" f
  mmdebstrap --quiet --variant=extract --mode=root --skip=chroot/mount \
    --include="$2" "$SUITE" "$dir" \
    "deb $MIRROR $SUITE main" "deb $MIRROR $SUITE-updates main" \
    "deb $SECURITY_MIRROR $SUITE-security main"
  rm -rf "$dir/etc/apt" "$dir/var/lib/apt" "$dir/var/cache/apt" \
    "$dir/etc/dpkg/dpkg.cfg.d/99mmdebstrap" "$dir/var/log"/*
  install -d -m 0755 "$dir/etc" "$dir/proc" "$dir/sys" "$dir/dev" "$dir/run"
  install -d -m 1777 "$dir/tmp"
  # Written fresh: a package's symbolic link in their place must not lead
  # these writes out of the folder.
  for f in passwd group nsswitch.conf hosts resolv.conf localtime timezone; do
    rm -f "$dir/etc/$f"
  done
  printf 'root:x:0:0:root:/root:/usr/sbin/nologin\nsmz:x:%d:%d:smz:/nonexistent:/usr/sbin/nologin\n' \
    "$SMZ_UID" "$SMZ_UID" >"$dir/etc/passwd"
  printf 'root:x:0:\nsmz:x:%d:\n' "$SMZ_UID" >"$dir/etc/group"
  printf 'hosts: files dns\n' >"$dir/etc/nsswitch.conf"
  : >"$dir/etc/hosts"
  : >"$dir/etc/resolv.conf"
  ln -s /usr/share/zoneinfo/Asia/Seoul "$dir/etc/localtime"
  echo "Asia/Seoul" >"$dir/etc/timezone"
  ldconfig -r "$dir"
}

# An image's files: owned by root, times fixed (same bytes, same layer).
pack_rootfs() {  # DIR TAR
  find "$1" -exec touch -h -d @0 {} +
  tar --sort=name --numeric-owner -C "$1" -cf "$2" .
}

make_rootfs "$work/rootfs" "$include"
pack_rootfs "$work/rootfs" "$work/rootfs.tar"

# MariaDB for deploy/k8s's StatefulSet: the server, its client tools, and
# the shell and utilities mariadb-install-db and start.sh use.
make_rootfs "$work/mariadb-rootfs" \
  "mariadb-server-core,mariadb-client,dash,coreutils,sed,grep,findutils,hostname,tzdata"
rm -f "$work/mariadb-rootfs/bin/sh"
ln -s dash "$work/mariadb-rootfs/bin/sh"
install -d -m 0750 -o "$SMZ_UID" -g "$SMZ_UID" "$work/mariadb-rootfs/var/lib/mysql" \
  "$work/mariadb-rootfs/run/mysqld"
pack_rootfs "$work/mariadb-rootfs" "$work/mariadb-rootfs.tar"

labels=(
  --label "org.opencontainers.image.title=smz"
  --label "org.opencontainers.image.description=Yeongdeungpo Smart Medical Zone network"
  --label "org.opencontainers.image.version=$version"
)

# commit CONTAINER NAME: the image, tagged, saved as OUT_DIR's archive
# (written beside it first, then renamed: never half an archive).
commit() {
  local c="$1" name="$2" image="localhost/smz/$2:$release"
  bah commit --quiet --rm "$c" "$image" >/dev/null
  containers=()
  bah tag "$image" "localhost/smz/$name:latest"
  rm -f "$OUT_DIR/.smz-$name.oci.tar.tmp"
  bah push --quiet "$image" "oci-archive:$OUT_DIR/.smz-$name.oci.tar.tmp:$image" >/dev/null
  mv -f "$OUT_DIR/.smz-$name.oci.tar.tmp" "$OUT_DIR/smz-$name.oci.tar"
  echo "build_images.sh: $image ($version) -> $OUT_DIR/smz-$name.oci.tar"
}

# 2. The base, then one image per service on it.
base="$(bah from scratch)"
containers+=("$base")
bah add "$base" "$work/rootfs.tar" / >/dev/null
bah config --user "$SMZ_UID:$SMZ_UID" --workingdir / --env TZ=Asia/Seoul "${labels[@]}" "$base"
bah commit --quiet --rm "$base" "localhost/smz/base:$release" >/dev/null
containers=()

image() {  # NAME ENTRYPOINT BINARY...
  local name="$1" entrypoint="$2" c bin
  shift 2
  c="$(bah from "localhost/smz/base:$release")"
  containers+=("$c")
  for bin in "$@"; do
    bah copy --chmod 0555 "$c" "$bin" "/usr/bin/$(basename "$bin")" >/dev/null
  done
  bah config --entrypoint "$entrypoint" --cmd '' \
    --label "org.opencontainers.image.title=smz-$name" "$c"
  commit "$c" "$name"
}

for svc in "${SERVICES[@]}"; do
  image "$svc" "[\"/usr/bin/$svc\"]" "$BUILD_DIR/services/$svc/$svc"
done
# The migrate Job runs each database service's binary with
# --migrate_only=true (its containers name the command).
migrate_bins=()
for svc in "${DATABASE_SERVICES[@]}"; do
  migrate_bins+=("$BUILD_DIR/services/$svc/$svc")
done
image migrate '["/usr/bin/registry", "--migrate_only=true"]' "${migrate_bins[@]}"

# MariaDB: the StatefulSet's start.sh is its command.
c="$(bah from scratch)"
containers+=("$c")
bah add "$c" "$work/mariadb-rootfs.tar" / >/dev/null
bah config --user "$SMZ_UID:$SMZ_UID" --workingdir / --env TZ=Asia/Seoul \
  "${labels[@]}" --label "org.opencontainers.image.title=smz-mariadb" \
  --port 3306 --cmd '["/usr/sbin/mariadbd", "--no-defaults"]' "$c"
commit "$c" mariadb
