#!/usr/bin/env bash
# test_status_page.sh - the status page (GET / and /status) as a person sees
# it: `dbssl serve` against a real PostgreSQL 15 with TLS and client
# certificates, the page loaded in Debian's headless Chromium.  From the DOM
# Chromium built: the banner (healthy, then degraded by a client certificate
# inside the warning window, then unhealthy with the error and its hint once
# the server is gone), one timeline bar per certificate in use (CA, client,
# server).  From curl: the headers (HTML, a CSP that lets nothing load or
# run).  Screenshots 1280 and 390 px wide are kept in the build tree; with
# DBSSL_UPDATE_SCREENSHOT=1 they replace docs/status-page.png and
# docs/status-page-phone.png (the README shows them).
#
# Chromium runs without its sandbox (CI runs as root, where the sandbox
# cannot start), with a private profile made by mktemp, no proxy, and a
# resolver that maps every name to nothing except loopback addresses.
set -euo pipefail
. "${DBSSL_SRC:?source tree}/tests/lib.sh"
. "$DBSSL_SRC/tests/integration/pg.sh"
t_init

CHROMIUM=$(command -v chromium || true)
if [ -z "$CHROMIUM" ]; then
    t_fail "chromium is not installed: scripts/install-deps.sh installs it for the tests"
    t_done
fi

# ---- certificates: a CA for ten years, the server's for a year, two clients
C=$T/certs
cert_ca "$C" ca "dbssl status-page CA" 3650
cert_leaf "$C" server ca localhost 397 "DNS:localhost,IP:127.0.0.1" serverAuth
cert_leaf "$C" client ca dbssl_page 200 "" clientAuth
cert_leaf "$C" client_soon ca dbssl_page 10 "" clientAuth
# a CA whose name is markup (openssl shows it as CN=\<b\>R&D \"CA\" it's): the page
# must show it as text, never as an element
cert_ca "$C" odd "<b>R&D \"CA\" it's" 90
cat "$C/ca.crt" "$C/odd.crt" >"$C/bundle.crt"

PG_PORT_BASE=59432 pg_start_mtls "$C/server.crt" "$C/server.key" "$C/ca.crt" dbssl_page

HTTP_PORT=$(free_port 59632)
BASE="http://127.0.0.1:$HTTP_PORT"
SERVE_PID=
t_cleanup_add 'if [ -n "$SERVE_PID" ]; then kill "$SERVE_PID"; wait "$SERVE_PID"; fi'

# envfile NAME CLIENT [CA] : verify-full with CA (ca), mutual TLS with DIR/CLIENT.{crt,key}
envfile() {
    cat >"$T/$1.env" <<EOF
DATABASE_URL=postgresql://dbssl_page@127.0.0.1:$PG_PORT/postgres
DB_SSL_MODE=verify-full
DB_SSL_REQUIRED=true
DB_SSL_CA_CERT=$C/${3:-ca}.crt
DB_SSL_CLIENT_CERT=$C/$2.crt
DB_SSL_CLIENT_KEY=$C/$2.key
DB_SSL_EXPIRY_WARN_DAYS=30
DB_HEALTH_CHECK_INTERVAL=1
DB_CONNECT_TIMEOUT=2
EOF
    echo "$T/$1.env"
}

start_serve() { # envfile
    env -i PATH="$PATH" "$DBSSL" serve --env-file "$1" --listen "127.0.0.1:$HTTP_PORT" \
        2>>"$T/serve.log" &
    SERVE_PID=$!
    for _ in $(seq 1 100); do
        # the page of a finished check, not the one before the first
        if curl -s -o /dev/null "$BASE/status?refresh=1"; then return 0; fi
        sleep 0.1
    done
    t_fail "serve did not start: $(cat "$T/serve.log")"
    t_done
}
stop_serve() {
    kill -TERM "$SERVE_PID"
    wait "$SERVE_PID" || true
    SERVE_PID=
}

# chromium ARGS... : headless Chromium, private profile, loopback only
PROFILE_N=0
chromium_run() {
    local profile
    PROFILE_N=$((PROFILE_N + 1))
    profile=$(mktemp -d "$T/chromium-profile.XXXXXX")
    HOME=$profile XDG_CONFIG_HOME=$profile/config XDG_CACHE_HOME=$profile/cache \
        timeout 120 "$CHROMIUM" --headless --no-sandbox --disable-gpu --user-data-dir="$profile" \
        --no-first-run --no-default-browser-check --disable-extensions --disable-sync \
        --disable-background-networking --disable-component-update --disable-default-apps \
        --no-proxy-server --host-resolver-rules="MAP * ~NOTFOUND, EXCLUDE 127.0.0.1" \
        --hide-scrollbars "$@" 2>>"$T/chromium.log"
}

