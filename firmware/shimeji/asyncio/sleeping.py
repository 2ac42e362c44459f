"""The facade's ``sleep_ms`` and ``sleep``: awaitables any task may await, allocation-free.

Design note: bound at the first ``__next__``, armed at the call. ``sleep_ms(t)`` arms the
calling task's own timer entry at once (shimeji's ``sleep_ms``, in viper: the fast path) and
returns that task slot's ``SleepMs``, which remembers the deadline. Awaited by the same task,
its first ``__next__`` yields ``core.SLEEP`` (the task parks on its entry, as a ring sleep
does) and its second ends the await. Awaited by another task (handed to ``create_task``,
``wait_for``, ``gather``, or simply passed on), the first ``__next__`` takes the deadline off
the caller's entry and arms the awaiting task's at the same deadline, as MicroPython's asyncio
(the deadline counts from the call) and CPython's (the awaitable is bound when awaited) agree.
A ``SleepMs`` is kept on its slot (``slot.fsleep``, made with the facade's slots) and reused
by the slot's next ``sleep_ms``, so the usual sleep allocates nothing; a second ``sleep_ms``
while the first was not awaited yet (``gather(sleep_ms(1), sleep_ms(2))``), or after another
task awaited it, makes the slot a fresh one (the old one keeps its deadline for its awaiter).
Nothing here is ISR-safe.

Design note: why a sleep never awaited costs one ``SleepMs`` (96 B on the 64-bit unix port, ~80
B on 32-bit). ``sleep_ms(5)`` made and dropped allocates nothing; the task's next ``sleep_ms``
finds the slot's ``SleepMs`` still armed and makes a new one. It cannot reuse the old one: the
object is a value, whoever holds it may await it later (``a = sleep_ms(5); b = sleep_ms(9);
await a; await b``), and then it must still end at its own deadline. Knowing that nobody holds
it needs a reference count, which MicroPython does not keep. MicroPython's own asyncio has one
sleep object for all tasks and fails an ``assert`` at the second un-awaited ``sleep_ms``; here
both work. The cost is once per dropped sleep: the new object becomes the slot's and every
later sleep reuses it (host_tests/test_asyncio_alloc.py pins both figures).
"""

import time

import micropython
from micropython import const

from .. import core
from ..core import yield_now
from ..time.clock import MAX_TICKS, wrap_diff
from ..time.sleep import _ring_append, _ring_iter, _slot_now
from ..time.sleep import _sleep as _core_sleep
from ..time.sleep import sleep_ms as _arm_ms
from ..time.timer import timer_of

_ctx = core.context
_SLEEP = core.SLEEP
_stop = core.Finish().exc  # one StopIteration for every SleepMs: re-raised, never kept


_FREE = const(0)  # SleepMs.state: reusable by its slot
_ARMED = const(1)  # made by sleep_ms, not awaited; the deadline is on the slot's entry
_ARMED_NO_RING = const(2)  # the same where the ring sleep is unavailable (CPython, IRQ level)
_DETACHED = const(3)  # not awaited; the deadline is here only (the entry was needed again)
_SPENT = const(4)  # awaited by another task than its slot's: never reused
_ASLEEP = const(4)  # core.ASLEEP, a slot's state: parked on its ring sleep


class SleepMs:
    """The awaitable ``sleep_ms``/``sleep`` return: done once the deadline fixed at the call
    has passed, in whichever task awaits it. Awaiting it again ends at once. ``send``/
    ``throw``/``close`` make it a coroutine for ``create_task``."""

    def __init__(self, slot, timer):
        self.slot = slot  # the slot whose sleep_ms arms it (its entry holds the deadline)
        self.timer = timer  # that slot's scheduler's timer
        self.deadline = 0  # the timer tick it ends at
        self.state = _FREE

    @micropython.native
    def __iter__(self, _ctx=_ctx, _it=_ring_iter, _append=_ring_append, _sleep=_SLEEP):
        # ``await`` calls it (MicroPython calls __iter__, CPython __await__): the caller
        # awaiting its own sleep at once gets the ring iterator (see time/sleep.py), which
        # yields SLEEP and then ends without a call or a raise; any other await gets self.
        if self.state == _ARMED and _ctx.slot is self.slot:
            self.state = _FREE
            _append(_sleep)
            return _it
        return self

    __await__ = __iter__

    @micropython.native
    def __next__(self, _ctx=_ctx, _sleep=_SLEEP, _exc=_stop):  # defaults: locals, no lookups
        st = self.state
        if st == _FREE or st == _SPENT:  # awaited already: done
            exc = _exc
            exc.__traceback__ = None
            raise exc
        if st != _DETACHED and _ctx.slot is self.slot:
            self.state = _FREE
            return _sleep  # the caller awaits it: its entry holds the deadline
        return self._rebind()

    def send(self, value):
        return self.__next__()

    def throw(self, exc, *args):
        if self.state != _FREE:  # (a task running it as its coroutine was cancelled)
            self.state = _SPENT
        raise exc

    def close(self):
        if self.state != _FREE:
            self.state = _SPENT

    def detach(self):
        """Take the deadline off the arming slot's entry (kept here for the awaiter)."""
        self.state = _DETACHED
        slot = self.slot
        w = slot.w  # (task/words.py: slot.timer's number, 4, and deadline, 6)
        if w[4] < 0xFFFF and w[6] == self.deadline and w[0] != _ASLEEP:
            slot.timer.cancel()

    def unarm(self):
        """``detach`` if the deadline is still on the slot's entry (the sleep is handed on)."""
        if self.state == _ARMED or self.state == _ARMED_NO_RING:
            self.detach()

    def _rebind(self):
        # Awaited by another task than the caller, or after the caller's entry was needed for
        # another sleep: arm the awaiting task's entry at the deadline.
        me = _ctx.slot
        if me is None:
            me = core.current_slot()  # raises NoCurrentTask
        if self.state != _DETACHED:
            self.detach()
        self.state = _FREE if me is self.slot else _SPENT
        mine = me.fsleep
        if mine is not None and mine is not self:
            mine.unarm()  # the awaiter's own sleep_ms, not awaited yet, keeps its deadline
        timer = timer_of(me)
        if timer is self.timer:
            timer.arm_at(me.timer, self.deadline)
        else:  # a task of another scheduler: the time left, on its own timer
            left = wrap_diff(self.deadline, self.timer.now())
            timer.arm_us(me.timer, left * self.timer.tick_us if left > 0 else 0)
        return _SLEEP


