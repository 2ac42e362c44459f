"""Turn a shimeji trace into a Perfetto/Chrome trace and a timeline picture.

Usage:
  python tools/trace.py convert DUMP [--out DIR] [--name NAME]
  python tools/trace.py run EXAMPLE [--seconds N] [--size N] [--out DIR]
  python tools/trace.py pull --port PORT [--expr CODE] [--out DIR] [--name NAME]
  python tools/trace.py top --port PORT [--what NAME]

``convert`` reads a dump (``Trace.dump(file)`` on the board, or what it printed) and writes
``DIR/NAME.json`` (open it at ui.perfetto.dev or chrome://tracing) and ``DIR/NAME.png``.
``run`` runs an example on the MicroPython unix port with a trace attached to every scheduler
it makes (``make trace EXAMPLE=examples/demo.py``), then converts. ``pull`` asks a board (or
the virtual board, ``make vboard``) over mpremote to dump its most recently attached trace.
``top`` (``make top PORT=...``) shows the board's live task table, ``top()``, until Ctrl-C.

The JSON (``trace_export.py``) has one process per scheduler, interrupt level or executor
core, one thread (track) per task with its polls as slices, instant events for wakes, parks,
steals, completions, hogs and deadline misses, flow arrows from a waking task (the timer, or
the poll running on the waking core) to the poll the wake caused and from a steal's victim
core to the stolen task's first poll, and a counter track of the run-queue length.
Timestamps are µs from the first record of any section, unwrapped from the board's 30-bit
ticks. The picture is ``trace_png.py``'s.
"""

import argparse
import json
import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from trace_export import (  # noqa: E402, F401 - the tool's API, re-exported
    ROOT,
    Section,
    TraceFormatError,
    chrome_trace,
    parse,
    polls,
    tasks_of,
)
from trace_png import timeline_png  # noqa: E402


def convert(text, out_dir, name):
    """Parse ``text`` and write ``out_dir/name.json`` and ``.png``; returns their paths."""
    sections = parse(text)
    os.makedirs(out_dir, exist_ok=True)
    jpath = os.path.join(out_dir, name + ".json")
    with open(jpath, "w") as f:
        json.dump(chrome_trace(sections), f)
    ppath = os.path.join(out_dir, name + ".png")
    timeline_png(sections, ppath)
    return jpath, ppath


BOOT = """\
import sys
from shimeji.sched import scheduler as _sched
from shimeji.trace.ring import Trace
_traces = []
_init = _sched.StaticScheduler.__init__
def _traced_init(self, *args, **kw):
    _init(self, *args, **kw)
    if type(self) is _sched.StaticScheduler:
        _traces.append(Trace(%(size)d).attach(self))
_sched.StaticScheduler.__init__ = _traced_init
from shimeji.sched import interrupt as _irq
_iinit = _irq.InterruptScheduler.__init__
def _traced_iinit(self, *args, **kw):
    _iinit(self, *args, **kw)
    _traces.append(Trace(%(size)d).attach(self))
_irq.InterruptScheduler.__init__ = _traced_iinit
while len(sys.argv) > 1:
    sys.argv.pop()
sys.argv.append(%(seconds)r)
try:
    exec(open(%(example)r).read(), {"__name__": "__main__"})
finally:
    with open(%(out)r, "w") as _f:
        for _i, _t in enumerate(_traces):
            _t.detach()
            _t.dump(_f)
"""


def run_example(example, seconds, size, out_dir):
    """Run ``example`` on the unix port with every scheduler traced; returns the dump text."""
    os.makedirs(out_dir, exist_ok=True)
    name = os.path.splitext(os.path.basename(example))[0]
    dump = os.path.abspath(os.path.join(out_dir, name + ".trace"))
    boot = os.path.join(out_dir, "_boot_%s.py" % name)
    with open(boot, "w") as f:
        f.write(BOOT % {"size": size, "seconds": str(seconds), "out": dump,
                        "example": os.path.abspath(example)})
    mp = os.path.join(os.path.dirname(sys.executable), "micropython")
    env = dict(os.environ)
    env["MICROPYPATH"] = os.pathsep.join([
        ".frozen", os.path.join(ROOT, "firmware"), os.path.join(ROOT, "boards", "unix"),
        os.path.dirname(os.path.abspath(example))])
    proc = subprocess.run([mp, "-X", "heapsize=8M", boot], env=env, cwd=ROOT)
    if proc.returncode != 0:
        raise SystemExit("the example failed (exit %d)" % proc.returncode)
    with open(dump) as f:
        return f.read()


PULL = "from shimeji.trace import ring\nring.last.dump()"


def pull(port, expr):
    sys.path.insert(0, os.path.join(ROOT, "tools"))
    import device

    return device.mpremote(port, "exec", expr)


def top_over_mpremote(port, what):
    """Replace this process with mpremote running ``top(what)`` on the board at ``port``."""
    sys.path.insert(0, os.path.join(ROOT, "tools"))
    import device

    code = "from shimeji.trace.table import top\ntop(%s)" % (what or "")
    exe = device.mpremote_exe()
    os.execvp(exe, [exe, "connect", port, "resume", "exec", code])


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    c = sub.add_parser("convert", help="a dump file to .json and .png")
    c.add_argument("dump")
    r = sub.add_parser("run", help="run an example on the unix port, traced, and convert")
    r.add_argument("example")
    r.add_argument("--seconds", default="2")
    r.add_argument("--size", type=int, default=16384)
    p = sub.add_parser("pull", help="dump a board's trace over mpremote and convert")
    p.add_argument("--port", required=True)
    p.add_argument("--expr", default=PULL, help="code that prints a dump (default: %(default)r)")
    t = sub.add_parser("top", help="the live task table of a board, over mpremote")
    t.add_argument("--port", required=True)
    t.add_argument("--what", help="the board's scheduler or background object (a name in its "
                   "REPL; default: the traced or run() scheduler)")
    for s in (c, r, p):
        s.add_argument("--out", default=os.path.join(ROOT, "build", "trace"))
        s.add_argument("--name")
    args = ap.parse_args(argv)
    if args.cmd == "top":
        return top_over_mpremote(args.port, args.what)
    if args.cmd == "convert":
        with open(args.dump) as f:
            text = f.read()
        name = args.name or os.path.splitext(os.path.basename(args.dump))[0]
    elif args.cmd == "run":
        text = run_example(args.example, args.seconds, args.size, args.out)
        name = args.name or os.path.splitext(os.path.basename(args.example))[0]
    else:
        text = pull(args.port, args.expr)
        name = args.name or "board"
    try:
        jpath, ppath = convert(text, args.out, name)
    except TraceFormatError as e:
        print("trace.py: %s" % e)
        return 2
    secs = parse(text)
    print("%d records (%d dropped) -> %s, %s" % (
        sum(len(s.records) for s in secs), sum(s.header.get("dropped", 0) for s in secs),
        os.path.relpath(jpath), os.path.relpath(ppath)))  # from where you are
    return 0


if __name__ == "__main__":
    sys.exit(main())
