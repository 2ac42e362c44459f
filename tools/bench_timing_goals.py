"""The timer and spawn goals (tickless timing, batch hand-off, spawn), checked on a bench run.

``goals(rows, find)`` returns ``(text, met, detail)`` triples, on the MicroPython unix port,
from the rows ``tools/bench.py`` collected (``find(rows, runtime, workload, prefix)``).
"""

MP = "micropython"


def _num(r, key):
    return r.get(key) if r and isinstance(r.get(key), (int, float)) else None


def goals(rows, find):
    out = []
    early = find(rows, MP, "timers", "µs late, tickless, earliest")
    if _num(early, "shimeji") is not None:
        out.append(("200 tasks x 20 sleeps of 1-7 ms: never early", early["shimeji"] >= 0,
                    "earliest %+d µs" % early["shimeji"]))
    p99 = find(rows, MP, "timers", "µs late, tickless, p99")
    if _num(p99, "ref"):
        out.append(("tickless: p99 sleep lateness at most half of asyncio's",
                    p99["shimeji"] * 2 <= p99["ref"],
                    "%d µs vs %d µs (%.2fx)" % (p99["shimeji"], p99["ref"],
                                                p99["shimeji"] / p99["ref"])))
    cpu = find(rows, MP, "timers", "CPU ns per timer fired, tickless")
    if _num(cpu, "ref"):
        out.append(("tickless: CPU per fired timer at most half of asyncio's",
                    cpu["shimeji"] * 2 <= cpu["ref"],
                    "%d ns vs %d ns (%.2fx)" % (cpu["shimeji"], cpu["ref"],
                                                cpu["shimeji"] / cpu["ref"])))
    idle = find(rows, MP, "idle", "loop wake-ups while one sleeper waits 1 s, tickless")
    if _num(idle, "shimeji") is not None:
        out.append(("idle board, one sleeper due in 1 s: at most 2 loop wake-ups",
                    idle["shimeji"] <= 2, "%d (asyncio: %s)" % (idle["shimeji"], idle["ref"])))
    ux = find(rows, MP, "idle",
              "loop wake-ups while one sleeper waits 1 s, unix board (wake socket)")
    if _num(ux, "shimeji") is not None:
        out.append(("the unix board's loop, one sleeper due in 1 s: at most 2 loop wake-ups",
                    ux["shimeji"] <= 2, "%d (asyncio: %s)" % (ux["shimeji"], ux["ref"])))
    # Like with like: the batch joined by join_all (shimeji's gather) against create_task +
    # gather; the loop-of-awaits row beside it is information, not the goal.
    sj = find(rows, MP, "spawn", "ns per task, spawn+join_all vs create_task+gather")
    if _num(sj, "ref"):
        r = sj["ref"] / sj["shimeji"]
        out.append(("spawn+join (join_all) at least 3x faster than create_task+gather", r >= 3,
                    "%.2fx (%d ns vs %d ns)" % (r, sj["shimeji"], sj["ref"])))
    fl = find(rows, MP, "spawn", "ns per task, spawn+join vs the floor")
    if _num(fl, "ref"):
        r = fl["shimeji"] / fl["ref"]
        out.append(("spawn+join at most 2.5x the floor (create and exhaust a coroutine)",
                    r <= 2.5, "%.2fx (%d ns vs %d ns)" % (r, fl["shimeji"], fl["ref"])))
    sw = find(rows, MP, "switch", "ns per task switch (")
    if _num(sw, "ref"):
        r = sw["ref"] / sw["shimeji"]
        out.append(("task switch stays at least 6x faster than asyncio", r >= 6, "%.2fx" % r))
    sc = find(rows, MP, "timer scale", "cost at")
    if _num(sc, "shimeji") is not None:
        out.append(("arm+cancel flat (<= 1.3x) from 100 to 10,000 pending", sc["shimeji"] <= 1.3,
                    "%.2fx" % sc["shimeji"]))
    mem = find(rows, MP, "timers", "bytes per fired timer")
    if _num(mem, "shimeji") is not None:
        out.append(("0 B per fired timer", mem["shimeji"] == 0, "%s B" % mem["shimeji"]))
    return out
