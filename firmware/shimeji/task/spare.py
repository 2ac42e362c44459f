"""What a spawn onto an executor (or an interrupt-level scheduler: sched/levelrun.py) needs
that may allocate, made before it enters the critical section: a spare ``JoinHandle``, and in
grow mode a new pool slot.

Design note. On the RP2040 with core 1 running, the section (``machine.disable_irq``) is the rp2
port's mutex across both cores, and an allocation inside it waits for the GC's mutex. Core 0
holding the GC's mutex (allocating) and taken by an interrupt that wants the section's mutex
(USB, ``machine.Timer``: MicroPython's scheduler queue) then waits for core 1, which waits for
core 0: both stop, on a Pico as in the two-core emulator (docs/executor.md, "A spawn that
allocated inside the section"). So nothing allocates inside the section: a spawn makes its
handle first (``spare``: its fields stored, so the instance's map grows here), and under the
section gives it to the free slot that needs one (``ready``); a grown slot is made and added
the same way (``grow``). Two threads may read the same spare outside the section: the first
under the section takes it, and the other finds no handle for its slot, leaves the section
and tries again with a new one (allocate, enter, check again)."""

from .slot import JoinHandle, new_handle
from .waitlist import JoinList


def spare(holder):
    """``holder``'s spare handle (a worker's, or the executor's for the injector), made now if
    it has none. Allocates: outside the section."""
    h = holder._spare
    if h is None:
        h = new_handle(JoinHandle)
        h._ref = None
        h.id = 0
        h.name = None  # (the three fields spawn may store: no map growth inside the section)
        holder._spare = h
    return h


def ready(holder, slot, h, name):
    """Under the section: whether a spawn into free ``slot`` allocates nothing. A slot whose
    handle was handed out, or a named spawn (a slot's first handle has no ``name`` field yet),
    takes ``h`` if it is still ``holder``'s spare; False if it is not (another thread's spawn
    took it, or a detached spawn came without one: leave the section, make one, try again).
    Allocates nothing."""
    if slot.handle_out or name is not None:
        if h is None or holder._spare is not h:
            return False
        slot.handle = h
        slot.handle_out = False
        holder._spare = None
    return True


def grow(pool, enter, exit_):
    """A new pool slot for a pool in grow mode whose free list is empty (``TaskPool._grow_slot``
    without allocating under the section): the slot and the longer ``slots`` list are made
    first; under the section the list is swapped in if no other thread grew the pool meanwhile
    (else made again) and the slot pushed on the free list. Allocates: outside the section."""
    from .taskslot import TaskSlot

    slot = TaskSlot()
    slot.pooled = True
    slot.owner = pool
    slot.joiners = JoinList()
    while True:
        old = pool.slots
        longer = old + [slot]
        state = enter()
        done = pool.slots is old
        if done:
            pool.slots = longer
            pool.grown += 1
            pool._free_push(slot)
        exit_(state)
        if done:
            return
