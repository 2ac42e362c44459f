"""A critical section that locks the heap while it is held: any allocation inside it raises
``MemoryError`` (MicroPython). For the proof that the executor allocates nothing inside its
sections (test_executor_section_heap.py; docs/executor.md, "Session 18").

``micropython.heap_lock()`` counts per thread (v1.28: ``gc_lock_depth`` is a field of the
thread's state), so each thread's entries lock its own heap only, and nested entries nest:
every ``enter`` locks once more, every ``exit`` unlocks once.

A locked heap does not catch every allocation: a call of a bytecode function whose frame needs
more than 11 words asks for the frame with ``m_new_obj_var_maybe`` and, refused, puts it on the
C stack (py/objfun.c, v1.28), so it passes under the lock and allocates when the heap is free
(on the RP2040 that waits for the GC's mutex too). ``solo=True`` catches those: it does not lock
the heap but reads ``micropython.mem_total()`` (bytes ever allocated, every thread's) when the
section is first entered and when it is left, and counts what was allocated in between
(``allocated``, ``sections_that_allocated``); exact only while no other thread allocates, so
for tests that drive their workers on one thread. CPython has no heap lock: there the section
only counts, and the tests check that it was used and every entry left."""

import sys

from shimeji.sync.critical import IrqCriticalSection
from shimeji.sync.locksection import LockCriticalSection

try:
    from micropython import heap_lock, heap_unlock
except ImportError:  # CPython
    heap_lock = heap_unlock = None

HEAP_LOCK = heap_lock is not None
try:
    from micropython import mem_total as _mem_total  # (builds with MICROPY_MEM_STATS)
except ImportError:
    _mem_total = None
MEM_TOTAL = _mem_total is not None
_Base = IrqCriticalSection if sys.platform == "rp2" else LockCriticalSection  # (rp2: no other)


class HeapLockedSection(_Base):
    """The runtime's section for an executor, with the calling thread's heap locked while it
    holds it. ``entries``: entries so far; ``inside``: entries not yet left (both changed
    inside the section, so no thread's count is lost)."""

    def __init__(self, solo=False):
        _Base.__init__(self)
        self.entries = 0
        self.inside = 0
        self.solo = solo and _mem_total is not None
        self.lock = HEAP_LOCK and not self.solo  # (no mem_total: locked instead)
        self.allocated = 0  # solo: bytes allocated inside the section
        self.sections_that_allocated = 0
        self._total = 0

    def enter(self):
        state = _Base.enter(self)
        self._entered()
        return state

    def _entered(self):
        self.entries += 1
        self.inside += 1
        if self.lock:
            heap_lock()
        elif self.solo and self.inside == 1:
            self._total = _mem_total()

    def try_enter(self):
        state = _Base.try_enter(self)
        if state is not None:
            self._entered()
        return state

    def exit(self, state):
        if self.lock:
            heap_unlock()
        elif self.solo and self.inside == 1:
            grew = _mem_total() - self._total
            if grew:
                self.allocated += grew
                self.sections_that_allocated += 1
        self.inside -= 1
        _Base.exit(self, state)

    def leave_interrupted(self):
        left = _Base.leave_interrupted(self)
        if left:
            self.inside = 0  # (the entries a Ctrl-C left are left now)
            if self.lock:
                while heap_unlock():  # (returns the depth left)
                    pass
        return left

    def check_balanced(self):
        """Every entry was left, and the section was used (entries: a lower bound the caller
        gives). On MicroPython the heap is unlocked again on this thread."""
        assert self.inside == 0, self.inside
        assert self.allocated == 0, (self.allocated, self.sections_that_allocated)
        if HEAP_LOCK:
            heap_lock()
            assert heap_unlock() == 0  # this thread's heap is not left locked
        return self.entries


class FixedLog:
    """Room made beforehand for what tasks record inside a critical section (two workers
    appending to one list at once lose items where there is no GIL, and an append there may
    allocate): ``add(x)`` under the section stores into the next element. ``values()``: what
    was added, in order (a new list: outside the section)."""

    def __init__(self, n):
        self.items = [None] * n
        self.n = 0

    def add(self, x):
        i = self.n
        self.items[i] = x  # (an IndexError if the room is too small: a test to fix)
        self.n = i + 1

    def values(self):
        return self.items[: self.n]
