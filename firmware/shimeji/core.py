"""The protocol between a task and its scheduler.

A task is a coroutine. When it awaits a shimeji awaitable, the awaitable's ``__next__`` returns
one of two things to the scheduler, which resumed the task with ``send(None)``:

- ``None``: "run me again soon" (``yield_now``). The scheduler puts the task back at once.
- ``PARK``: "I registered a waker; poll me again when it fires". The task is not polled until
  something calls ``wake(slot)``. A wake that arrives while the task is still running is kept
  (``slot.rewoken``), so a wake can never fall between registering and parking.

On resume the awaitable runs ``__next__`` again; it finishes by raising ``StopIteration`` (a
pre-made instance whose traceback is cleared, so finishing allocates nothing) or parks again if
its condition does not hold yet (a spurious wake is always allowed).
"""

import micropython
from micropython import const

from . import lines, port
from .errors import NoCurrentTask

# Yielded by awaitables that wait for a wake-up.
PARK = object()
# Yielded by the ring sleep (time/sleep.py): park until the task's own timer entry
# (``slot.timer``) fires: the slot's state is ``ASLEEP``, which ``wake()`` ignores; the entry's
# hand-off queues it. A cancellation or an expired timeout disarms the entry and makes the
# slot WAITING first (``_unwait``), which lets its wake through.
SLEEP = object()
# Returned by ``JoinHandle.__next__`` (task/slot.py) only to ``tick_fifo`` polling on this
# thread (``sched._local_ok``), for a join of a task of the joiner's own scheduler: the joiner
# parks ``ASLEEP`` without the critical section (no wake but the completion's, on this same
# thread, can end that wait: ``wake()`` ignores ASLEEP), and the in-line completion links it
# back into the tick's ring, again without the section. ``_unwait`` (a cancellation, an expired
# timeout) makes it WAITING first, as for a ring sleep.
JOIN = object()

# A task slot's state (``TaskSlot.state``): part of the protocol, read by the scheduler, the
# timer and the primitives alike.
FREE = 0  # no task
QUEUED = 1  # runnable: in the policy's run queue or the wake inbox
RUNNING = 2  # being polled right now
WAITING = 3  # parked until woken
ASLEEP = 4  # parked on its ring sleep or a JOIN: its entry, its join or ``_unwait`` ends it

_MASK30 = const(0x3FFFFFFF)


def wrap_count(counter, n):
    """``counter + n`` wrapped below 2**30, with no intermediate value reaching 2**30 (which
    would be a heap int on a 32-bit board). ``0 <= n <= 2**30-1``. Allocation-free."""
    if counter <= _MASK30 - n:
        return counter + n
    return counter - (_MASK30 - n) - 1


class Context:
    """What is running now: the slot being polled and its scheduler.

    Design note: ``context`` below is the interpreter's context, which every scheduler uses by
    default; a scheduler ticked from inside another's task saves and restores it. Schedulers
    that poll in parallel on other threads or cores (the workers of ``shimeji.executor``) each
    own a ``Context`` registered for their thread with ``register_thread``; ``context.slot``
    stays None on those threads, so a reader that finds None asks ``current_context()``.
    """

    def __init__(self):
        self.slot = None
        self.sched = None
        self.poll_start = 0  # µs tick at the start of the current poll (timed policies only)
        self.yielder = None  # the yield_now awaitable of a worker thread (see below)
        self.ring = None  # a worker thread's own yield_now ring (see ``renew_ring``)
        self.tkit = NO_KIT  # the ticking scheduler's Timer._kit for sleep_ms (sched/fastpath.py)


# ``Context.tkit`` outside a tick that gives ``sleep_ms`` its timer: a kit whose wheel words
# hold 0 as the timer's longest ``sleep_ms`` (word 40, time/wheel.py's _W_CONF), so every
# sleep takes time/sleep.py's slow way.
NO_KIT = (None, None, bytearray(4 * 48))


context = Context()
_threads = {}  # thread id | 2 -> Context of a worker polling on that thread
# thread id | 2 -> the worker thread's yield_now ring (append, iterator); lines.py: why placed
_rings, _rings_guard = lines.isolated(lambda: dict.fromkeys(range(17)), lines.dict_extents)
# Design note: both are keyed by ``_thread.get_ident() | 2`` (one-to-one: an ident is a
# pointer, aligned, or a core number). MicroPython's map look-up cache is one 128-entry
# array for all threads, indexed by the key: a name (a qstr) always lands on an even entry,
# an int key with bit 1 set on an odd one. A bare ident may share an entry with a name the
# poll looks up (the unix port's second thread and ``coro`` did: entry 96); the two look-ups
# then rewrite it on every yield, and with workers on two cores each rewrite moves that cache
# line, and the VM's ``sched_state`` beside it, between the cores (docs/executor.md).
for _i in range(16):  # grown once here: a dict that grows frees its old table, and other
    _threads[_i] = None  # threads read these without a lock while workers register
