"""The I/O wake latency's tail, sample by sample: shimeji against MicroPython's asyncio.

Usage: python tools/io_tail.py [--runs 6] [--sets 5] [--ticker-ms MS] [--firmware DIR]
                               [--split] [--what-if] [--prefault] [--save FILE]
                               [--load FILE ...]

Runs ``bench/io_tail.py`` (bench_io.py's wake latency with every sample kept) in ``--runs``
MicroPython processes, one after another, each ``--sets`` alternating sets of 200 wakes per
runtime, and prints: per runtime the range of the sets' p50 and p99 (bench_io's figures: p99 is
the second-slowest of 200), the pooled distribution, and what the slow samples (above their
set's p99, i.e. the slowest two of each set) have in common: their place in the set (the first
wake of a set), whether the sender's write call was slow too (``wr``: the kernel's wake of the
reader, or the sender thread preempted between its stamp and the write), whether the reader
was late (not yet waiting), the shimeji loop's iterations and idles per sample, the sets'
involuntary context switches, heap growth and load. ``--ticker-ms``: a second task on each
side sleeps that long in a loop (the loop then idles towards timer deadlines too; bench_io has
no timer). ``--split``: each wake split at its poll's return into the sender's write and the
kernel's wake of the reader (stamp to the poll's return) and the runtime's wake half (the
poll's return to the reader holding its byte), pooled quantiles of each; both runtimes' polls
are stamped by the same wrapper. ``--what-if``: bench_io's figure by resampling the sets, with
shimeji's wakes made 0-20 µs faster: how often its median run's p99 would be no worse than
asyncio's (how much a faster wake can buy at the load the sets met). Each set's p99
sample is described too: how often it is the set's first wake (the reader idle through the
sender's 20 ms start) and, with ``--split``, whether its excess is before the poll's return
(the machine) or in the runtime's wake half. ``--prefault``: the heap's pages touched before the
sets (page faults ruled out). ``--save`` keeps the raw sets (JSON lines), ``--load`` analyses
saved ones instead of running."""

import argparse
import json
import os
import random
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def run_sets(mp, runs, sets, count=False, firmware=None, ticker_ms=0, rest_us=None,
             split=False, prefault=False):
    env = dict(os.environ)
    env["IO_TAIL_PREFAULT"] = "1" if prefault else ""
    env["MICROPYPATH"] = os.pathsep.join([".frozen", firmware or os.path.join(ROOT, "firmware"),
                                          os.path.join(ROOT, "bench")])
    env["IO_TAIL_SETS"] = str(sets)
    env["IO_TAIL_COUNT"] = "1" if count else ""
    env["IO_TAIL_TICKER_MS"] = str(ticker_ms or "")
    env["IO_TAIL_REST_US"] = rest_us or ""
    env["IO_TAIL_SPLIT"] = "1" if split else ""
    out = []
    for r in range(runs):
        script = os.path.join(ROOT, "bench", "io_tail.py")
        proc = subprocess.run([mp, "-X", "heapsize=32M", script], env=env, cwd=ROOT,
                              capture_output=True, text=True, timeout=300)
        if proc.returncode:
            sys.exit("io_tail.py failed: %s" % proc.stderr.strip()[-500:])
        for line in proc.stdout.splitlines():
            if line.startswith("TAIL "):
                d = json.loads(line[5:])
                d["run"] = r
                out.append(d)
    return out


def pct(xs, p):
    """bench_io's percentile: sorted(xs)[len * p // 100] (p99 of 200: the second-slowest)."""
    xs = sorted(xs)
    return xs[min(len(xs) - 1, (len(xs) * p) // 100)]


def pooled(xs, q):
    """The q-quantile (0..1) of xs, nearest rank."""
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(len(xs) * q))]


