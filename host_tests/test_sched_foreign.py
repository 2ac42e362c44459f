# Awaiting asyncio's own awaitables inside a shimeji task raises ForeignAwaitable (on
# MicroPython it used to crash the VM), and asyncio works as before afterwards.
import asyncio

import shimeji
from shimeji import StaticScheduler, Timer, yield_now
from shimeji.policy.priority import PriorityPolicy
from support import alloc_delta, heap_locked, micropython_only


async def _coro():
    return "inner"


_made = []  # coroutines handed to gather/wait_for: closed after each case (never run)


def _nothing():
    c = _coro()
    _made.append(c)
    return c


def _held_lock():
    lock = asyncio.Lock()
    asyncio.run(lock.acquire())  # held, so acquire() has to wait
    return lock


def _cases():
    held = _held_lock()  # made here: asyncio.run inside a task is refused too
    cases = [
        ("sleep(0)", lambda: asyncio.sleep(0)),
        ("sleep(0.01)", lambda: asyncio.sleep(0.01)),
        ("Event.wait", lambda: asyncio.Event().wait()),
        ("Lock.acquire", lambda: held.acquire()),
        ("gather", lambda: asyncio.gather(_nothing(), _nothing())),
        ("wait_for", lambda: asyncio.wait_for(_nothing(), 1)),
    ]
    if hasattr(asyncio, "sleep_ms"):  # MicroPython's own
        cases.append(("sleep_ms", lambda: asyncio.sleep_ms(10)))
    if hasattr(asyncio, "ThreadSafeFlag"):
        cases.append(("ThreadSafeFlag.wait", lambda: asyncio.ThreadSafeFlag().wait()))
    return cases


async def _try_each(cases, log):
    for name, make in cases:
        aw = None
        try:
            aw = make()  # CPython's gather already looks for the loop here
            await aw
            log.append((name, "returned"))
        except shimeji.ForeignAwaitable as e:
            ok = "shimeji.sleep_ms" in str(e) and "shimeji.Event" in str(e)
            log.append((name, "ForeignAwaitable" if ok else "unclear message"))
        if hasattr(aw, "close"):
            aw.close()
        while _made:
            _made.pop().close()
        await yield_now()  # the task and its scheduler go on
    # and shimeji's own sleep still works; 100 ms so that the run loop idles in it (the
    # shield test reads the depth in the idle) even when a loaded machine stalls this task
    await shimeji.sleep_ms(100)
    return len(log)


async def _asyncio_still_works():
    ev = asyncio.Event()

    async def setter():
        await asyncio.sleep(0.001)
        ev.set()

    t = asyncio.create_task(setter())
    await ev.wait()
    await t
    return "asyncio ok"


def _expect(cases):
    return [(name, "ForeignAwaitable") for name, _ in cases]


def test_every_asyncio_awaitable_raises_foreign_awaitable_in_a_task():
    cases = _cases()
    for policy in (None, PriorityPolicy()):  # the FIFO fast path and the general tick
        s = StaticScheduler(4, policy=policy, timer=Timer())
        log = []
        assert s.run_until_complete(_try_each(cases, log)) == len(cases)
        assert log == _expect(cases)
        assert asyncio.run(_asyncio_still_works()) == "asyncio ok"


def test_a_scheduler_ticked_from_an_asyncio_task_still_refuses_and_restores():
    cases = _cases()
    log = []

    async def outer():
        s = StaticScheduler(4, timer=Timer())
        h = s.spawn(_try_each(cases, log))
        while not h.is_complete():
            s.timer.turn()
            s.tick()
            await asyncio.sleep(0)  # asyncio's own loop, between ticks
        return h.result()

    assert asyncio.run(outer()) == len(cases)
    assert log == _expect(cases)
    assert asyncio.run(_asyncio_still_works()) == "asyncio ok"


def test_a_task_not_awaiting_asyncio_is_unaffected_by_the_shield():
    s = StaticScheduler(2)
    out = []

    async def plain():
        out.append(asyncio.Event().is_set())  # using asyncio objects without awaiting is fine
        await yield_now()
        out.append("done")

    s.run_until_complete(plain())
    assert out == [False, "done"]


def _ticks(scheds, n):
    for _ in range(n):
        for s in scheds:
            s.tick()


@micropython_only
def test_the_shield_allocates_nothing_per_tick_once_asyncio_is_loaded():
    async def spinner():
        while True:
            await yield_now()

    scheds = [StaticScheduler(4), StaticScheduler(4, policy=PriorityPolicy())]
    for s in scheds:
        for _ in range(4):
            s.spawn(spinner())
    _ticks(scheds, 2)
    heap_locked(_ticks, scheds, 20)
    assert alloc_delta(_ticks, scheds, 20) == 0
    assert scheds[0].tick().polled == 4 * 64  # default tick size 256
    assert "cur_task" in asyncio.core.__dict__  # put back after each tick


