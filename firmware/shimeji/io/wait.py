"""``wait_readable(obj)`` / ``wait_writable(obj)``: park the current task until ``obj`` is ready.

``obj`` is anything ``select.poll`` accepts on the runtime: a socket, ``machine.UART``,
``sys.stdin``, a pipe or file descriptor, an object with ``ioctl`` (MicroPython streams). The
wait is registered with the scheduler's ``IOPoller`` (one per scheduler, made on first use),
and its state lives on the task's slot (``io_obj``, ``io_mask``, ``io_events``,
``io_entry``), so waiting again on an object seen before allocates nothing.

How a wait ends:

- ready: ``await`` returns (for a read: data, or the end of the stream, can be read now);
- ``POLLERR`` (both directions), ``POLLHUP`` for a write wait, or ``POLLHUP`` with nothing left
  to read for a read wait: ``IOFailed``; the object was closed (``POLLNVAL``, or ``forget``):
  ``StreamClosed``. A hang-up never leaves the task waiting;
- cancelled or timed out (``timeout()``): the registration is removed.

One task per object and direction: a second task that waits for the same raises ``IOBusy``
(a reader and a writer on one object are fine).

Call it right where you await it (``await wait_readable(sock)``): the call records the
object on the calling task's slot, as ``sleep_ms`` does. Nothing here is ISR-safe.
"""

import sys

import micropython
from micropython import const

from .. import core, port
from ..errors import IOFailed, NoCurrentTask, NotPollable, StreamClosed
from .poller import POLLERR, POLLHUP, POLLIN, POLLNVAL, POLLOUT, poller_for

_STRICT = const(1)
_LENIENT = const(0)


class _IOWait:
    """The awaitable behind the wait functions (one per direction and mode, shared by every
    task: its state is on the task's slot)."""

    def __init__(self, mask, strict):
        self.mask = mask
        self.strict = strict
        self._finish = core.Finish()
        self._exc = self._finish.exc  # (raised in line: see __next__)
        if port.IS_MICROPYTHON:  # found in the instance's table (readop.py's design note)
            self.__next__ = self.__next__

    @micropython.native
    def __iter__(self):
        return self

    __await__ = __iter__

    @micropython.native
    def __next__(self, _ctx=core.context, _park=core.PARK, _threads=core._threads):
        me = _ctx.slot  # (default-argument locals: a global is a hashed look-up in native code)
        if me is None or _threads:  # executor workers: the calling thread tells (core.py)
            me = core.current_slot()  # raises NoCurrentTask
        if me.io_entry is None and me.wait_phase:
            # Woken (the poll cleared io_entry): step()'s end in line, with no method call
            # between readiness and the task's run
            ev = me.io_events
            obj = me.io_obj
            me.wait_phase = 0
            if ev:
                me.io_events = 0
                if self.strict and ev & 0x38:  # POLLERR | POLLHUP | POLLNVAL
                    me.io_obj = None
                    _raise_trouble(obj, ev, self.mask)
            me.io_obj = None
        elif self.step(me) is None:
            pass  # (the first call, or woken for another reason: still registered)
        else:
            return _park
        exc = self._exc  # raise self._finish.done(), in line (no bytecode call)
        exc.__traceback__ = None
        raise exc

    @micropython.native
    def step(self, me):
        """Advance the wait of the task in slot ``me`` (its object in ``me.io_obj`` on the
        first call): ``core.PARK`` while it waits, None once it is over (raising the trouble
        in strict mode). For awaitables built on this one (``Stream``'s reads)."""
        if me.wait_phase == 0:
            obj = me.io_obj
            if obj is None:
                raise NoCurrentTask("await wait_readable(obj)/wait_writable(obj) in the task "
                                    "that called it, right where it is called")
            poller = me.sched.poller
            try:
                if poller is None:
                    poller = poller_for(me.sched)  # (raises WrongLevel at interrupt level)
                poller.add(me, obj, self.mask)
            except BaseException as e:
                me.io_obj = None
                raise e
            me.wait_phase = 1
            return _PARK
        if me.io_entry is not None:
            return _PARK  # woken for another reason: still registered
        ev = me.io_events
        obj = me.io_obj
        me.wait_phase = 0
        me.io_events = 0
        me.io_obj = None
        if self.strict and ev & 0x38:  # POLLERR | POLLHUP | POLLNVAL
            _raise_trouble(obj, ev, self.mask)
        return None


_context = core.context  # a context no tick sets while a loop thread runs (check_threads)
_PARK = core.PARK
_slot_of = core.current_slot
_UNSET = core.Context()
# _arm's: the context (one no tick sets while a loop thread runs: check_threads), and while a
# foreground loop guards its thread (guard_thread) get_ident and the loop's thread's ident
_GUARD = [core.context, None, None]
_checks = [False, None]  # check_threads' on, guard_thread's slot_of
_MOVES = core.guard_moves  # (a foreground loop's guard went up or down: core.settled)


def check_threads(on):
    """The wait functions find their task by the calling thread while ``on``: sleep.py's
    ``check_threads``, which ``core.check_threads`` calls (at the REPL, while its loop polls a
    task, ``wait_readable(obj)`` recorded ``obj`` on that task's slot). Not ISR-safe."""
    _checks[0] = on
    _apply()


