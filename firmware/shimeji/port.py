"""What differs between MicroPython and CPython, in one place.

Under CPython this module installs a stand-in ``micropython`` module (``const``, ``native``,
``viper``, ``schedule``, heap helpers that do nothing) so that every other module can write
``import micropython`` and ``@micropython.native`` exactly as on a board. Under MicroPython the
real module is used and nothing here is installed.

It also supplies the wrapping tick arithmetic of ``time.ticks_*`` for CPython. Clocks are never
bound at import time by the scheduler or the timer: they are passed in.
"""

import sys

IS_MICROPYTHON = sys.implementation.name == "micropython"

# ``ticks_*`` wrap at TICKS_PERIOD. MicroPython's period is its small-int range: 2**30 on
# 32-bit boards, 2**62 on the 64-bit unix port; under CPython shimeji uses 2**30, as a board
# does. Code that must behave like a board everywhere (the timer wheel) does its own 2**30
# arithmetic (clock.py); tests that wrap ``ticks_*`` read the period from here.
if IS_MICROPYTHON:
    import time

    ticks_ms = time.ticks_ms
    ticks_us = time.ticks_us
    ticks_add = time.ticks_add
    ticks_diff = time.ticks_diff
    TICKS_MAX = time.ticks_add(0, -1)
else:
    TICKS_MAX = (1 << 30) - 1
TICKS_PERIOD = TICKS_MAX + 1
TICKS_HALF = TICKS_PERIOD >> 1

