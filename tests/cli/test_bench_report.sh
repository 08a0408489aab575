#!/usr/bin/env bash
# test_bench_report.sh - what `make bench` writes from its samples
# (bench/report.py, bench/profile.py), without running a benchmark: the
# ratios and verdicts of issue 11's rows, the busy-machine note, and the
# rewrite of BENCHMARKS.md's marked block that keeps the prose around it.
. "${DBSSL_SRC:?}/tests/lib.sh"
t_init
REPORT=$DBSSL_SRC/bench/report.py

# samples: KEY ROUND VALUE; two rounds, dbssl twice nginx's req/s at -c64,
# 0.8 of it at -c1024; 9 MiB idle; one `lost`
cat >"$T/samples.tsv" <<'EOF'
http.c64.dbssl.rps	1	100000
http.c64.dbssl.rps	2	120000
http.c64.nginx_static.rps	1	50000
http.c64.nginx_static.rps	2	60000
http.c1024.dbssl.rps	1	40000
http.c1024.nginx_static.rps	1	50000
http.idle.dbssl.rss_kib	1	9216
http.idle.nginx.rss_kib	1	8000
check.long.lost	1	1
connect.dbssl.ms	1	10.0
connect.libpq.ms	1	10.0
EOF
meta() {
  printf 'command\tmake bench\nstarted\t2026-11-30T12:00:00Z\ncores\t2\nrounds\t2\n'
  printf 'load_start\t%s\nload_end\t%s\n' "$1" "$2"
}
meta "0.40 0.30 0.20" "0.90 0.50 0.30" >"$T/quiet.tsv"
meta "2.60 2.00 1.00" "3.10 2.00 1.00" >"$T/busy.tsv"
# the benchmark's own load during the run, on a machine quiet at its start
meta "0.40 0.30 0.20" "3.10 2.00 1.00" >"$T/own.tsv"
# a document with hand-written prose around the block, and an old block
BEGIN=$(sed -n 's/^BEGIN = "\(.*\)"$/\1/p' "$REPORT")
cat >"$T/doc.md" <<EOF
# Benchmarks
prose before
$BEGIN
an old table
<!-- bench:end -->
prose after
EOF

run_cmd python3 "$REPORT" "$T/samples.tsv" "$T/quiet.tsv" "$T/out" "$T/doc.md"
assert_rc 0 "report.py"
out=$OUT
assert_match "$out" '^\| /health/database/ssl req/s, wrk -c64, vs nginx static.* \| 2\.00 \(2\.00–2\.00\) \| ≥ 1\.2 \| yes \|$' \
  "the -c64 row: the median of the per-round ratios, met"
assert_match "$out" '^\| /health/database/ssl req/s, wrk -c1024, .* \| 0\.80 .* \| \*\*no\*\* \|$' \
  "the -c1024 row: missed, and said so"
assert_match "$out" '^bench: rss_idle +MISSES its target \(9,216 KiB\)$' "an absolute target: 9 MiB idle misses 8 MiB"
assert_match "$out" '^bench: lost +MISSES its target \(1 events\)$' "one lost check misses 0"
assert_match "$out" '^bench: connect_libpq +meets its target \(ratio 1\.00\)$' "a ratio target met"
assert_contains "$out" "Targets met: 2 of 5." "the count of targets met"
assert_contains "$out" "Load average (1, 5, 15 min) before: 0.40 0.30 0.20; after: 0.90 0.50 0.30" "the load before and after"
assert_not_contains "$out" "busy" "no busy note on a quiet machine"
# the issue's rows come first, in its order, before the breakdowns
first=$(grep -n 'wrk -c64, vs nginx static' "$T/out/latest.md" | cut -d: -f1)
lost=$(grep -n '`lost` reports' "$T/out/latest.md" | cut -d: -f1)
[ -n "$first" ] && [ -n "$lost" ] && [ "$first" -lt "$lost" ] && t_pass "the issue's table in its order" ||
  t_fail "the issue's rows are out of order ($first, $lost)"
