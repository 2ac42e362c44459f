"""``Executor``: several workers, one per core or thread, that share work by stealing.

After the work-stealing executor shimeji started from (a scheduler per core, an injector,
stealing half of a victim's queue, sleepers woken by spawns and wakes). Each worker is a
``StaticScheduler`` with its own task slots, run queue, wake inbox and timer wheel (one wheel
per worker: arming and turning stay lock-free). A spawn from inside a worker's task stays on
that worker; a spawn from anywhere else (the REPL, another thread) goes to the global
injector queue (injector.py), which idle workers drain before they steal; its task is built
in a free slot of some worker's pool, so its ``JoinHandle`` exists at once.

Policies: FIFO (``'fifo'``) or round-robin (``'rr'``) per worker. Priority and CFS lend and
compare priorities across tasks, which would touch another worker's run queue from this
thread: ``PolicyError``.
"""

import sys

import micropython
from micropython import const

from .. import core
from ..errors import (
    BadArgument,
    ExecutorClosed,
    NotACoroutine,
    NoThreads,
    PolicyError,
    PoolFull,
    SchedulerBusy,
    WrongLevel,
    premade,
    renew,
)
from ..sched.foreign import shield
from ..sync.critical import IrqCriticalSection
from .injector import Injector
from .shutdown import _join_timed_out, close, join, refuse
from .spawning import inject, report
from .threads import repark, reserve, start_on_thread
from .worker import Worker

_MAX_WORKERS = const(16)
# The rp2 port (v1.28.0) allocates core 1's stack (4 KB unless _thread.stack_size() says more)
# from the GC heap when the thread starts, and runs one thread besides the main one. 4 KB
# (3.5 KB for Python) overflowed on core 1 in a wake made inside a critical section
# ("maximum recursion depth exceeded"), and the unwinding left disable_irq held: core 0 then
# waited for the cross-core mutex forever (docs/boards.md, "Critical sections on two cores").
_RP2 = sys.platform == "rp2"
_CORE1_STACK = _RP2  # (a flag of its own: tests that play rp2 start real threads on the host)
_RP2_STACK = const(8192)
_RP2_HOLE = const(9216)  # the stack and 1 KB: small allocations take the hole's first blocks
_ID_LAST = const(0x3FFFFFFF)  # task ids are 1..2**30-1: each worker gets a range


