"""``RwLock``: many readers or one writer, granted in arrival order.

``async with rw.read():`` shares the lock with other readers; ``async with rw.write():`` holds
it alone. Waiters form one FIFO queue: a reader that arrives after a waiting writer waits
behind it, so writers do not starve, and consecutive waiting readers are let in together.
A grant to a task that is cancelled before it resumes is handed on.
"""

from micropython import const

from .. import core
from ..errors import LockNotHeld
from .waitqueue import WAITING, GuardAwaitable, WaitQueue, accept

_READ = const(1)
_WRITE = const(2)


class RwLock:
    """A fair reader-writer lock. ``critical_section``: default the runtime's."""

    def __init__(self, critical_section=None):
        self._q = WaitQueue(critical_section, self._abandoned, self._grant)
        self._readers = 0
        self._writer = None  # the writing task's slot
        self._writer_id = 0  # ...and its task id: a later task in that slot is not the writer
        self._writing = False
        self._read = _Acquire(self, _READ)
        self._write = _Acquire(self, _WRITE)

    def readers(self):
        """Tasks holding read access. ISR-safe."""
        return self._readers

    def is_writing(self):
        """ISR-safe."""
        return self._writing

    def read(self):
        """Awaitable: shared access (also ``async with rw.read():``). Allocates nothing.
        Not ISR-safe (tasks only)."""
        return self._read

    def write(self):
        """Awaitable: exclusive access (also ``async with rw.write():``). Allocates nothing.
        Not ISR-safe (tasks only)."""
        return self._write

    def try_read(self):
        """Take read access if no writer holds or waits; True on success. Not ISR-safe."""
        q = self._q
        state = q._enter()
        ok = not self._writing and q.head is None
        if ok:
            self._readers += 1
        q._exit(state)
        return ok

    def try_write(self):
        """Take write access if the lock is free and nobody waits; True on success. Not
        ISR-safe."""
        q = self._q
        state = q._enter()
        ok = not self._writing and self._readers == 0 and q.head is None
        if ok:
            self._writing = True
            self._set_writer(core.context.slot)
        q._exit(state)
        return ok

    def read_unlock(self):
        """Give back read access. Raises ``LockNotHeld`` if no reader holds it. Not ISR-safe."""
        q = self._q
        state = q._enter()
        if self._readers == 0:
            q._exit(state)
            raise LockNotHeld("read_unlock() with no reader holding this RwLock: pair each "
                              "read_unlock() with an acquired read()")
        self._readers -= 1
        self._grant()
        q._exit(state)

    def write_unlock(self):
        """Give back write access. Raises ``LockNotHeld`` unless the caller is the writer.
        Not ISR-safe."""
        me = core.context.slot
        if not self._writing or self._writer is not me or (
            me is not None and me.id != self._writer_id
        ):
            raise LockNotHeld("write_unlock() by a task that does not hold this RwLock for "
                              "writing: only the writer may release it (use 'async with')")
        self._write_release()

    def _write_release(self):
        q = self._q
        state = q._enter()
        self._writing = False
        self._set_writer(None)
        self._grant()
        q._exit(state)

    def _set_writer(self, slot):
        self._writer = slot
        self._writer_id = 0 if slot is None else slot.id

    def _grant(self):
        # Caller holds the section: admit waiters from the head while they fit.
        q = self._q
        slot = q.head
        while slot is not None and not self._writing:
            if slot.wait_key == _WRITE:
                if self._readers:
                    return
                self._writing = True
                self._set_writer(slot)
                q.grant(slot)
                return
            self._readers += 1
            q.grant(slot)
            slot = q.head

    def _abandoned(self, slot):
        # A grant went to a task cancelled before it resumed: undo it and admit the next.
        if slot.wait_key == _WRITE:
            self._writing = False
            self._set_writer(None)
        else:
            self._readers -= 1
        self._grant()


class _Acquire(GuardAwaitable):
    def __init__(self, rw, mode):
        self.rw = rw
        self.mode = mode
        self._finish = core.Finish()

    def release(self, exc_type=None):
        rw = self.rw
        if self.mode == _READ:
            rw.read_unlock()
        elif exc_type is GeneratorExit or core.context.slot is None:
            if rw._writing:
                rw._write_release()  # the coroutine is being closed: see Mutex._guard_exit
        else:
            rw.write_unlock()

    def __next__(self):
        me = core.current_slot()
        rw = self.rw
        q = rw._q
        if me.wait_phase == 0:
            state = q._enter()
            if not rw._writing and q.head is None:
                if self.mode == _READ:
                    rw._readers += 1
                    q._exit(state)
                    raise self._finish.done()
                if rw._readers == 0:
                    rw._writing = True
                    rw._set_writer(me)
                    q._exit(state)
                    raise self._finish.done()
            me.wait_key = self.mode
            q.link(me)
            me.wait_phase = 1
            q._exit(state)
            return core.PARK
        if me.wait_status == WAITING:
            return core.PARK
        accept(me)  # granted: the counters were updated by whoever granted it
        me.wait_key = None
        raise self._finish.done()
