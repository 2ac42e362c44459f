"""The run loop: scheduler tick, timer turn, and idle until the next deadline or interrupt.

``RunLoop`` composes one iteration (``step()``) from three steps that also work on their own:
``tick()`` polls the runnable tasks, ``turn()`` advances the timer and wakes expired sleepers,
and ``idle()`` waits when nothing is runnable, for at most the time to the next deadline. Write
your own loop from the steps, or call ``run()``. Every step and ``stop()`` allocate nothing.

Design note: one clock read per iteration. The turn comes *after* the tick, so the deadline it
reports already counts what the tasks just polled armed, and the idle wait uses that figure
(``idle_for(turn)``) instead of reading the clock again. A sleeper that expired in that turn
is polled by the next iteration's tick, without idling. ``run()`` turns once more right after
an idle, which mostly ends at a deadline: the sleepers due then are polled by the next tick
instead of one empty tick later. The next deadline is computed once
and handed to whatever idles (``idle(us)``: ``time.sleep_us``, ``machine.idle`` with a
one-shot hardware timer armed for ``us``, a poller's timeout). A wake from an interrupt that
lands between the turn and the idle primitive is seen when the primitive returns: boards
return from ``machine.idle()`` on any interrupt; ``max_idle_us`` bounds it everywhere else.

I/O: while tasks wait for I/O (``shimeji.io``), each iteration polls the scheduler's
``IOPoller`` once with a zero timeout before the tick (not right after an idle that polled),
and the idle waits in the poller instead of the idle primitive: until the next deadline,
readiness, or a wake. With a wake socket (hosted ports) a wake from another thread ends that
wait at once and an idle may last up to ``poller.max_idle_us``, or ``max_idle_us`` if that is
longer; on boards it lasts at most ``max_idle_us``, as without I/O.
"""

import sys

import micropython
from micropython import const

from .. import port
from ..errors import BadArgument
from ..port import sleep_idle  # the default idle (port.py: what a port with a GIL needs)
from ..sync import critical
from . import loopthread as _loopthread
from .foreign import shield as _shield
from .loopiter import iterate
from .loopiter import step as _step

if not port.IS_MICROPYTHON:
    from .sigguard import guard_ctrl_c as _guard_ctrl_c  # CPython's SIGINT handler
elif sys.platform == "linux":
    from .sigint import guard_ctrl_c as _guard_ctrl_c  # the launcher's signalfd, if any
else:  # a board: no launcher, no signalfd (and 1.3 KB of .mpy less in the heap)

    def _guard_ctrl_c(loop, sections=None, idles=None):
        return None

_MAX_IDLE_US = const(1000)
_FOREVER_US = const(0x1FFFFFFF)  # the longest idle at all: the timer's MAX_US
_MASK = const(0x3FFFFFFF)  # the counters wrap below 2**30: small ints on 32-bit boards


def _int_option(name, value, least, expected):
    if value is not None and (type(value) is not int or value < least):
        raise BadArgument("RunLoop(%s=%r): give %s" % (name, value, expected))


