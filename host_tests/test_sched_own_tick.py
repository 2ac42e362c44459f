"""On rp2 (MicroPython's RP2040 port: two cores, no GIL) every scheduler ticks with a viper FIFO
tick of its own (``wordtick.bind``, made at construction, called by ``owntick.tick_own``), so
that a task's outcome, which passes through the closure's cell, is never another core's. The
other ports keep the module's one viper tick and make no closure per scheduler. The rp2 way is
also checked here on both hosts, by binding a scheduler's own tick by hand: nested ticks of two
schedulers, each finishing tasks with values and errors, keep every outcome apart."""

import sys

from shimeji import StaticScheduler, yield_now
from shimeji.sched import owntick, wordtick

RP2 = sys.platform == "rp2"
OWN = wordtick.tick_fifo is owntick.tick_own  # tick() calls the scheduler's own binding


class Mine(Exception):
    pass


def _own(s):
    """``s`` with the tick rp2 gives it (on rp2 already made by the constructor)."""
    if not OWN:
        s._tick_own = wordtick.bind(s)
    return s


def test_the_port_picks_its_tick_and_only_rp2_makes_one_per_scheduler():
    a, b = StaticScheduler(4), StaticScheduler(4)
    assert OWN == RP2
    if RP2:
        assert a._tick_own is not b._tick_own
        assert a._tick_own is not wordtick.tick_fifo
    else:  # the unix port's (and CPython's) path is the module's closure, nothing per scheduler
        assert wordtick.tick_fifo is not owntick.tick_own
        assert not hasattr(a, "_tick_own") and not hasattr(b, "_tick_own")


def test_rp2_loads_no_tick_code_it_never_calls():
    # fastpath.py's native tick and leanloop.py's run_lean are never called on rp2: their code
    # (~10 KB and ~8 KB of heap from .mpy) is not loaded there; elsewhere both are used
    from shimeji.sched import runloop  # noqa: F401 (loopiter, wordtick and the scheduler)

    loaded = ["shimeji.sched." + m in sys.modules for m in ("fastpath", "leanloop")]
    assert loaded == [not RP2, not RP2]


def test_tick_calls_the_schedulers_own_binding_on_rp2():
    s = _own(StaticScheduler(4))
    own = s._tick_own
    calls = []

    def counting(sched, n):
        calls.append(n)
        return own(sched, n)

    s._tick_own = counting

    async def two():
        await yield_now()
        return 2

    h = s.spawn(two())
    while owntick.tick_own(s, 8).has_remaining:
        pass
    assert h.result() == 2 and calls == [8], calls  # (one tick: it yields, then is polled again)
    if OWN:  # tick() itself goes the same way there
        h = s.spawn(two())
        while s.tick().has_remaining:
            pass
        assert h.result() == 2 and calls == [8, s.DEFAULT_TICK_SIZE], calls


def test_nested_ticks_of_two_schedulers_keep_their_outcomes_apart():
    outer, inner = _own(StaticScheduler(6)), _own(StaticScheduler(6))

    async def value(v):
        await yield_now()
        return v

    async def fails(msg):
        await yield_now()
        raise Mine(msg)

    async def drives(hs):  # finishes inner's tasks inside its own poll, then its own value
        while owntick.tick_own(inner, 8).has_remaining:
            await yield_now()
        return [h.result() for h in hs[:2]]

    inner_hs = [inner.spawn(value("in")), inner.spawn(value(7)), inner.spawn(fails("in"))]
    hs = [outer.spawn(value("out")), outer.spawn(drives(inner_hs)), outer.spawn(fails("out"))]
    while owntick.tick_own(outer, 8).has_remaining:
        pass
    assert hs[0].result() == "out" and hs[1].result() == ["in", 7]
    for h, msg in ((hs[2], "out"), (inner_hs[2], "in")):
        try:
            h.result()
            raise AssertionError("an error was lost")
        except Mine as e:
            assert e.args == (msg,), e.args
    assert outer.live_count() == 0 and inner.live_count() == 0
