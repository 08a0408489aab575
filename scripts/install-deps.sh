#!/usr/bin/env bash
# Installs the Debian packages dbssl needs, when they are missing, by purpose:
#   (no option)  to build dbssl and run it (`make run`, `make deps`)
#   --test       also what only the tests use (`make test`, CI)
#   --bench      also the benchmark's peers and tools (`make bench`)
# Needs root (or sudo) only when something is missing.  The README lists both
# sets (tests/cli/test_readme_packages.sh keeps it in sync with this file).
#
# Nothing installed here enables or starts a system service: starts are
# refused while apt runs (a policy-rc.d that answers 101, the interface
# invoke-rc.d and deb-systemd-invoke ask), units the install enabled are
# disabled again (systemctl disable, so that upgrades keep them disabled),
# and PostgreSQL's server package is told not to create its "main" cluster
# (create_main_cluster = false in /etc/postgresql-common/createcluster.conf,
# Debian's switch): the development database and the tests run their own.
# Prometheus is not installed at all: scripts/prometheus-tools.sh unpacks
# promtool and prometheus from its package into a cache for the tests.
#
# Usage: install-deps.sh [--test | --bench]
set -euo pipefail

# build: compiler, CMake, pkg-config and the libraries dbssl links;
# run: PostgreSQL's server programs (make run's development database),
# curl (to look at the endpoint, as the README and make run say)
PACKAGES=(
  build-essential cmake pkg-config
  libpq-dev libssl-dev libmicrohttpd-dev libjansson-dev
  postgresql curl
)

# test-only: cmocka (unit tests); openssl (the tests' own certificate factory,
# tests/lib.sh); python3 and its PostgreSQL drivers (helpers, and real
# applications started through `dbssl exec`); sslscan (the oracle of `dbssl
# scan`); procps, iproute2, util-linux (pgrep, ss, flock, setpriv, runuser);
# mandoc and man-db (the manual page is linted and rendered); clang and its
# runtime (the libFuzzer run, `make test-fuzz`); python-dotenv (the peer for
# .env ${NAME} references, tests/cli/test_env_file.sh); python3-jsonschema (the
# audit's JSON against docs/audit.schema.json, tests/integration/test_audit.sh);
# pgbouncer (run as a plain process between dbssl and PostgreSQL,
# tests/integration/test_pgbouncer.sh; its pgbouncer.service, which the
# package enables, is disabled again below and never started); chromium (the
# status page loaded headless in a real browser, tests/integration/test_status_page.sh: its
# hard dependencies are libraries, recommends are not installed).  Tests that need
# another time run build/testclock/dbssl (src/base/clock.h), not faketime.
TEST_PACKAGES=(
  libcmocka-dev openssl python3 python3-psycopg2 python3-psycopg sslscan
  procps iproute2 util-linux mandoc man-db clang libclang-rt-14-dev python3-dotenv
  python3-jsonschema pgbouncer chromium
)

# bench-only (bench/run.sh, `make bench`): nginx (the HTTP peer, started by
# the benchmark itself on loopback with its own configuration and prefix,
# never as a service), wrk (HTTP load), hyperfine (whole-process timings),
# gnuplot-nox (the chart), openssl (the certificate recipe it is compared
# with), python3 (the report, the connection holder), procps and iproute2
# (pgrep, ss), linux-perf and strace (the profile of each server under load,
# for the targets that are missed).  pgbench comes with postgresql; sslscan
# (a test package) is used when installed.
BENCH_PACKAGES=(
  nginx wrk hyperfine gnuplot-nox openssl python3 procps iproute2 linux-perf strace
)

test=false
case "${1:-}" in
  "") ;;
  --test) test=true; PACKAGES+=("${TEST_PACKAGES[@]}") ;;
  --bench) PACKAGES+=("${BENCH_PACKAGES[@]}") ;;
  *) echo "usage: $0 [--test | --bench]" >&2; exit 2 ;;
esac
say() { printf 'install-deps: %s\n' "$*"; }

installed() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q "install ok installed"; }
missing=()
for p in "${PACKAGES[@]}"; do
  installed "$p" || missing+=("$p")
done

if [ ${#missing[@]} -gt 0 ]; then
  SUDO=""
  if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null 2>&1; then SUDO="sudo"; else
      echo "install-deps: these packages are missing and I am not root: ${missing[*]}" >&2
      echo "install-deps: run '$0${1:+ $1}' as root, then try again." >&2
      exit 1
    fi
  fi
  say "installing ${missing[*]}"
  as_root() { if [ -n "$SUDO" ]; then sudo "$@"; else "$@"; fi; }
  apt_install() {
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
      -o DPkg::Lock::Timeout=600 "$@" >/dev/null
  }

  # the symlinks that say a unit is enabled, to find those this install adds
  enabled_links() {
    find /etc/systemd/system -mindepth 2 -maxdepth 2 -type l \
      \( -path '*.wants/*' -o -path '*.requires/*' \) 2>/dev/null | sort
  }
  before=$(enabled_links)

  # refuse every service start while apt runs; a policy the machine has is
  # set aside and put back
  POLICY=/usr/sbin/policy-rc.d
  SAVED=$POLICY.dbssl-saved
  restore_policy() {
    as_root rm -f "$POLICY"
    if [ -e "$SAVED" ]; then as_root mv "$SAVED" "$POLICY"; fi
  }
  if [ -e "$POLICY" ]; then as_root mv "$POLICY" "$SAVED"; fi
  trap restore_policy EXIT
  trap 'exit 130' INT TERM HUP
  printf '#!/bin/sh\n# written by dbssl scripts/install-deps.sh while it installs: no service starts\nexit 101\n' |
    as_root tee "$POLICY" >/dev/null
  as_root chmod 0755 "$POLICY"

  as_root apt-get update -qq
  # no "main" cluster: PostgreSQL's server package would create one (and start
  # it where it can).  postgresql-common owns the switch, so it goes first.
  if [[ " ${missing[*]} " == *" postgresql "* ]]; then
    installed postgresql-common || apt_install postgresql-common
    if [ "$(pg_conftool /etc/postgresql-common/createcluster.conf show -bs create_main_cluster 2>/dev/null)" != off ]; then
      as_root pg_conftool /etc/postgresql-common/createcluster.conf set create_main_cluster false
      say "set create_main_cluster = false in /etc/postgresql-common/createcluster.conf"
    fi
  fi
  apt_install "${missing[@]}"

  restore_policy
  trap - EXIT
  for link in $(comm -13 <(printf '%s\n' "$before") <(enabled_links)); do
    unit=$(basename "$link")
    # systemctl disable works without a running systemd; without systemctl at
    # all, removing the link is what it would do (and upgrades then keep it off)
    if command -v systemctl >/dev/null 2>&1; then
      as_root systemctl disable --quiet "$unit"
    else
      as_root rm -f "$link"
    fi
    say "disabled $unit, which installing its package enabled"
  done
fi

# Prometheus's promtool and prometheus, unpacked from Debian's package (never installed)
if $test; then
  "$(dirname "$0")/prometheus-tools.sh" >/dev/null
fi
