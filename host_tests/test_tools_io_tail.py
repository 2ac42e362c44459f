# shimeji: cpython-only (tools/io_tail.py is a host tool: subprocess, argparse, json)
# tools/io_tail.py reads saved sets of per-sample wake latencies: bench_io's percentile (p99 of
# 200 is the second-slowest), the slowest two of each set and what they have in common, and
# the back-to-back pairs in which shimeji's p99 is no worse than asyncio's.
import io_tail


def _set(runtime, run, lat, first=None):
    lat = list(lat)
    if first is not None:
        lat[0] = first
    n = len(lat)
    return {"runtime": runtime, "run": run, "set": 0, "lat": lat, "wr": [20] * n,
            "late": [0] * n, "it": [1] * n, "idl": [1] * n, "polls": [0] * n,
            "alloc": 100, "vcsw": n, "ivcsw": 0, "load": 0.5}


def test_p99_of_200_is_the_second_slowest():
    lat = list(range(200))
    assert io_tail.pct(lat, 99) == 198 and io_tail.pct(lat, 50) == 100


def test_the_slow_samples_and_the_first_wake(capsys):
    base = [50] * 200
    sets = [_set("shimeji", 0, base, first=120), _set("asyncio", 0, base, first=100)]
    sets[0]["lat"][7] = 300  # the slowest, not the first: p99 is then the first wake
    io_tail.describe(sets, "shimeji")
    out = capsys.readouterr().out
    assert "sets' p50 50-50 (median 50) µs; p99 120-120" in out
    assert "p99 without the set's first wake 50-50" in out
    assert "slowest two per set (2 samples): 1 are a set's first wake" in out
    io_tail.pairs(sets)
    assert "0 of 1 back-to-back set pairs; 0 of 1 runs" in capsys.readouterr().out


def test_the_split_at_the_polls_return(capsys):
    # --split: lat - woke is the write and the kernel's wake, woke the runtime's wake half;
    # pooled without each set's first wake
    d = _set("shimeji", 0, [50] * 200, first=900)
    d["woke"] = [500] + [10] * 150 + [30] * 50
    io_tail.describe([d], "shimeji")
    out = capsys.readouterr().out
    assert "the write and the kernel's wake (stamp to the poll's return): q10 20, q50 40" in out
    assert "q98 40, q99 40 µs" in out
    assert "the wake half (the poll's return to the byte in the task): q10 10, q50 10" in out
    assert "q75 30, q90 30" in out


def test_no_split_without_its_column(capsys):
    io_tail.describe([_set("asyncio", 0, [50] * 200)], "asyncio")
    assert "wake half" not in capsys.readouterr().out


def test_what_if_resamples_bench_io_runs_with_faster_wakes(capsys):
    # shimeji's wakes 10 µs behind asyncio's in every set: never no worse as measured or 5 µs
    # faster, always at 10; the share is per shift, of resampled 5 + 5 set runs
    sets = [_set("shimeji", 0, [60] * 200), _set("shimeji", 1, [62] * 200),
            _set("asyncio", 0, [50] * 200), _set("asyncio", 1, [52] * 200)]
    assert io_tail.what_if(sets, shifts=(0, 5, 12), trials=50) == {0: 0, 5: 0, 12: 100}
    assert "0 µs: no worse in 0 %; 5 µs: no worse in 0 %; 12 µs: no worse in 100 %" in (
        capsys.readouterr().out)
    assert io_tail.what_if(sets[:2]) == {}  # one runtime only: nothing to compare


def test_what_each_sets_p99_sample_was(capsys):
    # set 0's second-slowest is its first wake (the slowest is wake 7); set 1's is wake 9, a
    # wake whose excess is before the poll's return (lat - woke), its wake half the usual
    a = _set("shimeji", 0, [50] * 200, first=120)
    a["lat"][7] = 300
    a["woke"] = [40] + [10] * 199
    b = _set("shimeji", 1, [50] * 200, first=60)
    b["lat"][9] = 400
    b["lat"][11] = 500
    b["woke"] = [30] + [10] * 199
    io_tail.anatomy([a, b])
    out = capsys.readouterr().out
    assert "the set's first wake in 1 of 2 sets; first wakes q50 120 µs (range 60-120)" in out
    assert "their wake half q50 40 µs (later wakes' 10)" in out
    assert "the p99 samples' stamp to poll return q50 390 µs (all wakes' 40)" in out
    assert "wake half q50 40 (all 10)" in out


def test_page_faults_and_migrations_per_set(capsys):
    d = _set("asyncio", 0, [50] * 200)
    d["migr"], d["minflt"] = 2, 21
    io_tail.describe([d], "asyncio")
    assert "the reader's CPU migrations 2-2; the process's minor page faults 21-21" in (
        capsys.readouterr().out)
