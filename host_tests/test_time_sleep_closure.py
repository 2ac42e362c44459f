# sleep_ms is a viper closure (time/sleep.py's _bind): it reads the context, the ring's
# iterator and append and the SLEEP token from its cells, and its timer from ctx.tkit, which
# every tick path fills (endtick.tick_kit; tick_fifo in line) and which is core.NO_KIT
# otherwise. Its sleeps take the ring and allocate nothing under the general tick (round
# robin) and a traced FIFO tick as under tick_fifo; 0 ms and sleeps out of a tick go the slow
# way (Timer.arm_ms) and still end at their deadline; check_threads rebinds the context.
import shimeji.time.sleep as sleepmod
from shimeji import FakeClock, RoundRobinPolicy, StaticScheduler, Timer, core, sleep_ms
from support import alloc_delta, heap_locked, micropython_only


def _sched(policy=None, traced=False):
    clock = FakeClock(0)
    s = StaticScheduler(8, timer=Timer(clock), policy=policy)
    if traced:
        from shimeji.trace import Trace

        Trace(256).attach(s)
    return clock, s


def _loop(clock, s, n):
    for _ in range(n):
        clock.advance(1)
        s.timer.turn()
        s.tick()


def _kinds(policy=None, traced=False):
    clock, s = _sched(policy, traced)
    seen = []

    async def task():
        aw = sleep_ms(2)
        seen.append((type(aw) is type(sleepmod._bound[1]), core.context.tkit is s.timer._kit))
        await aw
        seen.append(clock())
        await sleep_ms(0)  # the slow way: due at the next turn, never before it
        seen.append(clock())

    h = s.spawn(task())
    for _ in range(10):
        if h.is_complete():
            break
        _loop(clock, s, 1)
    h.result()
    assert core.context.tkit is core.NO_KIT
    assert seen[0] == (True, True) and seen[1] >= 2000 and seen[2] > seen[1], seen


def test_a_sleep_takes_the_timer_from_every_tick_path():
    _kinds()
    _kinds(RoundRobinPolicy())
    _kinds(traced=True)


def test_check_threads_rebinds_the_closure_and_back():
    clock, s = _sched()
    seen = []

    async def task():
        await sleep_ms(1)
        seen.append(clock())

    sleepmod.check_threads(True)
    try:
        assert sleepmod._bound[0] is sleepmod._CHECKED
        h = s.spawn(task())
        for _ in range(5):
            _loop(clock, s, 1)
    finally:
        sleepmod.check_threads(False)
    assert sleepmod._bound[0] is core.context
    assert h.is_complete() and seen and seen[0] >= 1000, seen


async def _sleeper(ms):
    while True:
        await sleep_ms(ms)


def _steady(policy=None, traced=False):
    clock, s = _sched(policy, traced)
    for i in range(6):
        s.spawn(_sleeper(1 + i))
    _loop(clock, s, 30)
    heap_locked(_loop, clock, s, 60)
    assert alloc_delta(_loop, clock, s, 60) == 0
    assert s.timer.wheel.pending == 6


@micropython_only
def test_sleeps_under_the_general_and_the_traced_tick_allocate_nothing():
    _steady()
    _steady(RoundRobinPolicy())
    _steady(traced=True)
