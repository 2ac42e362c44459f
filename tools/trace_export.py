"""Reading a shimeji trace dump and writing it as Chrome/Perfetto trace-event JSON.

``parse`` reads the hex-line dump (``Trace.dump``; several sections: one per scheduler,
interrupt level or executor core) onto one time base; ``chrome_trace`` makes the JSON: a
process per section, a track per task, polls as slices, instant events, flow arrows for
wakes and steals (across cores too), a run-queue counter. ``tools/trace.py`` is the CLI.
An executor's task ids are unique across its workers, so a task that ran on several cores
has one track on each, with the same id and name.
"""

import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if os.path.join(ROOT, "firmware") not in sys.path:
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
        self.first_raw = None

    @property
    def label(self):
        return self.header.get("label", "scheduler")

    @property
    def process_name(self):
        """``core N`` for an executor's worker (a ``core=`` header), else the label."""
        core = self.header.get("core")
        return self.label.replace("_", " ") if core is None else "core %d" % core

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
    _align(sections)
    _share_names(sections)
    return sections


def _share_names(sections):
    # An executor's task ids are unique across its workers (each pool has a range of its own),
    # and a task stolen by a core was named in the trace of the core that spawned it: every
    # core's section knows every core's names, so its track is named the same on each core.
    names = {}
    for sec in sections:
        if "core" in sec.header:
            names.update(sec.names)
    for sec in sections:
        if "core" in sec.header:
            for task, name in names.items():
                sec.names.setdefault(task, name)


def _unwrap(section):
    # Ticks wrap at 2**30; records moved from the side ring may be a little older than the one
    # before them: follow signed differences from the section's first record.
    out = []
    t = 0
    prev = None
    for ts, kind, task, arg in section.raw:
        if prev is not None:
            t += ((ts - prev + HALF) & MASK) - HALF
        prev = ts
        out.append((t, kind, task, arg))
    section.first_raw = section.raw[0][0] if section.raw else None
    section.records = out


def _align(sections):
    # One time base for every section (the cores and levels of one board share their µs
    # clock): offset each by its first tick's signed distance from the first section's, then
    # make the earliest record 0 and sort each section stably by time.
    ref = next((s.first_raw for s in sections if s.first_raw is not None), 0)
    for sec in sections:
        if sec.first_raw is not None:
            off = ((sec.first_raw - ref + HALF) & MASK) - HALF
            sec.records = [(r[0] + off,) + r[1:] for r in sec.records]
    base = min((r[0] for sec in sections for r in sec.records), default=0)
    for sec in sections:
        sec.records = sorted(((r[0] - base,) + r[1:] for r in sec.records), key=lambda r: r[0])


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


def _core_sections(sections):
    # core number -> section index: the ``core=`` headers, else the sections' order.
    cores = {sec.header["core"]: i for i, sec in enumerate(sections) if "core" in sec.header}
    return cores or dict(enumerate(range(len(sections))))


def _running_at(spans, t):
    # The task whose poll spans ``t`` in one section's ``polls()``, else 0.
    for task, ps in spans.items():
        for b, e, _end in ps:
            if b <= t <= e:
                return task
    return 0