def adopt_armed_sleep(aw):
    """``aw`` as a ``SleepMs`` if it is shimeji's own sleep (``shimeji.sleep_ms``...) armed on
    the calling task's entry, about to be handed to another task (``create_task``,
    ``wait_for``, ``gather``); else None. The deadline leaves the caller's entry (and the
    ring's item, the ring sleep's, is taken back)."""
    if aw is not _ring_iter and aw is not _core_sleep:
        return None
    slot = _ctx.slot
    if slot is None or slot.w[4] >= 0xFFFF:  # (slot.timer not armed: task/words.py)
        return None  # (yield_now's ring iterator: no sleep armed)
    if aw is _ring_iter:
        next(_ring_iter)
    sleep = SleepMs(slot, slot.sched.timer)
    sleep.deadline = slot.w[6]  # slot.timer.deadline (task/words.py)
    sleep.state = _ARMED_NO_RING
    sleep.detach()
    return sleep


def _fresh(slot, old):
    # The slot has no SleepMs yet, or its SleepMs is still to be awaited (or was awaited by
    # another task): the slot gets a new one.
    if old is not None:
        old.unarm()
    if slot.sched.level:
        return None
    aw = SleepMs(slot, slot.sched.timer)
    slot.fsleep = aw
    return aw


@micropython.native
def sleep_ms(t, _ctx=_ctx, _arm=_arm_ms, _it=_ring_iter, _next=next, _max=MAX_TICKS,
             _threads=core._threads):
    """Awaitable: pause for ``t`` ms (an int), counted from the call. Allocates nothing in
    the usual case (awaited at once by the task that calls it); any task may await it."""
    if t <= 0:
        return yield_now()
    if t > _max:
        return _long_sleep(t)
    slot = _ctx.slot
    if slot is None:
        return _outside(t)
    if _threads and core.current_context() is not _ctx:  # an executor worker's task: the
        return _outside(t)  # interpreter's context holds another thread's (core.py)
    aw = slot.fsleep
    if aw is None or aw.state:
        _slot_now()  # (raises NoCurrentTask on a thread a foreground loop does not poll,
        aw = _fresh(slot, aw)  # before _fresh detaches the polled task's sleep: docs/repl.md)
        if aw is None:  # an interrupt-level task: shimeji's sleep (nothing allocated there)
            return _arm(t)
    if _arm(t) is _it:  # (the ring sleep's item: taken back, SleepMs.__iter__ puts it again)
        _next(_it)
        aw.state = _ARMED
    else:
        aw.state = _ARMED_NO_RING
    aw.deadline = slot.w[6]  # slot.timer.deadline (task/words.py)
    return aw


def sleep(t):
    """Awaitable: pause for ``t`` seconds (int or float). ``sleep(0)`` yields once; a longer
    sleep is ``sleep_ms``'s awaitable (any task may await it: ``create_task``, ``wait_for``,
    ``gather``)."""
    if t <= 0:
        return yield_now()
    return sleep_ms(int(t * 1000))


def _outside(t):
    if core.running_slot() is not None:  # a task on an executor's worker thread
        return _arm_ms(t)  # shimeji's sleep: bound to that task
    return _sleep_coro(t)  # not in a task (asyncio.run(asyncio.sleep(1))): a coroutine


async def _sleep_coro(ms):
    await sleep_ms(ms)


async def _long_sleep(ms):
    if hasattr(time, "ticks_add"):
        time.ticks_add(time.ticks_ms(), ms)  # raises OverflowError past the tick range
    while ms > 0:
        step = ms if ms <= MAX_TICKS else MAX_TICKS
        await _arm_ms(step)
        ms -= step
