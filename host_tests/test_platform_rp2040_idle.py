# shimeji: host-only (loads the rp2040 and esp32 shimeji_board.py against a fake machine)
# The RP2040 board's idle waits for an interrupt in machine.idle() (a WFE of at most 1 ms on
# MicroPython v1.28's rp2 port) and then runs the callbacks that interrupt scheduled
# (micropython.schedule: soft Pin/UART/Timer handlers) before it returns: machine.idle() runs
# none, the run loop is native code, which never runs them, and bytecode runs them at each
# branch (py/vm.c, pending_exception_check), so the idle's wait ends in one. It stays
# machine.idle(), not time.sleep_ms(0): on rp2 that WFE's timeout is already reached and it
# returns at once (a busy spin). The ESP32 board's idle (machine.idle() is taskYIELD(), which
# returns at once) runs them at its first branch, before the next wait.
import sys

from support import IS_MICROPYTHON

if not IS_MICROPYTHON:
    import pytest


def _root():
    here = __file__.replace("\\", "/")
    return here.rsplit("/", 2)[0] if "/" in here else ".."


class FakeTimer:
    ONE_SHOT = 0
    PERIODIC = 1

    def __init__(self, events):
        self.events = events

    def init(self, mode=1, period=0, tick_hz=1000, callback=None, freq=None, hard=False):
        self.events.append(("arm", period))

    def deinit(self):
        pass


class FakeMachine:
    """``machine``: ``idle()`` and ``lightsleep()`` record the wait and, when ``interrupt`` is
    set, schedule it as the interrupt that ended the wait would (no branch after that)."""

    def __init__(self):
        self.events = []
        self.interrupt = None
        self.Timer = FakeTimer

    def idle(self):
        self.events.append("wait")
        self._end_wait()

    def lightsleep(self, ms):
        self.events.append(("lightsleep", ms))
        self._end_wait()

    def _end_wait(self):
        import micropython

        micropython.schedule(self.events.append, self.interrupt)

    def disable_irq(self):
        return 0

    def enable_irq(self, state):
        pass


class FakeTime:
    """``time`` for the board module: a sleep would be the busy spin the idle must not be."""

    def __init__(self):
        self.sleeps = []

    def sleep_ms(self, ms):
        self.sleeps.append(ms)

    def ticks_us(self):
        return 0


def load_board(name, machine):
    saved = sys.modules.get("machine")
    sys.modules["machine"] = machine
    sys.path.insert(0, _root() + "/boards/" + name)
    try:
        sys.modules.pop("shimeji_board", None)
        import shimeji_board

        return shimeji_board
    finally:
        sys.path.pop(0)
        sys.modules.pop("shimeji_board", None)
        if saved is None:
            sys.modules.pop("machine", None)
        else:
            sys.modules["machine"] = saved


def _rp2040(**kw):
    machine = FakeMachine()
    mod = load_board("rp2040", machine)
    clock = FakeTime()
    mod.time = clock  # the module's own global: shimeji keeps the real time module
    return machine, clock, mod.Board(**kw)


def test_rp2040_idle_waits_in_machine_idle_never_a_sleep_ms():
    machine, clock, board = _rp2040()
    machine._end_wait = lambda: None  # CPython has no micropython.schedule: no interrupt
    board.alarm = FakeTimer(machine.events)
    for us in (1000, 10, 0):
        board.idle(us)
    assert machine.events == [("arm", 1000), "wait", ("arm", 10), "wait", ("arm", 0), "wait"]
    assert clock.sleeps == []  # time.sleep_ms(0) returns at once on rp2: a spin
    machine, clock, board = _rp2040(lightsleep_min_us=5000)
    machine._end_wait = lambda: None
    board.idle(4999)
    board.idle(7000)
    assert machine.events == ["wait", ("lightsleep", 7)]


