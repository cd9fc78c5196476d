#!/usr/bin/env bash
# Install the Debian 12 packages smz needs to build, test and run locally.
#
# Idempotent and cheap when nothing is missing: we ask dpkg about each package
# first and only touch apt (slow, needs network and root) if something is
# actually absent.
set -euo pipefail

PACKAGES=(
  # toolchain
  cmake g++ make pkg-config git ca-certificates
  # gRPC / protobuf / abseil
  libgrpc++-dev protobuf-compiler-grpc libprotobuf-dev protobuf-compiler
  libabsl-dev grpc-proto
  # storage
  libmysqlcppconn-dev mariadb-server mariadb-client
  # tests, benchmarks, metrics, TLS
  libgtest-dev libgmock-dev libbenchmark-dev prometheus-cpp-dev libssl-dev
  # the private CA and service certificates (deploy/tls/make_certs.sh)
  openssl
  # promtool checks deploy/prometheus (the scrape configuration, the alert
  # rules and their unit tests); Debian ships it only with the server
  prometheus
  # the gateway's HTTP edge (libmicrohttpd; cpp-httplib is the tests' client)
  # and council dashboard (Chart.js); the browser and WebDriver its tests
  # drive the pages with
  libmicrohttpd-dev libcpp-httplib-dev libjs-chart.js chromium fonts-noto-cjk
  chromium-driver python3-selenium
  # accounts: Argon2id password hashes and TOTP second factors
  libsodium-dev liboath-dev
  # XLSX: the upload templates (and the tests' filled-in uploads); the
  # organizers' downloaded lists are read back by a real XLSX reader
  libxlsxwriter-dev python3-openpyxl
  # calendar exports are checked by a real iCalendar parser in tests
  python3 python3-icalendar python3-dateutil
  # mail: libcurl's SMTP client; a real SMTP server captures it in tests
  libcurl4-openssl-dev python3-aiosmtpd
  # check-in codes as QR images in mail (libqrencode, libpng); tests read
  # them back with a real QR reader (zbarimg)
  libqrencode-dev libpng-dev zbar-tools
  # systemd-analyze checks deploy/systemd's units (verify, security)
  systemd
  # container images from Debian's packages (deploy/images); network
  # namespaces for the several-hosts test (ip netns, veth)
  mmdebstrap buildah iproute2
  # formatting checks
  clang-format
  # fuzzing: clang with libFuzzer and the sanitizers' runtimes
  clang-14 libfuzzer-14-dev libclang-rt-14-dev
)

missing=()
for pkg in "${PACKAGES[@]}"; do
  # "deinstall ok config-files" (removed, config left behind) counts as missing,
  # so compare against the exact fully-installed status string.
  status="$(dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null || true)"
  if [[ "$status" != "install ok installed" ]]; then
    missing+=("$pkg")
  fi
done

if ((${#missing[@]} == 0)); then
  echo "bootstrap: all ${#PACKAGES[@]} required packages are already installed."
  exit 0
fi

if [[ "$(id -u)" -ne 0 ]]; then
  # Don't guess at sudo: the caller may not have it, and a silent password
  # prompt inside a script is worse than a clear instruction.
  echo "bootstrap: missing packages: ${missing[*]}" >&2
  echo "bootstrap: run as root, or install them with:" >&2
  echo "  sudo apt-get update && sudo apt-get install -y --no-install-recommends ${missing[*]}" >&2
  exit 1
fi

echo "bootstrap: installing missing packages: ${missing[*]}"
# Fresh containers ship without package lists, so install would fail without
# an update first.
apt-get update
DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${missing[@]}"
echo "bootstrap: done."