def describe(sets, runtime):
    mine = [d for d in sets if d["runtime"] == runtime]
    if not mine:
        return
    n = len(mine[0]["lat"])
    p50 = sorted(pct(d["lat"], 50) for d in mine)
    p99 = sorted(pct(d["lat"], 99) for d in mine)
    p99_rest = sorted(pct(d["lat"][1:], 99) for d in mine)
    allv = [x for d in mine for x in d["lat"]]
    rest = [x for d in mine for x in d["lat"][1:]]
    print("%s: %d sets of %d" % (runtime, len(mine), n))
    print("  sets' p50 %d-%d (median %d) µs; p99 %d-%d (median %d); p99 without the set's "
          "first wake %d-%d (median %d)" % (
              p50[0], p50[-1], p50[len(p50) // 2], p99[0], p99[-1], p99[len(p99) // 2],
              p99_rest[0], p99_rest[-1], p99_rest[len(p99_rest) // 2]))
    qs = (0.1, 0.5, 0.9, 0.95, 0.99, 0.995, 0.999)
    print("  pooled: " + ", ".join("q%g %d" % (q * 100, pooled(allv, q)) for q in qs)
          + ", max %d µs" % max(allv))
    print("  pooled without first wakes: " + ", ".join(
        "q%g %d" % (q * 100, pooled(rest, q)) for q in qs))
    edges = (20, 30, 40, 50, 60, 80, 100, 150, 200, 300, 500, 1000, 10 ** 9)
    hist = [0] * len(edges)
    for x in allv:
        for k, e in enumerate(edges):
            if x < e:
                hist[k] += 1
                break
    lo = 0
    cells = []
    for k, e in enumerate(edges):
        cells.append("%s-%s: %d" % (lo, e if e < 10 ** 9 else "", hist[k]))
        lo = e
    print("  histogram (µs: samples): " + "; ".join(cells))
    # The slow samples: the two slowest of each set (above its p99 or at it)
    slow = []
    for d in mine:
        order = sorted(range(n), key=lambda i: d["lat"][i])
        for i in order[-2:]:
            slow.append((d, i))
    first = sum(1 for d, i in slow if i == 0)
    gap = [0, 0, 0]
    for _d, i in slow:
        gap[(i - 1) % 3] += 1  # the sender slept 2 + (i-1) % 3 ms before write i
    wr_all = sorted(x for d in mine for x in d["wr"])
    wr_q99 = pooled(wr_all, 0.99)
    wr_slow = sum(1 for d, i in slow if d["wr"][i] >= wr_q99)
    late = sum(1 for d, i in slow if d["late"][i])
    late_all = sum(sum(d["late"]) for d in mine)
    print("  slowest two per set (%d samples): %d are a set's first wake; sender's previous "
          "sleep 2/3/4 ms: %d/%d/%d; write call at or above its q99 (%d µs): %d; reader late: "
          "%d (of %d late in all)" % (len(slow), first, gap[0], gap[1], gap[2], wr_q99, wr_slow,
                                      late, late_all))
    worst = sorted(slow, key=lambda s: -s[0]["lat"][s[1]])[:12]
    print("  slow samples' latency minus the sender's write call: %s µs" % ", ".join(
        str(d["lat"][i] - d["wr"][i]) for d, i in worst))
    split(mine)
    anatomy(mine)
    if runtime == "shimeji":
        it = {}
        for d, i in slow:
            key = (d["it"][i], d["idl"][i])
            it[key] = it.get(key, 0) + 1
        every = {}
        for d in mine:
            for i in range(1, n):
                key = (d["it"][i], d["idl"][i])
                every[key] = every.get(key, 0) + 1
        print("  (iterations, idles) per sample, slow: %s; all: %s" % (
            sorted(it.items()), sorted(every.items())))
    if any(any(d.get("polls", [])) for d in mine):
        pol = {}
        for d in mine:
            for i in range(1, n):
                pol[d["polls"][i]] = pol.get(d["polls"][i], 0) + 1
        print("  polls per sample: %s" % sorted(pol.items()))
    iv = sorted(d["ivcsw"] for d in mine)
    al = sorted(d["alloc"] for d in mine)
    if all("migr" in d for d in mine):
        mg = sorted(d["migr"] for d in mine)
        fl = sorted(d["minflt"] for d in mine)
        print("  per set: the reader's CPU migrations %d-%d; the process's minor page faults "
              "%d-%d" % (mg[0], mg[-1], fl[0], fl[-1]))
    cpu = sum(d.get("cpu_ms", 0) for d in mine)
    print("  reader thread CPU: %.1f ms per set of %d wakes (10 ms steps, summed over sets)"
          % (cpu / len(mine), n))
    print("  per set: involuntary context switches of the reader %d-%d; heap growth %d-%d B "
          "(negative: a collection); load %.1f-%.1f" % (
              iv[0], iv[-1], al[0], al[-1], min(d["load"] for d in mine),
              max(d["load"] for d in mine)))
    # p99 against the set's involuntary switches
    hi = [pct(d["lat"], 99) for d in mine if d["ivcsw"]]
    lo_ = [pct(d["lat"], 99) for d in mine if not d["ivcsw"]]
    if hi and lo_:
        print("  p99 of sets with involuntary switches: median %d (%d sets); without: median "
              "%d (%d sets)" % (sorted(hi)[len(hi) // 2], len(hi), sorted(lo_)[len(lo_) // 2],
                                len(lo_)))


def split(mine):
    """The wakes split at the poll's return (``--split``), pooled without each set's first:
    the runtime's wake half and what came before it."""
    if not all(d.get("woke") for d in mine):
        return
    woke = [w for d in mine for w in d["woke"][1:]]
    before = [x - w for d in mine for x, w in zip(d["lat"][1:], d["woke"][1:])]
    qs = (0.1, 0.5, 0.75, 0.9, 0.95, 0.98, 0.99)
    for name, xs in (("the write and the kernel's wake (stamp to the poll's return)", before),
                     ("the wake half (the poll's return to the byte in the task)", woke)):
        print("  %s: %s µs" % (name, ", ".join("q%g %d" % (q * 100, pooled(xs, q))
                                               for q in qs)))


def anatomy(mine):
    """What each set's p99 sample (bench_io's figure: its second-slowest) was: the set's first
    wake (the reader idle since the sender's 20 ms start, every line cold), or, with
    ``--split``, where its excess over the pooled median lies (stamp to the poll's return: the
    write, the kernel's wake, the machine's stalls; or the runtime's wake half)."""
    n = len(mine[0]["lat"])
    at = [(d, sorted(range(n), key=lambda i: d["lat"][i])[(n * 99) // 100]) for d in mine]
    first = [d["lat"][0] for d in mine]
    line = "  each set's p99 sample: the set's first wake in %d of %d sets; first wakes q50 %d " \
        "µs (range %d-%d)" % (sum(1 for _d, i in at if i == 0), len(mine),
                              pooled(first, 0.5), min(first), max(first))
    if all(d.get("woke") for d in mine):
        kern = [d["lat"][i] - d["woke"][i] for d, i in at]
        half = [d["woke"][i] for d, i in at]
        allk = [x - w for d in mine for x, w in zip(d["lat"][1:], d["woke"][1:])]
        allw = [w for d in mine for w in d["woke"][1:]]
        line += ", their wake half q50 %d µs (later wakes' %d); the p99 samples' stamp to " \
            "poll return q50 %d µs (all wakes' %d), wake half q50 %d (all %d)" % (
                pooled([d["woke"][0] for d in mine], 0.5), pooled(allw, 0.5),
                pooled(kern, 0.5), pooled(allk, 0.5), pooled(half, 0.5), pooled(allw, 0.5))
    print(line)


def pairs(sets):
    """p99 of shimeji against asyncio, set by set (each pair ran back to back)."""
    by = {}
    for d in sets:
        by.setdefault((d["run"], d["set"]), {})[d["runtime"]] = d
    met = total = 0
    for key in sorted(by):
        p = by[key]
        if "shimeji" in p and "asyncio" in p:
            total += 1
            met += pct(p["shimeji"]["lat"], 99) <= pct(p["asyncio"]["lat"], 99)
    runs = {}
    for d in sets:
        runs.setdefault(d["run"], {}).setdefault(d["runtime"], []).append(pct(d["lat"], 99))
    rmet = rtot = 0
    for r in runs.values():
        if "shimeji" in r and "asyncio" in r:
            rtot += 1
            a = sorted(r["shimeji"])
            b = sorted(r["asyncio"])
            rmet += a[len(a) // 2] <= b[len(b) // 2]
    print("p99 no worse than asyncio's: %d of %d back-to-back set pairs; %d of %d runs "
          "(bench_io's figure: the median set's p99 of a run)" % (met, total, rmet, rtot))


def what_if(sets, shifts=(0, 2, 5, 10, 20), trials=2000, seed=1):
    """bench_io's figure by resampling: ``trials`` runs of 5 shimeji and 5 asyncio sets drawn
    from ``sets`` (with replacement), every shimeji wake ``shift`` µs faster (at least 0): the
    share of runs whose median set's p99 is no worse than asyncio's, per shift."""
    mine = [d["lat"] for d in sets if d["runtime"] == "shimeji"]
    ref = [d["lat"] for d in sets if d["runtime"] == "asyncio"]
    if not mine or not ref:
        return {}
    rng = random.Random(seed)
    share = {}
    for shift in shifts:
        met = 0
        for _ in range(trials):
            a = sorted(pct([max(0, x - shift) for x in rng.choice(mine)], 99) for _ in range(5))
            b = sorted(pct(rng.choice(ref), 99) for _ in range(5))
            met += a[2] <= b[2]
        share[shift] = met * 100 // trials
    print("what if shimeji's wakes were faster (bench_io's figure, %d resampled runs of 5 + 5 "
          "of these sets): " % trials + "; ".join(
              "%d µs: no worse in %d %%" % (k, v) for k, v in sorted(share.items())))
    return share


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--runs", type=int, default=6)
    ap.add_argument("--sets", type=int, default=5)
    ap.add_argument("--micropython", default=os.path.join(ROOT, ".venv", "bin", "micropython"))
    ap.add_argument("--firmware", help="the shimeji package's parent (default: firmware/)")
    ap.add_argument("--ticker-ms", type=int, default=0,
                    help="a second task on each side sleeps this many ms in a loop")
    ap.add_argument("--rest-us", help="shimeji's poller.rest_slice_us (none: one blind idle)")
    ap.add_argument("--split", action="store_true",
                    help="split each wake at its poll's return (both runtimes stamped alike)")
    ap.add_argument("--what-if", action="store_true",
                    help="bench_io's figure resampled with shimeji's wakes 0-20 µs faster")
    ap.add_argument("--prefault", action="store_true",
                    help="touch the heap's first 24 MB before the sets (no page faults in them)")
    ap.add_argument("--save")
    ap.add_argument("--load", nargs="*")
    ap.add_argument("--count-polls", action="store_true",
                    help="count asyncio's polls per sample (its latencies then not comparable)")
    args = ap.parse_args()
    if args.load:
        sets = []
        for k, path in enumerate(args.load):
            with open(path) as f:
                for line in f:
                    if line.strip():
                        d = json.loads(line)
                        d["run"] = (k, d["run"])  # runs of several files apart
                        sets.append(d)
    else:
        sets = run_sets(args.micropython, args.runs, args.sets, args.count_polls,
                        args.firmware, args.ticker_ms, args.rest_us, args.split,
                        args.prefault)
        if args.save:
            with open(args.save, "w") as f:
                for d in sets:
                    f.write(json.dumps(d) + "\n")
    for runtime in ("shimeji", "asyncio"):
        describe(sets, runtime)
    pairs(sets)
    if args.what_if:
        what_if(sets)


if __name__ == "__main__":
    main()
