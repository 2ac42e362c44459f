"""Instruction counts per operation of shimeji's hot paths, on the MicroPython unix port.

Usage: python tools/instr.py [--firmware DIR] [--only NAME,...] [--n N] [--calls]

Each workload runs under ``valgrind --tool=callgrind`` twice, with N and 2N operations; the
difference divided by N is the cost of one operation, with start-up, imports and compilation
cancelled out. A workload that prints ``FIRED <count>`` (the tickless ones: their loops stop at
a check that overshoots N) is divided by the difference of the counts instead, and pairs of a
shimeji and an asyncio workload (``RATIOS``) print their ratio. Counts are repeatable to a
fraction of a percent, unlike wall-clock times on a shared machine (see docs/benchmarks.md,
"Timer tuning log"). ``--firmware`` measures another checkout (say, main's) for a before/after
table. ``--calls`` also prints, per operation, how many times the VM's runtime helpers behind
attribute access, subscripts and object tests were called (``RUNTIME_CALLS``): what a hot
path's Python-level operations cost, by kind.
"""

import argparse
import os
import re
import subprocess
import sys
import tempfile

import instr_executor
import instr_prototypes
import instr_spawn
import instr_switch
import instr_timers
import instr_wake

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

PRELUDE = """
import sys
from shimeji import FakeClock, StaticScheduler, Timer, TimerEntry, TimerWheel, sleep_ms
N = int(sys.argv[1])
"""

# Pairs printed as a ratio when both are measured: (shimeji's, asyncio's).
TIMER_RATIOS = instr_timers.RATIOS  # (per fired timer: both print FIRED)
RATIOS = TIMER_RATIOS + instr_spawn.RATIOS


def merged(*tables):
    """One {name: program} of the workload tables, in their order; a name twice is an error
    (a row added to two tables would measure only one of them)."""
    out = {}
    for table in tables:
        for name, code in table.items():
            if name in out:
                raise ValueError("workload %r is in two tables" % name)
            out[name] = code
    return out


WORKLOADS = merged(instr_executor.WORKLOADS, instr_timers.WORKLOADS, instr_prototypes.WORKLOADS,
                   instr_spawn.WORKLOADS, instr_switch.WORKLOADS, instr_wake.WORKLOADS)


# The runtime helpers ``--calls`` counts: attribute loads and stores, method look-ups,
# subscripts (loads and stores), binary and unary operations on objects (in native and viper
# code an ``is`` between objects is one of these too), and truth tests of objects.
RUNTIME_CALLS = ("mp_load_attr", "mp_store_attr", "mp_load_method", "mp_obj_subscr",
                 "mp_binary_op", "mp_unary_op", "mp_obj_is_true")


def calls_to(lines, names):
    """{name: calls} summed over a callgrind output file's ``calls=`` lines to each function
    in ``names`` (names as callgrind prints them, compressed ``(id)`` references resolved)."""
    ids = {}
    total = dict.fromkeys(names, 0)
    callee = None
    for line in lines:
        if line.startswith(("fn=", "cfn=")):
            key, _, rest = line.partition("=")
            m = re.match(r"\((\d+)\)(?: (.*))?", rest.strip())
            if m:
                if m.group(2):
                    ids[m.group(1)] = m.group(2)
                name = ids.get(m.group(1), "")
            else:
                name = rest.strip()
            callee = name if key == "cfn" else None
        elif line.startswith("calls=") and callee in total:
            total[callee] += int(line[6:].split()[0])
    return total


def layout_prefix(k):
    """Source that interns ``k`` names before shimeji loads (a function never called): every
    later qstr is renumbered, as by an unrelated change, which moves look-ups in and out of
    MicroPython's map look-up cache (``--layouts``)."""
    if not k:
        return ""
    return "def _layout():\n    return (%s)\n" % ", ".join("_lay%d" % i for i in range(k))


