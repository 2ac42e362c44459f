# RunLoop.run()'s common case runs as one viper function (sched/leanloop.py's run_lean): the
# same programs give the same results with it and without it (loopiter.iterate alone), event
# for event, iteration for iteration; the loop hands itself back to iterate when a trace is
# attached or the policy changes, and takes over again after (I/O waits: test_io_leanloop).
from shimeji import (
    Event,
    RunLoop,
    StaticScheduler,
    Timer,
    TimerEntry,
    core,
    sleep_ms,
    sleep_us,
    yield_now,
)
from shimeji.sched import leanloop, loopiter
from shimeji.trace import Trace
from support import needs_run_lean


class Moving:
    """A clock that moves 3 µs a reading; the idle jumps it."""

    def __init__(self):
        self.t = (1 << 30) - 40000  # the run crosses the clock's wrap

    def read(self):
        t = self.t
        self.t = (t + 3) & 0x3FFFFFFF
        return t

    def idle(self, us):
        self.t = (self.t + us) & 0x3FFFFFFF


class Counting:
    """run_lean, counting its calls and answers (iterate reads the module's name per call)."""

    def __init__(self):
        self.calls = 0
        self.answers = []
        self.fn = leanloop.run_lean

    def __call__(self, loop, sched, until, live):
        self.calls += 1
        code = self.fn(loop, sched, until, live)
        self.answers.append(code)
        return code


def _program(fused, extra=None):
    clock = Moving()
    timer = Timer(clock.read, 1)
    s = StaticScheduler(24, timer=timer)
    log = []

    async def child(i):
        await sleep_ms(1 + i % 3)
        log.append(("child", i, timer.now()))
        return i * 10

    async def failing():
        await sleep_ms(2)
        raise ValueError("boom")

    async def sleeper(i):
        for k in range(6):
            await sleep_ms(1 + (i + k) % 4)
            log.append(("woke", i, k, timer.now()))
            if k == 2:
                await yield_now()

    async def main():
        handles = [s.spawn(child(i)) for i in range(4)]
        f = s.spawn(failing())
        for i in range(6):
            s.spawn(sleeper(i))
        got = []
        for h in handles:
            got.append(await h)
        try:
            await f
        except ValueError as e:
            got.append(str(e))
        await sleep_ms(25)
        return got

    def callback(entry):
        log.append(("callback", timer.now()))
        s.spawn(child(9))

    entry = TimerEntry(callback=callback)
    timer.arm_ms(entry, 4)
    if extra is not None:
        extra(s, timer, log)
    loop = RunLoop(s, idle=clock.idle, max_idle_us=None)
    counting = Counting()
    loopiter.run_lean = counting if fused else None
    try:
        result = loop.run(s.spawn(main()))
    finally:
        loopiter.run_lean = counting.fn
    return (result, log, loop.iterations, loop.idles, s.completed_total, s.spawned_total,
            s.failed_total), counting


@needs_run_lean
def test_the_same_program_gives_the_same_results_with_and_without_run_lean():
    plain, none = _program(False)
    fused, counting = _program(True)
    assert none.calls == 0 and counting.calls >= 1
    assert plain == fused
    result, log = fused[0], fused[1]
    assert result == [0, 10, 20, 30, "boom"]
    assert [e[0] for e in log].count("callback") == 1 and ("child", 9) in [e[:2] for e in log]
    assert len([e for e in log if e[0] == "woke"]) == 36
    assert counting.answers[-1] == leanloop.UNTIL


@needs_run_lean
def test_a_trace_attached_mid_run_hands_the_loop_back_and_it_takes_over_after():
    def extra(s, timer, log):
        trace = Trace(size=256)

        def on(entry):
            trace.attach(s)
            log.append(("traced", timer.now()))

        def off(entry):
            trace.detach()
            log.append(("untraced", timer.now()))

        a = TimerEntry(callback=on)
        b = TimerEntry(callback=off)
        timer.arm_ms(a, 6)
        timer.arm_ms(b, 12)
        extra.entries = (a, b)  # (kept alive: the wheel holds the entries)

    plain, _ = _program(False, extra)
    fused, counting = _program(True, extra)
    assert plain == fused
    assert [e[0] for e in fused[1] if e[0] in ("traced", "untraced")] == ["traced", "untraced"]
    assert leanloop.RESUME in counting.answers  # handed back while the trace was on
    assert counting.calls >= 2  # ...and taken over again after it came off


