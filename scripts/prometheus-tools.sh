#!/usr/bin/env bash
# prometheus-tools.sh - Prometheus's `promtool` and `prometheus` programs for
# the tests, taken out of Debian's package instead of installing it.
#
# Installing the `prometheus` package would add a system user, /var/lib/
# prometheus, a dozen JavaScript packages for its web UI, and enable
# prometheus.service (started at every boot on a machine with systemd); the
# tests only run the two programs.  So this script fetches Debian's own .deb
# with `apt-get download` (checked by apt against the archive's signed
# release files, as an install would be), unpacks it with `dpkg-deb -x` into a
# cache and keeps the two programs (Go binaries that need only libc).  No
# root needed once apt's package lists exist; nothing outside the cache is
# written; `rm -rf` of the cache undoes it.
#
# Idempotent: when the cache holds working programs, it only prints their
# paths (no network).  Used by `scripts/install-deps.sh --test` (so that the
# download happens with the other test packages) and by the tests.
#
# Usage: prometheus-tools.sh [promtool|prometheus]
#   without an argument prints "promtool PATH" and "prometheus PATH";
#   with a name prints that program's path alone.
# Cache: $DBSSL_TOOLS_CACHE/prometheus (default ~/.cache/dbssl/prometheus,
# or $XDG_CACHE_HOME/dbssl/prometheus).
set -euo pipefail

want=${1:-}
case "$want" in
  "" | promtool | prometheus) ;;
  *) echo "usage: $0 [promtool|prometheus]" >&2; exit 2 ;;
esac

home=${HOME:-$(getent passwd "$(id -u)" | cut -d: -f6)}
CACHE=${DBSSL_TOOLS_CACHE:-${XDG_CACHE_HOME:-$home/.cache}/dbssl}
DIR=$CACHE/prometheus

works() { [ -x "$DIR/bin/promtool" ] && [ -x "$DIR/bin/prometheus" ] &&
  "$DIR/bin/promtool" --version >/dev/null 2>&1 && "$DIR/bin/prometheus" --version >/dev/null 2>&1; }

print() {
  case "$want" in
    "") printf 'promtool %s\nprometheus %s\n' "$DIR/bin/promtool" "$DIR/bin/prometheus" ;;
    *) printf '%s\n' "$DIR/bin/$want" ;;
  esac
}

if works; then print; exit 0; fi

mkdir -p "$CACHE"
# one download at a time (tests may start in parallel); the others then find it done
exec 9>"$CACHE/.prometheus.lock"
flock 9
if works; then print; exit 0; fi

say() { printf 'prometheus-tools: %s\n' "$*" >&2; }
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO=$(command -v sudo || true)

# apt needs its package lists (a fresh machine has none until apt-get update)
if ! apt-cache show prometheus >/dev/null 2>&1; then
  if [ "$(id -u)" -eq 0 ] || [ -n "$SUDO" ]; then
    $SUDO apt-get update -qq
  else
    say "apt knows no package \"prometheus\": run 'apt-get update' as root, then try again"
    exit 1
  fi
fi

WORK=$(mktemp -d "$CACHE/.prometheus.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
# as root apt would fetch as the _apt user, which cannot write a private directory
sandbox=()
[ "$(id -u)" -ne 0 ] || sandbox=(-o APT::Sandbox::User=root)
(cd "$WORK" && apt-get download -qq "${sandbox[@]}" prometheus) || {
  say "could not download Debian's prometheus package (apt-get download prometheus)"
  exit 1
}
deb=$(ls "$WORK"/prometheus_*.deb)
dpkg-deb -x "$deb" "$WORK/root"
mkdir -p "$WORK/new/bin"
mv "$WORK/root/usr/bin/promtool" "$WORK/root/usr/bin/prometheus" "$WORK/new/bin/"
dpkg-deb -f "$deb" Version >"$WORK/new/VERSION"
rm -rf "$DIR"
mv "$WORK/new" "$DIR"
works || { say "the programs unpacked to $DIR do not run"; exit 1; }
say "Prometheus $(cat "$DIR/VERSION") unpacked to $DIR (the package is not installed)"
print
