"""``top()``: a live table of a scheduler's tasks at the REPL, refreshed every second.

Each row: task id, name, state, what it waits on, polls, CPU µs and share of the last
interval, longest poll, wakes and hogs. Polls, CPU time, longest poll and hogs come from the
per-task accounting of a timed policy (``FifoPolicy(measure=True)``, round-robin, CFS,
priorities); under plain FIFO with a ``Trace`` attached, ``top()`` adds up the trace's polls
as they arrive (from the ring's contents at its first refresh on); wakes are counted while a
trace is attached. A figure nobody measures shows as ``-``.

With a background loop (``board.background(sched)``), pass the background object: each
snapshot is taken with the loop held off for the few µs it takes to copy the figures, so the
tasks are not disturbed; printing happens outside. Ctrl-C ends ``top()``.
"""

import sys
import time

from .. import core, port
from ..errors import TraceError
from ..task.words import state_of
from . import kinds as K
from .writers import park_what

_STATES = ("free", "queued", "running", "waiting", "waiting")  # (4: core.ASLEEP)
_DASH = "-"


def _target(what):
    # (scheduler, background or None) from what top() was given.
    if what is None:
        from . import ring

        if ring.last is not None and ring.last.sched is not None:
            return ring.last.sched, None
        runloop = sys.modules.get("shimeji.sched.runloop")  # run() sets runloop.current
        if runloop is not None and runloop.current is not None:
            return runloop.current.sched, None
        raise TraceError("top() found no scheduler: call top(sched), or top(background) "
                         "while a background loop runs")
    if hasattr(what, "call") and hasattr(what, "sched"):
        return what.sched, what
    if hasattr(what, "live_slots"):
        return what, None
    raise TraceError("top(what): give a StaticScheduler or the object board.background() "
                     "returned, got %r" % (what,))


def _in_a_task(what):
    """Whether top() was called from a task. A background loop on a thread of its own polls
    with the interpreter's context, which the REPL's thread shares: there the calling thread
    tells (the context's slot is the loop's task whenever the REPL looks mid-poll)."""
    loop_thread = getattr(what, "loop_thread", None)
    if loop_thread is not None:
        import _thread

        return _thread.get_ident() == loop_thread
    return core.current_context().slot is not None


def task_table(sched, polls=None):
    """A snapshot of ``sched``'s live tasks: a list of rows ``(id, name, state, waits_on,
    polls, cpu_us, max_us, wakes, hogs)``, a figure nobody measures being None. Under plain
    FIFO with a trace, pass the same ``TracePolls`` to each call to count polls over all of
    them (without one: over what the ring holds). Allocates (the REPL). Take it with the loop
    held off (``background.call``)."""
    timed = sched.policy.needs_time
    tr = sched._trace
    seen = None
    if not timed and tr is not None:
        if polls is None:
            polls = TracePolls()
        seen = polls.update(tr)
    rows = []
    for s in sched.live_slots():
        waits = K.PARK_NAMES[park_what(s)] if 3 <= s.w[0] <= 4 else ""
        if timed:
            p = s.pol
            n, cpu, longest, hogs = (p.polls, p.run_total_us, p.run_max_us, p.hogs) \
                if p is not None and p.polls else (0, 0, 0, 0)
        elif seen is not None:
            n, cpu, longest = seen.get(s.id, (0, 0, 0))
            hogs = None
        else:
            n = cpu = longest = hogs = None
        rows.append((s.id, s.name, _STATES[state_of(s)], waits, n, cpu, longest,
                     s.wakes if tr is not None else None, hogs))
    if seen is not None:
        polls.forget([r[0] for r in rows])
    rows.sort()
    return rows