@needs_run_lean
def test_stop_from_a_task_ends_the_run_after_its_tick():
    clock = Moving()
    timer = Timer(clock.read, 1)
    s = StaticScheduler(4, timer=timer)
    loop = RunLoop(s, idle=clock.idle, max_idle_us=None)
    seen = []

    async def ticker():
        for i in range(100):
            await sleep_ms(1)
            seen.append(i)
            if i == 7:
                loop.stop()

    s.spawn(ticker())
    counting = Counting()
    loopiter.run_lean = counting
    try:
        assert loop.run() is None
    finally:
        loopiter.run_lean = counting.fn
    assert seen == list(range(8)) and counting.answers == [leanloop.STOPPED]
    assert s.tick().has_remaining is False  # its sleep armed: nothing runnable, all put back


def _late_fire(fused):
    """One fire after an idle that overslept past two deadlines: a timer callback's wake (into
    the inbox) at the first, a sleeper's entry at the second. Log of what ran, in order."""
    clock = Moving()
    clock.idle = lambda us: Moving.idle(clock, us + 2000 if us > 1000 else us)  # (overslept)
    timer = Timer(clock.read, 1)
    s = StaticScheduler(4, timer=timer)
    ev = Event()
    log = []

    async def parked():
        await ev.wait()
        log.append("parked")

    async def sleeper():
        await sleep_us(500)
        await sleep_ms(3)
        log.append("sleeper")

    entry = TimerEntry(callback=lambda e: ev.set())
    s.spawn(parked())
    h = s.spawn(sleeper())
    timer.arm_ms(entry, 3)  # (due ~500 µs before the sleeper, in the same fire)
    counting = Counting()
    loopiter.run_lean = counting if fused else None
    try:
        RunLoop(s, idle=clock.idle, max_idle_us=None).run(h)
    finally:
        loopiter.run_lean = counting.fn
    return log, counting.calls


@needs_run_lean
def test_a_callback_that_fills_the_inbox_drops_the_hand_offs_hint():
    # run_lean's fire tells the hand-off its scheduler's inbox was empty (wheelpass.hand_off's
    # hint); a callback that runs in the same fire may wake a task into it, and a sleeper
    # handed off after that callback must queue behind that wake, as without run_lean (a
    # ring sleeper's hand-off on MicroPython; CPython's sleeps park, and queue the slow way).
    plain = _late_fire(False)
    fused = _late_fire(True)
    assert plain[1] == 0 and fused[1] >= 1
    assert plain[0] == fused[0] == ["parked", "sleeper"]


def _sleep_from_a_callback(fused):
    """A timer callback (outside any task) that calls sleep_ms during a run: what it raised,
    and the context's kit after the run."""
    clock = Moving()
    timer = Timer(clock.read, 1)
    s = StaticScheduler(4, timer=timer)
    seen = []

    def callback(entry):
        try:
            sleep_ms(5)
        except Exception as e:  # noqa: BLE001 (what it raised is the point)
            seen.append(type(e).__name__)

    async def napper():
        for _ in range(5):
            await sleep_ms(2)

    entry = TimerEntry(callback=callback)
    timer.arm_ms(entry, 3)  # (between two of the napper's ticks)
    counting = Counting()
    loopiter.run_lean = counting if fused else None
    try:
        RunLoop(s, idle=clock.idle, max_idle_us=None).run(s.spawn(napper()))
    finally:
        loopiter.run_lean = counting.fn
    return seen, core.context.tkit is core.NO_KIT, counting.calls


@needs_run_lean
def test_between_its_ticks_run_lean_leaves_the_kit_and_a_sleep_outside_a_task_still_raises():
    # run_lean leaves its timer's kit in the context between ticks (sleep_ms's fast way then
    # finds no slot there and takes the slow one); iterate puts the outer kit back after.
    plain = _sleep_from_a_callback(False)
    fused = _sleep_from_a_callback(True)
    assert plain[:2] == fused[:2] == (["NoCurrentTask"], True)
    assert plain[2] == 0 and fused[2] >= 1


class _Parallel(StaticScheduler):
    parallel = True  # (as an executor's worker and injector are: run_lean declines them)


@needs_run_lean
def test_a_parallel_scheduler_never_calls_run_lean():
    # iterate decides once per run that run_lean will decline it (parallel is a class's,
    # fixed): no call per iteration only to be declined.
    clock = Moving()
    timer = Timer(clock.read, 1)
    s = _Parallel(4, timer=timer)
    done = []

    async def napper():
        for i in range(4):
            await sleep_ms(1)
            done.append(i)

    counting = Counting()
    loopiter.run_lean = counting
    try:
        loop = RunLoop(s, idle=clock.idle, max_idle_us=None)
        loop.run(s.spawn(napper()))
    finally:
        loopiter.run_lean = counting.fn
    assert done == [0, 1, 2, 3] and loop.iterations >= 4
    assert counting.calls == 0
