"""Critical sections: short stretches of code that an interrupt handler cannot split.

A critical section object has ``enter()`` returning a state and ``exit(state)`` restoring it;
no allocation, and nested sections restore the state they saved. The scheduler binds
``enter``/``exit`` once and uses them around the few statements an interrupt-side wake also
touches (``sched/waking.py``); every sync primitive does the same. ``with cs:`` is the same as
a context manager (allocation-free, nests up to ``MAX_DEPTH`` deep); ``try_enter()`` returns
``None`` instead of blocking. Kinds: ``IrqCriticalSection`` (``machine.disable_irq()`` on
boards); ``LockCriticalSection``, a re-entrant ``_thread`` lock for the unix port and CPython,
where a second thread plays the interrupt handler (``NoThreads`` where there is no
``_thread``: the qemu port, many boards), in its own module (``locksection.py``: a board
that masks interrupts never loads it); ``NoCriticalSection`` for single-context programs.

Every kind answers ``held()``: whether the calling context is inside the section. A
``micropython.schedule`` callback runs at a bytecode boundary even inside a section, so the
interrupt-level scheduler (``sched/interrupt.py``) asks ``held()`` and waits for the section
to end, as an interrupt waits while interrupts are masked. Keep sections to a few statements:
on a board, interrupts wait while one is held. Nothing is allocated inside one, not even a
refusal's error (docs/sync.md, "Errors").
"""
import sys

import micropython
from micropython import const

from .. import port
from ..errors import BadArgument, Cancelled, CriticalSectionMisuse, NoThreads, premade, renew
from ..port import exit_of  # noqa: F401 (re-exported: the primitives bind it)

_MAX_DEPTH = const(8)
MAX_DEPTH = _MAX_DEPTH  # nesting depth of ``with cs:`` (enter/exit nest without limit)
_TOO_DEEP = ("critical sections nested more than %d deep with 'with': keep sections short, or "
             "use enter()/exit(state) for deeper nesting" % _MAX_DEPTH)


class CriticalSection:
    """Base class: the context manager on top of a subclass's ``enter``/``exit``.

    The saved states of nested ``with`` blocks live in a list made here, so ``with cs:``
    allocates nothing. Only the context that holds the section touches that list."""

    # True on an ``IrqCriticalSection`` whose enter/exit are its own: a scheduler may then take
    # it on its hot paths by calling ``_disable``/``_enable`` directly and counting ``depth``.
    irq_direct = False
    # True on a MicroPython ``LockCriticalSection`` whose enter/exit are its own: the I/O
    # poll (io/dispatch.py) then takes it, when free, with the lock's own calls in line.
    lock_direct = False
    _too_deep = None  # premade (errors.py): the refusal raised inside the outer sections
    # A kind's ``exit`` refuses an exit that no enter matched; shimeji's own sections, which
    # always pair them, call its ``_exit_paired`` (no check: ``exit_of``). ``_exit_checked``
    # is the kind's own ``exit``: a subclass with an exit of its own is called through that.
    _exit_checked = None

    def __init__(self):
        self._states = [0] * _MAX_DEPTH
        self._depth = 0
        if CriticalSection._too_deep is None:
            CriticalSection._too_deep = premade(CriticalSectionMisuse, _TOO_DEEP)

    @micropython.native  # (a native frame adds no traceback entry to the refusal)
    def __enter__(self):
        """Enter the section. ISR-safe (too deep: a ``CriticalSectionMisuse`` made before)."""
        state = self.enter()
        depth = self._depth
        if depth >= _MAX_DEPTH:
            self.exit(state)
            too_deep = self._too_deep
            too_deep[1] = True
            raise too_deep[0]
        self._states[depth] = state
        self._depth = depth + 1
        return self

    def __exit__(self, exc_type, exc, tb):
        """Leave the section, restoring the state saved by ``__enter__``. ISR-safe."""
        depth = self._depth - 1
        if depth < 0:  # (no ``with`` entered it: a call of __exit__ of its own)
            refuse_exit(self)
        self._depth = depth
        self.exit(self._states[depth])
        if depth == 0 and self._too_deep[1] and not getattr(self, "held", bool)():
            renew(self._too_deep)  # (a refusal was raised: made again, outside every section)
        return False

    def try_enter(self):
        """Enter without waiting: a state for ``exit``, or None if another holds it. ISR-safe."""
        return self.enter()

    def _refuse_exit(self):
        # (a method: the native exits reach it with no global look-up, which would make every
        # call swap the module's globals in and out)
        refuse_exit(self)

    def leave_interrupted(self):
        """Leave the section entirely if the calling context holds it, as a Ctrl-C raised
        inside one leaves it; True if it did (docs/repl.md). Not ISR-safe."""
        self._depth = 0
        return False


class NoCriticalSection(CriticalSection):
    """Excludes nothing: for code that has no interrupt handler or second thread. It counts
    how deep it is entered, so an interrupt-level scheduler (``sched/interrupt.py``) can tell
    that the code it interrupted is inside a section and wait for it to leave."""

    depth = 0  # a class default: a subclass that skips __init__ still counts

    def __init__(self):
        CriticalSection.__init__(self)
        self.depth = 0  # (made here: a first ``+=`` in enter() would allocate it, in an ISR)

    def enter(self):
        """ISR-safe."""
        self.depth += 1
        return 0

    def exit(self, state):
        """ISR-safe. Without a matching ``enter()``: ``CriticalSectionMisuse``."""
        depth = self.depth
        if depth <= 0:
            refuse_exit(self)
        self.depth = depth - 1

    _exit_checked = exit

    def _exit_paired(self, state):
        self.depth -= 1

    def held(self):
        """True while the section is entered. ISR-safe."""
        return self.depth > 0

    def leave_interrupted(self):
        """Forget the entries a Ctrl-C left open; True if there were any. Not ISR-safe."""
        self._depth = 0
        left = self.depth > 0
        self.depth = 0
        return left


