#!/usr/bin/env python3
"""report.py - turns bench/run.sh's samples into the table of issue 11:
medians and ranges of each side, the ratio of each pair (the median of the
per-round ratios when both sides ran in the same rounds), its target and
whether it is met.  Writes OUT/latest.json, OUT/latest.md and, with gnuplot,
OUT/ratios.png; prints the table.  With DOC (BENCHMARKS.md), also rewrites
the block of DOC between its two markers (BEGIN, END below) and copies the
chart next to it: the prose around the block is written by hand and kept.

Usage: report.py SAMPLES.tsv META.tsv OUT [DOC]
"""
import json
import os
import shutil
import statistics
import subprocess
import sys

HTTP_CONNS = (64, 256, 1024, 4096)
BEGIN = "<!-- bench:begin (written by bench/report.py; edits here are lost) -->"
END = "<!-- bench:end -->"
# the rows of issue 11's own table (and its acceptance), in its order; the
# others break a row down (where the time goes) or compare more peers
ISSUE_ROWS = ("http_c64_static", "http_c64_return", "http_c256_static", "http_c1024_static",
              "http_c4096_static", "http_c4096_errors", "http_c64_cpu", "http_c1024_cpu", "held",
              "held_failed", "rss_idle", "rss_c1024", "rss_hold", "check_load", "lost",
              "connect_libpq", "connect_pgbench", "validate", "certs_rsa", "certs_ec")
# a busier machine than this (1-minute load average, any point of the run)
# makes the numbers noisy: the report says so next to them
LOAD_QUIET = 1.5


