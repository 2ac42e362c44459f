"""``LockCriticalSection``: the critical section of a runtime where a second thread plays the
interrupt handler (the unix port, CPython; ESP32 boards with ``_thread``): a re-entrant
``_thread`` lock. ``NoThreads`` where there is no ``_thread``.

Its own module (critical.py holds the base and the kinds that need no thread): a board whose
default section masks interrupts never loads it. ``default_critical_section()`` makes one
where it is the runtime's kind (critical.py). See docs/repl.md for what a Ctrl-C inside a
section does, and ``leave_interrupted`` below.
"""
import time

import micropython
from micropython import const

from .. import port
from .critical import CriticalSection, refuse_exit

_STUCK_MS = const(200)  # a lock held this long with no owner was left so by a Ctrl-C


class LockCriticalSection(CriticalSection):
    """A re-entrant lock for the unix port and CPython, where a second thread plays the
    interrupt handler: it blocks in ``enter()`` until the holder leaves; the holder may enter
    again (a wake from inside a primitive's section takes the scheduler's section too).

    Under MicroPython: a ``_thread`` lock, an owner and a depth, in native code (no VM check
    point between taking the lock and recording the owner; but the unix port raises Ctrl-C
    anywhere: see ``leave_interrupted``). Thread idents (pthread ids) are small ints on the
    64-bit unix port, so the owner check allocates nothing (test_sync_critical.py measures
    it); on a 32-bit build an ident past 2**30 would be boxed on every ``enter()``. Under
    CPython: ``_thread.RLock``, which takes the lock and records its owner in one C call (the
    same steps in Python left a window where Ctrl-C left it held with no owner, and the next
    ``enter()`` waited forever). See docs/repl.md for what a Ctrl-C inside a section does."""

    def __init__(self):
        CriticalSection.__init__(self)
        _thread = port.thread_module("LockCriticalSection")
        self._owner = None  # ident of the holding thread (MicroPython)
        self._nested = 0  # re-entries beyond the first (MicroPython)
        if port.IS_MICROPYTHON:
            self._ident = _thread.get_ident
            self._use(_thread.allocate_lock())
            cls = type(self)  # (as IrqCriticalSection's irq_direct)
            self.lock_direct = (cls.enter is LockCriticalSection.enter
                                and cls.exit is LockCriticalSection.exit)
        else:
            lock = _thread.RLock()
            self._is_owned = lock._is_owned
            self._acquire = lock.acquire
            self._release = lock.release

    def _use(self, lock):
        self._acquire = lock.acquire
        self._release = lock.release
        self._locked = lock.locked

    if port.IS_MICROPYTHON:

        @micropython.native
        def enter(self):
            """Take the lock (or re-enter it); returns the state for ``exit``. ISR-safe."""
            me = self._ident()
            if self._owner == me:
                self._nested += 1
                return 1
            self._acquire()
            self._owner = me
            return 0

        @micropython.native  # native: no check point between the acquire and the owner
        def try_enter(self):
            """``enter()`` without blocking: ``None`` if another thread holds it. ISR-safe."""
            me = self._ident()
            if self._owner == me:
                self._nested += 1
                return 1
            if self._acquire(0):
                self._owner = me
                return 0
            return None

        @micropython.native
        def exit(self, state):
            """Leave what the matching ``enter()`` entered. ISR-safe. Without one (the calling
            thread does not hold the section): ``CriticalSectionMisuse``, and the section
            stays as it was."""
            if self._owner != self._ident():  # (as bare: a RuntimeError, or another's freed)
                self._refuse_exit()
            if state:
                if self._nested <= 0:
                    self._refuse_exit()
                self._nested -= 1
                return
            self._owner = None
            self._release()

        _exit_checked = exit

        @micropython.native
        def _exit_paired(self, state):
            if state:
                self._nested -= 1
                return
            self._owner = None
            self._release()

        def held(self):
            """True if the calling thread holds the section. ISR-safe."""
            return self._owner == self._ident()

        def leave_interrupted(self):
            """Leave the section entirely if the calling thread holds it: what a Ctrl-C
            raised inside a section leaves behind. True if it did. The run loop calls it when
            a ``KeyboardInterrupt`` ends ``run()``, and ``close()`` before it ends the tasks.

            The unix port raises Ctrl-C from its signal handler, at any machine instruction
            (``MICROPY_ASYNC_KBD_INTR``), so also between the acquire and the owner's store:
            the lock is then held by nobody. Another thread passes that point in a few
            instructions; a lock still held with no owner after ``_STUCK_MS`` is taken to be
            that leftover and released (or replaced, if Ctrl-C also split the lock's own
            acquire). Not ISR-safe."""
            self._depth = 0
            if self._owner == self._ident():
                self._nested = 0
                self._owner = None
                self._release()
                return True
            waited = 0
            while self._owner is None and self._locked():
                if waited >= _STUCK_MS:
                    self._nested = 0
                    try:
                        self._release()
                    except RuntimeError:  # its flag says unlocked, its mutex is held
                        self._use(port.thread_module("LockCriticalSection").allocate_lock())
                    return True
                time.sleep_ms(1)
                waited += 1
            return False

    else:

        def enter(self):
            """Take the lock (or re-enter it); returns the state for ``exit``. ISR-safe."""
            self._acquire()
            return 0

        def try_enter(self):
            """``enter()`` without blocking: ``None`` if another thread holds it. ISR-safe."""
            return 0 if self._acquire(False) else None

        def exit(self, state):
            """Leave what the matching ``enter()`` entered. ISR-safe. Without one (the calling
            thread does not hold the section): ``CriticalSectionMisuse``."""
            try:
                self._release()
            except RuntimeError:  # (the RLock's: "cannot release un-acquired lock")
                refuse_exit(self)

        _exit_checked = exit

        def _exit_paired(self, state):
            self._release()

        def held(self):
            """True if the calling thread holds the section. ISR-safe."""
            return self._is_owned()

        def leave_interrupted(self):
            """Leave the section entirely if the calling thread holds it (see the MicroPython
            variant above). Not ISR-safe."""
            self._depth = 0
            left = False
            while self._is_owned():
                self._release()
                left = True
            return left