class IrqCriticalSection(CriticalSection):
    """Masks interrupts on the current core (``machine.disable_irq``).

    Nesting is free: ``disable_irq`` returns the previous mask and ``enable_irq`` restores it.
    Pass ``machine_module`` to use a stand-in (tests) or another core's implementation."""

    def __init__(self, machine_module=None):
        CriticalSection.__init__(self)
        if machine_module is None:
            import machine as machine_module
        disable = getattr(machine_module, "disable_irq", None)
        enable = getattr(machine_module, "enable_irq", None)
        if disable is None or enable is None:
            raise BadArgument("IrqCriticalSection(%r) has no disable_irq/enable_irq: give the "
                              "machine module (or a stand-in with both), or use "
                              "default_critical_section()" % (machine_module,))
        self._disable = disable
        self._enable = enable
        self.depth = 0  # how deep the section is entered (see held())
        cls = type(self)  # (a subclass with its own enter/exit is entered only through them)
        self.irq_direct = (cls.enter is IrqCriticalSection.enter
                           and cls.exit is IrqCriticalSection.exit)

    @micropython.native
    def enter(self):
        """Mask interrupts; returns the state for ``exit``. ISR-safe."""
        state = self._disable()
        self.depth += 1
        return state

    @micropython.native
    def exit(self, state):
        """Restore the mask ``enter`` saved. ISR-safe. Without an ``enter()`` of this core's
        (none held): ``CriticalSectionMisuse``, and the mask is left as it is."""
        depth = self.depth
        if depth <= 0:
            self._refuse_exit()
        self.depth = depth - 1
        self._enable(state)

    _exit_checked = exit

    @micropython.native
    def _exit_paired(self, state):
        self.depth -= 1
        self._enable(state)

    def held(self):
        """True while the calling core (or the code its callback interrupted) is inside the
        section. A ``micropython.schedule`` callback runs even with interrupts masked, so an
        interrupt-level scheduler asks this before it runs (``sched/interrupt.py``). ISR-safe.

        ``depth`` is one count for every core: on an RP2040 running core 1, ``disable_irq``
        also takes MicroPython's cross-core mutex (recursive per core), so the count is read
        inside the section: a section the other core holds is waited out (a few statements)
        and never counts as this core's (read bare, it did: ``WrongLevel`` on core 0's spawn
        while core 1 woke a task, seen on two emulated cores)."""
        state = self._disable()
        depth = self.depth
        self._enable(state)
        return depth > 0


def refuse_exit(cs):
    """An ``exit(state)`` that no ``enter()`` matched (nothing is changed by it)."""
    raise CriticalSectionMisuse("%s.exit(state) without a matching enter(): call exit once "
                                "per enter, with the state that enter returned, from the "
                                "context that entered" % (type(cs).__name__,))


_shared = None
# A Ctrl-C (or SystemExit) inside a task's critical section leaves it entered until the run
# loop leaves it (docs/repl.md): the interrupted task's Cancelled is then this one, made before.
_IN_SECTION = premade(Cancelled, "the task was interrupted by KeyboardInterrupt or SystemExit "
                      "inside a critical section (the run loop leaves the section)")


def interrupted_cancelled(cs, exc):
    """The ``Cancelled`` a task interrupted by ``exc`` (a BaseException out of its poll)
    completes with: made before if this context holds ``cs`` (a scheduler's section) or the
    runtime's shared one, which allocates nothing; made now otherwise (and the premade one
    made again if it was used). Not ISR-safe."""
    made = _IN_SECTION
    shared = _shared
    if (hasattr(cs, "held") and cs.held()) or (shared is not None and shared.held()):
        made[1] = True
        return made[0]
    renew(made)
    return Cancelled("the task was interrupted by %s" % type(exc).__name__)


try:  # guards the first make: two threads calling first at once get the same section
    import _thread

    _making = _thread.allocate_lock()
    del _thread
except ImportError:  # one thread only: nothing to race with
    _making = None


def default_critical_section():
    """The runtime's critical section, one per interpreter (made on first use, under a lock
    where ``_thread`` exists, so threads calling first at the same moment share one).

    Boards get ``IrqCriticalSection``; the unix port and CPython a ``LockCriticalSection``; a
    runtime without threads or ``disable_irq`` gets ``NoCriticalSection``. ESP32 boards with
    ``_thread`` a lock too: a GIL hand-over or lock wait inside ``disable_irq`` (a FreeRTOS
    critical section) corrupts FreeRTOS's lists (docs/boards.md, "ESP32 (Xtensa), session 13"),
    and no Python runs in a hard interrupt there. Schedulers and primitives made without one
    share this one. Not for an interrupt handler before the first call (it may wait; allocates)."""
    global _shared
    shared = _shared
    if shared is not None:
        return shared
    if _making is None:
        _shared = shared = _make_default()
        return shared
    _making.acquire()
    try:
        if _shared is None:
            _shared = _make_default()
        return _shared
    finally:
        _making.release()


def _make_default():
    if port.IS_MICROPYTHON:
        try:
            import machine

            if hasattr(machine, "disable_irq") and not (_making and sys.platform == "esp32"):
                return IrqCriticalSection(machine)
        except ImportError:
            pass
    from .locksection import LockCriticalSection

    try:
        return LockCriticalSection()
    except NoThreads:
        return NoCriticalSection()