def rows(meta):
    """(id, label, A key, B key, target op, target value, unit); B None: an absolute value."""
    r = []
    for c in HTTP_CONNS:
        r.append(("http_c%d_static" % c,
                  "/health/database/ssl req/s, wrk -c%d, vs nginx static (same bytes)" % c,
                  "http.c%d.dbssl.rps" % c, "http.c%d.nginx_static.rps" % c, ">=", 1.2, "req/s"))
        r.append(("http_c%d_return" % c,
                  "same, -c%d, vs nginx at its fastest (`return 200` from memory)" % c,
                  "http.c%d.dbssl.rps" % c, "http.c%d.nginx_return.rps" % c,
                  ">=" if c == 64 else None, 1.0, "req/s"))
    r.append(("http_c4096_errors", "socket errors and non-2xx answers, wrk -c4096",
              "http.c4096.dbssl.errors", "http.c4096.nginx_static.errors", "==", 0, "errors"))
    for c in HTTP_CONNS:
        r.append(("http_c%d_cpu" % c, "CPU per request, -c%d, vs nginx static" % c,
                  "http.c%d.dbssl.cpu_us" % c, "http.c%d.nginx_static.cpu_us" % c,
                  "<=" if c in (64, 1024) else None, 1.0, "µs"))
    r.append(("rss_idle", "resident memory idle (nginx: master + workers)",
              "http.idle.dbssl.rss_kib", "http.idle.nginx.rss_kib", "<=abs", 8192, "KiB"))
    r.append(("rss_floor", "resident memory idle vs a program that only holds one libpq TLS "
              "connection (bench/libpq_idle.c: the floor of any program using libpq)",
              "http.idle.dbssl.rss_kib", "http.idle.libpq.rss_kib", None, None, "KiB"))
    r.append(("pss_idle", "proportional set size idle (shared library pages divided among users)",
              "http.idle.dbssl.pss_kib", "http.idle.nginx.pss_kib", None, None, "KiB"))
    r.append(("anon_idle", "of the resident memory idle: anonymous (heap, stacks, written data)",
              "http.idle.dbssl.anon_kib", "http.idle.nginx.anon_kib", None, None, "KiB"))
    r.append(("file_idle", "of the resident memory idle: file-backed (the program and its "
              "libraries' pages, shared with other processes)",
              "http.idle.dbssl.file_kib", "http.idle.nginx.file_kib", None, None, "KiB"))
    r.append(("rss_c1024", "resident memory during wrk -c1024",
              "http.c1024.dbssl.rss_kib", "http.c1024.nginx_static.rss_kib", None, None, "KiB"))
    hold = meta.get("hold", "10000")
    r.append(("held", "connections held of %s (BENCH_HOLD), from 2 addresses" % hold,
              "hold.dbssl.held", "hold.nginx_static.held", None, None, "connections"))
    r.append(("held_failed", "connections refused or unanswered of those",
              "hold.dbssl.failed", "hold.nginx_static.failed", "==", 0, "connections"))
    r.append(("rss_hold", "resident memory growth with them held (target: at 10,000)",
              "hold.dbssl.growth_kib", "hold.nginx_static.growth_kib", "<=abs", 2048, "KiB"))
    r.append(("check_load", "check duration under wrk -c1024 vs idle (mean from /metrics)",
              "check.load.mean_ms", "check.idle.mean_ms", "<=", 2.0, "ms"))
    r.append(("check_load_latency", "the check's query latency (latency_ms) under load vs idle",
              "check.load.latency_ms", "check.idle.latency_ms", None, None, "ms"))
    r.append(("check_long", "check duration during the long wrk -c1024 run (mean)",
              "check.long.mean_ms", "check.idle.mean_ms", None, None, "ms"))
    r.append(("lost", "`lost` reports during wrk -c1024 for %s s (BENCH_LOAD_SECONDS)"
              % meta.get("wrk_load_seconds", "60"),
              "check.long.lost", None, "==", 0, "events"))
    r.append(("reconnects", "reconnects meanwhile", "check.long.reconnects", None, "==", 0,
              "reconnects"))
    r.append(("connect_libpq", "new verified connection + SELECT 1: dbssl_connect vs libpq loop",
              "connect.dbssl.ms", "connect.libpq.ms", "<=", 1.03, "ms"))
    r.append(("connect_pgbench", "same, vs pgbench -C", "connect.dbssl.ms", "connect.pgbench.ms",
              None, None, "ms"))
    r.append(("connect_state", "dbssl_connect with a TLS report (the checker's) vs libpq loop",
              "connect.dbssl-state.ms", "connect.libpq.ms", None, None, "ms"))
    r.append(("validate", "`dbssl validate` whole process vs an empty program linked with libpq",
              "validate.dbssl.ms", "validate.empty.ms", "<=", 1.5, "ms"))
    r.append(("validate_floor", "`dbssl --version` (the program's own start) vs the empty program",
              "validate.version.ms", "validate.empty.ms", None, None, "ms"))
    r.append(("validate_nogen", "`dbssl validate --no-generate` (no check of the generated set)"
              " vs the empty program", "validate.nogen.ms", "validate.empty.ms", None, None, "ms"))
    for t, name in (("ec", "EC P-256"), ("rsa", "RSA-2048")):
        r.append(("key_%s" % t, "reading a %s key: the told OSSL_DECODER (ours) vs "
                  "PEM_read_bio_PrivateKey, µs in one process" % name,
                  "pemload.%s.key-OSSL_DECODER_told.us" % t,
                  "pemload.%s.key-PEM_read_bio_PrivateKey.us" % t, None, None, "µs"))
        for other in ("d2i_AutoPrivateKey", "EVP_PKCS82PKEY"):
            r.append(("key_%s_%s" % (t, other), "same, vs %s" % other,
                      "pemload.%s.key-OSSL_DECODER_told.us" % t,
                      "pemload.%s.key-%s.us" % (t, other), None, None, "µs"))
        r.append(("cert_%s" % t, "reading a certificate (%s key): PEM_read_bio_X509 (ours) "
                  "vs PEM_read_bio + d2i_X509, µs" % name,
                  "pemload.%s.cert-PEM_read_bio_X509.us" % t, "pemload.%s.cert-d2i_X509.us" % t,
                  None, None, "µs"))
    r.append(("certs_rsa", "certificate set, rsa-2048, whole process vs openssl command line",
              "certs.rsa-2048.dbssl.ms", "certs.rsa-2048.openssl.ms", "<=", 0.5, "ms"))
    r.append(("certs_ec", "certificate set, ec-p256, whole process vs openssl command line",
              "certs.ec-p256.dbssl.ms", "certs.ec-p256.openssl.ms", "<=", 0.15, "ms"))
    r.append(("certgen_rsa", "the generator alone (in process), rsa-2048, vs openssl",
              "certgen.rsa-2048.inproc.ms", "certgen.rsa-2048.openssl.ms", None, None, "ms"))
    r.append(("certgen_ec", "the generator alone (in process), ec-p256, vs openssl",
              "certgen.ec-p256.inproc.ms", "certgen.ec-p256.openssl.ms", None, None, "ms"))
    r.append(("scan", "`dbssl scan` vs sslscan --starttls-psql", "scan.dbssl.ms", "scan.sslscan.ms",
              None, None, "ms"))
    return r