class RunLoop:
    """Drives ``sched`` (and its timer, ``sched.timer`` unless ``timer`` is given).

    ``idle(us)``: waits at most ``us`` µs or until an interrupt (default: ``sleep_idle``,
    ``time.sleep_us``; on a port with a GIL a wait that releases it, see ``port.sleep_idle``).
    ``max_idle_us``: longest single idle, also used when no deadline is pending; None: no
    bound but the next deadline (about 9 minutes when none is armed), for an idle primitive
    that any wake ends (a board's ``machine.idle()``).
    ``collect``: a callable such as ``gc.collect``, run only in idle windows of at least
    ``collect_min_us`` µs and only if a task ran since the last collection; a Ctrl-C that
    interrupts it runs it once more before it propagates (see ``idle_window``).
    ``tick_size``: tasks polled per tick at most (default: the scheduler's).
    ``wake_early_us``: ask ``idle`` to end this many µs before each wait's end and spin the
    rest on the timer's clock (earlywake.py: for a host whose sleep ends late; never early,
    one idle stays one). 0, the default: idle to the end (a board's one-shot alarm is exact).
    """

    def __init__(self, sched, timer=None, idle=None, max_idle_us=_MAX_IDLE_US, collect=None,
                 collect_min_us=5000, tick_size=None, wake_early_us=0):
        if not callable(getattr(sched, "tick", None)):
            raise BadArgument("RunLoop(sched): give it a scheduler, e.g. RunLoop(StaticScheduler"
                              "(8)), not %r" % (sched,))
        # (all refused here: tick_size 0 never polled, a run hung; the others failed later)
        _int_option("max_idle_us", max_idle_us, 0, "an int of µs >= 0, or None (no bound)")
        _int_option("tick_size", tick_size, 1, "an int >= 1 (tasks per tick), or None")
        if type(collect_min_us) is not int or collect_min_us < 0:
            _int_option("collect_min_us", collect_min_us, 0, "an int of µs >= 0")
            raise BadArgument("RunLoop(collect_min_us=None): give an int of µs >= 0")
        for name, fn in (("idle", idle), ("collect", collect)):
            if fn is not None and not callable(fn):
                raise BadArgument("RunLoop(%s=%r): give a function, or None" % (name, fn))
        self.sched = sched
        self.timer = timer if timer is not None else sched.timer
        self._turn = self.timer.turn if self.timer is not None else None
        self._tick = sched.tick
        self.idle_primitive = idle if idle is not None else sleep_idle
        self._idle = self.idle_primitive
        clock = getattr(self.timer, "clock", None)  # (a shimeji Timer's)
        if type(wake_early_us) is not int or wake_early_us < 0:
            raise BadArgument("RunLoop(wake_early_us=%r): use an int of µs >= 0 (0: idle to "
                              "the end)" % (wake_early_us,))
        self.wake_early_us = wake_early_us if clock is not None else 0
        if self.wake_early_us:
            from .earlywake import early_idle

            self._idle = early_idle(self._idle, wake_early_us, clock.source, clock.unit_us)
        self.max_idle_us = _FOREVER_US if max_idle_us is None else max_idle_us
        self._collect = collect
        self.collect_min_us = collect_min_us
        self.tick_size = tick_size if tick_size is not None else sched.DEFAULT_TICK_SIZE
        self.stopping = False
        self.running = False
        self.iterations = 0
        self.idles = 0
        self.collections = 0
        self._dirty = False
        self._io_fresh = False  # the last idle polled the I/O poller: skip the next zero poll

    def stop(self):
        """Ask ``run()`` to return once the current tick ends. ISR-safe (sets a flag, and ends
        an idle in the I/O poller where it has a wake socket: ``ring``, as the doze does not
        read the flag, so even one about to begin)."""
        self.stopping = True
        poller = self.sched.poller
        if poller is not None:
            poller.ring()

    def schedule(self, fn, arg):
        """``micropython.schedule(fn, arg)``, then end the loop's idle wait in the I/O poller
        as ``stop()`` does, so that ``fn(arg)`` runs on the loop's thread at once. For another
        thread: the unix port's ``poll`` does not end for ``micropython.schedule`` alone, and
        its callback waited for the poll's timeout (up to ``poller.max_idle_us``, 1 s).
        ``RuntimeError`` when the queue is full, as ``micropython.schedule``. Not for a hard
        interrupt handler where the loop has a wake socket (it sends on a socket)."""
        micropython.schedule(fn, arg)
        poller = self.sched.poller
        if poller is not None:
            poller.ring()

    # -- the steps -------------------------------------------------------------------------

    def turn(self):
        """Advance the timer to now, waking every expired sleeper; returns the timer's Turn
        (None without a timer). Not ISR-safe."""
        if self._turn is None:
            return None
        return self._turn()

    def poll_io(self):
        """Wake the tasks whose I/O is ready, without waiting (nothing to do if no task waits
        for I/O, or if the last idle just polled). Returns how many. Not ISR-safe."""
        if self._io_fresh:
            self._io_fresh = False
            return 0
        poller = self.sched.poller
        if poller is None or not poller.waiters:
            return 0
        return poller.poll(0)

    def tick(self):
        """Poll up to ``tick_size`` runnable tasks; returns the scheduler's Tick. Not ISR-safe."""
        t = self._tick(self.tick_size)
        if t.polled:
            self._dirty = True
        return t

    def runnable(self):
        """True if a task is ready to poll (including wakes waiting in the inbox). ISR-safe."""
        sched = self.sched
        if sched._inbox_head is not None:
            return True
        fifo = sched._fifo  # FifoPolicy.has_ready(), inlined for the FIFO policy
        return fifo.head is not None if fifo is not None else sched.policy.has_ready()

    def idle_window(self, turn=None):
        """The µs to idle now: until the next deadline, at most ``max_idle_us``; 0 if a task is
        runnable, a sleeper just expired, or ``stop()`` was called. ``turn``: the ``Turn`` of
        this iteration's ``turn()`` (without one, this turns the timer itself). May collect
        garbage first (see ``collect``), then returns 0. Not ISR-safe."""
        if turn is None and self._turn is not None:
            turn = self._turn()
        us = self.max_idle_us
        poller = self.sched.poller
        if poller is not None and poller.waiters:
            if poller.max_idle_us is None:  # no wake socket: an interrupt's wake cannot end
                if us > poller.slice_us:  # a poll, so wait in slices
                    us = poller.slice_us
            elif poller.max_idle_us > us:
                us = poller.max_idle_us  # a wake ends the wait early: no need to slice it
        if turn is not None:
            if turn.expired:
                return 0
            nxt = turn.next_in_us
            if 0 <= nxt < us:
                us = nxt
        if us <= 0 or self.stopping or self.runnable():
            return 0
        if self._collect is not None and self._dirty and us >= self.collect_min_us:
            self._collect_now()
            return 0  # the collection took time: turn the timer again before waiting
        return us

    def _collect_now(self):
        # Apart from idle_window: with its try block there, idle_window's frame passed 11
        # words and was a heap block taken and freed on every idle.
        self._dirty = False
        self.collections = _inc(self.collections)
        try:
            self._collect()
        except KeyboardInterrupt:
            # Ctrl-C raised out of gc.collect() leaves MicroPython's heap locked (every
            # allocation fails, seen on the unix port) until the next collection ends.
            self._collect()
            raise

    def idle_for(self, turn):
        """Wait with the idle primitive for ``idle_window(turn)`` µs (returns early on an
        interrupt where the board can). Returns the µs it meant to wait. Not ISR-safe."""
        us = self.idle_window(turn)
        if us > 0:
            self.idles = _inc(self.idles)
            poller = self.sched.poller
            if poller is not None and poller.waiters:
                poller.wait_us(us, self._idle)
                self._io_fresh = True
            else:
                self._idle(us)
        return us

    def idle(self):
        """Turn the timer, then ``idle_for`` that turn. Not ISR-safe."""
        return self.idle_for(None)

    step = _step  # one iteration, in native code (loopiter.py)

    # -- the loop ----------------------------------------------------------------------------

    def run(self, until=None):
        """Iterate until ``stop()`` is called or, if given, the ``until`` JoinHandle is
        complete; then return ``until.result()`` (or None). Tasks keep their state: ``run``
        again to resume, or ``sched.close()`` to end them. Not ISR-safe."""
        if until is not None and not callable(getattr(until, "is_complete", None)):
            raise BadArgument("run(until): give the JoinHandle spawn() returned, "
                              "loop.run(sched.spawn(main())), or None; got %r" % (until,))
        sched = self.sched
        if not sched.parallel:  # (SchedulerBusy on an executor worker's thread)
            sched.check_thread("run")
        # First: SchedulerBusy while another thread's loop polls (docs/repl.md); while this
        # runs, other threads' sleeps... raise NoCurrentTask
        mine = _loopthread.enter(sched.timer, "RunLoop.run()")
        shielding = guard = None
        try:
            self.stopping = False
            self.running = True
            # The asyncio shield (foreign.py) stays up for the whole run instead of going up
            # and down around every tick: about 10k instructions per iteration (unix port).
            shielding = sched._shielding
            if shielding:
                _shield.on()
                sched._shielding = False
            # Ctrl-C at safe points (docs/repl.md): CPython's SIGINT handler; on MicroPython a
            # watch of tools/mp_launch.py's signalfd, or nothing
            guard = _guard_ctrl_c(self, _sections(sched),
                                  (self._idle, self.idle_primitive, sleep_idle))
            iterate(self, sched, until)
        except KeyboardInterrupt:
            _leave_sections(sched)  # (MicroPython: one raised inside a section left it held)
            raise
        finally:
            _loopthread.leave(mine, sched.timer)
            deferred = guard is not None and guard.close()
            if shielding:
                sched._shielding = True
                _shield.off()
            if sched.poller is not None:
                sched.poller.sleeping = False  # (a Ctrl-C in the idle's poll left it set)
            self.running = False
        if deferred:
            raise KeyboardInterrupt  # deferred to here by the guard: the tick had ended
        if until is not None and until.is_complete():
            return until.result()
        return None