# page_facts URL : what Chromium's DOM of the page holds, as JSON: the banner's
# class and text, the timeline bars (role, class), the error and hint texts
page_facts() {
    chromium_run --dump-dom "$1" >"$T/dom.html" || {
        t_fail "chromium --dump-dom $1 failed: $(tail -5 "$T/chromium.log")"
        return 1
    }
    python3 - "$T/dom.html" <<'PY'
import json, sys
from html.parser import HTMLParser

class Facts(HTMLParser):
    def __init__(self):
        super().__init__()
        self.f = {"banner_class": None, "state": "", "bars": [], "error": "", "hint": "",
                  "title": "", "tls": {}, "subjects": [], "tags": []}
        self.stack = []
        self.dt = None
    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        cls = a.get("class", "") or ""
        if a.get("id") == "status":
            self.f["banner_class"] = cls
        if tag == "rect" and cls.split()[:1] == ["bar"]:
            self.f["bars"].append({"role": a.get("data-role"), "class": cls,
                                   "x": float(a.get("x", "0")),
                                   "end": float(a.get("x", "0")) + float(a.get("width", "0")),
                                   "width": float(a.get("width", "0"))})
        self.stack.append((tag, cls, a.get("id")))
        self.f["tags"].append(tag)
    def handle_endtag(self, tag):
        while self.stack:
            if self.stack.pop()[0] == tag:
                break
    def handle_data(self, data):
        if not self.stack:
            return
        tag, cls, _ = self.stack[-1]
        ids = [i for _, _, i in self.stack]
        if cls == "state":
            self.f["state"] += data
        if cls == "subject":
            self.f["subjects"].append(data)
        if tag == "title" and "track" not in [c for _, c, _ in self.stack]:
            self.f["title"] += data
        if "error" in ids and cls not in ("hint", "detail"):
            self.f["error"] += data
        if "error" in ids and cls == "hint":
            self.f["hint"] += data
        if "tls" in ids and tag == "dt":
            self.dt = data
        elif "tls" in ids and tag == "dd" and self.dt:
            self.f["tls"][self.dt] = data
            self.dt = None
    def handle_startendtag(self, tag, attrs):
        self.handle_starttag(tag, attrs)
        self.handle_endtag(tag)

p = Facts()
p.feed(open(sys.argv[1], encoding="utf-8").read())
print(json.dumps(p.f))
PY
}

# fcheck NAME FACTS PYEXPR : the expression over f (the facts) must hold
fcheck() {
    if python3 -c 'import json,sys; f=json.loads(sys.argv[1]); sys.exit(0 if eval(sys.argv[2]) else 1)' "$2" "$3"; then
        t_pass "$1"
    else
        t_fail "$1: $3 is false in $2"
    fi
}

# png_size FILE : "WIDTHxHEIGHT" from the PNG header
png_size() {
    python3 -c 'import struct,sys; d=open(sys.argv[1],"rb").read(24); assert d[:8]==b"\x89PNG\r\n\x1a\n"; print("%dx%d" % struct.unpack(">II", d[16:24]))' "$1"
}

# ---- healthy: TLS 1.3, verified, the client certificate sent
start_serve "$(envfile healthy client)"
hdr=$(curl -s -D - -o "$T/page.html" "$BASE/")
assert_contains "$hdr" "Content-Type: text/html; charset=utf-8" "the page is HTML"
assert_contains "$hdr" "Content-Security-Policy: default-src 'none'; style-src 'sha256-" "strict CSP"
# the policy names the page's own style sheet by its hash: a browser applies it, and nothing else
python3 - "$hdr" "$T/page.html" <<'PY' && t_pass "CSP hash is the page's style sheet" || t_fail "CSP hash does not match the <style> of the page"
import base64, hashlib, re, sys
csp = re.search(r"Content-Security-Policy: (.*)\r", sys.argv[1]).group(1)
style = re.search(r"<style>(.*?)</style>", open(sys.argv[2], encoding="utf-8").read(), re.S).group(1)
want = "'sha256-%s'" % base64.b64encode(hashlib.sha256(style.encode()).digest()).decode()
assert "style-src %s;" % want in csp and "unsafe-inline" not in csp and "script-src" not in csp, (csp, want)
PY
assert_contains "$hdr" "X-Content-Type-Options: nosniff"
assert_not_contains "$(cat "$T/page.html")" "<script" "no script in the page"
assert_eq "$(curl -s "$BASE/status" | wc -c)" "$(wc -c <"$T/page.html")" "/status is the same page"
# rendered once per snapshot: the same bytes until the next check
assert_eq "200" "$(curl -s -o /dev/null -w '%{http_code}' -I "$BASE/")" "HEAD /"

