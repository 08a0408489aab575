#!/usr/bin/env python3
"""profile.py - where an HTTP server's time goes under wrk, as Markdown:
its CPU by object (kernel, libc, libmicrohttpd, dbssl...) and the top
user-space symbols from `perf report`, and its system calls per answer from
`strace -c` over a wrk run of a known number of requests.  bench/run.sh's
`profile` section runs it for dbssl serve and for nginx; report.py puts the
result under the tables, so that a target that is missed comes with the
profile that shows why (issue 11).

Usage: profile.py NAME PERF_DSO.txt PERF_SYM.txt STRACE.txt REQUESTS
  PERF_DSO.txt: perf report --no-children -g none --sort dso --stdio
  PERF_SYM.txt: the same with --sort dso,sym
  STRACE.txt:   strace -c -f -o (its summary table)
"""
import re
import sys

PCT = re.compile(r"^\s*([0-9.]+)%\s+(\S+)(?:\s+\[(.)\]\s+(.*))?$")


def perf_rows(path):
    rows = []
    try:
        with open(path) as f:
            for line in f:
                m = PCT.match(line.rstrip())
                if m and not line.lstrip().startswith("#"):
                    rows.append((float(m.group(1)), m.group(2), m.group(3), (m.group(4) or "").strip()))
    except OSError:
        pass
    return rows


def short(dso):
    if dso == "[kernel.kallsyms]":
        return "kernel"
    return re.sub(r"\.so(\.[0-9.]+)?$", "", dso)


def syscalls(path):
    """{name: calls} from strace -c's table."""
    calls = {}
    try:
        with open(path) as f:
            for line in f:
                p = line.split()
                # % time, seconds, usecs/call, calls, [errors], syscall
                if len(p) >= 5 and p[0][0].isdigit() and p[-1] != "total":
                    try:
                        calls[p[-1]] = int(p[3])
                    except ValueError:
                        pass
    except OSError:
        pass
    return calls


def main():
    name, dso_path, sym_path, strace_path, requests = sys.argv[1:6]
    requests = int(requests or 0)
    out = []
    dsos = perf_rows(dso_path)
    if dsos:
        out.append("- CPU by object: " + ", ".join("%s %.1f %%" % (short(d), p)
                                                 for p, d, _, _ in dsos[:6] if p >= 0.5))
    user = [(p, d, s) for p, d, k, s in perf_rows(sym_path) if k == "."][:8]
    if user:
        out.append("- top user-space symbols: " + ", ".join(
            "`%s` (%s) %.1f %%" % (s, short(d), p) for p, d, s in user))
    kern = [(p, s) for p, d, k, s in perf_rows(sym_path) if k == "k"][:5]
    if kern:
        out.append("- top kernel symbols: " + ", ".join("`%s` %.1f %%" % (s, p) for p, s in kern))
    calls = syscalls(strace_path)
    if calls and requests > 0:
        per = sorted(((n / requests, s) for s, n in calls.items()), key=lambda p: (-p[0], p[1]))
        total = sum(v for v, _ in per)
        out.append("- system calls per answer (strace -c over %d requests): %.2f: " % (requests, total)
                   + ", ".join("%s %.2f" % (s, v) for v, s in per if v >= 0.005))
    if not out:
        out.append("- no profile (perf or strace missing or not permitted)")
    sys.stdout.write("**%s**\n\n%s\n\n" % (name, "\n".join(out)))


if __name__ == "__main__":
    main()
