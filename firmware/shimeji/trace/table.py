"""``top()``: a live table of a scheduler's tasks at the REPL, refreshed every second.

Each row: task id, name, state, what it waits on, polls, CPU µs and share of the last
interval, longest poll, wakes and hogs. Polls, CPU time, longest poll and hogs come from the
per-task accounting of a timed policy (``FifoPolicy(measure=True)``, round-robin, CFS,
priorities); under plain FIFO with a ``Trace`` attached they come from the trace's polls
(within what the ring still holds); wakes are counted while a trace is attached. A figure
nobody measures shows as ``-``.

With a background loop (``board.background(sched)``), pass the background object: each
snapshot is taken with the loop held off for the few µs it takes to copy the figures, so the
tasks are not disturbed; printing happens outside. Ctrl-C ends ``top()``.
"""

import sys
import time

from .. import port
from ..errors import TraceError
from . import kinds as K
from .ring import park_what

_STATES = ("free", "queued", "running", "waiting")
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


def task_table(sched):
    """A snapshot of ``sched``'s live tasks: a list of rows ``(id, name, state, waits_on,
    polls, cpu_us, max_us, wakes, hogs)``, a figure nobody measures being None. Allocates
    (the REPL). Take it with the loop held off (``background.call(task_table, sched)``)."""
    timed = sched.policy.needs_time
    tr = sched._trace
    from_trace = None if timed or tr is None else _polls_from(tr)
    rows = []
    for s in sched.live_slots():
        waits = K.PARK_NAMES[park_what(s)] if s.state == 3 else ""
        if timed:
            polls, cpu, longest, hogs = (s.polls, s.run_total_us, s.run_max_us, s.hogs) \
                if s.polls else (0, 0, 0, 0)
        elif from_trace is not None:
            polls, cpu, longest = from_trace.get(s.id, (0, 0, 0))
            hogs = None
        else:
            polls = cpu = longest = hogs = None
        rows.append((s.id, s.name, _STATES[s.state], waits, polls, cpu, longest,
                     s.wakes if tr is not None else None, hogs))
    rows.sort()
    return rows


def _polls_from(tr):
    # (polls, cpu µs, longest µs) per task from the POLL_BEGIN/POLL_END pairs in the ring.
    out = {}
    begin = {}
    for ts, kind, task, _arg in tr.records():
        if kind == K.POLL_BEGIN:
            begin[task] = ts
        elif kind == K.POLL_END and task in begin:
            us = (ts - begin.pop(task)) & 0x3FFFFFFF
            n, cpu, longest = out.get(task, (0, 0, 0))
            out[task] = (n + 1, cpu + us, us if us > longest else longest)
    return out


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
    terminal. Allocates (REPL only); not ISR-safe; not from a task."""
    sched, bg = _target(what)
    prev = None
    t_prev = port.ticks_us()
    n = 0
    try:
        while count is None or n < count:
            rows = bg.call(task_table, sched) if bg is not None else task_table(sched)
            now = port.ticks_us()
            lines = format_table(rows, prev, port.ticks_diff(now, t_prev) if prev else 0)
            if clear:
                out("\x1b[H\x1b[2J")  # home and clear: a terminal redraws in place
            out("shimeji top: %d tasks, %d spawned, %d failed%s" % (
                len(rows), sched.spawned_total, sched.failed_total,
                "  (polls/CPU: FifoPolicy(measure=True), a timed policy or a Trace)"
                if rows and rows[0][4] is None else ""))
            for line in lines:
                out(line)
            prev = rows
            t_prev = now
            n += 1
            if count is None or n < count:
                _sleep_ms(interval_ms)
    except KeyboardInterrupt:
        pass


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
