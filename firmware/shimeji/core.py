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

``yield_now`` and the worker threads' registration live in yielding.py (re-exported here).
"""

import micropython
from micropython import const

from .errors import BadArgument, NoCurrentTask

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
    own a ``Context`` registered for their thread with ``register_thread``. While one is
    registered, ``context.slot`` may be the task a plain loop polls on another thread (the
    main loop beside the workers), so a reader asks ``current_context()`` whenever
    ``_threads`` is not empty, not only when it finds None there (before session 19 a worker's
    task found the main loop's task: its sleeps ended at once).
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
# Design note: keyed by ``_thread.get_ident() | 2`` (one-to-one: an ident is a pointer,
# aligned, or a core number), as yielding.py's ``_rings``. MicroPython's map look-up cache is
# one 128-entry array for all threads, indexed by the key: a name (a qstr) always lands on an
# even entry, an int key with bit 1 set on an odd one. A bare ident may share an entry with a
# name the poll looks up (the unix port's second thread and ``coro`` did: entry 96); the two
# look-ups then rewrite it on every yield, and with workers on two cores each rewrite moves
# that cache line, and the VM's ``sched_state`` beside it, between the cores
# (docs/executor.md).
try:  # grown once here: a dict that grows frees its old table, and other threads read it
    import _thread  # without a lock while workers register (no threads: never, 152 B kept)

    for _i in range(16):
        _threads[_i] = None
    for _i in range(16, -1, -1):  # last first: each freed entry reads as empty, not deleted
        _threads.pop(_i, None)
    del _i, _thread
except ImportError:  # no threads: nothing registers a worker (register_thread fails first)
    pass
_ident = [None]  # _thread.get_ident once a worker thread is registered (yielding.py)
# Why the binders (time/sleep.py, time/deadline.py, io/wait.py) find their task by the calling
# thread, a bit each (yielding.check_threads): 1 a ThreadBackground's loop thread runs,
# 2 an executor's worker is registered.
threads_checked = [0]


def current_context():
    """The context of the calling thread: its worker's, or the interpreter's."""
    if _threads:
        ctx = _threads.get(_ident[0]() | 2)
        if ctx is not None:
            return ctx
    return context


def off_home(sched):
    """True when ``sched`` is an interrupt level whose home thread is not the calling one.
    A level polls only on its home thread (sched/levelrun.py, ``masked``), so while it polls
    there the interpreter's context names it to every other thread too: the level checks of
    a spawn or a cancel from another thread (neither a worker's nor the home thread) must not
    take it for the caller's level (session 21: such a spawn was refused with ``WrongLevel``).
    Called only where a check would refuse."""
    ident = getattr(sched, "_ident", None)
    return ident is not None and ident() != sched._home


def running_slot():
    """The ``TaskSlot`` being polled on this thread, or None. While an executor's workers are
    registered the calling thread tells (its worker's context, else the interpreter's): the
    interpreter's context may hold another thread's task then (a plain loop mid-poll)."""
    if _threads:
        ctx = _threads.get(_ident[0]() | 2)
        if ctx is not None:
            return ctx.slot
    return context.slot


def current_slot():
    """The ``TaskSlot`` of the task being polled. Raises ``NoCurrentTask`` outside a task."""
    slot = context.slot
    if slot is None or _threads:  # (no worker registered: the interpreter's context tells)
        slot = running_slot()
        if slot is None:
            raise NoCurrentTask(
                "no task is running: call this from inside a task spawned on a scheduler"
            )
    return slot


# How many times a foreground loop's thread guard went up or down (sched/loopthread.py: bumped
# after enter's changes, before leave's; wraps below 2**30). A look-up of the calling task on a
# thread that may not be the loop's (time/sleep.py, time/deadline.py, io/wait.py) reads it
# before it picks its way (guarded or not) and again after it read the slot: if it moved, a
# loop started or ended meanwhile, and the slot read may be a task that loop polls on another
# thread (or one it no longer polls): ``settled`` makes the look-up again.
guard_moves = [0]


def settled(look_up):
    """``look_up()``, a binder's look-up of the calling task's slot, made again while a
    foreground loop's guard moves during it (``guard_moves``); ``NoCurrentTask`` after three
    such look-ups. Not ISR-safe."""
    for _ in range(3):
        n = guard_moves[0]
        slot = look_up()  # (raises NoCurrentTask)
        if guard_moves[0] == n:
            return slot
    raise NoCurrentTask("foreground loops kept starting and ending during this call: call it "
                        "from inside a task, on the thread its loop polls it")


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
    handle = slot.handle
    if not slot.handle_out:  # a detached task's: spawn_detached's in-line case leaves its
        handle._ref = slot  # handle's fields stale (sched/detached.py), written here
        handle.id = slot.id
        slot.handle_out = True  # handed out: the slot must not reuse it for a later task
    return handle


def wake(slot):
    """Make the task in ``slot`` runnable. Idempotent, allocation-free, and a no-op if the task
    has finished. Safe to call from an interrupt handler or another thread."""
    sched = slot.sched
    if sched is not None:
        sched.wake(slot)


@micropython.native  # (its try: +30 instructions a call over wake's; as bytecode +337)
def public_wake(slot):
    """``shimeji.wake``: ``wake`` refusing what is not a task slot with ``BadArgument`` (a
    ``JoinHandle``, None...: was an ``AttributeError``). shimeji's own wakes call ``wake``,
    which checks nothing. ISR-safe, allocation-free (a refusal on a locked heap: MemoryError)."""
    try:
        sched = slot.sched
        slot.wa  # noqa: B018 (a slot's words: a RunLoop has a sched but is no slot)
    except AttributeError:
        sched = slot  # (no slot is its own scheduler; a local: no global look-up)
    if sched is slot:
        raise BadArgument("wake(slot): give the task's TaskSlot (core.current_slot() inside "
                          "the task; a WaitCell or an Event wakes its waiter for you), got %r"
                          % (slot,))
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


# At the end: yielding.py imports this module's names above. Re-exported: the public yield and
# the worker threads' registration (``core.yield_now``, ``core.register_thread``...).
from .yielding import (  # noqa: E402, F401, I001
    YieldNow,
    check_threads,
    new_yield_ring,
    register_thread,
    renew_ring,
    unregister_thread,
    yield_now,
)
