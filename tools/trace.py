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

The JSON has one process per scheduler, one thread (track) per task with its polls as slices,
instant events for wakes, parks, completions, hogs and deadline misses, flow arrows from a
waking task (or the timer) to the poll the wake caused, and a counter track of the run-queue
length. Timestamps are µs from the first record, unwrapped from the board's 30-bit ticks.
"""

import argparse
import json
import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "firmware"))

from shimeji.trace import kinds as K  # noqa: E402

MASK = (1 << 30) - 1
HALF = 1 << 29
WAKES = (K.WAKE_TASK, K.WAKE_EXTERNAL, K.WAKE_TIMER, K.CROSS_CORE_WAKE)
MISSES = (K.DEADLINE_MISS, K.INTERVAL_MISS)
WAKE_FROM = {K.WAKE_EXTERNAL: "interrupt/thread", K.WAKE_TIMER: "timer",
             K.CROSS_CORE_WAKE: "another core"}


class TraceFormatError(Exception):
    """The input is not a shimeji trace dump."""


class Section:
    """One dumped ring: ``header`` (dict), ``names`` (task id -> name), ``records``
    (``(ts, kind, task, arg)``, ts unwrapped to µs from the section's first record)."""

    def __init__(self, header):
        self.header = header
        self.names = {}
        self.raw = []
        self.records = []

    @property
    def label(self):
        return self.header.get("label", "scheduler")

    def name(self, task):
        n = self.names.get(task)
        return "%d %s" % (task, n) if n else "task %d" % task


def parse(text):
    """The sections of a dump (text with other lines around it is fine: a REPL's output)."""
    sections = []
    cur = None
    for line in text.splitlines():
        line = line.strip()
        if line.startswith("shimeji-trace "):
            parts = line.split()
            header = {"version": parts[1]}
            for p in parts[2:]:
                k, _, v = p.partition("=")
                header[k] = int(v) if v.isdigit() else v
            cur = Section(header)
            sections.append(cur)
        elif cur is None:
            continue
        elif line == "end":
            _unwrap(cur)
            cur = None
        elif line.startswith("N "):
            _, tid, name = line.split(" ", 2)
            cur.names[int(tid, 16)] = name
        elif line:
            try:
                ts, kind, task, arg = (int(x, 16) for x in line.split())
            except ValueError:
                raise TraceFormatError("not a trace record: %r" % line) from None
            cur.raw.append((ts, kind, task, arg))
    if cur is not None:
        raise TraceFormatError("the dump ends without its 'end' line (cut short?)")
    if not sections:
        raise TraceFormatError("no 'shimeji-trace' header found: is this a Trace.dump()?")
    return sections


def _unwrap(section):
    # Ticks wrap at 2**30; records moved from the side ring may be a little older than the one
    # before them: follow signed differences, then sort stably by time.
    out = []
    t = 0
    prev = None
    for ts, kind, task, arg in section.raw:
        if prev is not None:
            t += ((ts - prev + HALF) & MASK) - HALF
        prev = ts
        out.append((t, kind, task, arg))
    base = min((r[0] for r in out), default=0)
    section.records = sorted(((r[0] - base,) + r[1:] for r in out), key=lambda r: r[0])


def polls(section):
    """``{task: [(begin, end, end_kind), ...]}`` from the POLL_BEGIN/POLL_END pairs."""
    open_at = {}
    out = {}
    for t, kind, task, arg in section.records:
        if kind == K.POLL_BEGIN:
            open_at[task] = t
        elif kind == K.POLL_END and task in open_at:
            out.setdefault(task, []).append((open_at.pop(task), t, arg))
    return out


def tasks_of(section):
    return sorted({r[2] for r in section.records if r[2]})


def chrome_trace(sections):
    """The Chrome/Perfetto trace-event JSON object for ``sections``."""
    ev = []
    flow = 0
    for pid0, sec in enumerate(sections):
        pid = pid0 + 1
        ev.append({"ph": "M", "name": "process_name", "pid": pid, "tid": 0,
                   "args": {"name": "%s %d" % (sec.label, pid0)}})
        ev.append({"ph": "M", "name": "thread_name", "pid": pid, "tid": 0,
                   "args": {"name": "scheduler (timer, run queue)"}})
        for task in tasks_of(sec):
            ev.append({"ph": "M", "name": "thread_name", "pid": pid, "tid": task,
                       "args": {"name": sec.name(task)}})
            ev.append({"ph": "M", "name": "thread_sort_index", "pid": pid, "tid": task,
                       "args": {"sort_index": task}})
        for task, spans in polls(sec).items():
            for b, e, end in spans:
                ev.append({"ph": "X", "name": "poll", "cat": "poll", "pid": pid, "tid": task,
                           "ts": b, "dur": e - b,
                           "args": {"ended": K.END_NAMES[end] if end < len(K.END_NAMES)
                                    else end}})
        pending = {}  # woken task -> flow ids waiting for its next poll
        fired = None  # when the timer last fired
        state = {}
        queued = 0
        for t, kind, task, arg in sec.records:
            where = {"pid": pid, "tid": task, "ts": t}
            if kind in WAKES:
                src = sec.name(arg) if kind == K.WAKE_TASK else WAKE_FROM[kind]
                ev.append(dict(where, ph="i", s="t", name="wake", cat="wake",
                               args={"from": src}))
                if kind == K.WAKE_TASK or (kind == K.WAKE_TIMER and fired is not None):
                    flow += 1  # from the waker's poll, or from the timer turn's slice
                    ev.append({"ph": "s", "id": flow, "name": "wake", "cat": "wake",
                               "pid": pid, "tid": arg if kind == K.WAKE_TASK else 0,
                               "ts": t if kind == K.WAKE_TASK else fired})
                    pending.setdefault(task, []).append(flow)
            elif kind == K.POLL_BEGIN:
                for fid in pending.pop(task, ()):
                    ev.append({"ph": "f", "bp": "e", "id": fid, "name": "wake", "cat": "wake",
                               "pid": pid, "tid": task, "ts": t})
            elif kind == K.PARK:
                ev.append(dict(where, ph="i", s="t", name="park", cat="park",
                               args={"on": K.PARK_NAMES[arg] if arg < len(K.PARK_NAMES)
                                     else arg}))
            elif kind == K.TIMER_FIRE:
                fired = t
                ev.append({"ph": "X", "name": "timer fire", "cat": "timer", "pid": pid,
                           "tid": 0, "ts": t, "dur": 0, "args": {"entries": arg}})
            elif kind == K.SPAWN:
                ev.append(dict(where, ph="i", s="t", name="spawn", cat="task",
                               args={"by": sec.name(arg) if arg else "run loop"}))
            elif kind != K.POLL_END:
                name = K.KIND_NAMES.get(kind, "kind %d" % kind).replace("_", " ")
                ev.append(dict(where, ph="i", s="t", name=name, cat="event", args={"arg": arg}))
            prev = state.get(task)
            new = _next_state(prev, kind, arg)
            if task and new is not None and new != prev:
                queued += (new == "queued") - (prev == "queued")
                state[task] = new
                ev.append({"ph": "C", "name": "run queue", "pid": pid, "tid": 0, "ts": t,
                           "args": {"tasks": queued}})
    first = sections[0].header if sections else {}
    return {"traceEvents": ev, "displayTimeUnit": "ms",
            "otherData": {"source": "shimeji Trace.dump", "dropped": first.get("dropped", 0),
                          "sections": len(sections)}}


def _next_state(cur, kind, arg):
    if kind == K.SPAWN or kind in WAKES:
        return "queued"
    if kind == K.POLL_BEGIN:
        return "running"
    if kind == K.POLL_END:
        if arg == K.END_PARK:
            return "waiting"
        return "done" if arg == K.END_DONE else "queued"
    if kind in (K.COMPLETE, K.FAIL, K.CANCEL):
        return "done"
    return cur


def timeline_png(sections, path, width=1600, height=900, zoom_ms=30.0):
    """A timeline picture: one lane per task (polls as bars, wakes as ticks, deadline misses
    as red crosses), the whole trace above and a ``zoom_ms`` window below (around the first
    deadline miss, else the busiest stretch)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    sec = sections[0]
    lanes = tasks_of(sec)
    span = polls(sec)
    end_ms = max((r[0] for r in sec.records), default=0) / 1000 or 1.0
    misses = [r for r in sec.records if r[1] in MISSES]
    centre = misses[0][0] / 1000 if misses else _busiest(sec, zoom_ms)
    lo = max(0.0, min(centre - zoom_ms / 2, end_ms - zoom_ms))
    fig, axes = plt.subplots(2, 1, figsize=(width / 100, height / 100), dpi=100)
    for ax, (x0, x1), title in (
            (axes[0], (0, end_ms), "the whole trace (%.0f ms)" % end_ms),
            (axes[1], (lo, lo + zoom_ms), "zoom: %.0f ms from %.1f ms%s" % (
                zoom_ms, lo, " (around the first deadline miss)" if misses else ""))):
        _lanes(ax, sec, lanes, span, x0, x1)
        ax.set_title(title, fontsize=11, loc="left")
    axes[1].set_xlabel("ms since the first record")
    axes[0].legend(handles=_legend(), loc="upper right", fontsize=9, ncol=5)
    fig.suptitle("shimeji trace: %d records of %s, %d dropped" % (
        len(sec.records), sec.label, sec.header.get("dropped", 0)), fontsize=13)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


COLORS = {"poll": "#4477aa", K.WAKE_TASK: "#228833", K.WAKE_EXTERNAL: "#ee7733",
          K.WAKE_TIMER: "#aa3377", "miss": "#cc0000"}


def _lanes(ax, sec, lanes, span, x0, x1):
    ys = {task: i for i, task in enumerate(lanes)}
    for task in lanes:
        bars = [(b / 1000, max(e - b, 1) / 1000) for b, e, _ in span.get(task, ())
                if e / 1000 >= x0 and b / 1000 <= x1]
        ax.broken_barh(bars, (ys[task] - 0.3, 0.6), facecolors=COLORS["poll"],
                       edgecolors=COLORS["poll"], linewidth=0.6)
    for t, kind, task, _arg in sec.records:
        ms = t / 1000
        if task not in ys or not x0 <= ms <= x1:
            continue
        if kind in COLORS:
            ax.plot([ms], [ys[task] + 0.42], marker="|", markersize=9, color=COLORS[kind],
                    linestyle="none")
        elif kind in MISSES:
            ax.plot([ms], [ys[task]], marker="x", markersize=11, mew=2.2, color=COLORS["miss"],
                    linestyle="none")
    ax.set_yticks(range(len(lanes)))
    ax.set_yticklabels([sec.name(t) for t in lanes])
    ax.set_ylim(len(lanes) - 0.4, -0.6)
    ax.set_xlim(x0, x1)
    ax.grid(axis="x", alpha=0.3)


def _legend():
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    return [Patch(color=COLORS["poll"], label="poll"),
            Line2D([], [], marker="|", color=COLORS[K.WAKE_TASK], ls="none", ms=9,
                   label="woken by a task"),
            Line2D([], [], marker="|", color=COLORS[K.WAKE_EXTERNAL], ls="none", ms=9,
                   label="woken by an interrupt/thread"),
            Line2D([], [], marker="|", color=COLORS[K.WAKE_TIMER], ls="none", ms=9,
                   label="woken by the timer"),
            Line2D([], [], marker="x", color=COLORS["miss"], ls="none", ms=9, mew=2,
                   label="deadline miss")]


def _busiest(sec, window_ms):
    times = sorted(r[0] / 1000 for r in sec.records if r[1] == K.POLL_BEGIN)
    best, best_at, j = 0, window_ms / 2, 0
    for i, t in enumerate(times):
        while times[j] < t - window_ms:
            j += 1
        if i - j > best:
            best, best_at = i - j, t - window_ms / 2
    return best_at


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
while len(sys.argv) > 1:
    sys.argv.pop()
sys.argv.append(%(seconds)r)
try:
    exec(open(%(example)r).read(), {"__name__": "__main__"})
finally:
    with open(%(out)r, "w") as _f:
        for _i, _t in enumerate(_traces):
            _t.detach()
            _t.dump(_f, "scheduler")
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
        os.path.relpath(jpath, ROOT), os.path.relpath(ppath, ROOT)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