def _sections(sched):
    """The critical sections a Ctrl-C could leave held: the scheduler's and the default."""
    cs = sched.critical_section
    shared = critical._shared
    return (cs,) if shared is None or shared is cs else (cs, shared)


def _leave_sections(sched):
    # _sections' two, with no tuple made: a section may still be held (allocates nothing)
    cs = sched.critical_section
    cs.leave_interrupted()
    shared = critical._shared
    if shared is not None and shared is not cs:
        shared.leave_interrupted()


def _inc(n):
    """``n + 1``, wrapping to 0 below 2**30 with no intermediate reaching it."""
    return n + 1 if n < _MASK else 0


def run(main=None, sched=None, timer=None, idle=None, capacity=16, **options):
    """The ready-made loop: spawn ``main`` (a coroutine) on ``sched`` (default: a new
    ``StaticScheduler(capacity)`` with a ``Timer()`` on ``time.ticks_us``) and run until it
    completes, returning its result. With no
    ``main``, run until a task calls ``stop()`` on the loop (``runloop.current``) or until
    KeyboardInterrupt. ``options`` go to ``RunLoop``. Not ISR-safe."""
    global current
    made = sched is None
    if sched is None:
        from .scheduler import StaticScheduler

        if timer is None:
            from ..time.timer import Timer

            timer = Timer()
        sched = StaticScheduler(capacity, timer=timer)
    loop = RunLoop(sched, timer=timer, idle=idle, **options)
    current = loop
    handle = sched.spawn(main, "main") if main is not None else None
    try:
        return loop.run(handle)
    finally:
        current = None
        if made and sched.poller is not None:
            sched.poller.close()  # its wake socket; the next run makes a new one


current = None  # the RunLoop that ``run()`` is driving, for tasks that want to stop it
