#!/usr/bin/env bash
# A private CA and one certificate per service, for a test or a small
# installation (OpenSSL's command line; ECDSA P-256 keys):
#
#   deploy/tls/make_certs.sh DIR [NAME ...]
#
# DIR/ca.crt and DIR/ca.key are made once and kept (run again to add names or
# renew certificates: the CA stays, so peers keep trusting). For each NAME
# (default: registry stats events programme gateway) DIR/NAME.crt and
# DIR/NAME.key, valid SMZ_TLS_DAYS days (default 397), for the names
# NAME, localhost and 127.0.0.1 plus SMZ_TLS_SANS (comma-separated, e.g.
# "DNS:registry.smz.svc,IP:10.0.0.5"). Each certificate serves a server and
# identifies a client (mutual TLS). Keys are readable by their owner only.
#
# A service then runs with
#   --tls_cert=DIR/NAME.crt --tls_key=DIR/NAME.key --tls_ca=DIR/ca.crt
#   [--tls_client_auth=require]
# and renewing a certificate in place (same paths) needs no restart: the
# services re-read the files every minute.
set -euo pipefail

if [[ $# -lt 1 ]]; then
  sed -n '2,20p' "$0" >&2
  exit 2
fi
dir=$1
shift
names=("$@")
if [[ ${#names[@]} -eq 0 ]]; then
  names=(registry stats events programme gateway)
fi
days=${SMZ_TLS_DAYS:-397}
extra_sans=${SMZ_TLS_SANS:-}
for name in "${names[@]}"; do
  # A name becomes a file name and a DNS SAN: letters, digits, '.', '-'.
  if [[ ! $name =~ ^[A-Za-z0-9][A-Za-z0-9.-]{0,62}$ ]]; then
    echo "make_certs.sh: '$name' is not a host name" >&2
    exit 2
  fi
done

umask 077
mkdir -p "$dir"
# OpenSSL says little worth reading when all goes well; kept for a failure.
log=$(mktemp)
trap 'status=$?; if [[ $status -ne 0 ]]; then cat "$log" >&2; fi; rm -f "$log"' EXIT
if [[ ! -f $dir/ca.crt || ! -f $dir/ca.key ]]; then
  openssl req -x509 -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
    -keyout "$dir/ca.key" -out "$dir/ca.crt" -days 3650 \
    -subj "/O=smz/CN=smz private CA" \
    -addext "basicConstraints=critical,CA:TRUE" \
    -addext "keyUsage=critical,keyCertSign,cRLSign" 2>>"$log"
fi
for name in "${names[@]}"; do
  sans="DNS:$name,DNS:localhost,IP:127.0.0.1"
  if [[ -n $extra_sans ]]; then sans="$sans,$extra_sans"; fi
  # Written beside and moved into place, so that a service re-reading the
  # files never sees a key without its certificate.
  openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
    -keyout "$dir/$name.key.new" -out "$dir/$name.csr" \
    -subj "/O=smz/CN=$name" 2>>"$log"
  openssl x509 -req -in "$dir/$name.csr" -CA "$dir/ca.crt" \
    -CAkey "$dir/ca.key" -CAcreateserial -out "$dir/$name.crt.new" \
    -days "$days" -sha256 -extfile <(printf '%s\n' \
      "basicConstraints=CA:FALSE" \
      "keyUsage=critical,digitalSignature,keyEncipherment" \
      "extendedKeyUsage=serverAuth,clientAuth" \
      "subjectAltName=$sans") 2>>"$log"
  rm -f "$dir/$name.csr"
  mv "$dir/$name.key.new" "$dir/$name.key"
  mv "$dir/$name.crt.new" "$dir/$name.crt"
  chmod 0644 "$dir/$name.crt"
done
chmod 0644 "$dir/ca.crt"
echo "$dir: ca.crt and ${names[*]}"