def chrome_trace(sections):
    """The Chrome/Perfetto trace-event JSON object for ``sections``: a process per section
    (scheduler, interrupt level, or executor core), a track per task, flow arrows for wakes
    (from the waking task, the timer, or the poll running on the waking core) and steals."""
    ev = []
    flow = 0
    cores = _core_sections(sections)
    spans_of = [polls(sec) for sec in sections]
    for pid0, sec in enumerate(sections):
        pid = pid0 + 1
        pname = sec.process_name if "core" in sec.header else "%s %d" % (sec.process_name,
                                                                         pid0)
        ev.append({"ph": "M", "name": "process_name", "pid": pid, "tid": 0,
                   "args": {"name": pname}})
        ev.append({"ph": "M", "name": "process_sort_index", "pid": pid, "tid": 0,
                   "args": {"sort_index": pid}})
        ev.append({"ph": "M", "name": "thread_name", "pid": pid, "tid": 0,
                   "args": {"name": "scheduler (timer, run queue)"}})
        for task in tasks_of(sec):
            ev.append({"ph": "M", "name": "thread_name", "pid": pid, "tid": task,
                       "args": {"name": sec.name(task)}})
            ev.append({"ph": "M", "name": "thread_sort_index", "pid": pid, "tid": task,
                       "args": {"sort_index": task}})
        for task, spans in spans_of[pid0].items():
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
            src_pid0 = cores.get(arg) if kind in (K.STEAL, K.CROSS_CORE_WAKE) else None
            if kind in WAKES:
                if kind == K.WAKE_TASK:
                    src = sec.name(arg)
                elif kind == K.CROSS_CORE_WAKE:
                    src = "core %d" % arg
                else:
                    src = WAKE_FROM[kind]
                ev.append(dict(where, ph="i", s="t", name="wake", cat="wake",
                               args={"from": src}))
                start = None
                if kind == K.WAKE_TASK:
                    start = (pid, arg, t)  # from the waker's poll
                elif kind == K.WAKE_TIMER and fired is not None:
                    start = (pid, 0, fired)  # from the timer turn's slice
                elif src_pid0 is not None:  # from the poll running on the waking core
                    start = _anchor(ev, src_pid0, _running_at(spans_of[src_pid0], t), t,
                                    "wake sent")
                if start is not None:
                    flow += 1
                    ev.append({"ph": "s", "id": flow, "name": "wake", "cat": "wake",
                               "pid": start[0], "tid": start[1], "ts": start[2]})
                    pending.setdefault(task, []).append(flow)
            elif kind == K.STEAL:
                ev.append(dict(where, ph="i", s="t", name="steal", cat="steal",
                               args={"from": "core %d" % arg}))
                if src_pid0 is not None:  # from the victim's scheduler track
                    start = _anchor(ev, src_pid0, 0, t, "stolen: %s" % sec.name(task))
                    flow += 1
                    ev.append({"ph": "s", "id": flow, "name": "steal", "cat": "steal",
                               "pid": start[0], "tid": start[1], "ts": start[2]})
                    pending.setdefault(task, []).append(flow)
            elif kind == K.IRQ_PREEMPT:  # the level held this poll up ``arg`` µs, until t
                ev.append({"ph": "X", "name": "interrupt level", "cat": "irq", "pid": pid,
                           "tid": task, "ts": t - arg, "dur": arg})
                to = _first_poll_from(sections, spans_of, t - arg, t)
                if to is not None:
                    flow += 1
                    ev.append({"ph": "s", "id": flow, "name": "preempt", "cat": "irq",
                               "pid": pid, "tid": task, "ts": t - arg})
                    ev.append({"ph": "f", "bp": "e", "id": flow, "name": "preempt",
                               "cat": "irq", "pid": to[0], "tid": to[1], "ts": to[2]})
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
    return {"traceEvents": ev, "displayTimeUnit": "ms",
            "otherData": {"source": "shimeji Trace.dump",
                          "dropped": sum(s.header.get("dropped", 0) for s in sections),
                          "sections": len(sections)}}


def _first_poll_from(sections, spans_of, t0, t1):
    # (pid, task, begin) of the interrupt level's first poll in [t0, t1], if one was traced.
    best = None
    for i, sec in enumerate(sections):
        if sec.label != "interrupt_level":
            continue
        for task, ps in spans_of[i].items():
            for b, _e, _end in ps:
                if t0 <= b <= t1 and (best is None or b < best[2]):
                    best = (i + 1, task, b)
    return best


def _anchor(ev, pid0, tid, t, what):
    # Where a flow from another section starts: the poll running there at ``t``, or (none
    # running) a 0 µs slice on that section's scheduler track, for the arrow to leave from.
    if not tid:
        ev.append({"ph": "X", "name": what, "cat": "flow", "pid": pid0 + 1, "tid": 0,
                   "ts": t, "dur": 0})
    return (pid0 + 1, tid, t)


def _next_state(cur, kind, arg):
    if kind in (K.SPAWN, K.STEAL) or kind in WAKES:
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