def count(mp, firmware, code, n, tick, calls=None, layout=0):
    """(instructions, operations) of one run of ``code`` with ``n``: the operations are what
    the program printed as ``FIRED <count>`` (the timers it actually fired), else ``n``; with
    ``calls`` (a dict), also the calls to each of ``RUNTIME_CALLS``, stored in it."""
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "w.py")
        with open(path, "w") as f:
            f.write(layout_prefix(layout) + PRELUDE + "TICK = %d\n" % tick + code)
        out = os.path.join(tmp, "cg.out")
        # PYTHONHASHSEED: the unix port here is a CPython extension run by a CPython script,
        # and CPython's randomised string hashes moved its dict work between the N and 2N
        # runs by +-100 instructions per operation (a switch: 3,120 or 3,248 for one tree)
        env = dict(os.environ, MICROPYPATH=os.pathsep.join([".frozen", firmware]),
                   PYTHONHASHSEED="0")
        proc = subprocess.run(["valgrind", "--tool=callgrind", "--callgrind-out-file=" + out,
                               mp, "-X", "heapsize=32M", path, str(n)], env=env,
                              capture_output=True, text=True)
        m = re.search(r"Collected : (\d+)", proc.stderr)
        if not m:
            raise RuntimeError(proc.stderr[-2000:])
        if calls is not None:
            with open(out, errors="replace") as f:
                calls.update(calls_to(f, RUNTIME_CALLS))
        return int(m.group(1)), operations(proc.stdout, n)


def operations(stdout, n):
    """The operations a run counted: its ``FIRED <count>`` line's (the timers it fired), else
    ``n`` (the workloads whose loop runs exactly ``n`` operations)."""
    fired = re.search(r"^FIRED (\d+)$", stdout, re.M)
    return int(fired.group(1)) if fired else n


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--micropython", default=os.path.join(ROOT, ".venv", "bin", "micropython"))
    ap.add_argument("--firmware", default=os.path.join(ROOT, "firmware"))
    ap.add_argument("--only")
    ap.add_argument("--n", type=int, default=2000)
    ap.add_argument("--tick-us", type=int, default=1000)
    ap.add_argument("--gc-off", action="store_true",
                    help="gc.disable() first: a collection of the 32 MB heap (tens of millions "
                         "of instructions) falls in the N or the 2N run depending on a few bytes "
                         "more or less, which moves allocating workloads by ~1k per operation")
    ap.add_argument("--calls", action="store_true",
                    help="also print the runtime helper calls per operation (RUNTIME_CALLS)")
    ap.add_argument("--layouts", default="0",
                    help="qstr layouts to measure each workload on, comma-separated: N names "
                         "interned before shimeji loads (e.g. 0,5,17,40); prints each and "
                         "their mean (a change's effect apart from the look-up cache's)")
    args = ap.parse_args(argv)
    layouts = [int(k) for k in args.layouts.split(",")]
    names = args.only.split(",") if args.only else list(WORKLOADS)
    means = {}
    for name in names:
        code = WORKLOADS[name]
        if args.gc_off:
            code = "import gc\ngc.disable()\n" + code
        per = []
        ops = []
        for layout in layouts:
            ca = {} if args.calls else None
            cb = {} if args.calls else None
            a, na = count(args.micropython, args.firmware, code, args.n, args.tick_us, ca,
                          layout)
            b, nb = count(args.micropython, args.firmware, code, 2 * args.n, args.tick_us, cb,
                          layout)
            per.append((b - a) / (nb - na))
            ops.append(nb - na)
        means[name] = sum(per) / len(per)
        what = "operation"
        if "FIRED" in code:  # divided by the timers fired, not by N (counted: per layout)
            what = "fired timer (%s fired for N)" % "/".join("%d" % o for o in ops)
        if len(layouts) == 1:
            print("%-24s %10.0f instructions per %s" % (name, per[0], what), flush=True)
        else:
            print("%-24s %10.0f instructions per %s (mean; layouts %s: %s)" % (
                name, means[name], what, args.layouts,
                " / ".join("%.0f" % v for v in per)), flush=True)
        if args.calls:  # (of the last layout)
            print("    calls per operation: " + ", ".join(
                "%s %.1f" % (k, (cb[k] - ca[k]) / (nb - na)) for k in RUNTIME_CALLS),
                flush=True)
    for ours, theirs in RATIOS:
        if ours in means and theirs in means:
            print("%s / %s: %.3f" % (ours, theirs, means[ours] / means[theirs]), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
