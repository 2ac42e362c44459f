# Tickless boards: the RP2040 and ESP32 board modules arm a one-shot machine.Timer for the
# next deadline on each idle (no periodic interrupt), sleeps end at their µs deadline, and
# periodic mode stays an option; STM32 stays periodic. The board modules run against a fake
# ``machine`` whose ``idle()`` moves a fake clock to the armed alarm, as WFI would.
import sys

from shimeji import FakeClock, sleep_ms, sleep_us
from support import alloc_delta, heap_locked, micropython_only

MASK = (1 << 30) - 1


def _root():
    here = __file__.replace("\\", "/")
    return here.rsplit("/", 2)[0] if "/" in here else ".."


class FakeTimer:
    ONE_SHOT = 0
    PERIODIC = 1

    def __init__(self, machine, id=-1):
        self.machine = machine
        self.id = id
        self.mode = None
        self.period = 0
        self.callback = None

    def init(self, mode=1, period=0, tick_hz=1000, callback=None, freq=None, hard=False):
        self.mode = mode
        self.period = period * 1000000 // tick_hz if freq is None else 1000000 // freq
        self.callback = callback
        if self.machine.record:
            self.machine.inits.append((mode, self.period))

    def deinit(self):
        self.callback = None
        self.machine.deinits += 1


class TimerMaker:
    """``machine.Timer``: the constants, and calling it makes a FakeTimer."""

    ONE_SHOT = FakeTimer.ONE_SHOT
    PERIODIC = FakeTimer.PERIODIC

    def __init__(self, machine):
        self.machine = machine

    def __call__(self, id=-1, mode=None, freq=None, callback=None):
        m = self.machine
        t = FakeTimer(m, id)
        if mode is not None:
            t.init(mode=mode, freq=freq, callback=callback)
        m.timers.append(t)
        return t


class FakeMachine:
    """``machine`` for the board modules: ``idle()`` jumps the clock to the one-shot alarm and
    runs its callback (the interrupt that ends WFI)."""

    def __init__(self, clock):
        self.clock = clock
        self.Timer = TimerMaker(self)
        self.timers = []
        self.inits = []
        self.record = True  # False: no list appends (the allocation test)
        self.deinits = 0
        self.idles = 0

    def idle(self):
        self.idles += 1
        for t in self.timers:
            if t.mode == FakeTimer.ONE_SHOT and t.callback is not None:
                self.clock.advance_us(t.period)
                cb = t.callback
                t.callback = None
                cb(t)
                return

    def disable_irq(self):
        return 0

    def enable_irq(self, state):
        pass


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


def _board(name, start_us=0, **kw):
    clock = FakeClock(start_us)
    machine = FakeMachine(clock)
    board = load_board(name, machine).Board(**kw)
    board.ticks_us = clock  # the board's clock, made deterministic
    return clock, machine, board


def _sleeper_run(name, start_us=0, slack_us=0):
    clock, machine, board = _board(name, start_us)
    board.slack_us = slack_us  # 0: exact µs deadlines; None: the timer's default slack
    woke = []

    async def main():
        t0 = clock()
        for ms in (1000, 250):
            await sleep_ms(ms)
            woke.append((clock() - t0) & MASK)
        await sleep_us(37)
        woke.append((clock() - t0) & MASK)
        return "done"

    assert board.run(main()) == "done"
    return machine, board, woke


def test_rp2040_idles_on_a_one_shot_alarm_until_each_deadline():
    machine, board, woke = _sleeper_run("rp2040", MASK - 600000)  # across the 2**30 wrap
    assert board.tickless and board.tick_us == 1
    assert woke == [1000000, 1250000, 1250037]  # at the deadline, to the µs
    assert machine.inits == [(0, 1000000), (0, 250000), (0, 37)]  # ONE_SHOT each time
    assert machine.idles == 3 and board.alarms == 3  # one wake-up per deadline, no ticks
    assert machine.deinits == 1 and board.alarm is None and board.ticker is None


def test_esp32_idles_on_a_one_shot_alarm_until_each_deadline():
    machine, board, woke = _sleeper_run("esp32", MASK - 100)
    assert woke == [1000000, 1250000, 1250037]
    assert machine.inits == [(0, 1000000), (0, 250000), (0, 37)]
    assert machine.idles == 3 and board.alarms == 3
    assert machine.timers[0].id == 0  # hardware timer timer_id


def test_the_default_slack_rounds_a_board_sleep_up_to_its_grid_never_early():
    for name, start in (("rp2040", MASK - 600000), ("esp32", MASK - 100)):
        machine, board, woke = _sleeper_run(name, start, slack_us=None)
        # 1000 ms: 1 µs per ms, a 512 µs grid; 250 ms: 128 µs; sleep_us is exact.
        assert 1000000 <= woke[0] < 1000512
        assert 250000 <= woke[1] - woke[0] < 250000 + 128 and woke[2] - woke[1] == 37
        assert [p for _, p in machine.inits] == [woke[0], woke[1] - woke[0], 37]
        assert machine.idles == 3 and board.alarms == 3  # still one wake-up per deadline


def test_rp2040_periodic_mode_ticks_every_tick_us():
    clock, machine, board = _board("rp2040", tickless=False)
    assert not board.tickless and board.tick_us == 1000
    seen = []

    async def main():
        seen.append(machine.inits[:])
        return 1

    assert board.run(main()) == 1
    assert seen == [[(1, 1000)]]  # a PERIODIC timer at 1 kHz while the loop ran
    assert board.alarm is None and machine.deinits == 1


def test_a_board_default_stays_periodic_and_the_loop_idles_one_tick_at_most():
    from shimeji.platform.bsp import BoardBase

    b = BoardBase()
    assert (b.tickless, b.tick_us, b.ticker_us) == (False, 1000, 1000)
    t = BoardBase(tickless=True)
    assert (t.tickless, t.tick_us, t.ticker_us) == (True, 1, 1000)
    assert BoardBase(tick_us=100, tickless=True).tick_us == 100
    from shimeji import StaticScheduler

    assert b.make_loop(StaticScheduler(1)).max_idle_us == 1000
    assert t.make_loop(StaticScheduler(1)).max_idle_us == 1000  # LONGEST_IDLE_US


def _idles(board, n):
    for _ in range(n):
        board.idle(500)


@micropython_only
def test_arming_the_alarm_in_idle_allocates_nothing_in_python():
    clock, machine, board = _board("rp2040")
    machine.record = False
    board.start_alarm()
    _idles(board, 3)
    heap_locked(_idles, board, 20)  # the fake Timer.init is Python: no allocation either
    assert alloc_delta(_idles, board, 20) == 0
    assert board.alarms == 43