def load(path):
    samples = {}
    with open(path) as f:
        for line in f:
            key, rnd, value = line.rstrip("\n").split("\t")
            try:
                samples.setdefault(key, {}).setdefault(int(rnd), []).append(float(value))
            except ValueError:
                pass
    return samples


def derive(s):
    """Values computed from others: memory growth with the connections held."""
    for srv in ("dbssl", "nginx_static"):
        a, b = s.get("hold.%s.rss_kib" % srv), s.get("hold.%s.rss_before_kib" % srv)
        if a and b:
            s["hold.%s.growth_kib" % srv] = {1: [a[1][0] - b[1][0]]}


def flat(d):
    return [v for r in sorted(d) for v in d[r]]


def med(d):
    return statistics.median(flat(d)) if d else None


def check(op, target, a, ratio):
    if op is None:
        return None
    if op == "<=abs":
        return a <= target
    if op == "==":
        return a == target
    if ratio is None:
        return None
    return ratio >= target if op == ">=" else ratio <= target


def fmt(v):
    if v is None:
        return "—"
    if abs(v) >= 1000:
        return "{:,.0f}".format(v)
    if abs(v) >= 100:
        return "%.0f" % v
    if abs(v) >= 10:
        return "%.1f" % v
    return ("%.3f" % v).rstrip("0").rstrip(".") if v != int(v) else "%d" % v


def main():
    samples_path, meta_path, out = sys.argv[1:4]
    s = load(samples_path)
    derive(s)
    meta = {}
    with open(meta_path) as f:
        for line in f:
            k, _, v = line.rstrip("\n").partition("\t")
            meta[k] = v
    table = []
    for rid, label, ka, kb, op, target, unit in rows(meta):
        a, b = s.get(ka), s.get(kb) if kb else None
        if not a:
            continue
        am, bm = med(a), med(b) if b else None
        ratio = rng = None
        if b and bm:
            common = sorted(set(a) & set(b))
            if len(common) == len(a) == len(b) and all(len(a[r]) == len(b[r]) == 1 for r in common) \
                    and all(b[r][0] for r in common):
                per = [a[r][0] / b[r][0] for r in common]
                ratio, rng = statistics.median(per), [min(per), max(per)]
            else:
                ratio = am / bm
                rng = [min(flat(a)) / max(flat(b)), max(flat(a)) / min(flat(b))] if min(flat(b)) else None
        met = check(op, target, am, ratio)
        table.append({
            "id": rid, "label": label, "unit": unit, "dbssl_key": ka, "peer_key": kb,
            "dbssl": am, "dbssl_range": [min(flat(a)), max(flat(a))],
            "peer": bm, "peer_range": [min(flat(b)), max(flat(b))] if b else None,
            "ratio": ratio, "ratio_range": rng,
            "target": None if op is None else {"op": op.replace("abs", ""), "value": target,
                                               "of": "value" if op in ("<=abs", "==") else "ratio"},
            "met": met,
        })
    os.makedirs(out, exist_ok=True)
    with open(os.path.join(out, "latest.json"), "w") as f:
        json.dump({"meta": meta, "rows": table,
                   "samples": {k: {str(r): v for r, v in d.items()} for k, d in sorted(s.items())}},
                  f, indent=1, ensure_ascii=False)
        f.write("\n")
    md = markdown(table, meta, os.path.join(out, "profile.md"))
    with open(os.path.join(out, "latest.md"), "w") as f:
        f.write(md)
    sys.stdout.write(md)
    chart(table, out)
    for t in table:
        if t["met"] is not None:
            print("bench: %-18s %s %s" % (t["id"], "meets its target" if t["met"] else
                                         "MISSES its target", "(ratio %.2f)" % t["ratio"]
                                         if t["ratio"] is not None and t["target"]["of"] == "ratio"
                                         else "(%s %s)" % (fmt(t["dbssl"]), t["unit"])))
    if len(sys.argv) > 4:
        update_doc(sys.argv[4], md, out)


