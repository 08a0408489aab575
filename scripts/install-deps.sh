#!/usr/bin/env bash
# Installs the Debian packages dbssl needs to build, test and run, when they
# are missing.  Used by `make run`, `make deps` and .ci/run.  Needs root (or sudo).
#   install-deps.sh          what building and running need (`make run`)
#   install-deps.sh --test   that, and the oracles only the tests use (`make test`, CI)
set -euo pipefail

PACKAGES=(
  build-essential cmake pkg-config git
  libpq-dev libssl-dev libmicrohttpd-dev libjansson-dev libcmocka-dev libsystemd-dev
  postgresql openssl curl procps iproute2 util-linux prometheus faketime
)
# TEST ONLY: real peers the tests compare dbssl with; `make run` never installs them
TEST_PACKAGES=(
  sslscan
)
case "${1:-}" in
--test) PACKAGES+=("${TEST_PACKAGES[@]}") ;;
"") ;;
*)
  echo "usage: install-deps.sh [--test]" >&2
  exit 2
  ;;
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
