"""Waking and parking: how a task becomes runnable again, from anywhere.

These are ``StaticScheduler``'s methods (its class body imports them, so they sit in its own
table), kept here as one concept: the handshake between ``wake()`` and the tick's ``_park``.

Design note: wakes. A wake may come from a task, from an interrupt handler, or from another
thread or core. ``wake()`` takes the critical section for the few statements that move a slot
from WAITING to QUEUED and link it into the *inbox* (an intrusive MPSC list); the tick drains
the inbox into the policy. The policy is therefore touched only by the scheduler's own context
and needs no locking. A task that merely yields (``yield_now``) never goes through the inbox:
the scheduler puts it back itself, with no critical section, because an interrupt-side wake of
a RUNNING or QUEUED task only sets a flag (``rewoken``), which ``_park`` reads under the
section, so a wake that lands while the task runs is never lost. This inbox is also where a
multi-core executor's injector and work stealing attach: another core hands a task over by
waking it here.

Design note: ring sleeps. A task on its ring sleep (``core.SLEEP``) ignores wakes: it parks
in the state ``ASLEEP`` (one word, written without the section: ``_park_sleep``, tick_fifo),
which ``wake`` does not queue, and the timer's hand-off queues it (ASLEEP to QUEUED, again
without the section). A legitimate early end (a cancellation, an expired timeout) goes
through ``_unwait`` on the scheduler's thread: it disarms the entry and makes the slot
WAITING, then wakes it. So ``wake`` reads the state once, under the section, and queues only
a WAITING task.

Design note: ABA. Every way out of WAITING (a wake, the hand-off of a timeout-kind entry)
takes the section, and a ring sleeper is never WAITING, so the state a wake reads under the
section stays what it read until it writes QUEUED: no wake can queue a sleeper, and the
inbox holds no sleeper to check. (While the ring sleep was a ``sleeping`` flag beside
WAITING, a wake's reads without the section could not tell two sleeps apart, and the
scheduler's thread checked every slot the inbox brought.)
"""

import micropython
from micropython import const

from .. import port
from ..errors import BadArgument
from ..task.taskslot import TaskSlot

# Task states (core.py) as constants here: wake and _park are native, and an imported name is
# a lookup in this module's globals on every use.
_QUEUED = const(1)
_RUNNING = const(2)
_WAITING = const(3)
_ASLEEP = const(4)

if not port.IS_MICROPYTHON:
    ptr32 = port.ptr32  # viper's cast, for CPython


def _bind_wakes(nil):
    """``wake`` and ``_wake_irq``, closed over ``nil`` (None: viper compares an object with an
    object, and a constant None is a type of its own there; a cell is one machine load)."""

    @micropython.viper
    def wake(self, slot):
        """Make the task in ``slot`` runnable. Idempotent; a no-op for a finished task.

        ISR-safe: allocation-free and guarded by the critical section, so interrupt handlers,
        other threads and tasks may all call it."""
        # Viper: the slot's state is a machine word (task/words.py), read and written in line.
        if not slot.__class__ is self._plain_slot:  # noqa: E714 (no unary not: one call less)
            return self._wake_traced(slot)  # traced (its records call out), or no TaskSlot
        sw = ptr32(slot.wa)  # (task/words.py)
        state = self._enter()
        if not slot.sched is self:  # noqa: E714 finished, or moved to another worker: forward
            other = slot.sched
            self._exit(state)
            if other is not nil:
                other.wake(slot)
            return nil
        st = sw[0]  # (ASLEEP, a ring sleep, is ignored: see the design notes)
        if st == _WAITING:
            sw[0] = _QUEUED
            slot.inbox_next = nil  # (a constant None stored from viper is an int 0)
            tail = self._inbox_tail
            if tail is nil:
                self._inbox_head = slot
            else:
                tail.inbox_next = slot
            self._inbox_tail = slot
            ptr32(self._news)[0] = 1  # (tick_fifo reads this one word per poll)
            if self._polling:
                self._local_ok = False  # spawns follow the woken task (lifecycle.py's spawn)
                self._woken_int = int(self._woken_int) + 1
            else:
                self._woken_ext = int(self._woken_ext) + 1
        elif st == _RUNNING:
            sw[2] = 1  # rewoken: woken while it runs, _park keeps it runnable
        self._exit(state)
        if st == _WAITING:
            if self._polling:
                pass
            elif self.idle_notify is not nil:
                self.idle_notify()  # the loop may be idle in the I/O poller: end its wait
        return nil

    @micropython.viper
    def _wake_irq(self, slot):
        if not slot.__class__ is self._plain_slot:  # noqa: E714 (as in wake)
            return self._wake_traced(slot)
        irq = self._irq
        sw = ptr32(slot.wa)  # (task/words.py)
        state = self._irq_off()
        irq.depth = int(irq.depth) + 1
        if not slot.sched is self:  # noqa: E714 (as in wake)
            other = slot.sched
            irq.depth = int(irq.depth) - 1
            self._irq_on(state)
            if other is not nil:
                other.wake(slot)
            return nil
        st = sw[0]
        if st == _WAITING:
            sw[0] = _QUEUED
            slot.inbox_next = nil
            tail = self._inbox_tail
            if tail is nil:
                self._inbox_head = slot
            else:
                tail.inbox_next = slot
            self._inbox_tail = slot
            ptr32(self._news)[0] = 1  # (tick_fifo reads this one word per poll)
            if self._polling:
                self._local_ok = False  # spawns follow the woken task (lifecycle.py's spawn)
                self._woken_int = int(self._woken_int) + 1
            else:
                self._woken_ext = int(self._woken_ext) + 1
        elif st == _RUNNING:
            sw[2] = 1  # rewoken
        irq.depth = int(irq.depth) - 1
        self._irq_on(state)
        if st == _WAITING:
            if self._polling:
                pass
            elif self.idle_notify is not nil:
                self.idle_notify()
        return nil

    return wake, _wake_irq


