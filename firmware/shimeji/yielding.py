"""``yield_now`` and the worker threads' yield rings: the task switch of the FIFO fast path.

``yield_now()`` returns an awaitable that yields ``None`` once ("run me again soon", core.py)
and then finishes. On MicroPython it is a ring (``_ring_yield``: a small deque's C iterator);
elsewhere the ``YieldNow`` singleton. Each executor worker thread registers its context here
(``register_thread``) with a ring of its own, which ``yield_now`` finds by the thread's ident.
``shimeji.core`` re-exports the public names; this module is a part of the base layer.
"""

import sys

import micropython

from . import port
from .core import (
    Finish,
    _ident,
    _threads,
    current_context,
    guard_moves,
    threads_checked,
    wrap_count,
)

if port.IS_MICROPYTHON and sys.platform in ("linux", "darwin"):  # (where lines.py places)
    from .lines import dict_extents, isolated, list_extents, one_block
else:  # nothing is placed elsewhere: lines.py is not loaded (~350 B of a board's heap)
    dict_extents = list_extents = one_block = None

    def isolated(make, extents):
        return make(), None


# thread id | 2 -> the worker thread's yield_now ring (append, iterator); lines.py: why placed
# Design note: keyed as core._threads is, by ``_thread.get_ident() | 2`` (core.py: why).
try:  # grown once here, where threads can register (no threads: an empty dict, 152 B less)
    import _thread

    _rings, _rings_guard = isolated(lambda: dict.fromkeys(range(17)), dict_extents)
    for _i in range(16, -1, -1):  # last first: each freed entry reads as empty, not deleted
        del _rings[_i]
    del _i, _thread
except ImportError:
    _rings, _rings_guard = {}, None
_rings_get, _rings_get_guard = isolated(lambda: _rings.get, one_block)
# Non-empty once two workers poll: what yield_now needs to find the calling thread's ring
# (``_rings.get``, ``_thread.get_ident``, and the shared ring for threads that are no
# worker's). Design note: yield_now reads only its default arguments; a global name read in
# that native function costs about 500 instructions per switch, the call of a Python function
# from it 800 to 2,300 (callgrind, tools/instr.py switch).
_threaded, _threaded_guard = isolated(list, list_extents)  # a line of its own

try:  # two workers registering at once both found _threaded empty and extended it twice: a
    # list of six, and every yield_now on a worker then failed to unpack it (seen on 4 workers)
    import _thread

    _registering = _thread.allocate_lock()
    _MAIN = _thread.get_ident() | 2  # the thread that imported shimeji: plain loops run there
    del _thread
except ImportError:  # no threads: register_thread fails first, unregister_thread never locks
    _registering = None
    _MAIN = None


def register_thread(ctx):
    """Use ``ctx`` as the context of the calling thread (a worker of a multi-core executor).
    Not ISR-safe; call it on the worker's thread before it polls. Allocates (once per
    context: its yield_now ring)."""
    import _thread

    _ident[0] = _thread.get_ident
    if ctx.yielder is None:
        ctx.yielder = YieldNow()
    if ctx.ring is None:
        ctx.ring = new_yield_ring()
    ident = _thread.get_ident() | 2
    with _registering:  # workers start at once: two of them must not both extend _threaded
        _rings[ident] = ctx.ring
        _threads[ident] = ctx
        if len(_threads) == 1:  # the first: the binders look by the thread (check_threads)
            _check(_WORKERS, True)
        _rings_apart()


def _rings_apart():
    # (under _registering) From now on each worker thread's yield_now uses a ring of its own,
    # once two threads may use the shared ring at once: two workers, a worker on a thread
    # that is not the main one (a plain loop may poll there: session 19), or a worker beside
    # a ThreadBackground's loop thread. One worker alone on the main thread (Executor.run
    # with one worker) keeps the shared ring. Never undone while a worker is registered: its
    # yield_now may be reading the list.
    if _threaded or not _threads:
        return
    if len(_threads) > 1 or _MAIN not in _threads or threads_checked[0] & BACKGROUND:
        # extended from a list: one memcpy, then the length (another worker's yield_now
        # may read the list meanwhile and must never see it part-filled)
        _threaded.extend([_rings_get, _ident[0], _ring])


def unregister_thread():
    """Forget the calling thread's worker context."""
    get_ident = _ident[0]
    if get_ident is not None:
        ident = get_ident() | 2
        with _registering:
            _threads.pop(ident, None)
            _rings.pop(ident, None)
            if not _threads:  # not while a worker may still be in yield_now: it reads the list
                _threaded.clear()
                _check(_WORKERS, False)


# The modules whose calls bind an awaitable to the calling task's slot when called (a sleep's
# timer entry, a timeout's guard, an I/O wait's object): each has ``check_threads(on)``.
BINDERS = ("shimeji.time.sleep", "shimeji.time.deadline", "shimeji.io.wait")
BACKGROUND = 1  # check_threads' reasons (core.threads_checked): a ThreadBackground's loop
_WORKERS = 2  # thread runs; an executor's worker is registered


def check_threads(why, on):
    """Set (``on``) or clear reason ``why`` (``BACKGROUND``) for the binders to find their task
    by the calling thread; they switch when the first reason is set and when the last ends.
    Not ISR-safe."""
    if _registering is None:
        _check(why, on)
    else:
        with _registering:
            _check(why, on)


