"""``end_tick``: what every tick path does last (fills the scheduler's ``Tick``); and
``tick_kit``, the timer's kit a tick puts in the context for ``sleep_ms``; and what the viper
FIFO tick (wordtick.py) calls for a poll that ended with an exception other than
StopIteration, or for a finished slot's name, wait list or hand-driven wait (rare: no viper
needed).

Its own module since the FIFO tick (fastpath.py) outgrew 350 lines; the general, traced and
traced-FIFO ticks call it too (``StaticScheduler._end_tick``).

Design note (the FIFO tick's, moved here): the tick puts its timer's ``_kit`` in the context
(``ctx.tkit``; ``core.NO_KIT`` at an interrupt level or without a timer) for ``sleep_ms``, which
then reads no ``slot.sched``, ``sched.timer``, ``timer._kit`` or ``sched.level`` (-3 % per fired
timer), and gives the outer value back at its end; the other tick paths put the same there
(``tick_kit`` here).
"""

import micropython
from micropython import const

from ..core import NO_KIT, wrap_count
from ..errors import Cancelled

_FAILED = const(3)  # task.slot's outcomes
_CANCELLED = const(4)


def tick_kit(sched):
    """What a tick of ``sched`` puts in ``ctx.tkit`` for ``sleep_ms`` (time/sleep.py): its
    timer's ``_kit``; ``core.NO_KIT`` at an interrupt level (its sleeps await ``_Sleep``),
    without a timer, or for a stand-in timer without a ``_kit`` (sleep_ms's slow way then
    finds the timer by the slot). ``tick_fifo`` and ``tick_fifo_traced`` do the same in line.
    Not ISR-safe."""
    timer = sched.timer
    if timer is None or sched.level:
        return NO_KIT
    return getattr(timer, "_kit", NO_KIT)


@micropython.native
def end_tick(sched, polled, completed, ready):
    """What every tick path does last: fills the scheduler's ``Tick`` (``ready``: its policy
    has a task queued) and returns it. Not ISR-safe."""
    t = sched._tick
    t.polled = polled
    t.completed = completed
    if completed:
        sched.completed_total = wrap_count(sched.completed_total, completed)
    spawned = sched._spawned
    if sched._woken_ext or sched._woken_int or (spawned and sched.parallel):
        # Only then the critical section: wakes count under it from anywhere (and a worker's
        # spawns from other threads). A busy loop of ticks with no wakes must not take it
        # (with a thread playing the interrupt, a lock taken by every tick starves the waker).
        state = sched._enter()
        spawned = sched._spawned
        woken_ext = sched._woken_ext
        woken_int = sched._woken_int
        sched._spawned = 0
        sched._woken_ext = 0
        sched._woken_int = 0
        sched._exit(state)
    else:  # no wakes; spawns, if any, were this thread's own (spawn is not ISR-safe)
        woken_ext = 0
        woken_int = 0
        if spawned:
            sched._spawned = 0
    if spawned:  # spawned_total counts spawns as of the last tick's end
        sched.spawned_total = wrap_count(sched.spawned_total, spawned)
    timed = sched._woken_timer  # only the loop's thread writes it: no section needed
    if timed:
        sched._woken_timer = 0
        woken_ext += timed
    t.spawned = spawned
    t.woken_external = woken_ext
    t.woken_internal = woken_int
    t.woken = woken_ext + woken_int
    t.has_remaining = ready or sched._inbox_head is not None
    return t


@micropython.native
def end_lean(sched, polled, completed, ready):
    """``end_tick`` for ``wordtick.tick_lean``, the FIFO tick of ``RunLoop.run()``
    (loopiter.py), which reads of the ``Tick`` only whether tasks remain: it returns that, and
    its common end fills no ``Tick`` (seven stores fewer a tick; None where the port ticks with
    fastpath.py's ``tick_fifo``, rp2). Not ISR-safe."""
    return end_tick(sched, polled, completed, ready).has_remaining


def ended_aside(slot):
    """A finished slot's rare leftovers, seen to by the viper FIFO tick's in-line completion
    (wordtick.py): its name, the wait list it was on, a wait it drove by hand, a cancel in its
    last poll. Not ISR-safe."""
    if slot.name is not None:  # a named task (_start set dirty): a free slot's name is None
        slot.name = None  # (spawn does not write it)
        if not slot.handle_out:  # a handle the slot reuses is nameless too (detached.py)
            slot.handle.name = None
    waiting_on = slot.waiting_on
    if waiting_on is not None:
        waiting_on.remove(slot)
    if slot.wait_phase:  # ended inside a wait it drove by hand
        slot.wait_phase = 0
        slot.wait_key = None
        slot.wait_status = 0
        slot.wait_value = None
    w = slot.w  # (task/words.py: word 1, the throw flag)
    if w[1]:  # cancelled in its last poll
        w[1] = 0
        slot.throw_exc = None
        slot.cancel_requested = False


def poll_outcome(sched, exc):
    """A poll ended with ``exc`` (not StopIteration): CANCELLED, FAILED (counted in
    ``failed_total``), or 0 for a BaseException (KeyboardInterrupt, SystemExit). Not
    ISR-safe."""
    if isinstance(exc, Cancelled):  # (keeps the reason: docs/repl.md, Ctrl-C on unix)
        return _CANCELLED
    if isinstance(exc, Exception):  # a failing task never takes the scheduler down
        sched.failed_total = wrap_count(sched.failed_total, 1)
        return _FAILED
    return 0


def poll_interrupted(sched, slot, exc):
    """A KeyboardInterrupt or SystemExit out of a poll: recorded (``sched._interrupted``);
    returns what the tick raises at its end. Not ISR-safe."""
    try:
        sched._interrupted(slot, exc)
    except BaseException as e2:
        return e2
    return exc
