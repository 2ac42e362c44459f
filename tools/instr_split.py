"""Instructions per segment of an I/O wake cycle, split at its system calls (unix port).

Usage: python tools/instr_split.py [--firmware DIR] [--only NAME,...] [--n N]
                                   [--cold [--pages | --all-pages] [--by-fn K]]

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
  arrival and the task running, up to its read;
- ``read -> write``: the read's value delivered to the task, and its loop to the next write.
  bench_io's latency ends when the task holds the value: the wake half plus this segment's
  delivery (its loop and write are the same small bytecode on both runtimes).

``--cold``: what each segment reaches, not only what it runs: callgrind's cache simulation,
with 512 KB copied inside each ``ipoll`` before its system call (the same closure on both
runtimes), as other processes evict a sleeping loop's lines; the last level's misses are then
the distinct 64-byte lines of code and of data a segment touches (the wake half's cold lines:
docs/benchmarks.md, "Session 25: the I/O wake tail"). ``--pages``: the last level as 64 fully
associative 4 KB "lines" (a TLB of 64 entries: where a segment reaches more pages than that,
it counts re-misses too); ``--all-pages``: 1,024 of them and 8 MB copied, so its misses are
the distinct pages ("Session 26: the latency tails"). ``--by-fn K``: the K functions of the
last wake half that reach most lines (emitted native code: one ``0x...`` per block).

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

from instr import PRELUDE, WORKLOADS, layout_prefix

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CALLS = ("write", "poll", "read")  # in a cycle's order: segment k ends at CALLS[k]'s dump
SEGMENTS = ("read -> write", "write -> poll", "poll -> read")
IO_WORKLOADS = ("stream idle wake", "io idle wake", "asyncio stream idle wake")
# --cold: L1s of 16 lines and a last level of 256 KB (64 B lines): flushed before each poll,
# its misses are the distinct lines (code, data) a segment reaches, nearly every one (a line
# still in the small L1s at the poll's return is not counted)
CACHES = ["--I1=1024,2,64", "--D1=1024,2,64", "--LL=262144,16,64"]
# --cold --pages: a last level of 64 fully associative 4 KB "lines": its misses are the
# distinct pages (TLB entries a cold wake needs: each a page walk, two-level in a VM guest)
PAGES = ["--I1=1024,2,64", "--D1=1024,2,64", "--LL=262144,64,4096"]
# --cold --all-pages: 1,024 such "lines" (4 MB) and 8 MB copied in each ipoll: the distinct
# pages of a segment even where it reaches more than 64 (--pages then counts re-misses too)
ALL_PAGES = ["--I1=1024,2,64", "--D1=1024,2,64", "--LL=4194304,1024,4096"]
BIG_FLUSH = 8 << 20
COLD_EVENTS = ("Ir", "code lines", "data lines")

# --cold: each ipoll copies 512 KB (touching 4x the simulated last level) before its system
# call, as
# the other processes of a loaded machine do while the loop sleeps, so the wake half starts
# with every data and unified-cache line cold. The same closure on both runtimes (shimeji's
# poller._ipoll, asyncio's I/O queue's poller), as tools/io_tail.py --split stamps them.
COLD = """
_big = memoryview(bytearray(1 << 20))
_on = [0]
def _cold(ipoll):
    def ipoll_cold(timeout):
        if not _on[0]:
            _on[0] = 1
            print("COLD READY")
            sys.stdin.read(1)
        _big[0:524288] = _big[524288:]
        return ipoll(timeout)
    return ipoll_cold
"""
COLD_SHIMEJI = """
from shimeji.io.poller import IOPoller
_init = IOPoller.__init__
def _cold_init(self, sched):
    _init(self, sched)
    self._ipoll = _cold(self._ipoll)
IOPoller.__init__ = _cold_init
"""
COLD_ASYNCIO = """
from asyncio import core as _core
class _ColdPoll:
    def __init__(self, poll):
        self.register = poll.register
        self.modify = poll.modify
        self.unregister = poll.unregister
        self.ipoll = _cold(poll.ipoll)
