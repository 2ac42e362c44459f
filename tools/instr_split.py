"""Instructions per segment of an I/O wake cycle, split at its system calls (unix port).

Usage: python tools/instr_split.py [--firmware DIR] [--only NAME,...] [--n N]

The I/O workloads of ``tools/instr.py`` ("stream idle wake", "io idle wake", "asyncio stream
idle wake") write a byte, wait for it and read it, once per cycle. Run under ``valgrind
--tool=callgrind`` with a profile dump before every ``poll``, ``read`` and ``write`` call,
each dump holds the instructions since the previous one, so a cycle falls into three
segments, named by the calls that bound them:

- ``write -> poll``: the park half: the task's wait and park, the tick's end, the loop's idle
  decision, up to the poll that waits (the byte is already written: it returns at once);
- ``poll -> read``: the wake half: from ``poll`` returning to the task's read of its byte
  (dispatch, the loop's top, the tick's set-up, the task's resumption). With a thread writing
  the byte instead (``make bench``'s wake latency), this is what runs between the data's
  arrival and the task running;
- ``read -> write``: the read's value delivered to the task, and its loop to the next write.

The median of the last cycles (start-up, imports and compilation are left out). Unlike
``tools/instr.py`` this runs once per workload: a dump is a few hundred instructions of
callgrind's own, outside the counts.
"""

import argparse
import os
import re
import subprocess
import sys
import tempfile

from instr import PRELUDE, WORKLOADS

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CALLS = ("write", "poll", "read")  # in a cycle's order: segment k ends at CALLS[k]'s dump
SEGMENTS = ("read -> write", "write -> poll", "poll -> read")
IO_WORKLOADS = ("stream idle wake", "io idle wake", "asyncio stream idle wake")


def segments(mp, firmware, code, n, last):
    """{segment: median instructions} over the ``last`` full cycles of ``n``."""
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "w.py")
        with open(path, "w") as f:
            f.write(PRELUDE + "TICK = 1000\n" + code)
        out = os.path.join(tmp, "cg.out")
        env = dict(os.environ, MICROPYPATH=os.pathsep.join([".frozen", firmware]))
        cmd = ["valgrind", "--tool=callgrind", "--callgrind-out-file=" + out]
        cmd += ["--dump-before=" + c for c in CALLS]
        proc = subprocess.run(cmd + [mp, "-X", "heapsize=32M", path, str(n)], env=env,
                              capture_output=True, text=True)
        if "Collected :" not in proc.stderr:
            raise RuntimeError(proc.stderr[-2000:])
        parts = sorted((int(p.rsplit(".", 1)[1]), p) for p in os.listdir(tmp)
                       if re.match(r"cg\.out\.\d+$", p))
        dumps = []
        for _, p in parts[-6 * last - 1:-1]:  # (the last dump is the program's end)
            with open(os.path.join(tmp, p)) as f:
                text = f.read(4096)
            trigger = re.search(r"Trigger: --dump-before=(\w+)", text)
            total = re.search(r"^summary: (\d+)", text, re.M)
            if trigger and total and trigger.group(1) in CALLS:
                dumps.append((trigger.group(1), int(total.group(1))))
        found = {s: [] for s in SEGMENTS}
        for cycle in cycles(dumps)[-last:]:
            for s in SEGMENTS:
                found[s].append(cycle[s])
    return {s: sorted(v)[len(v) // 2] if v else None for s, v in found.items()}


def cycles(dumps):
    """The full cycles in ``dumps`` ((trigger, instructions) in order), each {segment: sum}.
    A dump belongs to the segment named by the calls that bound it: the one ending at a poll
    to ``write -> poll``, the one from a poll to a read to ``poll -> read``, the rest (the
    value's delivery, a second read such as ``readinto``'s EAGAIN) to ``read -> write``; a
    cycle ends at its write."""
    done = []
    cur = {}
    prev = None
    for trigger, total in dumps:
        if prev is not None:
            if trigger == "poll":
                seg = "write -> poll"
            elif trigger == "read" and prev == "poll":
                seg = "poll -> read"
            else:
                seg = "read -> write"
            cur[seg] = cur.get(seg, 0) + total
        if trigger == "write":
            if len(cur) == len(SEGMENTS):
                done.append(cur)
            cur = {}
        prev = trigger
    return done


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--micropython", default=os.path.join(ROOT, ".venv", "bin", "micropython"))
    ap.add_argument("--firmware", default=os.path.join(ROOT, "firmware"))
    ap.add_argument("--only")
    ap.add_argument("--n", type=int, default=200, help="cycles run (the last 40 counted)")
    args = ap.parse_args(argv)
    names = args.only.split(",") if args.only else list(IO_WORKLOADS)
    print("%-26s %14s %14s %14s %10s" % (("workload",) + SEGMENTS + ("cycle",)))
    for name in names:
        code = "import gc\ngc.disable()\n" + WORKLOADS[name]
        seg = segments(args.micropython, args.firmware, code, args.n, min(40, args.n // 2))
        if None in seg.values():
            print("%-26s no full cycle found (%r)" % (name, seg))
            continue
        print("%-26s %14d %14d %14d %10d" % ((name,) + tuple(seg[s] for s in SEGMENTS)
                                             + (sum(seg.values()),)), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
