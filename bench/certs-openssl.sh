#!/bin/sh
# certs-openssl.sh - the development certificate set (CA, server, client)
# made with the openssl command line, the way a person following the usual
# recipes would (genpkey/req/x509, the same key type, names and extensions as
# `dbssl certs generate --client`).  It is the peer the benchmarks compare
# dbssl's generator with (bench/run.sh, bench/certgen.c).
# Usage: certs-openssl.sh DIR ec-p256|rsa-2048
set -e
case "$2" in
  ec-p256) K="-algorithm EC -pkeyopt ec_paramgen_curve:P-256" ;;
  rsa-2048) K="-algorithm RSA -pkeyopt rsa_keygen_bits:2048" ;;
  *) echo "usage: $0 DIR ec-p256|rsa-2048" >&2; exit 2 ;;
esac
mkdir -p "$1"
cd "$1"
O="/O=dbssl development"
openssl genpkey $K -out ca.key 2>/dev/null
openssl req -x509 -new -key ca.key -sha256 -days 365 -subj "$O/CN=dbssl development CA" \
  -addext 'basicConstraints=critical,CA:TRUE' -addext 'keyUsage=critical,keyCertSign,cRLSign' \
  -out ca.crt
openssl genpkey $K -out server.key 2>/dev/null
openssl req -new -key server.key -subj "$O/CN=localhost" -out server.csr
printf 'basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\nsubjectAltName=DNS:localhost,IP:127.0.0.1,IP:::1\nsubjectKeyIdentifier=hash\nauthorityKeyIdentifier=keyid:always\n' >server.ext
openssl x509 -req -in server.csr -CA ca.crt -CAkey ca.key -CAcreateserial -sha256 -days 365 \
  -extfile server.ext -out server.crt 2>/dev/null
openssl genpkey $K -out client.key 2>/dev/null
openssl req -new -key client.key -subj "$O/CN=app" -out client.csr
printf 'basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=clientAuth\nsubjectKeyIdentifier=hash\nauthorityKeyIdentifier=keyid:always\n' >client.ext
openssl x509 -req -in client.csr -CA ca.crt -CAkey ca.key -CAcreateserial -sha256 -days 365 \
  -extfile client.ext -out client.crt 2>/dev/null
chmod 600 ca.key server.key client.key
