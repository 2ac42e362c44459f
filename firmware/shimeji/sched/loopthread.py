"""The thread a foreground loop polls on, so that a call from another thread is refused.

A foreground loop (``RunLoop.run``, ``run()``, ``run_until_complete``, the asyncio facade's
loop) polls its tasks with the interpreter's context (``core.context``), which every thread
shares: a thread of the user's own that calls ``sleep_ms()``, ``timeout()`` or
``wait_readable()`` while the loop is in the middle of polling a task would find that task's
slot there and bind its timer entry, guard or object to a task it is not in. So while a
foreground loop runs on a port with threads, it records its thread here (``enter``/``leave``)
and tells the modules whose calls bind to the calling task (``BINDERS``): they find their
task through ``slot_of``, which raises ``NoCurrentTask`` on a thread that is not a loop's (an
executor worker's own task still answers). A ``ThreadBackground``'s check (background.py)
takes precedence while one runs. Ports without ``_thread`` (no other thread can call) are not
checked at all.

Design note: what is checked, and what is not. The check is one ``get_ident()`` call, and
nothing else tells the threads apart: every field a binder reads (``context.slot``, its
``tkit``, the slot's state, its coroutine running) reads the same from any thread while the
loop polls, and a native function reaches no per-thread state but through a call. The calls
it guards take their task through a function call already (``timeout()``, ``sleep_us()``,
``sleep_until()``, ``sleep_ms()``'s slow way) or are an I/O wait (``wait_readable``, whose
fast path compares the thread in a second form bound only while a loop guards: docs/repl.md
has the figures). The viper fast path of ``sleep_ms()`` (a FIFO tick's timer, 1 ms up to the
wheel's range) has no call to swap, and its closure no cell to spare (a sixth word makes every
call allocate): so the loop marks its timer's wheel words (``_guard_words``: the flag and its
thread's ident, words 47 and 39, which the fast path loads anyway through the pointer it
takes), and the fast path compares ``get_ident()`` only where it finds the mark: +318
instructions per sleep under a foreground loop (+2.0 % of a tickless timer), a load and a
compare outside one (docs/repl.md, "Threads of your own"). A look-up that straddles a loop's
start or end (it read "no loop" and then the slot of the loop's first poll, or a slot and
then found its loop gone) is made again: ``enter`` and ``leave`` move ``core.guard_moves``,
which each binder reads before and after its look-up (``core.settled``); the one window left,
on ``sleep_ms``'s fast path, is in docs/repl.md ("A call that straddles a loop's start").

One thread at a time: a loop's polls say what runs in the interpreter's one context cell
(``core.context``) and its tasks' ``yield_now`` use one shared ring, so a loop that starts on a
thread while another thread's loop (a foreground loop's or a ``ThreadBackground``'s) runs is
refused with ``SchedulerBusy`` before it changes anything (``enter``, under a lock: no GIL on
the unix port nor the RP2040). While such a loop runs, ``ticking`` holds its thread, and
``StaticScheduler.tick`` refuses a tick on any other thread (``refuse_tick``: a hand-written
loop's ``tick()`` there would poll with the same context cell). The one-thread tick pays one
test of ``ticking``'s truth, a default-argument local; only while a loop runs does a tick look
its thread up (docs/repl.md). A hand-written loop that was ticking before the other loop
started is refused from its next tick on.
"""

import sys

import micropython
from micropython import const

from .. import core, port
from ..errors import NoCurrentTask, SchedulerBusy

if not port.IS_MICROPYTHON:

    def ptr32(buf):
        """Viper's ``ptr32(buf)`` cast, for CPython: index the array itself."""
        return buf

_MASK = const(0x3FFFFFFF)
_W_GUARD = const(47)  # a timer wheel's words (time/wheel.py): sleep_ms's guard, nonzero while
_W_IDENT = const(39)  # a foreground loop polls with it, and that loop's thread's ident
_SMALL = (sys.maxsize >> 1) + 1  # MicroPython's small ints: -_SMALL up to _SMALL - 1

