# The public ``shimeji.wake(slot)`` given what is not a task slot (session 25's audit): a
# JoinHandle (what spawn returns), None, a number, a RunLoop (it has a ``sched``). It raised
# AttributeError ("'JoinHandle' object has no attribute 'sched'"); now BadArgument says what to
# give, and afterwards the scheduler and the parked task are as they were: the real wake still
# wakes it, allocation-free. shimeji's own wakes call ``core.wake``, which checks nothing (no
# cost on the hot paths). ``sched.wake(x)`` refuses too since session 26
# (test_misuse_sched_wake.py).
import shimeji
from shimeji import PARK, BadArgument, RunLoop, StaticScheduler, core
from support import IS_MICROPYTHON, heap_locked, raises, thread_section


class _Park:
    """Parks once; the second poll ends the await (a wake's effect)."""

    def __init__(self):
        self.parked = False
        self.slot = None

    def __iter__(self):
        return self

    __await__ = __iter__

    def __next__(self):
        if not self.parked:
            self.parked = True
            self.slot = core.current_slot()
            return PARK
        raise StopIteration(7)


async def _waiter(aw):
    return await aw


def test_wake_of_what_is_not_a_slot_is_bad_argument_and_the_parked_task_still_wakes():
    cs = thread_section()
    sched = StaticScheduler(2, critical_section=cs)
    aw = _Park()
    h = sched.spawn(_waiter(aw))
    sched.tick()
    assert aw.slot is not None and not h.is_complete()
    for bad in (h, None, 3, "slot", RunLoop(sched), sched):
        with raises(BadArgument, "wake(slot): give the task's TaskSlot"):
            shimeji.wake(bad)
        assert not cs.held()
    t = sched.tick()
    assert t.polled == 0 and not h.is_complete()  # nothing woken by the refusals
    shimeji.wake(aw.slot)
    sched.tick()
    assert h.result() == 7
    shimeji.wake(aw.slot)  # a finished task's slot: a no-op, as before
    assert sched.tick().polled == 0


def test_the_checked_wake_allocates_nothing():
    if not IS_MICROPYTHON:
        return  # (the heap lock is MicroPython's)
    sched = StaticScheduler(2)
    aw = _Park()
    h = sched.spawn(_waiter(aw))
    sched.tick()
    heap_locked(shimeji.wake, aw.slot)
    heap_locked(shimeji.wake, aw.slot)  # idempotent
    sched.tick()
    assert h.result() == 7
