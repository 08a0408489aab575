#!/usr/bin/env bash
# The ABI of libdbssl.so as an application's linker sees it (like jansson's
# check-exports): the exported symbols are exactly the functions declared in
# include/dbssl/*.h, all in version node DBSSL_1, under soname libdbssl.so.1;
# no internal function (dbssl_conn_classify, dbssl_certlist_load, ...) leaks.
. "${DBSSL_SRC:?}/tests/lib.sh"
t_init
: "${DBSSL_BUILD:?build tree}"
LIB=$DBSSL_BUILD/libdbssl.so

if [ -e "$LIB" ]; then t_pass "libdbssl.so built"; else t_fail "$LIB missing"; t_done; fi
assert_eq "libdbssl.so.1" "$(objdump -p "$LIB" | awk '$1 == "SONAME" {print $2}')" "soname"

# declared: every dbssl_ function of the public headers, read by the compiler (comments gone)
for h in "$DBSSL_SRC"/include/dbssl/*.h; do
    # shellcheck disable=SC2046
    cc -E -P -I "$DBSSL_SRC/include" $(pkg-config --cflags libpq) "$h" ||
        t_fail "$(basename "$h") does not preprocess"
done | grep -oE '\bdbssl_[a-z0-9_]+[[:space:]]*\(' | tr -d '( \t' | sort -u >"$T/declared"
# exported: the dynamic symbol table
nm -D --defined-only "$LIB" | awk '{print $3}' | sort -u >"$T/exported"

n=$(wc -l <"$T/declared")
if [ "$n" -ge 40 ]; then t_pass "$n public functions declared"; else t_fail "only $n declared: $(cat "$T/declared")"; fi
assert_eq "" "$(grep -v '@@DBSSL_1$' "$T/exported" | grep -vx 'DBSSL_1')" "symbols outside version node DBSSL_1"
sed 's/@@DBSSL_1$//' "$T/exported" | grep -vx 'DBSSL_1' | sort -u >"$T/exported_names"
assert_eq "" "$(comm -23 "$T/declared" "$T/exported_names")" "declared in include/dbssl but not exported"
assert_eq "" "$(comm -13 "$T/declared" "$T/exported_names")" "exported but not declared in include/dbssl"
# the check itself can fail: an internal function is in the library, just not exported
if nm "$LIB" | grep -q ' t dbssl_conn_classify$'; then t_pass "internal functions stay local"; else
    t_fail "dbssl_conn_classify is not a local symbol of $LIB"
fi
# every public type with fields is gone: applications see only opaque handles
for ty in dbssl_error dbssl_tls_state dbssl_finding dbssl_findings dbssl_config; do
    if grep -qE "struct $ty[[:space:]]*\{" "$DBSSL_SRC"/include/dbssl/*.h; then
        t_fail "include/dbssl defines the fields of struct $ty"
    else t_pass; fi
done
t_done