# The modules whose calls bind an awaitable to the calling task's slot when called: each has
# ``guard_thread(slot_of)`` (None: unguarded); one imported while a loop runs asks ``guard()``
# at its import.
BINDERS = ("shimeji.time.sleep", "shimeji.time.deadline", "shimeji.io.wait")

_get_ident = [None]  # _thread.get_ident once a loop has run; False on a port without threads
_lock = [None]  # a _thread lock: a loop's start and end, one at a time even without a GIL
_owners = {}  # the idents of the threads foreground loops run on (ident -> depth)
# The threads whose loops poll plain schedulers now, foreground loops' and ThreadBackgrounds'
# (ident -> loops): StaticScheduler.tick refuses the ticks of every other thread while this is
# not empty (refuse_tick). Changed under _lock.
ticking = {}
_timers = {}  # id(timer) -> depth: the timers whose sleep_ms fast path compares the thread


def _threads():
    # _thread.get_ident (False on a port without threads), and the lock made with it
    gi = _get_ident[0]
    if gi is None:
        try:
            import _thread

            gi = _thread.get_ident
            _lock[0] = _thread.allocate_lock()
        except ImportError:  # no threads: no other thread can call
            gi = False
        _get_ident[0] = gi
    return gi


def other_loop(ident):
    """The ident of a thread other than ``ident`` (None: any) that polls plain schedulers
    with the interpreter's context (a foreground loop's, a ThreadBackground's), or None."""
    for k in _owners:
        if k != ident:
            return k
    bg = sys.modules.get("shimeji.sched.background")
    if bg is not None:
        for k in bg._loop_threads:
            if k != ident:
                return k
    return None


def busy(what, other):
    """The ``SchedulerBusy`` for ``what`` (a loop's start) while thread ``other`` polls."""
    return SchedulerBusy(
        "%s while another thread (%r) runs a loop over plain schedulers: both would say what "
        "runs in the interpreter's one context cell and share yield_now's ring. Poll every "
        "plain scheduler from one thread (spawn the tasks on one scheduler, or tick them in "
        "one loop) and hand work to it from other threads (bg.spawn, a Gate, Event.set(), "
        "call_soon_threadsafe), or use an Executor (each worker has a context of its own)"
        % (what, other))


def hold_ticks(ident, step):
    """Count a loop over plain schedulers on thread ``ident`` in (``step`` 1) or out (-1) of
    ``ticking``. Under ``_lock``. Not ISR-safe."""
    n = ticking.get(ident, 0) + step
    if n > 0:
        ticking[ident] = n
    else:
        ticking.pop(ident, None)


def refuse_tick(sched):
    """``StaticScheduler.tick`` on a thread not in ``ticking`` (which is not empty: the
    thread look-up is the tick's, ``_get_ident`` set by the loop's ``enter``):
    ``SchedulerBusy`` if ``sched`` is a plain thread-level scheduler (an interrupt level's or
    an executor's is checked by its own rules). Nothing has changed when it raises. Not
    ISR-safe."""
    if sched.level or sched.parallel:
        return
    for other in ticking:
        raise busy("tick() on a thread that runs no loop", other)


def refuse_others(what):
    """Raise ``busy(what, ...)`` if another thread's loop polls plain schedulers now (a
    check before a loop's set-up; ``enter`` checks again, atomically). Not ISR-safe."""
    gi = _threads()
    if gi is not False:
        other = other_loop(gi())
        if other is not None:
            raise busy(what, other)


def enter(timer=None, what="a loop"):
    """Record the calling thread as a foreground loop's, for the loop's whole run, and mark
    ``timer`` (the loop's scheduler's, or None) so that ``sleep_ms``'s fast path refuses
    another thread's call (time/sleep.py's ``guard_words``); returns what ``leave`` takes
    (None on a port without threads). ``SchedulerBusy`` (``busy``: nothing recorded) while
    another thread's loop polls plain schedulers. Not ISR-safe (a loop's start)."""
    gi = _threads()
    if gi is False:
        return None
    ident = gi()
    with _lock[0]:
        other = other_loop(ident)
        if other is not None:
            raise busy(what, other)
        first = not _owners
        _owners[ident] = _owners.get(ident, 0) + 1
        hold_ticks(ident, 1)
        if first:
            _tell(slot_of)
        if timer is not None:
            k = id(timer)
            depth = _timers.get(k, 0)
            if depth == 0:
                _guard_timer(timer, ident)
            _timers[k] = depth + 1
        _moved()  # (after the guard went up: core.guard_moves)
    return ident


