"""Per-task poll accounting and the hog report.

A timed policy (``needs_time``) hands every poll's measured run time to ``PollStats.record``.
Each task's slot keeps its poll count, total and longest poll in its policy fields
(``slot.pol``: ``polls``, ``run_total_us``, ``run_max_us``); a poll longer than the hog budget
counts in ``slot.pol.hogs`` and is named in a small ring of recent hogs, which outlives the
task. Nothing is killed: a hog is reported.

Counters wrap below 2**30 so they stay small ints on 32-bit boards: ``run_total_us`` wraps
after about 17 minutes of CPU time; compare totals with ``port.ticks_diff``.
"""

from micropython import const

from ..core import wrap_count
from ..errors import BadArgument, PolicyError
from .base import fields_of

_MASK = const(0x3FFFFFFF)
_NO_BUDGET = const(0x3FFFFFFF)
_HOG = const(13)  # trace.kinds.HOG
RECENT_HOGS = 4  # how many hog polls the ring remembers


class PollStats:
    """Poll accounting of one policy. ``hog_us``: a single poll longer than this is a hog
    (None: no budget)."""

    def __init__(self, hog_us=None):
        if hog_us is None:
            hog_us = _NO_BUDGET
        elif type(hog_us) is not int or hog_us < 1 or hog_us > _NO_BUDGET:
            raise PolicyError("hog_us must be a positive int of microseconds (or None for no "
                              "hog budget), got %r" % (hog_us,))
        self.hog_us = hog_us
        self.polls = 0  # polls recorded, all tasks (wraps)
        self.hog_count = 0  # hog polls, all tasks (wraps)
        self.longest_us = 0  # longest poll seen
        self.longest_id = 0  # ...and the task that made it
        self._ring = 0
        self._hog_ids = [0] * RECENT_HOGS
        self._hog_names = [None] * RECENT_HOGS
        self._hog_us = [0] * RECENT_HOGS

    def record(self, slot, elapsed_us):
        """Account one poll of ``elapsed_us`` to ``slot``. Allocation-free; the scheduler's
        context only (not ISR-safe)."""
        p = slot.pol
        if p is None:
            p = fields_of(slot)  # a slot first met here (grown, a caller's): once per slot
        polls = p.polls
        if polls == 0:  # a new task (the scheduler zeroes ``polls`` at spawn)
            p.run_total_us = 0
            p.run_max_us = 0
            p.hogs = 0
        p.polls = polls + 1 if polls < _MASK else 1
        p.run_total_us = wrap_count(p.run_total_us, elapsed_us)
        if elapsed_us > p.run_max_us:
            p.run_max_us = elapsed_us
        self.polls = wrap_count(self.polls, 1)
        if elapsed_us > self.longest_us:
            self.longest_us = elapsed_us
            self.longest_id = slot.id
        if elapsed_us > self.hog_us:
            self._hog(slot, p, elapsed_us)

    def _hog(self, slot, p, elapsed_us):
        # Apart from record(): a bytecode function whose locals and stack pass 11 words has
        # its frame allocated on the heap (and freed) at every call (see docs/benchmarks.md,
        # "Task slot size").
        p.hogs = wrap_count(p.hogs, 1)
        self.hog_count = wrap_count(self.hog_count, 1)
        i = self._ring
        self._hog_ids[i] = slot.id
        self._hog_names[i] = slot.name
        self._hog_us[i] = elapsed_us
        self._ring = (i + 1) % RECENT_HOGS
        sched = getattr(slot, "sched", None)  # (tests charge bare stand-in slots)
        if sched is not None and sched._trace is not None:
            sched._trace.record(_HOG, slot.id, elapsed_us)

    def recent_hogs(self):
        """The latest hog polls, oldest first, as ``(task_id, name, µs)``; the name is None if
        the hog poll was the task's last. Allocates (REPL, logs). Not ISR-safe."""
        out = []
        n = self.hog_count if self.hog_count < RECENT_HOGS else RECENT_HOGS
        i = (self._ring - n) % RECENT_HOGS
        for _ in range(n):
            out.append((self._hog_ids[i], self._hog_names[i], self._hog_us[i]))
            i = (i + 1) % RECENT_HOGS
        return out

    def report(self, sched):
        """``(task_id, name, polls, total_us, max_us, hogs)`` of every live task of ``sched``,
        hogs first, then by longest poll. Allocates (REPL, logs). Not ISR-safe."""
        rows = []
        for s in sched.live_slots():
            p = s.pol
            polls = p.polls if p is not None else 0
            if polls:
                rows.append((s.id, s.name, polls, p.run_total_us, p.run_max_us, p.hogs))
            else:
                rows.append((s.id, s.name, 0, 0, 0, 0))
        rows.sort(key=_hog_key)
        return rows

    def reset(self):
        """Forget the policy-wide figures (the tasks' own counters stay). Not ISR-safe."""
        self.polls = 0
        self.hog_count = 0
        self.longest_us = 0
        self.longest_id = 0
        self._ring = 0


def _hog_key(row):
    return (-row[5], -row[4], row[0])


def task_stats(handle):
    """``(polls, total_us, max_us, hogs)`` of a live task, from its ``JoinHandle``; all zero
    before its first measured poll, None once it has finished. Allocates: not ISR-safe."""
    live = getattr(handle, "_live_slot", None)
    if live is None:
        raise BadArgument("task_stats(handle): give what spawn() returned, got %r" % (handle,))
    slot = live()
    if slot is None:
        return None
    p = slot.pol
    if p is None or p.polls == 0:
        return (0, 0, 0, 0)
    return (p.polls, p.run_total_us, p.run_max_us, p.hogs)