def md_rows(table):
    lines = ["| work | dbssl | peer | ratio (range over rounds) | target | met |",
             "|---|---|---|---|---|---|"]
    for t in table:
        tg = "—"
        if t["target"]:
            tg = "%s %s%s" % (t["target"]["op"].replace(">=", "≥").replace("<=", "≤"),
                              fmt(t["target"]["value"]),
                              "" if t["target"]["of"] == "ratio" else " " + t["unit"])
        rr = "—"
        if t["ratio"] is not None:
            # a third decimal where two would show a missed target as met (1.199 as "1.20")
            near = t["target"] and t["target"]["of"] == "ratio" and \
                check(t["target"]["op"], t["target"]["value"], None, round(t["ratio"], 2)) != t["met"]
            rr = ("%.3f" if near else "%.2f") % t["ratio"]
            if t["ratio_range"]:
                rr += " (%.2f–%.2f)" % tuple(t["ratio_range"])
        met = {True: "yes", False: "**no**", None: ""}[t["met"]]
        a = "%s %s" % (fmt(t["dbssl"]), t["unit"])
        if t["dbssl_range"][0] != t["dbssl_range"][1]:
            a += " (%s–%s)" % (fmt(t["dbssl_range"][0]), fmt(t["dbssl_range"][1]))
        b = "—"
        if t["peer"] is not None:
            b = "%s %s" % (fmt(t["peer"]), t["unit"])
            if t["peer_range"][0] != t["peer_range"][1]:
                b += " (%s–%s)" % (fmt(t["peer_range"][0]), fmt(t["peer_range"][1]))
        lines.append("| %s | %s | %s | %s | %s | %s |" % (t["label"], a, b, rr, tg, met))
    return lines


def load_note(meta):
    """Says whether the machine was busy: the 1-minute load average above LOAD_QUIET.

    The benchmark loads the machine itself (wrk's two threads, the server and
    PostgreSQL on a few cores give a load of 2-4 during the HTTP and check
    sections), so the readings during the run cannot tell other work from
    its own; the reading before it started can."""
    loads = []
    for k, v in meta.items():
        if k.startswith("load_"):
            try:
                loads.append((float(v.split()[0]), k[5:]))
            except (ValueError, IndexError):
                pass
    if not loads:
        return None
    start = dict((k, v) for v, k in loads).get("start")
    top = max(loads)
    if start is not None and start <= LOAD_QUIET:
        return ("The machine was quiet when the run started (1-minute load average %.2f on %s "
                "cores); the load average during the run (at most %.2f, at %s) is the "
                "benchmark's own wrk, servers and PostgreSQL." % (
                    start, meta.get("cores", "?"), top[0], top[1]))
    busy = [(v, k) for v, k in loads if v > LOAD_QUIET]
    if not busy:
        return None
    top = max(busy)
    return ("**The machine was busy during this run**: the 1-minute load average was above "
            "%.1f at %d of %d readings (at most %.2f, at %s) on %s cores, already %s when it "
            "started, so other processes took CPU from both sides while they were measured. "
            "Ratios on a busy machine are noisier than on a quiet one, and the HTTP rows suffer "
            "most because wrk, the server and the other processes share the same cores; run "
            "`make bench` again on a quiet machine before drawing conclusions." % (
                LOAD_QUIET, len(busy), len(loads), top[0], top[1], meta.get("cores", "?"),
                "?" if start is None else "%.2f" % start))


