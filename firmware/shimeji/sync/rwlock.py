"""``RwLock``: many readers or one writer, granted in arrival order.

``async with rw.read():`` shares the lock with other readers; ``async with rw.write():`` holds
it alone. Waiters form one FIFO queue: a reader that arrives after a waiting writer waits
behind it, so writers do not starve, and consecutive waiting readers are let in together.
A grant to a task that is cancelled before it resumes is handed on.

Each lock remembers which tasks read (a small table, grown only at a new high of concurrent
readers, outside the critical section), so that ``read_unlock`` refuses a task that holds no
read, and a task that asks for what it could never get raises ``LockHeldBySelf`` instead of
waiting forever: the write lock again, the write lock while it reads (an upgrade), or a read
while it writes. A task that already reads may read again at once (behind a waiting writer it
would otherwise deadlock).
"""

import micropython
from micropython import const

from .. import core
from ..errors import LockHeldBySelf, LockNotHeld
from .waitqueue import WAITING, GuardAwaitable, WaitQueue, accept, own_next

_ctx = core.context  # the calling task is _ctx.slot unless executor workers are registered
_threads = core._threads  # (then the calling thread tells: core.running_slot())
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
        self._by = [None] * 4  # the reading tasks' slots (None: a reader outside any task)...
        self._by_id = [0] * 4  # ...and their task ids
        self._nby = 0

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
        me = (core.running_slot() if _threads else _ctx.slot)
        self._room()
        q = self._q
        state = q._enter()
        ok = not self._writing and q.head is None
        if ok:
            self._readers += 1
            self._note(me)
        q._exit(state)
        return ok

    def try_write(self):
        """Take write access if the lock is free and nobody waits; True on success. Not
        ISR-safe."""
        q = self._q
        me = (core.running_slot() if _threads else _ctx.slot)  # (outside the section: calls)
        state = q._enter()
        ok = not self._writing and self._readers == 0 and q.head is None
        if ok:
            self._writing = True
            self._set_writer(me)
        q._exit(state)
        return ok

    def read_unlock(self):
        """Give back read access. Raises ``LockNotHeld`` unless the caller holds a read (a task
        cannot release another task's read). Not ISR-safe."""
        self._read_release((core.running_slot() if _threads else _ctx.slot), False)

    @micropython.native  # (with a try, a bytecode frame passes 11 words: a heap block)
    def _read_release(self, me, closing):
        q = self._q
        state = q._enter()
        i = self._find(me)
        if i < 0 and closing and self._nby:
            i = self._nby - 1  # closed outside its poll: the caller is unknown
        if i < 0:
            q._exit(state)
            raise LockNotHeld("read_unlock() by a task that holds no read of this RwLock: "
                              "only a reader may release its read (pair each read() with one "
                              "read_unlock(), or use 'async with rw.read():')")
        n = self._nby - 1  # the last entry fills the hole
        self._by[i] = self._by[n]
        self._by_id[i] = self._by_id[n]
        self._by[n] = None
        self._nby = n
        self._readers -= 1
        try:
            self._grant()
        finally:
            q._exit(state)

    def _find(self, me):
        by = self._by
        tid = 0 if me is None else me.id
        for i in range(self._nby):
            if by[i] is me and self._by_id[i] == tid:
                return i
        return -1

    def _room(self):
        # Before the section: room for one more reader in the table (grows at a new high).
        n = len(self._by)
        if self._nby >= n:
            self._by += [None] * n
            self._by_id += [0] * n

    def _note(self, me):
        n = self._nby
        self._by[n] = me
        self._by_id[n] = 0 if me is None else me.id
        self._nby = n + 1

    def _check_self(self, me, mode):
        # Caller holds the section. Raises (after leaving it) what could never be granted.
        # (No formatting in here: it would allocate inside the section.)
        if self._writing and self._writer is me and me.id == self._writer_id:
            return _AGAIN_WRITING if mode == _WRITE else _AGAIN_READING
        if mode == _WRITE and self._find(me) >= 0:
            return ("this task holds a read of the RwLock: asking to write would wait forever "
                    "(no upgrade): release the read first (read_unlock, or leave 'async with "
                    "rw.read()'), then await rw.write()")
        return None

    def write_unlock(self):
        """Give back write access. Raises ``LockNotHeld`` unless the caller is the writer.
        Not ISR-safe."""
        me = (core.running_slot() if _threads else _ctx.slot)
        if not self._writing or self._writer is not me or (
            me is not None and me.id != self._writer_id
        ):
            raise LockNotHeld("write_unlock() by a task that does not hold this RwLock for "
                              "writing: only the writer may release it (use 'async with')")
        self._write_release()

    @micropython.native  # (with a try, a bytecode frame passes 11 words: a heap block)
    def _write_release(self):
        q = self._q
        state = q._enter()
        self._writing = False
        self._set_writer(None)
        try:
            self._grant()
        finally:
            q._exit(state)

    def _set_writer(self, slot):
        self._writer = slot
        self._writer_id = 0 if slot is None else slot.id

    @micropython.native  # (with a try, a bytecode frame passes 11 words: a heap block)
    def _grant(self):
        # Caller holds the section: admit waiters from the head while they fit.
        q = self._q
        slot = q.head
        try:
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
        except BaseException as e:  # that waiter still waits (q.grant): undo what it was given
            if slot.wait_key == _WRITE:
                self._writing = False
                self._set_writer(None)
            else:
                self._readers -= 1
            raise e

    def _abandoned(self, slot):
        # A grant went to a task cancelled before it resumed: undo it and admit the next.
        if slot.wait_key == _WRITE:
            self._writing = False
            self._set_writer(None)
        else:
            self._readers -= 1
        self._grant()


