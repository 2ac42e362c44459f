"""A worker's spare ``JoinHandle``, made before its spawn enters the critical section.

Design note. On the RP2040 with core 1 running, the section (``machine.disable_irq``) is the rp2
port's mutex across both cores, and an allocation inside it waits for the GC's mutex. Core 0
holding the GC's mutex (allocating) and taken by an interrupt that wants the section's mutex
(USB, ``machine.Timer``: MicroPython's scheduler queue) then waits for core 1, which waits for
core 0: both stop, on a Pico as in the two-core emulator (docs/executor.md, "A spawn that
allocated inside the section"). A task's spawn on a worker made its new handle inside the
section (``StaticScheduler.spawn``: a slot whose last handle was handed out gets a new one). So
``Worker._spawn_here`` makes that handle first, its fields stored (the instance's map grows
here), and hands it to the free slot under the section: the spawn reuses it."""

from ..task.slot import JoinHandle, new_handle


def spare(worker):
    """The worker's spare handle, made now if it has none. Allocates: outside the section."""
    h = worker._spare
    if h is None:
        h = new_handle(JoinHandle)
        h._ref = None
        h.id = 0
        h.name = None  # (the three fields spawn may store: no map growth inside the section)
        worker._spare = h
    return h


def hand(worker, h):
    """Under the section: the next free slot takes ``h`` if its own handle was handed out and
    ``h`` is still the worker's spare, so ``StaticScheduler.spawn`` reuses ``h`` instead of
    making one. Allocates nothing. (Another thread may spawn on this worker too, e.g. a worker
    whose pool is full: two spawns that read the same spare outside the section hand it once.)"""
    slot = worker._free_head
    if slot is not None and slot.handle_out and worker._spare is h:
        slot.handle = h
        slot.handle_out = False
        worker._spare = None