def markdown(table, meta, profile_path):
    issue = sorted((t for t in table if t["id"] in ISSUE_ROWS), key=lambda t: ISSUE_ROWS.index(t["id"]))
    rest = [t for t in table if t["id"] not in ISSUE_ROWS]
    loads = ", ".join("%s %s" % (k[5:], v) for k, v in meta.items() if k.startswith("load_"))
    met = [t for t in issue if t["met"] is not None]
    lines = ["Command: `%s`; started %s; %s s; commit %s; %s rounds." % (
                 meta.get("command", "bench/run.sh"), meta.get("started", "?"),
                 meta.get("seconds", "?"), meta.get("commit", "?"), meta.get("rounds", "?")),
             "",
             "Machine: `nproc` %s, %s, %s, %s, kernel %s." % (
                 meta.get("cores", "?"), meta.get("cpu", "?"), meta.get("memory", "?"),
                 meta.get("os", "?"), meta.get("kernel", "?")),
             "",
             "Load average (1, 5, 15 min) before: %s; after: %s; at the end of each section: %s." % (
                 meta.get("load_start", "?"), meta.get("load_end", "?"), loads),
             ""]
    note = load_note(meta)
    if note:
        lines += [note, ""]
    lines += ["Targets met: %d of %d." % (sum(1 for t in met if t["met"]), len(met)), "",
              "### Issue 11's table", ""] + md_rows(issue)
    if rest:
        lines += ["", "### Breakdowns and more peers", ""] + md_rows(rest)
    try:
        with open(profile_path) as f:
            lines += ["", "### Where the time goes at wrk -c1024 (this run)", "", f.read().rstrip("\n")]
    except OSError:
        pass
    lines += ["", "Versions: %s." % meta.get("versions", "?")]
    return "\n".join(lines) + "\n"


def update_doc(doc, md, out):
    """Replaces the marked block of doc with md and the chart; the rest stays."""
    try:
        with open(doc) as f:
            text = f.read()
    except OSError as e:
        print("bench: %s not updated: %s" % (doc, e), file=sys.stderr)
        return
    i, j = text.find(BEGIN), text.find(END)
    if i < 0 or j < i:
        print("bench: %s not updated: it has no block between %s and %s" % (doc, BEGIN, END),
              file=sys.stderr)
        return
    block = md
    png = os.path.join(out, "ratios.png")
    if os.path.exists(png):
        name = "bench/ratios.png"
        dest = os.path.join(os.path.dirname(os.path.abspath(doc)), name)
        os.makedirs(os.path.dirname(dest), exist_ok=True)
        shutil.copyfile(png, dest)
        block += "\n![dbssl / peer ratios of this run](%s)\n" % name
    text = text[:i + len(BEGIN)] + "\n" + block + text[j:]
    with open(doc + ".tmp", "w") as f:
        f.write(text)
    os.replace(doc + ".tmp", doc)
    print("bench: %s: the marked block rewritten with this run" % doc, file=sys.stderr)


def chart(table, out):
    """One PNG: each ratio with a target, on a log scale, the target as a mark."""
    pts = [t for t in table if t["ratio"] is not None and t["target"]
           and t["target"]["of"] == "ratio"]
    if not pts:
        return
    dat = os.path.join(out, "ratios.dat")
    with open(dat, "w") as f:
        for i, t in enumerate(pts):
            f.write('%d "%s" %g %g %d\n' % (i, t["id"], t["ratio"], t["target"]["value"],
                                          1 if t["met"] else 0))
    script = """
set terminal pngcairo size 1100,560 font ",10"
set output '%s'
set title "dbssl / peer, same machine, same run (bars green: target met; black marks: targets)"
set logscale y
set yrange [0.05:5]
set ylabel "ratio (req/s: higher is better; time, CPU: lower is better)"
set xtics rotate by -35 noenhance
set style fill solid 0.8
set boxwidth 0.7
set grid ytics
set key off
plot '%s' using 1:3:($5 > 0 ? 0x2e8b57 : 0xcd3333):xtic(2) with boxes lc rgb variable, \\
     '' using 1:4 with points pt 5 ps 1.2 lc rgb "black"
""" % (os.path.join(out, "ratios.png"), dat)
    try:
        subprocess.run(["gnuplot"], input=script.encode(), check=True)
    except (OSError, subprocess.CalledProcessError) as e:
        print("bench: no chart: %s" % e, file=sys.stderr)
    finally:
        os.unlink(dat)


if __name__ == "__main__":
    main()
