#!/usr/bin/env bash
# test_layers.sh - the layers of src/ stay one-way: scripts/check-layers.sh
# passes on this tree, and fails, naming the file and the line, on scratch
# copies where a lower part includes a higher one, where a part includes a
# CLI header, where a file sits loose in src/ and where a folder is not a part.
. "${DBSSL_SRC:?}/tests/lib.sh"
t_init
CHECK=$DBSSL_SRC/scripts/check-layers.sh

run_split bash "$CHECK" "$DBSSL_SRC"
assert_rc 0 "check-layers on the tree"
assert_match "$OUT" "^check-layers: [0-9]+ includes between parts, all one-way \(base x509 config " "its summary"
assert_match "$OUT" "; [0-9]+ vendor includes, each in its module$" "the vendor headers' summary"

# a scratch copy of what the check reads
scratch() {
  rm -rf "$T/tree"
  mkdir -p "$T/tree"
  cp -r "$DBSSL_SRC/src" "$DBSSL_SRC/CMakeLists.txt" "$T/tree/"
}

# the logger (base, the lowest part) reaching up to the checker (service)
scratch
line=$(($(grep -n '^#include "' "$T/tree/src/base/log.c" | tail -1 | cut -d: -f1) + 1))
sed -i "${line}i #include \"checker.h\"" "$T/tree/src/base/log.c"
run_split bash "$CHECK" "$T/tree"
assert_rc 1 "an upward include"
assert_contains "$ERR" "src/base/log.c:$line: part \"base\" includes \"checker.h\" of part \"service\", which is above it" \
  "the file, the line and both parts"

# validation (config) using the certificate generation (certs): the arrow issue 10 removed
scratch
printf '#include "certs.h"\n' >>"$T/tree/src/config/validate.c"
run_split bash "$CHECK" "$T/tree"
assert_rc 1 "config including certs"
assert_match "$ERR" "src/config/validate.c:[0-9]+: part \"config\" includes \"certs.h\" of part \"certs\"" "named"

# a path form ("scan/scan.h") from below the scanner
scratch
printf '#include "scan/scan.h"\n' >>"$T/tree/src/conn/conn.c"
run_split bash "$CHECK" "$T/tree"
assert_rc 1 "conn including scan/scan.h"
assert_contains "$ERR" "part \"conn\" includes \"scan/scan.h\" of part \"scan\"" "path includes resolved"

# a CLI header from the service
scratch
printf '#include "cli.h"\n' >>"$T/tree/src/service/http.c"
run_split bash "$CHECK" "$T/tree"
assert_rc 1 "a CLI header outside cli/"
assert_contains "$ERR" "part \"service\" includes \"cli.h\" of part \"cli\"" "cli is the top"

# includes of the same part, below, the public API and the system are fine
scratch
printf '#include "util.h"\n#include "dbssl/error.h"\n#include <stdio.h>\n' >>"$T/tree/src/service/http.c"
run_split bash "$CHECK" "$T/tree"
assert_rc 0 "downward, public and system includes"

# vendor headers outside their modules: libpq in health, OpenSSL in the
# service, libmicrohttpd in the checker
scratch
printf '#include <libpq-fe.h>\n' >>"$T/tree/src/health/health.c"
printf '#include <openssl/x509.h>\n' >>"$T/tree/src/service/checker.c"
printf '#include <microhttpd.h>\n' >>"$T/tree/src/service/checker.c"
run_split bash "$CHECK" "$T/tree"
assert_rc 1 "vendor headers outside their modules"
assert_match "$ERR" "src/health/health.c:[0-9]+: includes <libpq-fe.h\.\.\.>, a vendor header allowed only in: conn/ " "libpq in health"
assert_match "$ERR" "src/service/checker.c:[0-9]+: includes <openssl/\.\.\.>" "OpenSSL in the service"
assert_match "$ERR" "src/service/checker.c:[0-9]+: includes <microhttpd.h\.\.\.>, a vendor header allowed only in: service/http\*" "libmicrohttpd outside http"
# and where they belong they are fine
scratch
printf '#include <openssl/evp.h>\n' >>"$T/tree/src/x509/certinfo.c"
printf '#include <microhttpd.h>\n' >>"$T/tree/src/service/http_route.c"
run_split bash "$CHECK" "$T/tree"
assert_rc 0 "vendor headers in their modules"

# a loose file in src/ and a folder that is not a part
scratch
touch "$T/tree/src/stray.c"
mkdir "$T/tree/src/misc"
run_split bash "$CHECK" "$T/tree"
assert_rc 1 "a loose file and an unknown folder"
assert_contains "$ERR" "src/stray.c: a file outside the parts" "the loose file"
assert_contains "$ERR" "src/misc/: a folder that is not a part" "the unknown folder"

t_done
