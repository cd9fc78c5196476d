#!/usr/bin/env bash
# A private CA and one certificate per service, for a test or a small
# installation (OpenSSL's command line; ECDSA P-256 keys):
#
#   deploy/tls/make_certs.sh DIR [NAME ...]
#
# DIR/ca.crt and DIR/ca.key are made once and kept (run again to add names or
# renew certificates: the CA stays, so peers keep trusting; with only one of
# the two files there, the script stops rather than replace the CA). For
# each NAME (default: registry stats events programme gateway operator)
# DIR/NAME.crt and DIR/NAME.key, valid SMZ_TLS_DAYS days (default 397), for
# the names NAME, localhost and 127.0.0.1, plus SMZ_TLS_SANS when one NAME
# is given (comma-separated DNS:name or IP:address, e.g.
# "DNS:registry.smz.svc,IP:10.0.0.5"). A service's certificate serves and
# identifies it as a client (mutual TLS); "operator" (the tools: smzctl,
# the health probe, the demo loaders) only identifies a client. Keys are
# readable by their owner only.
#
# A service then runs with
#   --tls_cert=DIR/NAME.crt --tls_key=DIR/NAME.key --tls_ca=DIR/ca.crt
#   [--tls_client_auth=require]
# and a certificate renewed in place (same paths) is read within a minute,
# without a restart. Beyond a test, keep ca.key away from the services (here
# it sits beside their keys: whoever reads it can sign any name).
set -euo pipefail

if [[ $# -lt 1 ]]; then
  sed -n '2,24p' "$0" >&2
  exit 2
fi
dir=$1
shift
names=("$@")
if [[ ${#names[@]} -eq 0 ]]; then
  names=(registry stats events programme gateway operator)
fi
days=${SMZ_TLS_DAYS:-397}
extra_sans=${SMZ_TLS_SANS:-}
if [[ ! $days =~ ^[0-9]{1,4}$ ]] || ((days < 1)); then
  echo "make_certs.sh: SMZ_TLS_DAYS must be a number of days" >&2
  exit 2
fi
for name in "${names[@]}"; do
  # A name becomes a file name and a DNS SAN: letters, digits, '.', '-';
  # "ca" would overwrite the CA itself.
  if [[ ! $name =~ ^[A-Za-z0-9][A-Za-z0-9.-]{0,62}$ || $name == ca ]]; then
    echo "make_certs.sh: '$name' is not a service's host name" >&2
    exit 2
  fi
done
if [[ -n $extra_sans ]]; then
  # Names only: anything else would reach OpenSSL's extension file.
  san='(DNS:[A-Za-z0-9*][A-Za-z0-9.-]{0,252}|IP:[0-9A-Fa-f.:]{2,39})'
  if [[ ! $extra_sans =~ ^$san(,$san)*$ ]]; then
    echo "make_certs.sh: SMZ_TLS_SANS must be DNS:name or IP:address, comma-separated" >&2
    exit 2
  fi
  # They name one service: on every certificate, each would pass for it.
  if [[ ${#names[@]} -ne 1 ]]; then
    echo "make_certs.sh: SMZ_TLS_SANS names one service: give one NAME" >&2
    exit 2
  fi
fi

umask 077
mkdir -p "$dir"
# OpenSSL says little worth reading when all goes well; kept for a failure,
# with whatever half-made files the failure left.
log=$(mktemp)
cleanup() {
  local status=$?
  if [[ $status -ne 0 ]]; then
    cat "$log" >&2
    rm -f "$dir"/*.new "$dir"/*.csr
  fi
  rm -f "$log"
}
trap cleanup EXIT

if [[ -e $dir/ca.crt && -e $dir/ca.key ]]; then
  : # the CA stays
elif [[ -e $dir/ca.crt || -e $dir/ca.key ]]; then
  echo "make_certs.sh: $dir has only one of ca.crt and ca.key; not replacing the CA" >&2
  exit 2
else
  openssl req -x509 -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
    -keyout "$dir/ca.key" -out "$dir/ca.crt" -days 3650 \
    -subj "/O=smz/CN=smz private CA" \
    -addext "basicConstraints=critical,CA:TRUE,pathlen:0" \
    -addext "keyUsage=critical,keyCertSign,cRLSign" 2>>"$log"
fi
for name in "${names[@]}"; do
  if [[ $name == operator ]]; then
    sans="DNS:$name"
    usage="clientAuth"
  else
    sans="DNS:$name,DNS:localhost,IP:127.0.0.1"
    usage="serverAuth,clientAuth"
  fi
  if [[ -n $extra_sans ]]; then sans="$sans,$extra_sans"; fi
  openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
    -keyout "$dir/$name.key.new" -out "$dir/$name.csr" \
    -subj "/O=smz/CN=$name" 2>>"$log"
  openssl x509 -req -in "$dir/$name.csr" -CA "$dir/ca.crt" \
    -CAkey "$dir/ca.key" -CAcreateserial -out "$dir/$name.crt.new" \
    -days "$days" -sha256 -extfile <(printf '%s\n' \
      "basicConstraints=critical,CA:FALSE" \
      "keyUsage=critical,digitalSignature,keyEncipherment" \
      "extendedKeyUsage=$usage" \
      "subjectAltName=$sans") 2>>"$log"
  rm -f "$dir/$name.csr"
  # Each rename is atomic, the pair is not: a service that re-reads its
  # files between the two may take the new key with the old certificate,
  # and its handshakes fail until its next look (a minute later).
  mv "$dir/$name.key.new" "$dir/$name.key"
  mv "$dir/$name.crt.new" "$dir/$name.crt"
  chmod 0644 "$dir/$name.crt"
done
chmod 0644 "$dir/ca.crt"
echo "$dir: ca.crt and ${names[*]}"