python3 -c 'import json, sys; d = json.load(open(sys.argv[1])); assert d["meta"]["cores"] == "2"; assert [r for r in d["rows"] if r["id"] == "http_c64_static"][0]["met"] is True' \
  "$T/out/latest.json" && t_pass "latest.json has the rows and the machine" || t_fail "latest.json"

# the document: the block replaced by this run, the prose kept
doc=$(cat "$T/doc.md")
assert_contains "$doc" "prose before" "the prose before the block"
assert_contains "$doc" "prose after" "the prose after the block"
assert_not_contains "$doc" "an old table" "the old block"
assert_contains "$doc" "Command: \`make bench\`; started 2026-11-30T12:00:00Z" "the command and the date in the block"
assert_contains "$doc" "Machine: \`nproc\` 2" "nproc in the block"
# a second run rewrites the same block, never nests or appends
python3 "$REPORT" "$T/samples.tsv" "$T/busy.tsv" "$T/out" "$T/doc.md" >/dev/null 2>&1
assert_eq 1 "$(grep -c 'bench:begin' "$T/doc.md")" "one block after two runs"
assert_eq 1 "$(grep -c '^prose after$' "$T/doc.md")" "the prose once after two runs"
doc=$(cat "$T/doc.md")
assert_contains "$doc" "**The machine was busy during this run**: the 1-minute load average was above 1.5 at 2 of 2 readings (at most 3.10, at end) on 2 cores, already 2.60 when it started" \
  "a load above 1.5 at the start is said next to the numbers"
python3 "$REPORT" "$T/samples.tsv" "$T/own.tsv" "$T/out" "$T/doc.md" >/dev/null 2>&1
doc=$(cat "$T/doc.md")
assert_not_contains "$doc" "busy" "the benchmark's own load is not called busy"
assert_contains "$doc" "The machine was quiet when the run started (1-minute load average 0.40 on 2 cores); the load average during the run (at most 3.10, at end) is the benchmark's own" \
  "a quiet start says where the load during the run came from"

# a document without the markers is left alone and the run says why
printf '# no markers\n' >"$T/plain.md"
out=$(python3 "$REPORT" "$T/samples.tsv" "$T/quiet.tsv" "$T/out" "$T/plain.md" 2>&1)
assert_eq "# no markers" "$(cat "$T/plain.md")" "a document without markers is unchanged"
assert_contains "$out" "not updated: it has no block between" "the run says the document was not updated"

# profile.py: CPU by object and system calls per answer from perf's and strace's own output
cat >"$T/dso.txt" <<'EOF'
# Overhead  Shared Object
# ........  .............
#
    70.15%  [kernel.kallsyms]       
    15.22%  libc.so.6               
    10.19%  libmicrohttpd.so.12.60.0
EOF
cat >"$T/sym.txt" <<'EOF'
     8.12%  [kernel.kallsyms]         [k] _raw_spin_unlock_irqrestore
     4.32%  libc.so.6                 [.] __GI___pthread_enable_asynccancel
EOF
cat >"$T/strace.txt" <<'EOF'
% time     seconds  usecs/call     calls    errors syscall
------ ----------- ----------- --------- --------- ----------------
 18.30    0.489898          10     1000           sendmsg
 10.51    0.281244           5     1000           recvfrom
  1.04    0.027947          48       10           epoll_wait
------ ----------- ----------- --------- --------- ----------------
100.00    2.676404          27      2010         0 total
EOF
out=$(python3 "$DBSSL_SRC/bench/profile.py" dbssl "$T/dso.txt" "$T/sym.txt" "$T/strace.txt" 1000)
assert_line "$out" "- CPU by object: kernel 70.2 %, libc 15.2 %, libmicrohttpd 10.2 %" "CPU by object"
assert_contains "$out" '`__GI___pthread_enable_asynccancel` (libc) 4.3 %' "the top user-space symbol"
assert_contains "$out" "system calls per answer (strace -c over 1000 requests): 2.01: recvfrom 1.00, sendmsg 1.00, epoll_wait 0.01" \
  "system calls per answer"
t_done