f=$(page_facts "$BASE/")
fcheck "healthy: banner says healthy" "$f" 'f["state"]=="healthy" and "healthy" in f["banner_class"].split()'
fcheck "healthy: one bar per certificate (ca, client, server)" "$f" \
    'sorted(b["role"] for b in f["bars"])==["ca","client","server"] and all(b["width"]>0 for b in f["bars"])'
fcheck "healthy: every bar valid" "$f" 'all("valid" in b["class"].split() for b in f["bars"])'
fcheck "healthy: TLS state shown" "$f" \
    'f["tls"].get("TLS","").startswith("TLSv1.") and f["tls"].get("Client certificate")=="sent" and f["tls"].get("SSL mode")=="verify-full" and f["tls"].get("Server")=="127.0.0.1:'"$PG_PORT"'"'
fcheck "healthy: the title says it too" "$f" 'f["title"].endswith("healthy")'
# to scale: the client's 200 days end before the server's 397, the CA's ten
# years run past the right edge of the chart (it looks ~13 months ahead)
bar() { echo "[b for b in f[\"bars\"] if b[\"role\"]==\"$1\"][0]"; }
fcheck "bars to scale" "$f" \
    "$(bar client)[\"end\"] < $(bar server)[\"end\"] < $(bar ca)[\"end\"] == 1000"

# shoot FILE WIDTH,HEIGHT : a screenshot of the page, kept as build/FILE
# (and as docs/FILE with DBSSL_UPDATE_SCREENSHOT=1)
shoot() {
    local png=$T/$1
    chromium_run --screenshot="$png" --window-size="$2" "$BASE/" >/dev/null ||
        t_fail "chromium --screenshot $1 failed: $(tail -5 "$T/chromium.log")"
    assert_eq "${2/,/x}" "$(png_size "$png" 2>/dev/null || echo none)" "screenshot $1 at $2"
    if [ -n "${DBSSL_BUILD:-}" ]; then cp "$png" "$DBSSL_BUILD/"; fi
    if [ -n "${DBSSL_UPDATE_SCREENSHOT:-}" ]; then cp "$png" "$DBSSL_SRC/docs/"; fi
}
shoot status-page-phone.png 390,1500
stop_serve

# ---- degraded: the client certificate ends inside DB_SSL_EXPIRY_WARN_DAYS
start_serve "$(envfile soon client_soon)"
f=$(page_facts "$BASE/status")
fcheck "expiring client: banner says degraded" "$f" 'f["state"]=="degraded" and "degraded" in f["banner_class"].split()'
fcheck "expiring client: its bar is marked expiring, the others valid" "$f" \
    '[b["class"] for b in f["bars"] if b["role"]=="client"]==["bar expiring"] and len(f["bars"])==3'
# 10 days of a chart looking 400 ahead: visible, not squeezed into a pixel by the CA's ten years
fcheck "expiring client: its bar can be seen" "$f" "$(bar client)[\"width\"] >= 15"
# the README's picture: every part of the page in use (a warning, the shaded window)
shoot status-page.png 1280,1100

stop_serve

# ---- unhealthy: the server is gone; the error and its hint on the page.  The
# CA bundle now holds a second CA named in markup.
pg_stop
start_serve "$(envfile down client bundle)"
f=$(page_facts "$BASE/")
fcheck "server down: banner says unhealthy" "$f" 'f["state"]=="unhealthy" and "unhealthy" in f["banner_class"].split()'
fcheck "server down: the error class and a hint" "$f" '"connection_refused" in f["error"] and f["hint"].startswith("Hint: ")'
fcheck "server down: both CAs of the bundle and the client still on the timeline" "$f" \
    'sorted(b["role"] for b in f["bars"])==["ca","ca","client"]'
# shellcheck disable=SC2016
fcheck "a CA named in markup is shown as text" "$f" \
    '"CN=\\<b\\>R&D \\\"CA\\\" it'"'"'s" in f["subjects"] and "b" not in f["tags"]'
stop_serve
t_done
