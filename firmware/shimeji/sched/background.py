"""Running a scheduler behind the REPL, so the REPL stays usable while tasks run.

Two ways, chosen by the board:

- ``ThreadBackground``: the loop runs in a ``_thread`` (the unix port; the RP2040's second
  core). A lock keeps each turn + tick apart from what the REPL does through this object.
- ``TimerBackground``: the board's hardware timer schedules one turn + tick per timer tick with
  ``micropython.schedule``; the REPL's own thread runs it between bytecodes and while it waits
  for input (ESP32, STM32, RP2040 without threads).

Use the object's ``spawn()``, ``tasks()`` and ``call()`` from the REPL rather than the
scheduler's methods: they hold the loop off while they touch the scheduler. ``wake`` and other
ISR-safe calls need no such care. ``stop()`` ends the background loop; tasks keep their state.
"""

import micropython

from .. import core, port
from ..errors import NoCurrentTask
from ..yielding import BACKGROUND
from . import loopthread
from .runloop import _inc

# The idents of the running ThreadBackgrounds' loop threads (ident -> True). Once one has
# started, ``core.slot_here[0]`` is ``_slot_here``, which current_task() and spawn() ask.
_loop_threads = {}
_get_ident = [None]  # _thread.get_ident, once _slot_here first runs


def _check_threads(on):
    # While a loop thread runs, the binders (time/sleep.py...) find their task by the calling
    # thread (core.check_threads; a module imported later starts so).
    core.check_threads(BACKGROUND, on)


def _slot_here():
    """The slot polled on the calling thread while a ThreadBackground's loop thread runs. That
    thread polls with the interpreter's context, which the REPL's thread shares: another
    thread finds its slot there mid-poll but runs none of its tasks. Raises ``NoCurrentTask``
    there (an executor worker's own context still answers). Not ISR-safe."""
    get_ident = _get_ident[0]
    if get_ident is None:  # (imported once: with the import on every call, this check took
        import _thread  # 24.7k instructions on the unix port; now 3.2k)

        get_ident = _get_ident[0] = _thread.get_ident
    if not _loop_threads or get_ident() in _loop_threads:
        return core.current_slot()
    ctx = core.current_context()
    if ctx is not core.context and ctx.slot is not None:  # an executor worker's own task
        return ctx.slot
    raise NoCurrentTask("no task is running on this thread (a background loop polls its tasks "
                        "on a thread of its own): call this from inside a task; from the REPL "
                        "use bg.spawn(coro), bg.tasks() or bg.call(fn)")


class Background:
    """What both ways share: REPL-side calls made while the loop is held off."""

    def __init__(self, board, loop):
        self.board = board
        self.loop = loop
        self.sched = loop.sched
        self.running = False
        self.steps = 0
        self.error = None

    def call(self, fn, arg=None):
        """Run ``fn()`` (or ``fn(arg)``) with the loop held off; returns its result. Not
        ISR-safe (it may wait for the loop's step to end)."""
        self._hold()
        try:
            return fn() if arg is None else fn(arg)
        finally:
            self._release()
            self._ring()

    def spawn(self, coro, name=None):
        """``sched.spawn`` from the REPL while the loop runs. Returns the ``JoinHandle``. Not
        ISR-safe; not for tasks of this scheduler (they call ``sched.spawn``)."""
        self._hold()
        try:
            return self.sched.spawn(coro, name)
        finally:
            self._release()
            self._ring()

    def _ring(self):
        # End the loop's idle if a wake socket lets it last until the next deadline (the unix
        # board): what the REPL just spawned or changed runs now, not at that deadline (a
        # change the doze does not look at too, made just before it: ``ring``).
        poller = self.sched.poller
        if poller is not None:
            poller.ring()

    def tasks(self):
        """``sched.tasks()`` taken while the loop is held off. Not ISR-safe."""
        return self.call(self.sched.tasks)

    def __repr__(self):
        return "<%s %s steps=%d tasks=%d>" % (
            type(self).__name__, "running" if self.running else "stopped", self.steps,
            self.sched.live_count())


