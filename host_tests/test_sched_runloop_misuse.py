# A RunLoop given the wrong options, and run(until) given what is not a handle (session 25's
# audit). Before: RunLoop(sched, tick_size=0) (or -1) never polled a task, and run() hung for
# ever; loop.run(main()) (the coroutine, not its handle) raised AttributeError ('is_complete')
# from inside the run; max_idle_us 'a' or 1.5, idle=3, collect='x' were taken and failed later
# (or never: max_idle_us=1.5 ran on CPython and raised TypeError on MicroPython). Now each is
# BadArgument at the call, naming the option and what to give; the scheduler and its tasks
# are untouched, and a good loop on the same scheduler runs them.
from shimeji import BadArgument, RunLoop, StaticScheduler, Timer, sleep_ms
from support import raises


async def _nap(v):
    await sleep_ms(2)
    return v


def test_bad_options_are_refused_at_construction():
    sched = StaticScheduler(4, timer=Timer())
    h = sched.spawn(_nap(5))
    cases = (
        ("tick_size", (0, -1, "a", 1.5)),
        ("max_idle_us", (-1, "a", 1.5)),
        ("collect_min_us", (-1, None, "x")),
        ("idle", (3, "sleep")),
        ("collect", ("x", 5)),
    )
    for name, values in cases:
        for bad in values:
            with raises(BadArgument, "RunLoop(%s=%r)" % (name, bad)):
                RunLoop(sched, **{name: bad})
    assert not h.is_complete()  # nothing ran
    for good in (dict(tick_size=1, max_idle_us=None), dict(max_idle_us=0, collect_min_us=0),
                 dict(idle=None, collect=None)):
        assert RunLoop(sched, **good) is not None
    assert RunLoop(sched, tick_size=1).run(h) == 5


def test_run_until_what_is_not_a_handle_is_refused_before_the_run():
    sched = StaticScheduler(4, timer=Timer())
    loop = RunLoop(sched)
    coro = _nap(6)
    for bad in (coro, 3, "main"):
        with raises(BadArgument, "run(until): give the JoinHandle spawn() returned"):
            loop.run(bad)
        assert not loop.running
    assert sched.live_count() == 0  # (the coroutine was not spawned)
    assert loop.run(sched.spawn(coro)) == 6  # the same coroutine, spawned: it runs
