#!/usr/bin/env python3
"""report.py - turns bench/run.sh's samples into the table of issue 11:
medians and ranges of each side, the ratio of each pair (the median of the
per-round ratios when both sides ran in the same rounds), its target and
whether it is met.  Writes OUT/latest.json, OUT/latest.md and, with gnuplot,
OUT/ratios.png; prints the table.

Usage: report.py SAMPLES.tsv META.tsv OUT
"""
import json
import os
import statistics
import subprocess
import sys

HTTP_CONNS = (64, 256, 1024, 4096)


def rows():
    """(id, label, A key, B key, target op, target value, unit); B None: an absolute value."""
    r = []
    for c in HTTP_CONNS:
        r.append(("http_c%d_static" % c,
                  "/health/database/ssl req/s, wrk -c%d, vs nginx static (same bytes)" % c,
                  "http.c%d.dbssl.rps" % c, "http.c%d.nginx_static.rps" % c, ">=", 1.2, "req/s"))
        r.append(("http_c%d_return" % c,
                  "same, -c%d, vs nginx at its fastest (`return 200` from memory)" % c,
                  "http.c%d.dbssl.rps" % c, "http.c%d.nginx_return.rps" % c, ">=",
                  1.2 if c in (64, 1024) else 1.0, "req/s"))
    r.append(("http_c4096_errors", "socket errors and non-2xx answers, wrk -c4096",
              "http.c4096.dbssl.errors", "http.c4096.nginx_static.errors", "==", 0, "errors"))
    for c in HTTP_CONNS:
        r.append(("http_c%d_cpu" % c, "CPU per request, -c%d, vs nginx static" % c,
                  "http.c%d.dbssl.cpu_us" % c, "http.c%d.nginx_static.cpu_us" % c,
                  "<=" if c in (64, 1024) else None, 1.0, "µs"))
    r.append(("rss_idle", "resident memory idle (nginx: master + workers)",
              "http.idle.dbssl.rss_kib", "http.idle.nginx.rss_kib", "<=abs", 8192, "KiB"))
    r.append(("pss_idle", "proportional set size idle (shared library pages divided among users)",
              "http.idle.dbssl.pss_kib", "http.idle.nginx.pss_kib", None, None, "KiB"))
    r.append(("rss_c1024", "resident memory during wrk -c1024",
              "http.c1024.dbssl.rss_kib", "http.c1024.nginx_static.rss_kib", None, None, "KiB"))
    r.append(("held", "connections held of BENCH_HOLD (10,000), from 2 addresses",
              "hold.dbssl.held", "hold.nginx_static.held", None, None, "connections"))
    r.append(("held_failed", "connections refused or unanswered of those",
              "hold.dbssl.failed", "hold.nginx_static.failed", "==", 0, "connections"))
    r.append(("rss_hold", "resident memory growth with them held",
              "hold.dbssl.growth_kib", "hold.nginx_static.growth_kib", "<=abs", 2048, "KiB"))
    r.append(("check_load", "check duration under wrk -c1024 vs idle (mean from /metrics)",
              "check.load.mean_ms", "check.idle.mean_ms", "<=", 2.0, "ms"))
    r.append(("check_load_latency", "the check's query latency (latency_ms) under load vs idle",
              "check.load.latency_ms", "check.idle.latency_ms", None, None, "ms"))
    r.append(("check_long", "check duration during the long wrk -c1024 run (mean)",
              "check.long.mean_ms", "check.idle.mean_ms", None, None, "ms"))
    r.append(("lost", "`lost` reports during wrk -c1024 for BENCH_LOAD_SECONDS (60 s)",
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
    for rid, label, ka, kb, op, target, unit in rows():
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
            rr = "%.2f" % t["ratio"]
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
    loads = ", ".join("%s %s" % (k[5:], v) for k, v in meta.items() if k.startswith("load_"))
    lines += ["", "Machine: %s, %s cores, %s, %s, kernel %s." % (
        meta.get("cpu", "?"), meta.get("cores", "?"), meta.get("memory", "?"), meta.get("os", "?"),
        meta.get("kernel", "?")),
        "Versions: %s." % meta.get("versions", "?"),
        "Run: %s, commit %s, %s rounds, %s s, load average (1, 5, 15 min) %s." % (
            meta.get("started", "?"), meta.get("commit", "?"), meta.get("rounds", "?"),
            meta.get("seconds", "?"), loads)]
    md = "\n".join(lines) + "\n"
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
