"""The performance goals of ``tools/bench.py``, checked on a run's rows (MicroPython).

``goals(rows)`` returns ``(text, met: True/False/None, detail)`` triples, from the rows
``tools/bench.py`` collected: switch, spawn, memory, timers, import, executor, the asyncio
facade (``bench_asyncio_goals``), timer scale, tracing, the interrupt level and I/O.
``bench_timing_goals`` has the tickless timing, batch hand-off and spawn goals.
"""

from bench_asyncio_goals import facade_goals  # tools/ is the scripts' own directory


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


def _of(row):
    """``; `` and a row's note (the trace rows': their rounds, range and middle half), or
    nothing."""
    return "; " + row["note"] if row.get("note") else ""


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
        bare = find(rows, mp, "executor", "ns per chunk, bare generators on 2 threads")
        ceiling = ""  # what two threads of the VM gave on the machine in the same rounds
        if bare and num(bare, "shimeji") and num(bare, "ref"):
            b = bare["ref"] / bare["shimeji"]
            ceiling = " (bare generators on 2 threads in the same rounds: %.2fx%s)" % (
                b, ": the machine's own ceiling was under 1.7x in this run" if b < 1.7 else "")
        share = find(rows, mp, "executor", "2 over 1 as a share of the bare 2 over 1")
        if share and num(share, "shimeji") is not None:
            ceiling += "; executor/bare per round: median %s %%" % share["shimeji"]
        out.append(("executor: 2 workers at least 1.7x the throughput of 1", r >= 1.7,
                    "%.2fx%s" % (r, ceiling)))
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
                    "%+.1f%% (median of paired runs%s)" % ((r - 1) * 100, _of(toff))))
    if ton and num(ton, "shimeji"):
        r = ton["shimeji"]
        out.append(("tracing on costs at most 30% per switch", r <= 1.30,
                    "%+.1f%% (median of paired runs%s)" % ((r - 1) * 100, _of(ton))))
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
