"""A task's spawn on an executor worker allocates nothing inside the critical section
(task/spare.py): on the RP2040 with core 1 running, an allocation there waits for the GC's
mutex while holding the cross-core section, which an interrupt on core 0 that holds up the
GC's holder wants too (both cores stopped in the two-core emulator: docs/executor.md). The
section here locks the heap while armed, so an allocation inside it raises."""

import sys

from shimeji import Executor
from shimeji.sync.critical import IrqCriticalSection
from shimeji.sync.locksection import LockCriticalSection
from support import micropython_only, needs_thread_module

_Base = IrqCriticalSection if sys.platform == "rp2" else LockCriticalSection  # (rp2: no other)


class _HeapLockedWhileArmed(_Base):
    def __init__(self):
        _Base.__init__(self)
        self.armed = False
        self.locks = 0

    def enter(self):
        state = _Base.enter(self)
        if self.armed:
            import micropython

            micropython.heap_lock()
            self.locks += 1
        return state

    def exit(self, state):
        if self.locks:
            import micropython

            self.locks -= 1
            micropython.heap_unlock()
        _Base.exit(self, state)


async def _child(i):
    return i


@needs_thread_module  # an Executor, driven on this thread
@micropython_only  # (heap_lock)
def test_a_tasks_spawn_on_its_worker_allocates_nothing_inside_the_section():
    cs = _HeapLockedWhileArmed()
    ex = Executor(workers=1, capacity=8, critical_section=cs)
    n = 24  # three times the slots: every slot's handle handed out and made again

    async def main():
        total = 0
        for i in range(n):
            coro = _child(i)  # the caller's allocation, before the section
            cs.armed = True
            try:
                h = ex.spawn(coro)  # from a worker's task: that worker's spawn
            finally:
                cs.armed = False
            total += await h
        return total

    assert ex.run(main()) == sum(range(n))
    assert cs.locks == 0