def _check(why, on):
    # (under _registering: a ThreadBackground and workers may set and clear at once)
    was = threads_checked[0]
    now = was | why if on else was & ~why
    threads_checked[0] = now
    if (now == 0) == (was == 0):
        return
    moves = guard_moves  # (moved after the check is on, before it is off: core.settled)
    if now == 0:
        moves[0] = wrap_count(moves[0], 1)
    for name in BINDERS:
        check = getattr(sys.modules.get(name), "check_threads", None)  # (None: importing,
        if check is not None:  # and its import's end looks at threads_checked)
            check(now != 0)
    if now != 0:
        moves[0] = wrap_count(moves[0], 1)
        _rings_apart()  # (a ThreadBackground's loop thread beside a worker on the main one)


def renew_ring(ctx):
    """Give the calling worker thread (context ``ctx``) a new yield_now ring, before it hands
    runnable tasks to another worker. Allocates one ring; call it on the worker's thread.

    Design note: a task that yielded awaits its thread's ring iterator, and resumes by asking
    it for the next item, wherever it resumes. A stolen task resumes on the thief's thread
    while its old worker keeps appending to its own ring: two threads on one deque, with no
    lock. So a worker retires its ring before a hand-over: it takes what is left in it (a
    ``yield_now()`` not awaited at once leaves an item), and from then on nobody appends to
    it, so every later resume only reads it (empty: the await ends). The old ring is garbage
    once the last task awaiting it has resumed. A ring per thread costs yield_now one dict
    look-up; a ring per task slot cost two attribute reads more (and ~150 B a slot)."""
    ring = ctx.ring
    if ring is None:  # no ring yield on this port: each thread arms its own YieldNow
        return
    for _ in ring[1]:  # spend what is left: the retired ring is only read from now on
        pass
    ring = new_yield_ring()
    ctx.ring = ring
    get_ident = _ident[0]
    if get_ident is not None:
        ident = get_ident() | 2
        if _threads.get(ident) is ctx:
            _rings[ident] = ring  # one key's value replaced: readers see the old or the new


class YieldNow:
    """Singleton behind ``yield_now()`` where the ring yield below is unavailable (CPython,
    ports without deque iteration); armed by the call, spent by the first ``__next__``."""

    def __init__(self):
        self.armed = False
        self._finish = Finish()

    def __iter__(self):
        return self

    __await__ = __iter__

    def __next__(self):
        if self.armed:
            self.armed = False
            return None
        raise self._finish.done()


_yield_now = YieldNow()


async def _probe(awaitable):
    await awaitable
    return 1


def new_yield_ring():
    """A ring of its own for ``yield_now`` (an executor worker's thread): ``(append,
    iterator)``, or None where the ring yield is unavailable (the import's probe, ``_ring``,
    said so). Allocates a deque and its iterator: a worker makes one at each hand-over."""
    if _ring is None:
        return None
    ring = _deque((), 4)
    return ring.append, iter(ring)


def _ring_yield():
    """On MicroPython: ``(append, iterator)`` of a small deque, if awaiting the iterator yields
    once per appended item and then finishes; None where it does not. Design note:
    a Python-level awaitable costs three method calls and a raise per await (about
    two thirds of a task switch). A deque's iterator is a C iterator that yields the items
    appended after it and reports "finished" without raising, even after more appends.
    ``yield_now()`` appends one ``None`` and returns the iterator: ``await`` takes the item
    (the task yields ``None``, "requeue me"), and on resume finds none and finishes. Every
    await consumes its item before any other task runs: one iterator serves every task, the
    ring is fixed and nothing is allocated."""
    if not port.IS_MICROPYTHON or _deque is None:  # (docs/executor.md, "Imports on workers")
        return None
    try:
        ring = _deque((), 4)
        it = iter(ring)
        for _ in range(3):
            ring.append(None)
            coro = _probe(it)
            if coro.send(None) is not None:
                return None
            try:
                coro.send(None)
            except StopIteration as e:
                if e.value != 1:
                    return None
            else:
                return None
        return ring.append, it
    except Exception:  # any port without deque iteration: fall back to YieldNow
        return None


def _thread_yield():
    """yield_now while worker threads exist, where the ring yield is unavailable (CPython,
    ports without deque iteration): each worker thread arms its own ``YieldNow``, other
    threads the shared one."""
    y = current_context().yielder
    if y is None:  # not a worker thread
        y = _yield_now
    y.armed = True
    return y


try:  # once: each import of an extensible built-in looks on the filesystem first
    from collections import deque as _deque
except ImportError:  # a port without deque: YieldNow
    _deque = None
_ring = _ring_yield()

if _ring is not None:
    _ring_append, _ring_iter = _ring

    @micropython.native
    def yield_now(_append=_ring_append, _it=_ring_iter, _threaded=_threaded):  # locals
        """Awaitable: let every other runnable task run once, then continue. Allocates
        nothing. Takes no arguments. Tasks only (not ISR-safe)."""
        if _threaded:  # worker threads poll in parallel: the calling thread's own ring
            # (the three defaults serve as its locals: a local of its own would make every
            # call's frame bigger, +25 instructions per switch on one thread too; unpacking
            # costs less than a subscript)
            _append, _it, _threaded = _threaded  # _rings.get, get_ident, the shared ring
            _append, _it = _append(_it() | 2, _threaded)  # shared: no worker's thread
        _append(None)
        return _it

else:

    def yield_now():
        """Awaitable: let every other runnable task run once, then continue. Allocates
        nothing. Tasks only (not ISR-safe)."""
        if _threaded:
            return _thread_yield()
        _yield_now.armed = True
        return _yield_now
