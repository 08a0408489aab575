#!/usr/bin/env bash
# check-layers.sh - keeps the library's layers one-way.
#
# The parts of src/ and their order (lowest first) are DBSSL_PARTS in
# CMakeLists.txt, with cli/ (the program) above them all.  A file may include
# the headers of its own part and of the parts below it; an include that
# reaches up (or into cli/ from outside it) is reported as FILE:LINE with the
# two parts, and the check fails.  Includes are resolved as the compiler
# resolves them: the including file's own folder first, then a "part/name.h"
# path, then the part folders in their order; system headers, the public
# include/dbssl/ and generated files are not parts and are not checked.
#
# It also keeps the vendor headers (OpenSSL, libpq, libmicrohttpd) in the
# modules the guide gives them (the table near the end).
#
# Usage: scripts/check-layers.sh [ROOT]   (ROOT: the source tree, default: this one)
set -euo pipefail

root=${1:-$(cd "$(dirname "$0")/.." && pwd)}
cmakelists=$root/CMakeLists.txt

if [[ ! -f $cmakelists ]]; then
    echo "check-layers: no CMakeLists.txt in \"$root\"" >&2
    exit 2
fi
# the one list of parts, read where the build reads it
parts_line=$(sed -n 's/^set(DBSSL_PARTS \(.*\))$/\1/p' "$cmakelists")
if [[ -z $parts_line ]]; then
    echo "check-layers: no set(DBSSL_PARTS ...) line in \"$cmakelists\"" >&2
    exit 2
fi
read -r -a parts <<<"$parts_line"
parts+=(cli)

declare -A rank=()
for i in "${!parts[@]}"; do
    rank[${parts[$i]}]=$i
done

# every folder of src/ is a part: a new folder must be given its place
status=0
for dir in "$root"/src/*/; do
    name=$(basename "$dir")
    if [[ -z ${rank[$name]+x} ]]; then
        echo "src/$name/: a folder that is not a part: add it to DBSSL_PARTS in CMakeLists.txt, in its place" >&2
        status=1
    fi
done
for f in "$root"/src/*; do
    if [[ -f $f ]]; then
        echo "src/$(basename "$f"): a file outside the parts: move it into the folder of its part" >&2
        status=1
    fi
done

# where each header is: the first part (in order) that has it, as the
# compiler's include path finds it
declare -A home=()
for p in "${parts[@]}"; do
    [[ -d $root/src/$p ]] || continue
    for h in "$root/src/$p"/*.h; do
        [[ -f $h ]] || continue
        name=${h##*/}
        [[ -n ${home[$name]+x} ]] || home[$name]=$p
    done
done

# resolve NAME FROM_PART FROM_DIR: sets $target to the part the include
# "NAME" written in FROM_DIR resolves to ("" when it is not a part's)
resolve() {
    local name=$1 from_part=$2 from_dir=$3 p
    target=
    if [[ -f $from_dir/$name ]]; then
        target=$from_part
    elif [[ $name == */* ]]; then
        p=${name%%/*}
        if [[ -n ${rank[$p]+x} && -f $root/src/$name ]]; then
            target=$p
        fi
    elif [[ -n ${home[$name]+x} ]]; then
        target=${home[$name]}
    fi
}

checked=0
for p in "${parts[@]}"; do
    [[ -d $root/src/$p ]] || continue
    # FILE:LINE:#include "NAME" for every quoted include of the part's files
    while IFS= read -r hit; do
        file=${hit%%:*}
        rest=${hit#*:}
        lineno=${rest%%:*}
        [[ $rest =~ \"([^\"]+)\" ]] || continue
        inc=${BASH_REMATCH[1]}
        resolve "$inc" "$p" "${file%/*}"
        [[ -n $target ]] || continue
        checked=$((checked + 1))
        if ((rank[$target] > rank[$p])); then
            echo "${file#"$root"/}:$lineno: part \"$p\" includes \"$inc\" of part \"$target\", which is above it (order: ${parts[*]})" >&2
            status=1
        fi
    done < <(grep -rn --include='*.c' --include='*.h' -E '^[[:space:]]*#[[:space:]]*include[[:space:]]*"' "$root/src/$p" | sort -t: -k1,1 -k2,2n)
done

# Vendor headers stay in their modules (the guide: OpenSSL in the
# certificate modules, libpq in conn and the connect API, libmicrohttpd in
# http).  Each header with the paths under src/ that may include it (a
# "folder/", a "prefix*" or one file); anywhere else is reported.
#  - OpenSSL: x509/ and certs/, the scanner's own handshakes (scan/), and
#    conn.c and conn_failure.c, which read the peer certificate from libpq's
#    SSL object
#  - libpq: conn/; config/dburl.c and config/libpqcaps.c (the URL read by
#    libpq's own parser, the linked libpq's parameters); probe_run.c and
#    evidence.c close the PGconn the connect API gave them
declare -A vendor_allowed=(
    [openssl/]="x509/ certs/ scan/ conn/conn.c conn/conn_failure.c"
    [libpq-fe.h]="conn/ config/dburl.c config/libpqcaps.c probe/probe_run.c audit/evidence.c"
    [microhttpd.h]="service/http*"
)
vendor=0
for header in "${!vendor_allowed[@]}"; do
    read -r -a allowed <<<"${vendor_allowed[$header]}"
    while IFS= read -r hit; do
        file=${hit%%:*}
        rest=${hit#*:}
        lineno=${rest%%:*}
        rel=${file#"$root"/src/}
        ok=
        for a in "${allowed[@]}"; do
            # "folder/" and "prefix*" match what starts so, anything else one file
            if [[ $a == */ && $rel == "$a"* ]] || [[ $a == *\* && $rel == "${a%\*}"* ]] ||
                [[ $rel == "$a" ]]; then
                ok=1
            fi
        done
        vendor=$((vendor + 1))
        if [[ -z $ok ]]; then
            echo "src/$rel:$lineno: includes <$header...>, a vendor header allowed only in: ${vendor_allowed[$header]}" >&2
            status=1
        fi
    done < <(grep -rn --include='*.c' --include='*.h' -E "^[[:space:]]*#[[:space:]]*include[[:space:]]*<${header//./\.}" "$root/src" | sort -t: -k1,1 -k2,2n)
done

if ((status == 0)); then
    echo "check-layers: $checked includes between parts, all one-way (${parts[*]}); $vendor vendor includes, each in its module"
fi
exit $status
