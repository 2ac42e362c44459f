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
    for folder, names in (("tools", ["bench.py"]),
                          ("bench", sorted(os.listdir(os.path.join(root, "bench"))))):
        for name in names:
            if name.endswith(".py"):
                with open(os.path.join(root, folder, name), encoding="utf-8") as f:
                    for n, line in enumerate(f, 1):
                        if re.search(r"issue \d", line, re.I):
                            found.append("%s/%s:%d" % (folder, name, n))
    assert found == [], "say what the goal is, not its issue number: %s" % found