for _i in range(16, -1, -1):  # last first: each freed entry reads as empty, not as deleted
    _threads.pop(_i, None)
    del _rings[_i]
del _i
_rings_get, _rings_get_guard = lines.isolated(lambda: _rings.get, lines.one_block)
_ident = [None]  # _thread.get_ident once a worker thread is registered
# Non-empty once two workers poll: what yield_now needs to find the calling thread's ring
# (``_rings.get``, ``_thread.get_ident``, and the shared ring for threads that are no
# worker's). Design note: yield_now reads only its default arguments; a global name read in
# that native function costs about 500 instructions per switch, the call of a Python function
# from it 800 to 2,300 (callgrind, tools/instr.py switch).
_threaded, _threaded_guard = lines.isolated(list, lines.list_extents)  # a line of its own

try:  # two workers registering at once both found _threaded empty and extended it twice: a
    # list of six, and every yield_now on a worker then failed to unpack it (seen on 4 workers)
    import _thread

    _registering = _thread.allocate_lock()
    del _thread
except ImportError:  # no threads: register_thread fails first, unregister_thread never locks
    _registering = None


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
        if len(_threads) > 1 and not _threaded:  # one polling thread may keep the shared ring
            # extended from a list: one memcpy, then the length (another worker's yield_now
            # may read the list meanwhile and must never see it part-filled)
            _threaded.extend([_rings_get, _thread.get_ident, _ring])


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


def current_context():
    """The context of the calling thread: its worker's, or the interpreter's."""
    if _threads:
        ctx = _threads.get(_ident[0]() | 2)
        if ctx is not None:
            return ctx
    return context


def running_slot():
    """The ``TaskSlot`` being polled on this thread, or None."""
    slot = context.slot
    if slot is None and _threads:
        ctx = _threads.get(_ident[0]() | 2)
        if ctx is not None:
            slot = ctx.slot
    return slot


def current_slot():
    """The ``TaskSlot`` of the task being polled. Raises ``NoCurrentTask`` outside a task."""
    slot = context.slot
    if slot is None:
        slot = running_slot()
        if slot is None:
            raise NoCurrentTask(
                "no task is running: call this from inside a task spawned on a scheduler"
            )
    return slot


slot_here = [None]  # while a ThreadBackground runs: background.py's _slot_here (task_slot)


def task_slot():
    """``current_slot()`` for calls users also make outside tasks (``current_task()``,
    ``spawn()``; the hot paths never look): a ThreadBackground's loop thread polls with
    ``context``, which the REPL's thread shares, so the calling thread tells. Not ISR-safe."""
    here = slot_here[0]
    return current_slot() if here is None else here()


def current_task():
    """The ``JoinHandle`` of the task polled on the calling thread. Raises ``NoCurrentTask``
    outside a task, as on the REPL's thread while a background loop thread polls. Not
    ISR-safe: in an interrupt handler it would name the task it interrupted."""
    slot = task_slot()
    slot.handle_out = True  # handed out: the slot must not reuse it for a later task
    return slot.handle


def wake(slot):
    """Make the task in ``slot`` runnable. Idempotent, allocation-free, and a no-op if the task
    has finished. Safe to call from an interrupt handler or another thread."""
    sched = slot.sched
    if sched is not None:
        sched.wake(slot)


class Finish:
    """Ends an awaitable without allocating: ``raise finish.done()``.

    An exception's first raise allocates its traceback buffer (one entry: 16 B on a 32-bit
    board); ``__traceback__ = None`` empties that buffer but keeps it. So the instance is
    raised once here, and every later raise from an awaitable's ``__next__`` reuses it."""

    def __init__(self):
        exc = StopIteration()
        try:
            raise exc
        except StopIteration:
            pass
        self.exc = exc

    def done(self):
        exc = self.exc
        exc.__traceback__ = None
        return exc


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
    """A ring of its own for ``yield_now`` (an executor worker's slot): ``(append,
    iterator)``, or None where the ring yield is unavailable. Allocates; made once per slot."""
    return _ring_yield()


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
