# shimeji: host-only (loads boards/stm32/shimeji_board.py against a fake pyb and machine)
# The STM32 board's idle waits for an interrupt AND runs the callbacks interrupts scheduled
# (micropython.schedule: soft Pin/UART/Timer handlers, network.PPP's input): the run loop is
# native code, which never runs them, and machine.idle() is WFI alone. time.sleep_ms(0) is
# one mp_event_wait_ms(1) on the stm32 port: the scheduled callbacks, then WFI (with threads,
# a switch to a ready thread without the GIL). Bytecode runs them at every branch: the idle's
# first `if` runs those scheduled before it and skips the wait when one of them woke a task;
# the branch after the wait runs those the interrupt that ended it scheduled.
import sys

from support import IS_MICROPYTHON

if not IS_MICROPYTHON:
    import pytest


def _root():
    here = __file__.replace("\\", "/")
    return here.rsplit("/", 2)[0] if "/" in here else ".."


class FakeMachine:
    def __init__(self):
        self.idles = 0

    def idle(self):
        self.idles += 1

    def disable_irq(self):
        return 0

    def enable_irq(self, state):
        pass


class FakeTime:
    """``time`` for the board module: the sleeps it makes, recorded; with ``interrupt`` set,
    each wait ends as an interrupt that schedules it would (no branch after that here)."""

    def __init__(self, events=None):
        self.sleeps = []
        self.events = events
        self.interrupt = None

    def sleep_ms(self, ms):
        self.sleeps.append(ms)
        if self.events is not None:
            self.events.append("wait")
        if self.interrupt is not None:
            import micropython

            micropython.schedule(self.events.append, self.interrupt)


class FakeLoop:
    """The RunLoop the board idles for: ``runnable()`` says what the callbacks did."""

    def __init__(self):
        self.stopping = False
        self.ready = False

    def runnable(self):
        return self.ready


def load_stm32(**fakes):
    """The stm32 board module, imported with ``fakes`` (name -> module) in sys.modules."""
    saved = {name: sys.modules.get(name) for name in fakes}
    sys.modules.update(fakes)
    sys.path.insert(0, _root() + "/boards/stm32")
    try:
        sys.modules.pop("shimeji_board", None)
        import shimeji_board

        return shimeji_board
    finally:
        sys.path.pop(0)
        sys.modules.pop("shimeji_board", None)
        for name, mod in saved.items():
            if mod is None:
                sys.modules.pop(name, None)
            else:
                sys.modules[name] = mod


def test_idle_is_one_event_wait_not_machine_idle():
    machine, clock = FakeMachine(), FakeTime()
    mod = load_stm32(machine=machine, pyb=object())
    mod.time = clock  # the module's own global: shimeji keeps the real time module
    board = mod.Board()
    for us in (1000, 10, 0):
        board.idle(us)
    assert clock.sleeps == [0, 0, 0]  # sleep_ms(0): pending callbacks, then WFI
    assert machine.idles == 0


def test_idle_waits_unless_the_loop_has_work():
    machine, clock = FakeMachine(), FakeTime()
    mod = load_stm32(machine=machine, pyb=object())
    mod.time = clock
    board = mod.Board()
    board.loop = FakeLoop()
    board.idle(1000)
    assert clock.sleeps == [0] and board.waits == 1
    board.loop.ready = True  # a task is runnable: no wait
    board.idle(1000)
    board.loop.ready = False
    board.loop.stopping = True  # stop() was called: no wait either
    board.idle(1000)
    assert clock.sleeps == [0] and board.waits == 1
    assert machine.idles == 0


def test_idle_count_wraps_below_2_30():
    mod = load_stm32(machine=FakeMachine(), pyb=object())
    mod.time = FakeTime()
    board = mod.Board()
    board.waits = (1 << 30) - 2
    board.idle(10)
    assert board.waits == (1 << 30) - 1
    board.idle(10)
    assert board.waits == 0  # a small int on a 32-bit board, always


def _a_woken_task_skips_the_wait():
    import micropython

    events = []
    mod = load_stm32(machine=FakeMachine(), pyb=object())
    clock = FakeTime(events)
    mod.time = clock
    board = mod.Board()
    loop = FakeLoop()
    board.loop = loop

    def soft_irq(_arg):  # a soft handler that wakes a task, as a Pin or UART callback does
        events.append("soft irq")
        loop.ready = True

    micropython.schedule(soft_irq, None)
    board.idle(1000)
    assert events == ["soft irq"]  # it ran inside idle, and idle did not wait after it
    assert clock.sleeps == []


def _the_waking_interrupts_callbacks_run_before_idle_returns():
    events = []
    mod = load_stm32(machine=FakeMachine(), pyb=object())
    clock = FakeTime(events)
    mod.time = clock
    board = mod.Board()
    board.loop = FakeLoop()
    clock.interrupt = "soft irq"
    board.idle(1000)
    assert events == ["wait", "soft irq"]  # not at the next idle, a loop turn later
    board.loop = None  # a board idle given to a RunLoop by hand: no loop to ask
    clock.interrupt = "again"
    board.idle(0)
    assert events == ["wait", "soft irq", "wait", "again"]


def _scheduled_callbacks_run():
    import micropython

    board = load_stm32(machine=FakeMachine(), pyb=object()).Board()  # the real time module
    ran = []
    micropython.schedule(ran.append, "soft irq")
    board.idle(1000)
    assert ran == ["soft irq"]  # run inside idle, before any bytecode of the caller's
    micropython.schedule(ran.append, "again")
    board.idle(0)
    assert ran == ["soft irq", "again"]


if IS_MICROPYTHON:
    def test_idle_runs_what_interrupts_scheduled():
        _scheduled_callbacks_run()

    def test_a_callback_that_woke_a_task_skips_the_wait():
        _a_woken_task_skips_the_wait()

    def test_the_waking_interrupts_callbacks_run_before_idle_returns():
        _the_waking_interrupts_callbacks_run_before_idle_returns()
else:
    _NO_SCHEDULE = "micropython.schedule: only the MicroPython VM has it"

    @pytest.mark.skip(reason=_NO_SCHEDULE)
    def test_idle_runs_what_interrupts_scheduled():
        _scheduled_callbacks_run()

    @pytest.mark.skip(reason=_NO_SCHEDULE)
    def test_a_callback_that_woke_a_task_skips_the_wait():
        _a_woken_task_skips_the_wait()

    @pytest.mark.skip(reason=_NO_SCHEDULE)
    def test_the_waking_interrupts_callbacks_run_before_idle_returns():
        _the_waking_interrupts_callbacks_run_before_idle_returns()