def guard_thread(slot_of):
    """While a foreground loop runs (``slot_of``: sched/loopthread.py's, else None), a wait
    made mid-poll on another thread than the loop's finds its task through ``slot_of``, which
    raises ``NoCurrentTask`` there. Not ISR-safe."""
    _checks[1] = slot_of
    _apply()


def _apply():
    global _context, _slot_of, _arm
    on, fg = _checks
    _context = _UNSET if on else core.context
    _slot_of = core.task_slot if on else core.current_slot if fg is None else fg
    _GUARD[0] = _context
    own, ident = (None, None) if fg is None or on else \
        sys.modules["shimeji.sched.loopthread"].thread_check()
    _GUARD[2] = ident
    _GUARD[1] = own
    _arm = _arm_plain if own is None else _arm_guarded  # (unguarded: no cost of the check)


def _raise_trouble(obj, ev, mask):
    if ev & POLLNVAL:
        raise StreamClosed("%r was closed while a task waited for it" % (obj,))
    if ev & POLLERR:
        raise IOFailed("%r reported an error (POLLERR): read or write it to get the OSError, "
                       "then close it" % (obj,))
    if mask == POLLOUT or not ev & POLLIN:
        raise IOFailed("%r hung up (POLLHUP): the other end is gone; close it" % (obj,))
    # POLLHUP with data left: the read returns it (and then the end of the stream).


_READ = _IOWait(POLLIN, _STRICT)
_WRITE = _IOWait(POLLOUT, _STRICT)
_READ_ANY = _IOWait(POLLIN, _LENIENT)
_WRITE_ANY = _IOWait(POLLOUT, _LENIENT)


@micropython.native
def _arm_plain(obj):
    # The calling task's slot (for obj: not None)
    slot = _context.slot
    if slot is None:
        slot = _slot_of()  # raises NoCurrentTask
    if obj is None:  # (io_obj None means "not armed": step() would blame the wrong thing)
        raise NotPollable("wait_readable(obj)/wait_writable(obj) got None: pass the socket, "
                          "stream, UART, pipe or file descriptor to wait on")
    return slot


@micropython.native
def _arm_guarded(obj, _g=_GUARD):
    # _arm while a foreground loop guards its thread (guard_thread): _g[1] is get_ident, _g[2]
    # the loop's thread's ident; another thread mid-poll gets _slot_of's NoCurrentTask
    slot = _g[0].slot  # (a default argument is a local: no global look-up)
    if slot is None:
        slot = _slot_of()  # raises NoCurrentTask
    elif _g[1]() != _g[2]:
        slot = _slot_of()  # not the loop's thread: raises NoCurrentTask
    if obj is None:
        _arm_plain(obj)  # (raises NotPollable)
    return slot


def _slot_now():  # (the look-up as it is at the call: guard_thread rebinds it)
    return _slot_of()


_arm = _arm_plain  # _arm_guarded while a foreground loop guards its thread (_apply)
# (wait_readable and wait_writable are native: no bytecode frame per wait, ~100-170
# instructions less per wait_readable cycle, tools/instr.py "io wait"/"io idle wake").
# Each reads core.guard_moves (_m) before it reads _arm and again after _arm read the slot:
# if a foreground loop started or ended meanwhile, the slot may be a task that loop polls
# on another thread (or one it no longer polls), so the look-up is made again (core.settled).


@micropython.native
def wait_readable(obj, _m=_MOVES):
    """Awaitable: park until ``obj`` can be read without blocking. Raises ``IOFailed`` on an
    error or hang-up, ``StreamClosed`` if ``obj`` was closed, ``IOBusy`` if another task
    already waits to read ``obj``. Allocates nothing for an object waited on before. Tasks
    only (not ISR-safe)."""
    n = _m[0]
    slot = _arm(obj)
    if _m[0] != n:
        slot = core.settled(_slot_now)
    slot.io_obj = obj
    return _READ


@micropython.native
def wait_writable(obj, _m=_MOVES):
    """Awaitable: park until ``obj`` can be written without blocking. Raises like
    ``wait_readable`` (``POLLHUP`` always counts: nothing can be written any more). Tasks
    only (not ISR-safe)."""
    n = _m[0]
    slot = _arm(obj)
    if _m[0] != n:
        slot = core.settled(_slot_now)
    slot.io_obj = obj
    return _WRITE


def wait_io(obj, mask):
    """Awaitable for streams: park until ``obj`` is ready for ``mask`` (``POLLIN`` or
    ``POLLOUT``) or reports trouble, and return either way; the read or write that follows
    returns the data, the end of the stream, or raises the ``OSError``."""
    n = _MOVES[0]
    slot = _arm(obj)
    if _MOVES[0] != n:
        slot = core.settled(_slot_now)
    slot.io_obj = obj
    return _READ_ANY if mask == POLLIN else _WRITE_ANY


READ_ANY = _READ_ANY  # the lenient read wait, for Stream's reads (step())

__all__ = ("wait_readable", "wait_writable", "wait_io", "POLLIN", "POLLOUT", "POLLERR",
           "POLLHUP")

if core.threads_checked[0]:  # (imported while a loop thread or an executor's workers run)
    check_threads(True)
_lt = sys.modules.get("shimeji.sched.loopthread")  # (imported while a foreground loop runs)
if _lt is not None and _lt.guard() is not None:
    guard_thread(_lt.guard())