wake, _wake_irq = _bind_wakes(None)


@micropython.native  # (with a try, a bytecode frame passes 11 words: a heap block)


def _wake_traced(self, slot):
    # ``wake`` with a trace: the record (``wake_locked``) is made inside the section, after
    # the task is queued, and may raise (the trace's clock, a stack overflow): the section
    # still ends, the wake has happened, the caller sees the exception. Also ``wake`` of what
    # is not a plain TaskSlot (``_plain_slot``): a subclass's slot is woken here, untraced
    # unless the scheduler is; anything else is refused before the section (session 26: an
    # AttributeError before).
    if not isinstance(slot, TaskSlot):
        refuse_wake(slot)
    state = self._enter()
    try:
        if slot.sched is not self:
            other = slot.sched
            st = -1
        else:
            st = slot.w[0]
            if st == _WAITING:
                slot.w[0] = _QUEUED
                slot.inbox_next = None
                tail = self._inbox_tail
                if tail is None:
                    self._inbox_head = slot
                else:
                    tail.inbox_next = slot
                self._inbox_tail = slot
                self._news[0] = 1  # (tick_fifo reads this one word per poll)
                if self._polling:
                    self._local_ok = False  # (as in wake)
                    self._woken_int += 1
                else:
                    self._woken_ext += 1
                if self._trace is not None:  # (a subclass's slot, untraced)
                    self._trace.wake_locked(self, slot)
            elif st == _RUNNING:
                slot.w[2] = 1  # rewoken (task/words.py)
    finally:
        self._exit(state)
    if st < 0:
        if other is not None:
            other.wake(slot)
    elif st == _WAITING and not self._polling and self.idle_notify is not None:
        self.idle_notify()


def refuse_wake(slot):
    raise BadArgument("wake(slot): give the task's TaskSlot (core.current_slot() inside the "
                      "task; a WaitCell or an Event wakes its waiter for you), got %r" % (slot,))


@micropython.native  # no check point inside: a micropython.schedule callback that wakes a
def _inbox_push(self, slot):  # task cannot link into the inbox half-way through this push
    state = self._enter()
    slot.inbox_next = None
    tail = self._inbox_tail
    if tail is None:
        self._inbox_head = slot
    else:
        tail.inbox_next = slot
    self._inbox_tail = slot
    self._news[0] = 1  # (tick_fifo reads this one word per poll)
    self._exit(state)


def _take_inbox(self):
    state = self._enter()
    slot = self._inbox_head
    self._inbox_head = None
    self._inbox_tail = None
    self._exit(state)
    return slot


def _drain_inbox(self):
    slot = self._take_inbox()
    add = self._add
    while slot is not None:  # (no ring sleeper: see the design note "ABA")
        nxt = slot.inbox_next
        slot.inbox_next = None
        add(slot)
        slot = nxt


@micropython.viper
def _park(self, slot) -> bool:
    # True if the task was woken while it ran (it stays runnable), else it now waits.
    sw = ptr32(slot.wa)  # (task/words.py: word 2 is rewoken, "woken while it ran")
    state = self._enter()
    if sw[2]:
        sw[2] = 0
        sw[0] = _QUEUED
        self._exit(state)
        return True
    sw[0] = _WAITING
    self._exit(state)
    return False


@micropython.viper
def _park_sleep(self, slot) -> bool:
    # The task yielded core.SLEEP: it waits for its own timer entry, ignoring other wakes.
    # True if it stays runnable (the entry fired already, or a throw waits). No section:
    # a wake from elsewhere finds RUNNING (rewoken, ignored) or ASLEEP (ignored).
    sw = ptr32(slot.wa)
    if sw[4] >= 0xFFFF or sw[1]:  # its timer fired (task/words.py W_TPOS), or a throw
        sw[0] = _QUEUED
        return True
    sw[2] = 0
    sw[0] = _ASLEEP
    return False


# -- the same on a board's IrqCriticalSection ----------------------------------------------------
# ``StaticScheduler.__init__`` binds these in place of wake, _take_inbox and _park when its
# section is an ``IrqCriticalSection`` (``irq_direct``) and its class does not override them.
# Each takes the section as ``IrqCriticalSection.enter``/``exit`` do (mask, then count
# ``depth``; uncount, then restore), calling ``disable_irq``/``enable_irq`` directly instead
# of through two method calls per section. Nesting stays correct (``disable_irq`` returns the
# mask it found, ``enable_irq`` restores it) and ``held()`` still sees the section. Keep each
# in step with its generic form above.


@micropython.native
def _take_inbox_irq(self):
    irq = self._irq
    state = self._irq_off()
    irq.depth += 1
    slot = self._inbox_head
    self._inbox_head = None
    self._inbox_tail = None
    irq.depth -= 1
    self._irq_on(state)
    return slot


@micropython.viper
def _park_irq(self, slot) -> bool:
    sw = ptr32(slot.wa)  # (task/words.py)
    irq = self._irq
    state = self._irq_off()
    irq.depth = int(irq.depth) + 1
    if sw[2]:
        sw[2] = 0
        sw[0] = _QUEUED
        irq.depth = int(irq.depth) - 1
        self._irq_on(state)
        return True
    sw[0] = _WAITING
    irq.depth = int(irq.depth) - 1
    self._irq_on(state)
    return False
