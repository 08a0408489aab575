#!/usr/bin/env bash
# Installs the Debian packages dbssl needs to build, test and run, when they
# are missing.  Used by `make run`, `make deps` and .ci/run.  Needs root (or sudo).
# With --test also what only the tests use (`make test`): clang's libFuzzer for
# the fuzz run, python-dotenv as the peer for .env references.
set -euo pipefail

PACKAGES=(
  build-essential cmake pkg-config git
  libpq-dev libssl-dev libmicrohttpd-dev libjansson-dev libcmocka-dev libsystemd-dev
  postgresql openssl curl procps iproute2 util-linux prometheus faketime
)
TEST_PACKAGES=(clang libclang-rt-14-dev python3-dotenv)
if [ "${1:-}" = --test ]; then PACKAGES+=("${TEST_PACKAGES[@]}"); fi

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
