"""Ctrl-C the demo N times at random moments and count how each run ended.

Usage: python tools/ctrl_c_repro.py [-n 100] [--runtime micropython|cpython] [--direct]
       [--min 0.05] [--max 1.5] [--hang-s 40] [--keep DIR]

Each run starts ``examples/demo.py 30`` as ``make example NAME=demo`` does (MicroPython through
``tools/mp_launch.py``; ``--direct``: the plain ``micropython`` command, SIGINT handled by the
port's own asynchronous handler), waits for its "started" line, sends one SIGINT after a
random delay and classifies the end: ``ok`` (the "stopped by Ctrl-C ... 8 of 8 task slots
free" line, exit status 0), ``signal N`` (killed by a signal: 11 is a segfault), ``hang`` (no
end within ``--hang-s``; a gdb backtrace of every thread is saved when gdb is installed),
``lost`` (ran its 30 s: the Ctrl-C went nowhere) or ``bad`` (anything else). With ``--keep``
the output of every run that was not ``ok`` (and its backtrace) is written to DIR; core files
land in the working directory if ``ulimit -c`` allows them. Prints one line per run that was
not ``ok`` and a tally; exits 1 if any run was not ``ok``. Bounded by ``-n``: no endless loop.
See docs/repl.md, "Ctrl-C", for the figures it gave.
"""

import argparse
import collections
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tools"))

import run_example  # noqa: E402

DONE = re.compile(r"stopped by Ctrl-C after \d+\.\d s: .*; 8 of 8 task slots free$")


def _default_sigint():
    signal.signal(signal.SIGINT, signal.SIG_DFL)  # as a terminal's job has it


def one_run(cmd, env, delay, hang_s):
    """(kind, output, backtrace) of one interrupted run of the demo."""
    proc = subprocess.Popen(cmd, env=env, cwd=os.getcwd(), stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True, preexec_fn=_default_sigint)
    first = proc.stdout.readline() + proc.stdout.readline()
    time.sleep(delay)
    proc.send_signal(signal.SIGINT)
    backtrace = ""
    try:
        out, _ = proc.communicate(timeout=hang_s)
    except subprocess.TimeoutExpired:
        if shutil.which("gdb"):
            backtrace = subprocess.run(
                ["gdb", "-p", str(proc.pid), "-batch", "-ex", "thread apply all bt"],
                capture_output=True, text=True).stdout
        proc.kill()
        out, _ = proc.communicate()
        return "hang", first + out, backtrace
    lines = out.strip().splitlines()
    last = lines[-1] if lines else ""
    if proc.returncode < 0:
        kind = "signal %d" % -proc.returncode
    elif proc.returncode == 0 and DONE.match(last):
        kind = "ok"
    elif last.startswith("done after"):
        kind = "lost"
    else:
        kind = "bad (exit %d)" % proc.returncode
    return kind, first + out, backtrace


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("-n", type=int, default=100)
    ap.add_argument("--runtime", default="micropython", choices=run_example.RUNTIMES)
    ap.add_argument("--direct", action="store_true",
                    help="MicroPython: the plain micropython command, not tools/mp_launch.py")
    ap.add_argument("--min", type=float, default=0.05)
    ap.add_argument("--max", type=float, default=1.5)
    ap.add_argument("--hang-s", type=float, default=40.0)
    ap.add_argument("--keep", help="directory for the output of runs that were not ok")
    args = ap.parse_args(argv)
    cmd, env = run_example.command("demo", args.runtime, ["30"])
    if args.direct and args.runtime == "micropython":
        cmd = [os.path.join(os.path.dirname(sys.executable), "micropython")] + cmd[2:]
    if args.keep:
        os.makedirs(args.keep, exist_ok=True)
    tally = collections.Counter()
    t0 = time.time()
    for i in range(args.n):
        delay = random.uniform(args.min, args.max)
        kind, out, backtrace = one_run(cmd, env, delay, args.hang_s)
        tally[kind] += 1
        if kind != "ok":
            tail = " | ".join(out.strip().splitlines()[-3:])
            print("run %d (SIGINT after %.3f s): %s: %s" % (i, delay, kind, tail), flush=True)
            if args.keep:
                with open(os.path.join(args.keep, "run%d.txt" % i), "w") as f:
                    f.write(out + "\n" + backtrace)
    print("%d runs (%s%s) in %.0f s: %s" % (
        args.n, args.runtime, ", direct" if args.direct else "", time.time() - t0,
        ", ".join("%s %d" % kv for kv in sorted(tally.items()))))
    return 0 if tally["ok"] == args.n else 1


if __name__ == "__main__":
    sys.exit(main())