def leave(ident, timer=None):
    """End what ``enter`` returned ``ident`` for (None: nothing), ``timer`` as given to it.
    Not ISR-safe."""
    if ident is None:
        return
    with _lock[0]:
        _leave(ident, timer)


def _leave(ident, timer):
    _moved()  # (before the guard comes down: core.guard_moves)
    if timer is not None:
        k = id(timer)
        depth = _timers.get(k, 1) - 1
        if depth > 0:
            _timers[k] = depth
        else:
            _timers.pop(k, None)
            _guard_timer(timer, None)
    hold_ticks(ident, -1)
    depth = _owners.get(ident, 1) - 1
    if depth > 0:
        _owners[ident] = depth
        return
    _owners.pop(ident, None)
    _tell(None)  # (one thread's loops at a time: enter)


def _moved():
    # A binder's look-up that straddles this (it read the guard's state before and the slot
    # after, or the slot before and the state after) sees the count moved and looks again
    moves = core.guard_moves
    moves[0] = core.wrap_count(moves[0], 1)


def guard():
    """What a binder imported now applies: ``slot_of`` while a foreground loop runs, else
    None. Not ISR-safe."""
    return slot_of if _owners else None


def thread_check():
    """``(get_ident, ident)``: what a binder's own fast check compares, the calling thread's
    ``get_ident()`` with the loop's thread's ``ident`` (one thread polls with the
    interpreter's context at a time: ``enter``); ``(None, None)`` while no foreground loop
    runs. Not ISR-safe."""
    for ident in _owners:
        return _get_ident[0], ident
    return None, None


@micropython.viper
def _guard_words(words, ident, on: int):
    # the words sleep_ms's fast path compares the calling thread with (time/sleep.py), cut
    # from ``ident`` in viper as the fast path cuts get_ident()'s: its low 30 bits, the next 20
    ws = ptr32(words)
    if on:
        x = int(ident)
        ws[_W_IDENT] = x & _MASK
        ws[_W_GUARD] = ((x >> 30) & 0xFFFFF) | 0x100000
    else:
        ws[_W_GUARD] = 0
        ws[_W_IDENT] = 0


def _guard_timer(timer, ident):
    # While a foreground loop polls with ``timer`` on the thread ``ident`` (None: no longer),
    # sleep_ms's fast path compares the calling thread with it and sends another thread's call
    # its slow way, where ``slot_of`` refuses it. A timer without a wheel's words (a stand-in)
    # is left alone, and so is an ident that is not a small int (the compare would allocate:
    # no port shimeji runs on; the unix port's are below 2**47, the ESP32's DRAM addresses
    # below 2**30, the RP2040's core numbers).
    kit = getattr(timer, "_kit", None)
    if kit is None:
        return
    if ident is not None and port.IS_MICROPYTHON and not -_SMALL <= ident < _SMALL:
        return
    _guard_words(kit[2], 0 if ident is None else ident, ident is not None)


def _tell(fn):
    for name in BINDERS:
        mod = sys.modules.get(name)
        if mod is not None:
            mod.guard_thread(fn)


def slot_of():
    """The slot polled on the calling thread while a foreground loop runs: ``NoCurrentTask``
    on a thread that is not a loop's (an executor worker's own context still answers). Not
    ISR-safe."""
    if not _owners or _get_ident[0]() in _owners:
        return core.current_slot()
    ctx = core.current_context()
    if ctx is not core.context and ctx.slot is not None:  # an executor worker's own task
        return ctx.slot
    raise NoCurrentTask("no task is running on this thread (a loop polls its tasks on "
                        "another thread): call this from inside a task; from another thread, "
                        "hand work to the loop with a Gate, Event.set(), sched.wake() or the "
                        "asyncio facade's call_soon_threadsafe")