_AGAIN = ("this task holds the RwLock for writing: asking for %s again would wait forever (an "
          "RwLock is not re-entrant); use what you hold, or release it first")
_AGAIN_WRITING = _AGAIN % "writing"
_AGAIN_READING = _AGAIN % "reading"


class _Acquire(GuardAwaitable):
    def __init__(self, rw, mode):
        self.rw = rw
        self.mode = mode
        self._finish = core.Finish()
        own_next(self)  # (waitqueue.own_next: found at once on resumption)

    def release(self, exc_type=None):
        rw = self.rw
        if self.mode == _READ:
            me = (core.running_slot() if _threads else _ctx.slot)
            rw._read_release(me, exc_type is GeneratorExit or me is None)
        elif exc_type is GeneratorExit or core.running_slot() is None:
            if rw._writing:
                rw._write_release()  # the coroutine is being closed: see Mutex._guard_exit
        else:
            rw.write_unlock()

    @micropython.native  # (with a try, a bytecode frame passes 11 words: a heap block)
    def __next__(self, _ctx=core.context, _park=core.PARK, _threads=core._threads):  # locals
        me = _ctx.slot  # core.current_slot(), in line
        if me is None or _threads:  # none, or executor workers: the thread tells (core.py)
            me = core.current_slot()  # (raises NoCurrentTask)
        rw = self.rw
        q = rw._q
        if me.wait_phase == 0:
            rw._room()
            state = q._enter()
            try:  # (calls: a section's exit is certain)
                head = q.head
                if head is not None and not rw._writing and (
                        head.wait_key == _READ or rw._readers == 0):
                    rw._grant()  # only after a grant whose wake raised: hand it on now
                refused = rw._check_self(me, self.mode)
                granted = False
                if refused is None and not rw._writing and (
                        q.head is None or (self.mode == _READ and rw._find(me) >= 0)):
                    if self.mode == _READ:
                        rw._readers += 1
                        rw._note(me)
                        granted = True
                    elif rw._readers == 0:
                        rw._writing = True
                        rw._set_writer(me)
                        granted = True
                if refused is None and not granted:
                    me.wait_key = self.mode
                    q.link(me)
                    me.wait_phase = 1
                    return _park
            finally:
                q._exit(state)
            if refused is not None:
                raise LockHeldBySelf(refused)
            raise self._finish.done()
        if me.wait_status == WAITING:
            return _park
        accept(me)  # granted: the counters were updated by whoever granted it
        if me.wait_key == _READ:
            rw._room()
            state = q._enter()
            rw._note(me)  # the granter counted the read; the reader records itself
            q._exit(state)
        me.wait_key = None
        raise self._finish.done()