if not IS_MICROPYTHON:
    import time as _time

    def _identity(f):
        return f

    def _install_micropython_standin():
        stand_in = type(sys)("micropython")
        stand_in.const = _identity
        stand_in.native = _identity
        stand_in.viper = _identity
        stand_in.heap_lock = lambda: 0
        stand_in.heap_unlock = lambda: 0
        stand_in.schedule = schedule
        stand_in.alloc_emergency_exception_buf = lambda size: None
        stand_in.__shimeji_standin__ = True
        sys.modules["micropython"] = stand_in

    # -- micropython.schedule -------------------------------------------------------------
    # MicroPython runs a scheduled callback at the VM's next check point, even inside a long
    # poll. CPython has no such point: the stand-in runs a callback at once when it is called
    # outside any poll on the thread that runs the schedulers, and otherwise queues it until
    # the next check point: between two polls (a scheduler setting ``context.slot``), or an
    # explicit ``check_point()``. So on CPython an interrupt-level task never preempts a poll.
    # Like MicroPython it runs one callback at a time (never nested) and refuses with
    # RuntimeError("schedule queue full") beyond SCHEDULE_DEPTH pending callbacks. And like
    # MicroPython's ring of slots, each a GC root not cleared when its callback runs, it keeps
    # the last SCHEDULE_DEPTH callbacks (``_kept``): what a stale slot holds stays alive.
    # The queueing is scoped: it lasts while an interrupt-level scheduler that installed it is
    # open (``_owners``: closed, or collected, the stand-in runs callbacks at once again).
    import _thread
    import weakref

    SCHEDULE_DEPTH = 8
    _queue = []
    _kept = [None] * SCHEDULE_DEPTH
    _queue_lock = _thread.allocate_lock()
    _sched_state = {"running": False, "ctx": None, "thread": None, "put": 0}
    _owners = weakref.WeakSet()  # the open interrupt-level schedulers that installed it

    def schedule(fn, arg):
        """``micropython.schedule`` for CPython (see above)."""
        with _queue_lock:
            if len(_queue) >= SCHEDULE_DEPTH:
                raise RuntimeError("schedule queue full")
            _queue.append((fn, arg))
            put = _sched_state["put"]
            _kept[put] = (fn, arg)
            _sched_state["put"] = (put + 1) % SCHEDULE_DEPTH
        ctx = _sched_state["ctx"]
        if ctx is not None and not _owners:  # (its schedulers were closed or collected)
            _uninstall()
            ctx = None
        if ctx is None or (ctx.__dict__.get("slot") is None
                           and _sched_state["thread"] == _thread.get_ident()):
            check_point()

    def check_point():
        """Run the callbacks queued so far, one at a time, unless one is running already (a
        callback that schedules another leaves it for the next check point)."""
        if _sched_state["running"] or not _queue:
            return
        _sched_state["running"] = True
        try:
            with _queue_lock:
                n = len(_queue)
            for _ in range(n):
                with _queue_lock:
                    fn, arg = _queue.pop(0)
                try:
                    fn(arg)
                except Exception as e:  # as on MicroPython: reported, never raised
                    print("Unhandled exception in scheduled callback:", repr(e))
        finally:
            _sched_state["running"] = False

    def install_check_points(ctx, owner):
        """Make every ``ctx.slot = ...`` (what a scheduler does around each poll) a check
        point, and queue callbacks scheduled from other threads or inside a poll for it, while
        ``owner`` (an interrupt-level scheduler) is open: ``release_check_points``. A no-op on
        MicroPython."""
        _owners.add(owner)
        if _sched_state["ctx"] is ctx:
            return
        slot = ctx.__dict__.get("slot")

        class CheckPointContext(type(ctx)):
            @property
            def slot(self):
                return self.__dict__["slot"]

            @slot.setter
            def slot(self, value):
                if _queue:
                    check_point()
                self.__dict__["slot"] = value

        ctx.__class__ = CheckPointContext
        ctx.__dict__["slot"] = slot
        _sched_state["thread"] = _thread.get_ident()
        _sched_state["ctx"] = ctx

    def release_check_points(owner):
        """``owner`` closed: when no other has them installed, the stand-in runs callbacks at
        once again and ``ctx.slot`` is a plain attribute (as before any interrupt level)."""
        _owners.discard(owner)
        if not _owners:
            _uninstall()

    def _uninstall():
        ctx = _sched_state["ctx"]
        if ctx is None:
            return
        _sched_state["ctx"] = None
        _sched_state["thread"] = None
        cls = type(ctx)
        if cls.__name__ == "CheckPointContext":
            slot = ctx.__dict__.pop("slot", None)
            ctx.__class__ = cls.__bases__[0]
            ctx.slot = slot
        check_point()  # (what was queued for a check point runs now)

    if "micropython" not in sys.modules:
        _install_micropython_standin()

    def ptr32(buf):
        """Viper's ``ptr32(buf)`` cast for CPython: index the ``array('i')`` itself."""
        return buf

    def ticks_add(ticks, delta):
        """``time.ticks_add`` for CPython: add and wrap into [0, TICKS_PERIOD)."""
        return (ticks + delta) & TICKS_MAX

    def ticks_diff(end, start):
        """``time.ticks_diff`` for CPython: signed difference, correct across one wrap."""
        return ((end - start + TICKS_HALF) & TICKS_MAX) - TICKS_HALF

    def ticks_ms():
        return int(_time.monotonic_ns() // 1_000_000) & TICKS_MAX

    def ticks_us():
        return int(_time.monotonic_ns() // 1_000) & TICKS_MAX


if IS_MICROPYTHON:

    def check_point():
        """A VM check point: MicroPython runs pending scheduled callbacks at any backward
        jump, so a short loop is one."""
        for _ in range(2):
            pass

    def install_check_points(ctx, owner):
        """Nothing to do: MicroPython has real check points."""

    def release_check_points(owner):
        """Nothing to do (see install_check_points)."""


def thread_module(what):
    """The ``_thread`` module, or ``NoThreads`` naming ``what`` needed it (the qemu port and
    many boards have no threads)."""
    try:
        import _thread
    except ImportError:
        from .errors import NoThreads

        raise NoThreads(
            "%s needs _thread, which this MicroPython port does not have: use "
            "default_critical_section() (it picks IrqCriticalSection or NoCriticalSection "
            "here) or a TimerBackground instead" % what) from None
    return _thread


def exit_of(cs):
    """The exit shimeji's own code binds for ``cs`` (set-up): the kind's ``_exit_paired``,
    which checks nothing (shimeji pairs every exit with its enter), unless the class has an
    ``exit`` of its own (a subclass's, or a section of the caller's making): ``cs.exit``."""
    cls = type(cs)
    checked = getattr(cls, "_exit_checked", None)
    if checked is not None and getattr(cls, "exit", None) is checked:
        return cs._exit_paired
    return cs.exit


def is_coroutine(obj):
    """True for a coroutine object (``f()``), False for anything else, including ``f``."""
    return hasattr(obj, "send") and hasattr(obj, "throw") and hasattr(obj, "close")


async def _nothing():
    pass


_probe = _nothing()
CORO_TYPE = type(_probe)  # what calling an ``async def`` function returns
_probe.close()
del _probe


# -- the idle wait, and the GIL -------------------------------------------------------------
# MicroPython built with a global interpreter lock (the ESP32 port; the stm32 port with
# threads; a unix build with MICROPY_PY_THREAD_GIL=1) says so in sys.implementation._thread:
# "GIL" ("unsafe" without one; absent without _thread). There a thread hands the lock to
# another only inside a call that releases it (time.sleep_ms, time.sleep, a blocking
# lock.acquire, select.poll, machine.idle on ESP32) and at every 32nd bytecode branch, which on
# the unix port hands nothing over (its GIL is a plain mutex, taken back before a waiting
# thread wakes). time.sleep_us (a busy wait on boards, usleep on unix) and native code keep it,
# so a native run loop idling in time.sleep_us starved every other thread: a second executor
# worker, the thread whose wake it waited for (docs/executor.md, "Ports with a GIL").
GIL = IS_MICROPYTHON and (getattr(sys.implementation, "_thread", None) == "GIL"
                          or sys.platform == "esp32")

if IS_MICROPYTHON:
    # 10, 20 ... 100 µs: made once, so a sleep in slices allocates nothing
    _SLICES_S = (0.00001, 0.00002, 0.00003, 0.00004, 0.00005,
                 0.00006, 0.00007, 0.00008, 0.00009, 0.0001)

    def sleep_releasing(us):
        """Sleep about ``us`` µs (at least one slice) in ``time.sleep`` slices of at most
        100 µs, each a wait without the GIL (``select`` on the unix port): the idle wait of a
        unix build with a GIL. Ends late by the system's timer slack at most. Not ISR-safe;
        allocation-free."""
        end = ticks_add(ticks_us(), us)
        left = us
        while True:
            k = (left + 9) // 10 - 1  # the slice that ends the wait: 1-10 µs left, 10 µs
            if k > 9:
                k = 9
            elif k < 0:
                k = 0
            time.sleep(_SLICES_S[k])
            left = ticks_diff(end, ticks_us())
            if left <= 0:
                return

    def sleep_us_idle(us):
        """The idle primitive without a GIL: ``time.sleep_us(us)``. Its ``if`` is a VM
        branch, where the ``micropython.schedule`` callbacks pending run (the native run loop
        that calls it runs none). Not ISR-safe."""
        if us > 0:
            time.sleep_us(us)

    def sleep_ms0_idle(us):
        """The idle primitive with a GIL on ESP32 and STM32: ``time.sleep_ms(0)``, the
        callbacks interrupts scheduled, then a wait without the GIL that lets a ready thread
        run (ESP32: ``taskYIELD()``, which returns at once, so the caller spins; stm32: one
        WFE, a thread switch or WFI until the next interrupt, at most 1 ms). Their
        ``sleep_us`` is a busy wait that keeps the GIL. Not ISR-safe."""
        time.sleep_ms(0)

    def pick_sleep_idle(gil, platform):
        """The idle primitive for a runtime with (``gil``) or without a GIL on ``platform``
        (``sys.platform``)."""
        if not gil:
            return sleep_us_idle
        if platform in ("esp32", "pyboard"):
            return sleep_ms0_idle
        return sleep_releasing

    sleep_idle = pick_sleep_idle(GIL, sys.platform)

else:

    def sleep_idle(us):
        """The portable idle primitive: ``time.sleep(us / 1e6)`` (CPython releases its GIL
        there). Not ISR-safe."""
        _time.sleep(us / 1000000)


# -- asyncio's TimeoutError ------------------------------------------------------------------
# CPython's asyncio.TimeoutError is the built-in TimeoutError (3.11+), so a ported program may
# catch that; shimeji.asyncio's derives from it there. MicroPython has no built-in of the name.
try:
    TIMEOUT_ERROR_BASE = TimeoutError
except NameError:
    TIMEOUT_ERROR_BASE = Exception

# -- ExceptionGroup ----------------------------------------------------------------------------
# CPython 3.11+ has the built-in, and its TaskGroup raises one; MicroPython has none (nor
# ``except*``): shimeji.asyncio raises its stand-in there (asyncio/errgroup.py).
try:
    EXCEPTION_GROUP = ExceptionGroup  # noqa: F821 (a built-in since CPython 3.11)
except NameError:
    EXCEPTION_GROUP = None