class TracePolls:
    """Polls, CPU µs and longest poll per task, added up from a trace's POLL_BEGIN/POLL_END
    pairs as they arrive (each ``update`` reads only the records written since the last)."""

    def __init__(self):
        self.per_task = {}  # task id -> (polls, cpu µs, longest µs)
        self._begin = {}
        self._total = None  # records the ring had taken at the last update
        self.missed = False  # records were overwritten between two updates

    def update(self, tr):
        recs = tr.records()
        total = len(tr) + tr.buf[2]  # records ever written to the ring (count + dropped)
        new = len(recs) if self._total is None else (total - self._total) & 0x3FFFFFFF
        if new > len(recs):
            self.missed = True
            new = len(recs)
        self._total = total
        per = self.per_task
        for ts, kind, task, _arg in recs[len(recs) - new:]:
            if kind == K.POLL_BEGIN:
                self._begin[task] = ts
            elif kind == K.POLL_END and task in self._begin:
                us = (ts - self._begin.pop(task)) & 0x3FFFFFFF
                n, cpu, longest = per.get(task, (0, 0, 0))
                per[task] = (n + 1, cpu + us, us if us > longest else longest)
        return per

    def forget(self, live_ids):
        for task in [t for t in self.per_task if t not in live_ids]:
            del self.per_task[task]


def format_table(rows, prev=None, elapsed_us=0):
    """The table as text lines; ``prev`` (the rows of the previous snapshot) and
    ``elapsed_us`` give each task's CPU share of the interval."""
    before = {}
    if prev:
        for r in prev:
            before[r[0]] = r[5]
    lines = ["%5s %-12s %-8s %-10s %8s %10s %6s %8s %7s %5s" % (
        "id", "name", "state", "waits on", "polls", "cpu us", "cpu%", "max us", "wakes",
        "hogs")]
    for r in rows:
        share = _DASH
        if elapsed_us > 0 and r[5] is not None and before.get(r[0]) is not None:
            share = "%.1f" % (100.0 * max(0, r[5] - before[r[0]]) / elapsed_us)
        lines.append("%5d %-12s %-8s %-10s %8s %10s %6s %8s %7s %5s" % (
            r[0], _cut(r[1]), r[2], r[3], _num(r[4]), _num(r[5]), share, _num(r[6]),
            _num(r[7]), _num(r[8])))
    return lines


def top(what=None, interval_ms=1000, count=None, clear=True, out=print):
    """Print the task table of ``what`` (a scheduler, or a background loop object) every
    ``interval_ms``, ``count`` times (None: until Ctrl-C). ``clear`` redraws in place on a
    terminal. Allocates (REPL only); not ISR-safe; not from a task (``TraceError``: it would
    hold the scheduler up while it sleeps between refreshes)."""
    if _in_a_task(what):
        raise TraceError("top() from a task would stop the scheduler between refreshes: call "
                         "it at the REPL (with board.background(sched) running the tasks)")
    if type(interval_ms) is not int or interval_ms < 1:
        raise TraceError("top(interval_ms=%r): give an int of at least 1 (ms between "
                         "refreshes)" % (interval_ms,))
    if count is not None and (type(count) is not int or count < 1):
        raise TraceError("top(count=%r): give an int of at least 1, or None to refresh until "
                         "Ctrl-C" % (count,))
    sched, bg = _target(what)
    acc = TracePolls()
    prev = None
    t_prev = port.ticks_us()
    n = 0
    try:
        while count is None or n < count:
            if bg is not None:
                rows = bg.call(_snapshot, (sched, acc))
            else:
                rows = task_table(sched, acc)
            now = port.ticks_us()
            lines = format_table(rows, prev, port.ticks_diff(now, t_prev) if prev else 0)
            if clear:
                out("\x1b[H\x1b[2J")  # home and clear: a terminal redraws in place
            note = ""
            if rows and rows[0][4] is None:
                note = "  (polls/CPU: FifoPolicy(measure=True), a timed policy or a Trace)"
            elif acc.missed:
                note = "  (polls/CPU undercounted: the trace wrapped between refreshes; a " \
                       "larger Trace, a shorter interval or FifoPolicy(measure=True))"
            out("shimeji top: %d tasks, %d spawned, %d failed%s" % (
                len(rows), sched.spawned_total, sched.failed_total, note))
            for line in lines:
                out(line)
            prev = rows
            t_prev = now
            n += 1
            if count is None or n < count:
                _sleep_ms(interval_ms)
    except KeyboardInterrupt:
        pass


def _snapshot(args):
    return task_table(args[0], args[1])


def _sleep_ms(ms):
    if hasattr(time, "sleep_ms"):
        time.sleep_ms(ms)
    else:
        time.sleep(ms / 1000)


def _num(v):
    return _DASH if v is None else str(v)


def _cut(name):
    s = _DASH if name is None else str(name)
    return s if len(s) <= 12 else s[:11] + "~"