_core._io_queue.poller = _ColdPoll(_core._io_queue.poller)
"""


def cold_prelude(code, flush=524288):
    """The flush (``flush`` bytes copied) wrapped around the ``ipoll`` of the runtime ``code``
    runs on."""
    cold = COLD if flush == 524288 else COLD.replace("1 << 20", str(2 * flush)).replace(
        "_big[0:524288] = _big[524288:]", "_big[0:%d] = _big[%d:]" % (flush, flush))
    return cold + (COLD_ASYNCIO if "import asyncio" in code else COLD_SHIMEJI)


def segments(mp, firmware, code, n, last, cold=False, by_fn=None, caches=CACHES, layout=0):
    """{segment: median instructions} over the ``last`` full cycles of ``n``; with ``cold``,
    {segment: {event: median}} of callgrind's cache simulation (``COLD_EVENTS``), the caches
    flushed in each ``ipoll`` before its system call (``cold_prelude``). ``by_fn`` (a dict,
    with ``cold``): filled with the last wake half's {function: [Ir, code lines, data lines]},
    each function's own (``self_costs``)."""
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "w.py")
        with open(path, "w") as f:
            f.write(layout_prefix(layout) + PRELUDE + "TICK = 1000\n"
                    + (cold_prelude(code, BIG_FLUSH if caches is ALL_PAGES else 524288)
                       if cold else "") + code)
        out = os.path.join(tmp, "cg.out")
        env = dict(os.environ, MICROPYPATH=os.pathsep.join([".frozen", firmware]),
                   PYTHONHASHSEED="0")
        cmd = ["valgrind", "--tool=callgrind", "--callgrind-out-file=" + out]
        cmd += ["--dump-before=" + c for c in CALLS]
        cmd += [mp, "-X", "heapsize=32M", path, str(n)]
        if cold:
            stderr = run_cold(cmd[:3] + ["--cache-sim=yes", "--instr-atstart=no"] + caches
                              + cmd[3:], env)
        else:
            stderr = subprocess.run(cmd, env=env, capture_output=True, text=True).stderr
        if "Collected :" not in stderr:
            raise RuntimeError(stderr[-2000:])
        parts = sorted((int(p.rsplit(".", 1)[1]), p) for p in os.listdir(tmp)
                       if re.match(r"cg\.out\.\d+$", p))
        dumps = []
        for _, p in parts[-6 * last - 1:-1]:  # (the last dump is the program's end)
            with open(os.path.join(tmp, p)) as f:
                text = f.read(4096)
            trigger = re.search(r"Trigger: --dump-before=(\w+)", text)
            total = re.search(r"^summary: ([\d ]+)", text, re.M)
            if trigger and total and trigger.group(1) in CALLS:
                if by_fn is not None and trigger.group(1) == "read" and dumps and \
                        dumps[-1][0] == "poll":
                    wake_half = os.path.join(tmp, p)
                dumps.append((trigger.group(1), event_vector(text, total.group(1))))
        if by_fn is not None:
            with open(wake_half, errors="replace") as f:
                by_fn.update(self_costs(f))
        found = {s: [] for s in SEGMENTS}
        for cycle in cycles(dumps)[-last:]:
            for s in SEGMENTS:
                found[s].append(cycle[s])
    if not cold:
        return {s: median([v[0] for v in vs]) for s, vs in found.items()}
    return {s: {e: median([v[k] for v in vs]) for k, e in enumerate(COLD_EVENTS)}
            for s, vs in found.items()}


