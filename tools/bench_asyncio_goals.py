"""The shimeji.asyncio goals of ``make bench`` (tools/bench.py): the same asyncio program on
MicroPython's asyncio and on shimeji.asyncio (bench_asyncio_facade.py, bench_asyncio_echo.py).
"""


def facade_goals(rows, find, fmt):
    """Goals: the same asyncio program on asyncio and on shimeji.asyncio, met or not."""
    mp = "micropython"
    out = []

    def num(r, key):
        return r.get(key) if r and isinstance(r.get(key), (int, float)) else None

    fs = find(rows, mp, "asyncio facade", "ns per task switch")
    if fs and num(fs, "ref"):
        r = fs["ref"] / fs["shimeji"]
        out.append(("shimeji.asyncio task switch at least 3x faster than asyncio", r >= 3,
                    "%.2fx" % r))
    fg = find(rows, mp, "asyncio facade", "ns per task, create_task+gather")
    if fg and num(fg, "ref"):
        r = fg["ref"] / fg["shimeji"]
        out.append(("shimeji.asyncio create_task+gather at least 1.5x faster", r >= 1.5,
                    "%.2fx" % r))
    er = find(rows, mp, "asyncio echo", "µs per round trip")
    if er and num(er, "ref") and num(er, "shimeji"):
        out.append(("TCP echo, 50 clients: round trips/s at least asyncio's",
                    er["shimeji"] <= er["ref"], "%.0f/s vs %.0f/s"
                    % (1e6 / er["shimeji"], 1e6 / er["ref"])))
    ec = find(rows, mp, "asyncio echo", "server CPU µs per round trip")
    if ec and num(ec, "ref") and num(ec, "shimeji"):  # the server alone, clients elsewhere
        out.append(("TCP echo, 50 clients: server CPU per round trip at most asyncio's",
                    ec["shimeji"] <= ec["ref"], "%.2f µs vs %.2f µs (%.2fx)"
                    % (ec["shimeji"], ec["ref"], ec["ref"] / ec["shimeji"])))
    eb = find(rows, mp, "asyncio echo", "bytes allocated per round trip")
    if eb and num(eb, "ref") is not None and num(eb, "shimeji") is not None:
        out.append(("TCP echo, 50 clients: bytes per round trip at most asyncio's",
                    eb["shimeji"] <= eb["ref"], "%s B vs %s B" % (fmt(eb["shimeji"]),
                                                                 fmt(eb["ref"]))))
    return out
