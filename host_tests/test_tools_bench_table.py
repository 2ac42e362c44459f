# shimeji: cpython-only (tools/bench.py is a host tool: subprocess, argparse, json)
# The bench table says what its ratio means, marks the rows where shimeji is behind, and names
# each goal by what it is.
import bench

ROWS = [
    {"runtime": "micropython", "workload": "spawn", "unit": "ns", "ref_name": "asyncio",
     "metric": "ns per task, spawn+run+join from a task", "shimeji": 3200, "ref": 1860},
    {"runtime": "micropython", "workload": "switch", "unit": "ns", "ref_name": "asyncio",
     "metric": "ns per task switch (100 tasks x 200 yields)", "shimeji": 380, "ref": 2340},
    {"runtime": "micropython", "workload": "switch", "unit": "ns", "ref_name": "floor",
     "metric": "ns per task switch vs floor", "shimeji": 380, "ref": 100},
    {"runtime": "micropython", "workload": "spawn", "unit": "ns", "ref_name": "asyncio",
     "metric": "ns per task, spawn+run+complete (detached / gather)", "shimeji": 2280,
     "ref": 2510},
]


def test_table_says_what_the_ratio_means_and_marks_rows_behind():
    lines = bench.table(ROWS, ["micropython"]).split("\n")
    assert lines[0].endswith("| ratio (asyncio / shimeji: >1 = shimeji better) |")
    assert [x.rsplit("|", 2)[1].strip() for x in lines[2:]] == [
        "0.58x behind", "6.16x", "3.80x floor", "1.10x"]
    assert "below 1x (marked 'behind') asyncio is" in bench.LEGEND


def test_goals_are_named_by_what_they_are():
    texts = [t for t, _, _ in bench.goals(ROWS)]
    assert texts == ["switch at least 6x faster than asyncio",
                     "switch within 5x of the bare-generator floor",
                     "spawn at least 3x faster than asyncio"]
    assert [m for _, m, _ in bench.goals(ROWS)] == [True, True, False]


def test_bench_names_no_issue_numbers():
    # A reader of `make bench` has no issue tracker: a goal or a row says what it measures.
    import os
    import re

    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    found = []
    tools = sorted(n for n in os.listdir(os.path.join(root, "tools")) if n.startswith("bench"))
    for folder, names in (("tools", tools),
                          ("bench", sorted(os.listdir(os.path.join(root, "bench"))))):
        for name in names:
            if name.endswith(".py"):
                with open(os.path.join(root, folder, name), encoding="utf-8") as f:
                    for n, line in enumerate(f, 1):
                        if re.search(r"issue \d", line, re.I):
                            found.append("%s/%s:%d" % (folder, name, n))
    assert found == [], "say what the goal is, not its issue number: %s" % found


def test_ranges_over_saved_runs(tmp_path):
    import json

    paths = []
    for n, (sh, ref) in enumerate(((3200, 1860), (5268, 1944), (2276, 2509))):
        rows = [dict(ROWS[0], shimeji=sh, ref=ref), ROWS[1]]
        path = tmp_path / ("run%d.json" % n)
        path.write_text(json.dumps({"when": "run %d" % n, "results": rows,
                                    "goals": [{"goal": "g", "met": n == 2, "detail": str(n)}]}))
        paths.append(str(path))
    out = bench.ranges(paths).split("\n")
    assert out[0] == "3 runs: run 0, run 1, run 2"
    rows = [x for x in out if x.startswith("| micropython")]
    assert rows == [
        "| micropython | spawn | ns per task, spawn+run+join from a task | 2,276-5,268 | "
        "1,860-2,509 | 0.37-1.10x (behind in some runs) |",
        "| micropython | switch | ns per task switch (100 tasks x 200 yields) | 380 | 2,340 | "
        "6.16x |"]
    assert out[-1] == "  [met in 1 of 3 runs] g: 0; 1; 2"
    assert bench.span([-954, -854], bench.fmt) == "-954 to -854"


def test_goal_names_are_unique():
    # --ranges counts each goal's runs by its name: two goals may not share one.
    import bench_timing_goals

    rows = []
    for metric in ("µs late, 1 ms ticks, p99", "CPU ns per timer fired, 1 ms ticks",
                   "µs late, tickless, p99", "CPU ns per timer fired, tickless"):
        rows.append({"runtime": "micropython", "workload": "timers", "unit": "us",
                     "ref_name": "asyncio", "metric": metric, "shimeji": 5000, "ref": 4000})
    texts = [t for t, _, _ in bench.goals(rows)]
    texts += [t for t, _, _ in bench_timing_goals.goals(rows, bench.find)]
    assert len(texts) >= 4 and len(texts) == len(set(texts)), texts


def test_the_memory_workload_reports_numbers_that_the_table_formats():
    # bench_memory once reported "972 / 1292" (a string) as a figure, and `make bench` stopped
    # at its table with "ValueError: Cannot specify ',' with 's'" after 7 minutes of runs.
    import os
    import sys

    import mptest

    exe = mptest.find_micropython(None)
    if exe is None:  # (make test always has it: make venv installs it)
        exe = os.path.join(os.path.dirname(sys.executable), "micropython")
    rows, _ = bench.run_workload("micropython", exe, "memory")
    assert rows and not [r for r in rows if r["metric"].startswith("FAILED")], rows
    for r in rows:
        for key in ("shimeji", "ref"):
            assert r.get(key) is None or isinstance(r[key], (int, float)), r
    assert bench.table(rows, ["micropython"]).count("\n") == len(rows) + 1