def test_a_run_loop_keeps_the_shield_up_for_its_whole_run_and_lowers_it_after():
    from shimeji import RunLoop
    from shimeji.sched.foreign import shield

    cases = _cases()
    for policy in (None, PriorityPolicy()):
        s = StaticScheduler(4, policy=policy, timer=Timer())
        log = []
        depths = []

        def idle(us, depths=depths, s=s):
            # Each state once: a slow board idles thousands of times while a case sleeps (the
            # whole list took 16 KB of the STM32L475's heap in qemu).
            seen = (shield.depth, s._shielding)
            if seen not in depths:
                depths.append(seen)

        loop = RunLoop(s, idle=idle)
        assert loop.run(s.spawn(_try_each(cases, log))) == len(cases)
        assert log == _expect(cases)
        assert depths and set(depths) == {(1, False)}  # up once; the ticks leave it alone
        assert (shield.depth, s._shielding) == (0, True)  # lowered, per-tick shielding back
        assert asyncio.run(_asyncio_still_works()) == "asyncio ok"


def test_the_facade_loop_keeps_the_shield_up_for_its_whole_run_and_lowers_it_after():
    # shimeji.asyncio's run loop raises the shield once per run, as RunLoop.run does: a task
    # awaiting MicroPython's (or CPython's) own asyncio still gets ForeignAwaitable, and the
    # real asyncio works again afterwards.
    import shimeji.asyncio as sh_asyncio
    from shimeji.sched.foreign import shield

    cases = _cases()
    log = []
    depths = []

    async def main():
        loop = sh_asyncio.get_event_loop()
        depths.append((shield.depth, loop.sched._shielding))
        n = await _try_each(cases, log)
        depths.append((shield.depth, loop.sched._shielding))
        return n

    loop = sh_asyncio.new_event_loop()
    assert sh_asyncio.run(main()) == len(cases)
    assert log == _expect(cases)
    assert depths == [(1, False), (1, False)]  # up once; the ticks leave it alone
    assert (shield.depth, loop.sched._shielding) == (0, True)
    assert asyncio.run(_asyncio_still_works()) == "asyncio ok"


def test_run_until_complete_keeps_the_shield_up_for_its_whole_run_and_lowers_it_after():
    from shimeji.sched.foreign import shield

    cases = _cases()
    for policy in (None, PriorityPolicy()):
        s = StaticScheduler(4, policy=policy, timer=Timer())
        log = []
        seen = []

        def idle(seen=seen, s=s):
            state = (shield.depth, s._shielding)
            if state not in seen:
                seen.append(state)

        assert s.run_until_complete(_try_each(cases, log), idle) == len(cases)
        assert log == _expect(cases)
        assert seen == [(1, False)]  # up once; the ticks leave it alone
        assert (shield.depth, s._shielding) == (0, True)
        assert asyncio.run(_asyncio_still_works()) == "asyncio ok"


def test_a_tick_with_nothing_to_poll_leaves_asyncio_alone_and_still_counts():
    from shimeji.sched.foreign import shield

    s = StaticScheduler(2)
    t = s.tick()
    assert (t.polled, t.completed, t.spawned, t.woken, t.has_remaining) == (0, 0, 0, 0, False)
    assert shield.depth == 0 and not shield.active
    out = []

    async def once():
        out.append("ran")

    s.spawn(once())  # counted at the next tick's end, which polls it
    t = s.tick()
    assert (t.polled, t.completed, t.spawned, t.has_remaining) == (1, 1, 1, False)
    t = s.tick()  # nothing left: the counts start again from zero
    assert (t.polled, t.completed, t.spawned, t.woken, t.has_remaining) == (0, 0, 0, 0, False)
    assert out == ["ran"] and shield.depth == 0 and not shield.active


def test_the_shield_looks_for_asyncio_again_once_a_module_was_imported():
    # Until asyncio is found, each raise compares len(sys.modules) with the last search's;
    # a module imported since (asyncio, here as if it had just been) means a new search.
    import sys

    from shimeji.sched.foreign import shield

    target = shield.target
    try:
        shield.target = None
        shield.modules = len(sys.modules) - 1  # the last search was one module ago
        s = StaticScheduler(4, timer=Timer())
        log = []
        assert s.run_until_complete(_try_each(_cases(), log)) == len(_cases())
        assert log == _expect(_cases())
        assert shield.target is not None and shield.modules == len(sys.modules)
    finally:
        if shield.target is None:
            shield.target = target


def test_asyncio_reads_as_before_outside_a_tick():
    # MicroPython: the shield leaves its module __getattr__ in asyncio.core, asked only for
    # names the module lacks, so outside a tick everything reads as without it. CPython:
    # the running-loop getters are asyncio's own again.
    import sys

    s = StaticScheduler(2)

    async def touch():
        await yield_now()

    s.run_until_complete(touch())
    core = sys.modules.get("asyncio.core")
    if core is not None:
        assert core.cur_task is None
        try:
            assert core.no_such_name_here is None
            raise AssertionError("an unknown name was found")
        except AttributeError:
            pass
    else:
        events = sys.modules["asyncio.events"]
        assert events._get_running_loop() is None
        assert events._get_running_loop.__name__ == "_get_running_loop"  # not the refusal
    assert asyncio.run(_asyncio_still_works()) == "asyncio ok"