class ThreadBackground(Background):
    """The loop in a second thread (or core). ``stop()`` waits for it to end."""

    def __init__(self, board, loop):
        _thread = port.thread_module("ThreadBackground")
        Background.__init__(self, board, loop)
        self._thread = _thread
        lock = _thread.allocate_lock()
        self._hold = lock.acquire
        self._release = lock.release
        self._quit = False
        # The loop's thread while it runs (its ident), else None. Its ticks use the
        # interpreter's context, which the REPL's thread shares (see trace.table.top).
        self.loop_thread = None

    def start(self):
        """Start the loop thread (and the board's ticker); returns self. ``SchedulerBusy``
        (nothing started) while another loop polls plain schedulers (sched/loopthread.py).
        Not ISR-safe."""
        if self.running:
            return self
        other = loopthread.other_loop(None)
        if other is not None:
            raise loopthread.busy("ThreadBackground.start()", other)
        self._quit = False
        self.running = True
        self.board.start_wakeups(self.sched.timer)
        self._thread.start_new_thread(self._main, ())
        return self

    def _main(self):
        loop = self.loop
        idle = self.board.idle
        ident = self._thread.get_ident()
        if not self._claim(ident):
            return
        self.loop_thread = ident
        core.slot_here[0] = _slot_here
        _check_threads(True)
        try:
            while not self._quit:
                us = 0
                self._hold()
                try:
                    t = loop.tick()
                    turn = loop.turn()  # the step's one clock read, reused by idle_window
                    self.steps = _inc(self.steps)
                    if not t.has_remaining:
                        us = loop.idle_window(turn)
                finally:
                    self._release()
                if us > 0:
                    idle(us)
        except BaseException as e:  # noqa: B036 - keep the REPL informed, never die silently
            self.error = e
            print("shimeji background loop stopped:", repr(e))
        finally:  # after this thread's last tick (core.slot_here stays: never a stale None)
            with loopthread._lock[0]:
                _loop_threads.pop(ident, None)
                loopthread.hold_ticks(ident, -1)
            if not _loop_threads:
                _check_threads(False)  # (the sleeps' look-ups as before)
            self.loop_thread = None
            self.running = False

    def _claim(self, ident):
        # Record this loop thread before its first tick sets the context; False (the error
        # kept, the background stopped) if a loop started on another thread since start()
        loopthread._threads()
        with loopthread._lock[0]:
            other = loopthread.other_loop(ident)
            if other is None:
                _loop_threads[ident] = True
                loopthread.hold_ticks(ident, 1)  # other threads' ticks are refused from now
                return True
        self.error = loopthread.busy("ThreadBackground's loop thread", other)
        print("shimeji background loop stopped:", repr(self.error))
        self.running = False
        return False

    def stop(self, timeout_ms=2000):
        """End the loop thread and the ticker; returns True once the thread has ended. Not
        ISR-safe."""
        from .runloop import sleep_idle

        self._quit = True
        self._ring()
        waited = 0
        while self.running and waited < timeout_ms:
            self._ring()  # again: the loop may have been between its last look and its wait
            sleep_idle(1000)
            waited += 1
        self.board.stop_wakeups()
        return not self.running


class TimerBackground(Background):
    """One turn + tick per hardware-timer tick, scheduled onto the REPL's thread."""

    def __init__(self, board, loop):
        Background.__init__(self, board, loop)
        self._held = False
        self._pending = False
        self._quit = False
        # What the schedule queue gets: a plain function and this one-item list, made once (the
        # interrupt path allocates nothing). MicroPython's queue keeps its last callbacks (see
        # levelrun.py): stop() empties the list, so a stopped background is not kept alive.
        self._self_ref = [self]
        timer = self.sched.timer
        self._interrupt = timer.interrupt if timer is not None else None

    def _hold(self):
        self._held = True

    def _release(self):
        self._held = False

    def start(self):
        """Start the hardware timer that drives the steps; returns self. Not ISR-safe."""
        if self.running:
            return self
        self._quit = False
        self._pending = False  # a callback queued before stop() found the list empty
        self._self_ref[0] = self
        self.running = True
        self.board.start_ticker(self._irq)
        return self

    def _irq(self, arg=None):
        """The hardware timer's callback. ISR-safe: allocation-free, never blocks."""
        if self._interrupt is not None:
            self._interrupt(arg)
        if not self._pending and not self._quit:
            self._pending = True
            try:
                micropython.schedule(_step_of, self._self_ref)
            except RuntimeError:  # the schedule queue is full: try again at the next tick
                self._pending = False

    def _step(self, _arg):
        self._pending = False
        if self._held or self._quit:
            return
        loop = self.loop
        try:
            loop.turn()
            loop.tick()
            self.steps = _inc(self.steps)
        except BaseException as e:  # noqa: B036 - stop cleanly and say why
            self.error = e
            self.stop()
            print("shimeji background loop stopped:", repr(e))

    def stop(self, timeout_ms=0):
        """Stop the hardware timer; no further steps run. Returns True. Not ISR-safe."""
        self._quit = True
        self.board.stop_ticker()
        self.running = False
        self._self_ref[0] = None
        return True


def _step_of(ref):
    """The scheduled callback: one step of the background in ``ref`` (none once stopped)."""
    bg = ref[0]
    if bg is not None:
        bg._step(0)