def _rp2040_runs_the_wakes_interrupt_scheduled():
    machine, clock, board = _rp2040()
    board.alarm = FakeTimer(machine.events)
    machine.interrupt = "soft irq"
    board.idle(1000)
    # the callback the interrupt scheduled ran before idle returned, after the wait
    assert machine.events == [("arm", 1000), "wait", "soft irq"]
    machine.events[:] = []
    board.alarm = None  # periodic mode: no alarm to arm
    machine.interrupt = "again"
    board.idle(0)
    assert machine.events == ["wait", "again"]
    assert clock.sleeps == []


class FakeLoop:
    """The RunLoop the board idles for: ``runnable()`` says what the callbacks did."""

    def __init__(self):
        self.stopping = False
        self.ready = False

    def runnable(self):
        return self.ready


def test_rp2040_idle_waits_unless_the_loop_has_work():
    machine, clock, board = _rp2040()
    machine._end_wait = lambda: None
    board.alarm = FakeTimer(machine.events)
    board.loop = FakeLoop()
    board.idle(500)
    board.loop.ready = True  # a task is runnable: no arming, no wait
    board.idle(500)
    board.loop.ready = False
    board.loop.stopping = True  # stop() was called: neither
    board.idle(500)
    assert machine.events == [("arm", 500), "wait"]


def _rp2040_a_callback_that_woke_a_task_skips_the_wait():
    import micropython

    machine, clock, board = _rp2040()
    machine._end_wait = lambda: None
    board.alarm = FakeTimer(machine.events)
    loop = FakeLoop()
    board.loop = loop

    def soft_irq(_arg):  # a soft handler that wakes a task, as a Pin or UART callback does
        machine.events.append("soft irq")
        loop.ready = True

    micropython.schedule(soft_irq, None)
    board.idle(1000)
    assert machine.events == ["soft irq"]  # ran inside idle; no alarm armed, no WFE after it


def _rp2040_lightsleep_runs_what_was_scheduled_before():
    import micropython

    machine, clock, board = _rp2040(lightsleep_min_us=5000)
    machine._end_wait = lambda: None
    micropython.schedule(machine.events.append, "scheduled before")
    board.idle(7000)
    assert machine.events == ["scheduled before", ("lightsleep", 7)]


def _esp32_runs_what_was_scheduled_before_its_wait():
    import micropython

    machine = FakeMachine()
    machine._end_wait = lambda: None
    board = load_board("esp32", machine).Board()
    board.alarm = FakeTimer(machine.events)
    micropython.schedule(machine.events.append, "soft irq")
    board.idle(1000)
    assert machine.events == ["soft irq", ("arm", 1000), "wait"]


if IS_MICROPYTHON:
    def test_rp2040_idle_runs_what_the_waking_interrupt_scheduled():
        _rp2040_runs_the_wakes_interrupt_scheduled()

    def test_rp2040_lightsleep_idle_runs_what_was_scheduled_before():
        _rp2040_lightsleep_runs_what_was_scheduled_before()

    def test_rp2040_a_callback_that_woke_a_task_skips_the_wait():
        _rp2040_a_callback_that_woke_a_task_skips_the_wait()

    def test_esp32_idle_runs_what_was_scheduled_before_its_wait():
        _esp32_runs_what_was_scheduled_before_its_wait()
else:
    _NO_SCHEDULE = "micropython.schedule: only the MicroPython VM has it"

    @pytest.mark.skip(reason=_NO_SCHEDULE)
    def test_rp2040_idle_runs_what_the_waking_interrupt_scheduled():
        _rp2040_runs_the_wakes_interrupt_scheduled()

    @pytest.mark.skip(reason=_NO_SCHEDULE)
    def test_rp2040_lightsleep_idle_runs_what_was_scheduled_before():
        _rp2040_lightsleep_runs_what_was_scheduled_before()

    @pytest.mark.skip(reason=_NO_SCHEDULE)
    def test_rp2040_a_callback_that_woke_a_task_skips_the_wait():
        _rp2040_a_callback_that_woke_a_task_skips_the_wait()

    @pytest.mark.skip(reason=_NO_SCHEDULE)
    def test_esp32_idle_runs_what_was_scheduled_before_its_wait():
        _esp32_runs_what_was_scheduled_before_its_wait()
