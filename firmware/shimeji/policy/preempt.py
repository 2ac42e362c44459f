"""``preempt_point()``: a cooperative preemption point for long computations.

A poll cannot be interrupted, so a task that computes for a long time should call
``await preempt_point()`` inside its loops. It asks the scheduler's policy whether the task
should give up the CPU (its round-robin slice is used up, it is far enough ahead in CFS, a more
urgent task is ready) and yields only then; otherwise the ``await`` returns at once. Under
FIFO it never yields. It allocates nothing, and the common case (no yield) costs one policy
call and at most one clock read.

A task made to yield here is *preempted*, not yielding of its own accord: the round-robin and
priority policies put it back at the front of its queue while it has slice left.
"""

from micropython import const

from .. import core

_PREEMPT = const(12)  # trace.kinds.PREEMPT


class PreemptPoint:
    """Singleton behind ``preempt_point()``; armed by the call, spent by the first
    ``__next__``."""

    def __init__(self):
        self.armed = False
        self._finish = core.Finish()

    def __iter__(self):
        return self

    __await__ = __iter__

    def __next__(self):
        if self.armed:
            self.armed = False
            ctx = core.context
            if core._threads:  # executor workers: the calling thread's context (core.py)
                ctx = core.current_context()
            slot = ctx.slot
            if slot is not None and ctx.sched.policy.should_yield(slot):
                slot.pol.preempted = True  # (should_yield is True only for a policy's task)
                if ctx.sched._trace is not None:
                    ctx.sched._trace.record(_PREEMPT, slot.id, 0)
                return None
        raise self._finish.done()


_point = PreemptPoint()


def preempt_point():
    """Awaitable: yield to the scheduler only if the policy says this task's turn is over.
    Allocation-free. Call it from a task (outside one it does nothing). Not ISR-safe."""
    _point.armed = True
    return _point


def preempt_due():
    """True if ``await preempt_point()`` would yield now: lets a task pick a good moment to
    break off (finish a chunk, release a lock) before yielding. False outside a task.
    Allocation-free. Not ISR-safe."""
    ctx = core.current_context()
    slot = ctx.slot
    if slot is None:
        return False
    return ctx.sched.policy.should_yield(slot)