def run_cold(cmd, env):
    """Run ``cmd`` (callgrind, not instrumenting at start: the start-up and imports under a
    cache simulation took most of the time) and turn its instrumentation on at the first
    ``ipoll`` (the prelude prints ``COLD READY`` there and waits for a byte on stdin);
    returns its stderr."""
    proc = subprocess.Popen(cmd, env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    for line in proc.stdout:
        if line.startswith("COLD READY"):
            subprocess.run(["callgrind_control", "-i", "on", str(proc.pid)],
                           capture_output=True, check=True)
            proc.stdin.write("x")
            break
    proc.stdin.close()
    proc.stdout.read()
    stderr = proc.stderr.read()  # (a few kB: it fits the pipe while stdout is read)
    proc.wait()
    return stderr


def median(xs):
    return sorted(xs)[len(xs) // 2] if xs else None


def self_costs(lines):
    """{function: [Ir, code lines, data lines]} of a callgrind dump with a cache simulation,
    each function's own cost (its callees' left out). Emitted native and viper code is one
    ``0x...`` function per block of executable memory."""
    names = {}
    costs = {}
    fn = events = None
    after_call = False
    for line in lines:
        if line.startswith("events:"):
            events = line.split()[1:]
            continue
        m = re.match(r"(c?fn)=\((\d+)\)(?: (.*))?", line)
        if m:
            if m.group(3):
                names[m.group(2)] = m.group(3).strip()
            if m.group(1) == "fn":
                fn = names.get(m.group(2), m.group(2))
            continue
        if line.startswith("calls="):
            after_call = True  # the next cost line is the call's, inclusive: not fn's own
            continue
        if line[:1].isdigit() or line[:1] in "+-*":
            if after_call:
                after_call = False
                continue
            v = dict(zip(events, [int(x) for x in line.split()[1:]]))
            c = costs.setdefault(fn, [0, 0, 0])
            c[0] += v.get("Ir", 0)
            c[1] += v.get("ILmr", 0)
            c[2] += v.get("DLmr", 0) + v.get("DLmw", 0)
    return costs


def event_vector(text, summary):
    """A dump's totals as a tuple: Ir alone, or with a cache simulation ``COLD_EVENTS`` (Ir,
    the last level's misses of code and of data: reads and writes summed)."""
    names = re.search(r"^events: (.*)$", text, re.M).group(1).split()
    v = dict(zip(names, [int(x) for x in summary.split()]))
    if "ILmr" not in v:
        return (v["Ir"],)
    return (v["Ir"], v.get("ILmr", 0), v.get("DLmr", 0) + v.get("DLmw", 0))


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
            was = cur.get(seg)
            cur[seg] = total if was is None else tuple(a + b for a, b in zip(was, total))
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
    ap.add_argument("--cold", action="store_true",
                    help="cache simulation, every cache flushed before each poll: per segment "
                         "the instructions, L1 misses and distinct code and data lines")
    ap.add_argument("--pages", action="store_true",
                    help="with --cold: count 4 KB pages, not 64 B lines (misses of 64 entries)")
    ap.add_argument("--all-pages", action="store_true",
                    help="with --cold: distinct 4 KB pages (1,024 entries, 8 MB flushed)")
    ap.add_argument("--layouts", default="0",
                    help="with --cold: qstr layouts (tools/instr.py's), the figures' mean")
    ap.add_argument("--by-fn", type=int, default=0, metavar="K",
                    help="with --cold: also the K functions reaching most lines in the last wake "
                         "half (poll -> read), their own lines")
    args = ap.parse_args(argv)
    names = args.only.split(",") if args.only else list(IO_WORKLOADS)
    if args.cold:
        args.pages = args.pages or args.all_pages
        what = ("code pages", "data pages", "pages") if args.pages else \
            ("code lines", "data lines", "lines")
        print("%-26s %-14s %8s %10s %10s %8s" % (("workload", "segment", "Ir") + what))
    else:
        print("%-26s %14s %14s %14s %10s" % (("workload",) + SEGMENTS + ("cycle",)))
    for name in names:
        code = "import gc\ngc.disable()\n" + WORKLOADS[name]
        by_fn = {} if args.cold and args.by_fn else None
        layouts = [int(k) for k in args.layouts.split(",")] if args.cold else [0]
        runs = [segments(args.micropython, args.firmware, code, args.n, min(40, args.n // 2),
                         args.cold, by_fn, ALL_PAGES if args.all_pages else
                         PAGES if args.pages else CACHES, k) for k in layouts]
        seg = runs[0] if len(runs) == 1 else {
            s: {e: sum(r[s][e] for r in runs) / len(runs) for e in COLD_EVENTS}
            for s in SEGMENTS}
        if None in seg.values():
            print("%-26s no full cycle found (%r)" % (name, seg))
            continue
        if args.cold:
            for s in SEGMENTS:
                v = [seg[s][e] for e in COLD_EVENTS]
                print("%-26s %-14s %8.0f %10.1f %10.1f %8.1f" % (
                    (name, s) + tuple(v) + (v[1] + v[2],)), flush=True)
            for f, (ir, code_lines, data_lines) in sorted(
                    (by_fn or {}).items(), key=lambda kv: -kv[1][1] - kv[1][2])[:args.by_fn]:
                print("    %-48s %6d Ir %4d code %4d data" % (f[:48], ir, code_lines,
                                                              data_lines))
            continue
        print("%-26s %14d %14d %14d %10d" % ((name,) + tuple(seg[s] for s in SEGMENTS)
                                             + (sum(seg.values()),)), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