class Executor:
    """``Executor(workers=2, capacity=32, policy='fifo', tick_us=1000)``: ``workers``
    workers of ``capacity`` task slots each. ``critical_section``: what guards the queues the
    workers share, one object for all (default: the runtime's, a ``_thread`` lock on the unix
    port; ``disable_irq`` on an RP2040, where it also holds the other core off while core 1
    runs a thread: no other kind is accepted there). Run each worker with
    ``executor.run_worker(i)`` (or ``executor.workers[i].run()``) on its own thread;
    ``executor.start()`` starts workers 1..N-1 on new threads and returns, for worker 0 to run
    on the calling thread."""

    def __init__(self, workers=2, capacity=32, policy="fifo", tick_us=1000,
                 critical_section=None):
        if type(workers) is not int or not 1 <= workers <= _MAX_WORKERS:
            raise BadArgument("workers=%r: give an int from 1 to %d (one per core or thread)"
                              % (workers, _MAX_WORKERS))
        if policy not in ("fifo", "rr"):
            raise PolicyError("policy=%r: an Executor's workers use 'fifo' or 'rr' (priority "
                              "and CFS would compare tasks across workers)" % (policy,))
        if critical_section is not None and not hasattr(critical_section, "enter"):
            raise BadArgument("critical_section=%r: give a LockCriticalSection, "
                              "IrqCriticalSection... or leave it out" % (critical_section,))
        try:
            import _thread  # noqa: F401
        except ImportError:
            raise NoThreads("Executor needs _thread, which this port lacks: run "
                                      "your tasks on one StaticScheduler") from None
        if _RP2 and not (critical_section is None
                         or isinstance(critical_section, IrqCriticalSection)):
            raise BadArgument(
                "critical_section=%s: on the RP2040 leave it out (or give an "
                "IrqCriticalSection): machine.disable_irq is the rp2 port's mutex across both "
                "cores, which the sync primitives take too, and a second lock beside it can "
                "deadlock the cores (docs/executor.md, 'Boards')"
                % type(critical_section).__name__)
        self.size = workers
        # rp2: a heap the slots fragmented can have 80 KB free and no 4 KB in one piece (seen:
        # MemoryError in start() after Executor(workers=2, capacity=64)). This hole, made
        # before the slots, is freed for core 1's stack in start(). It may be the lowest free
        # run, where first-fit puts the few small objects made before the stack: 1 KB more.
        self._holds_hole = _RP2 and workers > 1
        self._stack_hole = bytearray(_RP2_HOLE) if self._holds_hole else None
        self.closed = False
        self._next = 0
        self._spare = None  # a handle made outside the section for the next injection
        if workers > 1:  # on ESP32 the threads first, parked: their stacks before the slots
            try:
                reserve(workers - 1)
            except (OSError, RuntimeError) as e:
                raise NoThreads(_no_room(workers - 1, e)) from None
        self.workers = []
        self.sleepers = 0  # workers asleep on their bell (changed under the critical section)
        span = _ID_LAST // workers
        for i in range(workers):
            w = Worker(self, i, capacity, policy, tick_us, critical_section)
            w.set_id_range(i * span + 1, (i + 1) * span)  # ids unique across the workers
            self.workers.append(w)
        self.critical_section = self.workers[0].critical_section
        self.injector = Injector(self.critical_section)
        if Executor._inside is None:  # (made once, for every executor: _check_outside)
            Executor._inside = premade(WrongLevel, _INSIDE)
        self._shielded = False  # start() raised the asyncio shield; join() lowers it
        self._threads = 0  # worker threads started by start() that are still running
        self._tickets = []  # (parked thread, job) of each started on one: join() waits for it
        self.errors = []  # what a worker thread started by start() raised, other than closing

    # -- spawning -----------------------------------------------------------------------------

    _inside = None  # premade(WrongLevel): the refusal of a spawn from inside the section

    @micropython.native
    def spawn(self, coro, name=None):
        """Run ``coro`` on a worker; returns its ``JoinHandle``. From a worker's task, on that
        worker; from anywhere else (the REPL, another thread, a callback on no worker's
        thread) into the injector, which the first idle worker drains; a sleeping worker is
        rung. Raises ``ExecutorClosed`` once closed; a worker whose slots are all live passes
        the task to another, and ``PoolFull`` means every worker is full.
        Allocates a handle when the slot's last one was handed out (``spawn_detached``: no).
        From a ``micropython.schedule`` callback that ran while its thread was inside the
        executor's critical section: ``WrongLevel`` (see ``_check_outside``). Not for a hard
        interrupt handler (it may allocate the handle): use ``spawn_detached`` from a
        ``micropython.schedule`` callback."""
        self._check_outside()  # (native, as this: the refusal adds no traceback entry)
        return self._spawn(coro, name)

    @micropython.native  # as bytecode its frame passed 11 words: a heap block per call
    def _spawn(self, coro, name, detached=False):
        ctx = core.current_context()
        for w in self.workers:
            if w._ctx is ctx:
                try:
                    return w._spawn_here(coro, name, detached)
                except PoolFull:  # this worker's slots are all live: another worker's
                    return self._spill(coro, name, w, detached)
        return self._inject(coro, name, detached)

    @micropython.native
    def spawn_detached(self, coro, name=None):
        """``spawn`` for a task nobody joins: returns None, and the slot's handle is reused
        (set so under the section the spawn lands in, before the task can end on another
        worker). From outside the workers, with a coroutine made beforehand, this is the
        allocation-free path into the injector (once the executor has its spare handle):
        another thread or a ``micropython.schedule`` callback may call it (``WrongLevel``
        inside the section, as ``spawn``); from a hard interrupt handler it has not been
        tested."""
        self._check_outside()
        self._spawn(coro, name, True)

    @micropython.native
    def _check_outside(self, _renew=renew):  # (a default: no global read in native code)
        """Refuse a spawn made while the calling thread holds the critical section.

        Design note: a ``micropython.schedule`` callback runs at the VM's next check point
        (a branch), even inside a section: on the unix port on the main thread, where
        ``run()`` puts worker 0; on a board on core 0. The section is re-entrant, so a spawn
        there would enter it again and change a free list or an inbox that the code it
        interrupted was half-way through changing. So any spawn from inside a section is
        refused (the executor's own nested spawns call ``_spawn``), with an error made before
        (``errors.premade``): nothing is allocated inside the section the caller holds, and a
        locked heap still gets ``WrongLevel``, not ``MemoryError``. Outside, a refusal that
        was raised is made again (``errors.renew``)."""
        inside = self._inside
        if self.critical_section.held():
            inside[1] = True
            raise inside[0]
        if inside[1]:
            _renew(inside)

    def _spill(self, coro, name, full, detached=False):
        for w in self.workers:
            if w is not full:
                try:
                    return w._spawn_here(coro, name, detached)
                except PoolFull:
                    pass
        raise PoolFull("every worker's %d task slots hold live tasks: make the Executor with "
                       "a larger capacity, or join tasks before spawning more" % full.capacity)

    _inject = inject  # (spawning.py: nothing allocated inside the section)

    def wake_one(self, busy=None):
        """Ring one sleeping worker (other than ``busy``), if any sleeps. Any thread."""
        if not self.sleepers:
            return
        for w in self.workers:
            if w.sleeping and w is not busy:
                w.ring()
                return

    # -- running -----------------------------------------------------------------------------

    def run_worker(self, index, main=None):
        """Run worker ``index`` on the calling thread (see ``Worker.run``). Not ISR-safe."""
        if type(index) is not int or not 0 <= index < self.size:
            raise BadArgument("run_worker(index=%r): give an int from 0 to %d (this Executor's "
                              "workers)" % (index, self.size - 1))
        return self.workers[index].run(main)

    def _check_idle(self, what, main=None):  # (a second run would run workers twice at once)
        if main is not None and not hasattr(main, "send"):
            raise NotACoroutine("run(main): main must be a coroutine (ex.run(main()), not "
                                "ex.run(main)), got %r; nothing was started" % (main,))
        for w in self.workers:
            if w._thread is not None or self._threads:
                if main is not None:
                    main.close()  # never ran (CPython would warn it was never awaited)
                raise SchedulerBusy("%s: this Executor runs already (worker %d): run() or "
                                    "start() it once, never from its tasks (spawn or await "
                                    "there)" % (what, w.index))

    def start(self):
        """Start workers 1..N-1, each on a new ``_thread``; worker 0 is left for the caller
        (``run_worker(0, main)``). Raises the asyncio shield for the executor's lifetime.
        Not ISR-safe."""
        import _thread

        self._check_idle("start()")
        if _RP2 and self.size > 2:
            raise BadArgument("workers=%d: the RP2040 runs one thread besides the main one "
                              "(core 1): make the Executor with workers=2" % self.size)
        if not self._shielded:
            self._shielded = True
            shield.on()
        if self._holds_hole:  # tested by a flag: the bytearray loaded on this frame's stack
            self._holds_hole = False  # would stay there, and the collector would keep it
            self._stack_hole = None
            import gc

            gc.collect()  # the hole is free now: core 1's stack goes there
        if _CORE1_STACK:
            _thread.stack_size(_RP2_STACK)  # core 1's stack: 8 KB, not the port's 4 KB
        for w in self.workers[1:]:
            state = self.critical_section.enter()
            self._threads += 1
            self.critical_section.exit(state)
            try:
                self._start_thread(_thread, w)
            except BaseException as e:  # no thread (MemoryError, OSError): nothing to wait for
                state = self.critical_section.enter()
                self._threads -= 1
                self.critical_section.exit(state)
                if isinstance(e, (OSError, RuntimeError)):  # ESP32: "can't create thread"
                    raise NoThreads("worker %d: %s" % (w.index, _no_room(1, e))) from None
                raise

    def _start_thread(self, _thread, worker):
        ticket = start_on_thread(_thread, self._thread_main, worker)  # parked (ESP32) or new
        if ticket is not None:
            self._tickets.append(ticket)

    def _thread_main(self, worker, parked=None):
        try:
            worker.run()
        except ExecutorClosed:
            pass
        except BaseException as e:  # reported, never lost: see ``errors``
            report(self, worker.index, e)
            self.close()  # the others end (WorkerDied); join() cancels this worker's tasks
        finally:
            repark(parked)  # first: a start() right after join() finds this thread idle
            state = self.critical_section.enter()
            self._threads -= 1
            self.critical_section.exit(state)

    def run(self, main):
        """Start the other workers, run ``main`` on worker 0 on this thread, then close and
        wait for the other workers; returns ``main``'s result. If a worker's thread cannot
        start, the executor is closed, ``main`` never runs, and that error is raised; if one
        dies of an error, the executor closes and this raises ``WorkerDied``. Misuse
        (``SchedulerBusy``: it runs already; ``NotACoroutine``) starts and closes nothing.
        Not ISR-safe."""
        self._check_idle("run()", main)
        try:
            self.start()
        except BaseException:
            if main is not None:
                main.close()  # never ran (CPython would warn it was never awaited)
            self.close()
            self.join()
            raise
        try:
            return self.workers[0].run(main)
        finally:
            self.close()
            self.join()

    close = close
    join = join
    _refuse = refuse
    _join_timed_out = _join_timed_out

    def stats(self):
        """Per-worker figures (a list of dicts; allocates). Not ISR-safe."""
        return [w.stats() for w in self.workers]


_INSIDE = ("spawn() (or spawn_detached, spawn_allocated) was called while this thread holds "
           "the executor's critical section: from a micropython.schedule callback that "
           "interrupted it (its queues may be half changed), or from code inside the section. "
           "Retry from the callback later (micropython.schedule(callback, arg) inside it runs "
           "it again once the section has ended), or spawn from a task")


def _no_room(n, e):
    """What to do when ``n`` worker threads cannot start (``e``: the port's error)."""
    try:
        import esp32

        heap = esp32.idf_heap_info(esp32.HEAP_DATA)
        where = ("ESP-IDF's heap, which MicroPython's heap grows into: %d B free, largest "
                 "block %d B" % (sum(r[1] for r in heap), max(r[2] for r in heap)))
    except ImportError:
        where = "outside the Python heap"
    return ("%d worker thread(s) could not start (%r): a thread's stack comes from %s. Make "
            "the Executor before the program's large allocations (on ESP32 its threads are "
            "made before its slots and kept for the next Executor), with fewer workers or a "
            "smaller capacity, or end other threads first" % (n, e, where))
