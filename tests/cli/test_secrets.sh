#!/usr/bin/env bash
# test_secrets.sh - the password never leaves.  Every DATABASE_URL form of the
# corpus (tests/data/url_forms/forms.tsv) goes through every command and
# endpoint that can show it: validate, config and status (text and JSON),
# certs generate, dev-db start, serve's log and its /health/database/ssl,
# /health/database, /health and /metrics -- at start and after a reload -- and
# so does the passphrase of an encrypted client key (in its file, in the
# URL's sslpassword, right and wrong, also through `dbssl env`); each output
# is searched for the password marker in clear, %-encoded (either
# case of hex) and for every 8-character piece of it.  No PostgreSQL needed:
# the forms point at 127.0.0.1 port 1, where nothing listens.
. "${DBSSL_SRC:?}/tests/lib.sh"
t_init
cd "$T"
unset DATABASE_URL DB_SSL_MODE DB_SSL_REQUIRED APP_ENV LOG_FORMAT

PW='Sup3rS3cretPw7x'
PWPCT=
for ((i = 0; i < ${#PW}; i++)); do PWPCT+=$(printf '%%%02X' "'${PW:i:1}"); done
NEEDLES=(-e "$PW" -e "$PWPCT")
for ((i = 0; i + 8 <= ${#PW}; i++)); do NEEDLES+=(-e "${PW:i:8}"); done

# no_secret WHAT TEXT : TEXT holds no spelling of the password (case-insensitive:
# %-encoding has two cases of hex, and nothing should upper-case it either)
no_secret() {
    if grep -qiF "${NEEDLES[@]}" <<<"$2"; then
        t_fail "$1: the password appears in:"$'\n'"$2"
    else
        t_pass
    fi
}

# the forms, with the marker put in
NAMES=() KINDS=() URLS=()
while IFS=$'\t' read -r name kind url; do
    case "$name" in '#'* | '') continue ;; esac
    url=${url//\{PWPCT\}/$PWPCT}
    NAMES+=("$name") KINDS+=("$kind") URLS+=("${url//\{PW\}/$PW}")
done <"$DBSSL_SRC/tests/data/url_forms/forms.tsv"
[ "${#URLS[@]}" -ge 50 ] && t_pass "${#URLS[@]} forms" || t_fail "only ${#URLS[@]} forms read"

# dbssl_env URL CMD... : dbssl with only PATH and the URL from our environment
dbssl_env() {
    local url=$1
    shift
    env -i PATH="$PATH" DATABASE_URL="$url" "$@"
}

# a development certificate set for dev-db (it checks its TLS files first)
env -i PATH="$PATH" DATABASE_URL=postgresql://app@127.0.0.1:1/app \
    "$DBSSL" certs generate --dir "$T/devcerts" >/dev/null 2>&1 || t_fail "certs generate for dev-db"

# ---- the commands, form by form
for idx in "${!URLS[@]}"; do
    name=${NAMES[$idx]} kind=${KINDS[$idx]} url=${URLS[$idx]}

    # the corpus says which forms are rejected: config must agree
    run_split dbssl_env "$url" "$DBSSL" config
    shown=$(awk '$1 == "DATABASE_URL" { $1 = ""; print }' <<<"$OUT")
    case "$kind:$shown" in
    rejected:*"(not shown: invalid"*) t_pass ;;
    accepted:*"***"*) t_pass ;;
    *) t_fail "$name: expected $kind, config shows DATABASE_URL as:$shown" ;;
    esac
    no_secret "$name: config" "$OUT$ERR"

    for cmd in "validate" "validate --json" "config --json" "status" "status --json"; do
        run_split dbssl_env "$url" "$DBSSL" $cmd
        no_secret "$name: $cmd" "$OUT$ERR"
    done
    if [ "$kind" = rejected ]; then
        run_split dbssl_env "$url" "$DBSSL" validate
        assert_rc 2 "$name: validate"
        assert_line "$OUT" 'error: DATABASE_URL: invalid DATABASE_URL' "$name: validate"
        assert_match "$OUT" '^  detail: .* \([0-9]+ bytes, not shown: it may hold a password\)$' "$name: validate's detail"
    fi
    # with other errors that quote the URL's own settings
    run_split dbssl_env "$url" DB_SSL_MODE=verify-full DB_SSL_REQUIRED=perhaps "$DBSSL" validate --json
    no_secret "$name: validate with other errors" "$OUT$ERR"

    run_split dbssl_env "$url" "$DBSSL" certs generate --client --dir "$T/certs-$idx"
    no_secret "$name: certs generate" "$OUT$ERR"

    if [ "$kind" = rejected ]; then
        run_split dbssl_env "$url" DB_SSL_AUTO_GENERATE=true DB_SSL_AUTO_CERT_DIR="$T/devcerts" \
            "$DBSSL" dev-db start --dir "$T/devdb"
        assert_rc 2 "$name: dev-db start"
        assert_contains "$ERR" "DATABASE_URL is invalid" "$name: dev-db start"
        no_secret "$name: dev-db start" "$OUT$ERR"
        if [ "$RC" = 0 ]; then dbssl_env "$url" "$DBSSL" dev-db stop --dir "$T/devdb" >/dev/null 2>&1; fi
    fi
done

# ---- serve, started with each form: its log, and its endpoints when it runs
HTTP_PORT=$(free_port 58340)
BASE=http://127.0.0.1:$HTTP_PORT
ENDPOINTS=("/health/database/ssl?refresh=1" "/health/database" "/health" "/metrics")

# wait_http SECONDS : until serve answers on $BASE (false when it did not)
wait_http() {
    local n=$(($1 * 20))
    while [ "$n" -gt 0 ]; do
        curl -s -o /dev/null "$BASE/health" && return 0
        sleep 0.05
        n=$((n - 1))
    done
    return 1
}

# fetch_all : every endpoint's body, one after the other
fetch_all() {
    local ep
    for ep in "${ENDPOINTS[@]}"; do curl -s --max-time 10 "$BASE$ep"; echo; done
}

for idx in "${!URLS[@]}"; do
    name=${NAMES[$idx]} kind=${KINDS[$idx]} url=${URLS[$idx]}
    # env itself in the background (not a function: $! must be serve's pid)
    env -i PATH="$PATH" DATABASE_URL="$url" LOG_FORMAT=$([ $((idx % 2)) = 0 ] && echo json || echo text) \
        "$DBSSL" serve --listen "127.0.0.1:$HTTP_PORT" >"$T/serve.out" 2>&1 &
    pid=$!
    t_cleanup_add "kill $pid"
    bodies=
    if [ "$kind" = accepted ]; then
        if wait_http 10 && kill -0 "$pid"; then
            bodies=$(fetch_all)
            assert_contains "$bodies" '"connection_refused"' "$name: serve's check"
        else
            t_fail "$name: serve did not answer"
        fi
        kill -TERM "$pid" 2>/dev/null
    fi
    wait "$pid"
    rc=$?
    if [ "$kind" = rejected ]; then assert_eq 2 "$rc" "$name: serve exit status"; fi
    no_secret "$name: serve" "$bodies$(cat "$T/serve.out")"
done

# ---- the passphrase of an encrypted client key: the marker itself, from a
# file (DB_SSL_CLIENT_KEY_PASSWORD_FILE) or the URL's sslpassword, right or wrong
K=$T/keyset
make_test_certs "$K" app || t_fail "test certificates"
openssl pkey -in "$K/client.key" -aes256 -passout "pass:$PW" -out "$K/client.enc" && chmod 0600 "$K/client.enc" ||
    t_fail "encrypting the key"
printf '%s\n' "$PW" >"$K/pass" && printf 'x%s\n' "$PW" >"$K/wrong" && chmod 0600 "$K/pass" "$K/wrong"
keyenv() {
    printf 'DATABASE_URL=%s\nDB_SSL_MODE=verify-full\nDB_SSL_CA_CERT=%s\nDB_SSL_CLIENT_CERT=%s\n' \
        "$1" "$K/ca.crt" "$K/client.crt"
    printf 'DB_SSL_CLIENT_KEY=%s\n%s\n' "$K/client.enc" "$2"
}
keyenv postgresql://app@127.0.0.1:1/app "DB_SSL_CLIENT_KEY_PASSWORD_FILE=$K/pass" >"$T/kp-file.env"
keyenv postgresql://app@127.0.0.1:1/app "DB_SSL_CLIENT_KEY_PASSWORD_FILE=$K/wrong" >"$T/kp-wrong.env"
keyenv "postgresql://app@127.0.0.1:1/app?sslpassword=$PWPCT" "" >"$T/kp-url.env"
keyenv "postgresql://app@127.0.0.1:1/app?sslpassword=x$PW" "" >"$T/kp-urlwrong.env"
for f in kp-file kp-wrong kp-url kp-urlwrong; do
    for cmd in "validate" "validate --json" "config" "config --json" "status" "status --json" \
        "env" "env --format json" "env --format dotenv"; do
        run_split env -i PATH="$PATH" "$DBSSL" $cmd --env-file "$T/$f.env"
        no_secret "key passphrase ($f): $cmd" "$OUT$ERR"
    done
done
run_split env -i PATH="$PATH" "$DBSSL" validate --env-file "$T/kp-wrong.env"
assert_rc 2 "a wrong passphrase"
assert_contains "$OUT" "could not decrypt private key file \"$K/client.enc\"" "the wrong passphrase is named by its file"
env -i PATH="$PATH" "$DBSSL" serve --env-file "$T/kp-file.env" --listen "127.0.0.1:$HTTP_PORT" \
    >"$T/kp-serve.out" 2>&1 &
pid=$!
t_cleanup_add "kill $pid"
bodies=
if wait_http 10 && kill -0 "$pid"; then bodies=$(fetch_all); else t_fail "serve with an encrypted key"; fi
kill -TERM "$pid" 2>/dev/null
wait "$pid"
no_secret "key passphrase: serve" "$bodies$(cat "$T/kp-serve.out")"

# ---- serve running with a good URL, then .env rewritten with each form: the
# reload's verdict (last_reload_error, the log) and the endpoints after it
good=postgresql://app@127.0.0.1:1/app
printf 'DATABASE_URL=%s\n' "$good" >"$T/reload.env"
env -i PATH="$PATH" "$DBSSL" serve --env-file "$T/reload.env" --listen "127.0.0.1:$HTTP_PORT" \
    >"$T/reload.out" 2>&1 &
pid=$!
t_cleanup_add "kill $pid"
wait_http 10 && kill -0 "$pid" || t_fail "serve for the reload pass did not start: $(cat "$T/reload.out")"

# reloads : the number of reloads done so far (success + failure)
reloads() {
    curl -s "$BASE/metrics" | awk '/^dbssl_config_reloads_total\{/ { n += $2 } END { print n + 0 }'
}

for idx in "${!URLS[@]}"; do
    name=${NAMES[$idx]} kind=${KINDS[$idx]} url=${URLS[$idx]}
    before=$(reloads)
    # one rename: the whole file at once, as an editor saves it; double quotes
    # keep every form as it is (\\ and \" are the escapes inside them)
    v=${url//\\/\\\\}
    printf 'DATABASE_URL="%s"\n' "${v//\"/\\\"}" >"$T/reload.env.new"
    mv "$T/reload.env.new" "$T/reload.env"
    kill -HUP "$pid"
    n=100
    while [ "$(reloads)" -le "$before" ] && [ "$n" -gt 0 ]; do sleep 0.05; n=$((n - 1)); done
    [ "$n" -gt 0 ] || t_fail "$name: no reload after the .env changed"
    bodies=$(fetch_all)
    if [ "$kind" = rejected ]; then
        assert_contains "$bodies" 'invalid DATABASE_URL' "$name: last_reload_error"
    fi
    no_secret "$name: serve after a reload" "$bodies"
done
kill -TERM "$pid"
wait "$pid"
no_secret "serve's log over every reload" "$(cat "$T/reload.out")"
t_done
