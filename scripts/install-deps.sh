#!/usr/bin/env bash
# Installs the Debian packages dbssl needs to build, test and run, when they
# are missing.  Used by `make run`, `make deps` and .ci/run.  Needs root (or sudo).
#
# Usage: install-deps.sh [--test]
#   --test  also the test-only packages (`make test`, CI): real clients the
#           tests use as oracles, and clang's libFuzzer; `make run` never
#           installs them
set -euo pipefail

PACKAGES=(
  build-essential cmake pkg-config git
  libpq-dev libssl-dev libmicrohttpd-dev libjansson-dev libcmocka-dev libsystemd-dev
  postgresql openssl curl procps iproute2 util-linux prometheus faketime
)
# test-only: Python drivers started through `dbssl exec` (tests/integration/test_exec.sh);
# sslscan, the oracle of `dbssl scan` (tests/integration/test_scan.sh);
# clang and its runtime for the libFuzzer run (`make test-fuzz`, scripts/fuzz.sh);
# python-dotenv, the peer for .env ${NAME} references (tests/cli/test_env_file.sh)
TEST_PACKAGES=(
  python3-psycopg2 python3-psycopg sslscan
  clang libclang-rt-14-dev python3-dotenv
)

case "${1:-}" in
  "") ;;
  --test) PACKAGES+=("${TEST_PACKAGES[@]}") ;;
  *) echo "usage: $0 [--test]" >&2; exit 2 ;;
esac

missing=()
for p in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done
[ ${#missing[@]} -eq 0 ] && exit 0

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then SUDO="sudo"; else
    echo "install-deps: these packages are missing and I am not root: ${missing[*]}" >&2
    echo "install-deps: run 'apt-get install -y ${missing[*]}' as root, then try again." >&2
    exit 1
  fi
fi
echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
# postgresql's post-install must not start a cluster service: tests start their own
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
