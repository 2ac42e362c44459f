"""The tickless lateness tail, round by round: shimeji against MicroPython's asyncio.

Usage: python tools/timers_tail.py [--runs 3] [--rounds 4] [--micropython PATH]
                                   [--save FILE] [--load FILE ...]

Runs ``bench/timers_oversleep.py`` (bench_timers' tickless and asyncio loops, 200 tasks x 20
sleeps of 1-7 ms, with every idle and sleep timed) in ``--runs`` MicroPython processes of
``--rounds`` rounds each (a round: one tickless run, then one asyncio run), and prints per round
the load average, each runtime's lateness p50 / p90 / p99 / max, the p99 ratio against the
goal (at most half of asyncio's), the idles and their worst oversleep (the kernel's late
wake), and what the round's slowest 1 % of sleeps were made of (``over`` / ``asked`` /
``queue`` / ``busy``: timers_oversleep.py's docstring). Then: in how many rounds each runtime
overslept an idle by more than 1 ms, the rounds' p99 with and without such a stall, and the
goal as bench_timers would judge it with k rounds pooled (its samples, then p99 of each
runtime). ``--save`` keeps the rounds (JSON lines with every sleep's lateness), ``--load``
reads saved ones instead of running. docs/benchmarks.md, "Lateness tails, session 21".
"""

import argparse
import json
import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
STALL_US = 1000  # an idle's oversleep from which on the round counts as stalled


def run_rounds(mp, runs, rounds):
    """The OVERSLEEP records of ``runs`` processes of ``rounds`` rounds, in order."""
    env = dict(os.environ)
    env["MICROPYPATH"] = os.pathsep.join([".frozen", os.path.join(ROOT, "firmware"),
                                          os.path.join(ROOT, "bench")])
    script = os.path.join(ROOT, "bench", "timers_oversleep.py")
    out = []
    for _ in range(runs):
        proc = subprocess.run([mp, "-X", "heapsize=32M", script, str(rounds), "raw"], env=env,
                              cwd=ROOT, capture_output=True, text=True, timeout=600)
        if proc.returncode:
            sys.exit("timers_oversleep.py failed: %s" % proc.stderr.strip()[-500:])
        out += [json.loads(line[10:]) for line in proc.stdout.splitlines()
                if line.startswith("OVERSLEEP ")]
    return out


def p99(xs):
    """bench_timers' p99: sorted(xs)[n * 99 // 100]."""
    s = sorted(xs)
    return s[min(len(s) - 1, (len(s) * 99) // 100)]


def pairs(records):
    """(tickless, asyncio) records, round by round."""
    tl = [r for r in records if r["rt"] == "tickless"]
    asy = [r for r in records if r["rt"] == "asyncio"]
    return list(zip(tl, asy))


def pooled_goal(rounds, k):
    """bench_timers' goal with ``k`` rounds pooled: (met, of) over consecutive groups."""
    met = n = 0
    for i in range(0, len(rounds) - k + 1, k):
        group = rounds[i:i + k]
        a = p99([x for t, _ in group for x in t["lates"]])
        b = p99([x for _, s in group for x in s["lates"]])
        met += 2 * a <= b
        n += 1
    return met, n


def table(rounds):
    print("| round | load | tickless p50 / p90 / p99 / max | asyncio p50 / p90 / p99 / max "
          "| p99 ratio | idles, worst oversleep (tickless; asyncio) | slowest 1 %: over / "
          "asked / queue / busy (tickless; asyncio) |")
    print("|---:|---:|---|---|---:|---|---|")
    for i, (t, a) in enumerate(rounds):
        r = t["late"][2] / max(1, a["late"][2])
        print("| %d | %.1f | %s | %s | %.2f%s | %d, %s; %d, %s | %s; %s |" % (
            i + 1, t["load"], " / ".join(format(x, ",") for x in t["late"]),
            " / ".join(format(x, ",") for x in a["late"]), r,
            " met" if 2 * t["late"][2] <= a["late"][2] else "", t["idles"],
            format(t["over"][2], ","), a["idles"], format(a["over"][2], ","),
            " / ".join("%d %%" % x for x in t["blame"]),
            " / ".join("%d %%" % x for x in a["blame"])))


def summary(rounds):
    n = len(rounds)
    for k, name in ((0, "tickless"), (1, "asyncio")):
        stalled = [p[k] for p in rounds if p[k]["over"][2] > STALL_US]
        calm = [p[k] for p in rounds if p[k]["over"][2] <= STALL_US]
        print("%s: an idle overslept > %d µs in %d of %d rounds (p99 %s); calm rounds' p99 %s; "
              "idles %d-%d" % (
                  name, STALL_US, len(stalled), n, _span([r["late"][2] for r in stalled]),
                  _span([r["late"][2] for r in calm]),
                  min(p[k]["idles"] for p in rounds), max(p[k]["idles"] for p in rounds)))
    for k in (1, 2, 6):
        if n >= k:
            print("goal with %d round%s pooled: met %d of %d" % (
                (k, "" if k == 1 else "s") + pooled_goal(rounds, k)))


def _span(xs):
    return "%d-%d µs" % (min(xs), max(xs)) if xs else "none"


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--micropython", default=os.path.join(ROOT, ".venv", "bin", "micropython"))
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--rounds", type=int, default=4)
    ap.add_argument("--save")
    ap.add_argument("--load", nargs="*")
    args = ap.parse_args(argv)
    if args.load:
        records = []
        for path in args.load:
            with open(path) as f:
                records += [json.loads(line) for line in f if line.strip()]
    else:
        records = run_rounds(args.micropython, args.runs, args.rounds)
        if args.save:
            with open(args.save, "w") as f:
                f.writelines(json.dumps(r) + "\n" for r in records)
    rounds = pairs(records)
    if not rounds:
        sys.exit("no rounds")
    table(rounds)
    summary(rounds)
    return 0


if __name__ == "__main__":
    sys.exit(main())
