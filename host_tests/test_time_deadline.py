# timeout(awaitable, ms): on time, too late, nested, cancelled, around coroutines and around
# shimeji awaitables; the inner work is abandoned and its finally blocks run.
from gate import Gate
from shimeji import (
    DeadlineExpired,
    FakeClock,
    NoTimer,
    StaticScheduler,
    Timeout,
    Timer,
    core,
    sleep_ms,
    timeout,
    yield_now,
)
from support import raises

MASK = (1 << 30) - 1


def make(start_us=MASK - 20_000):
    clock = FakeClock(start_us)
    timer = Timer(clock)
    return clock, timer, StaticScheduler(8, timer=timer)


def run(clock, timer, s, handle, limit_ms=1000, n=256):
    for _ in range(limit_ms):
        timer.turn()
        s.tick(n)
        if handle.is_complete():
            return
        clock.advance(1)
    raise AssertionError("the task did not finish")


def elapsed_ms(clock, start):
    return ((clock() - start) & MASK) // 1000


async def work(log, ms, value):
    try:
        await sleep_ms(ms)
        log.append("work done")
        return value
    finally:
        log.append("work finally")


def test_work_that_finishes_in_time_returns_its_value_and_disarms():
    clock, timer, s = make()
    log = []

    async def main():
        v = await timeout(work(log, 5, "v"), 20)
        log.append(v)
        return elapsed_ms(clock, t0)

    t0 = clock()
    h = s.spawn(main())
    run(clock, timer, s, h)
    assert h.result() == 5
    assert log == ["work done", "work finally", "v"]
    assert timer.wheel.pending == 0


def test_work_that_takes_too_long_is_abandoned_and_timeout_raised():
    clock, timer, s = make()
    log = []

    async def main():
        try:
            await timeout(work(log, 50, "v"), 20)
        except Timeout as e:
            log.append(("timeout", elapsed_ms(clock, t0), str(e)))
        await sleep_ms(1)  # the task's own entry still works afterwards
        return "after"

    t0 = clock()
    h = s.spawn(main())
    run(clock, timer, s, h)
    assert h.result() == "after"
    assert log == ["work finally", ("timeout", 20, "the awaited work did not finish within 20 ms")]
    assert timer.wheel.pending == 0


def test_timeout_around_a_shimeji_awaitable_takes_the_task_off_its_wait():
    clock, timer, s = make()
    g = Gate()
    log = []

    async def main():
        try:
            await timeout(sleep_ms(100), 3)
        except Timeout:
            log.append(("slept too long", elapsed_ms(clock, t0)))
        try:
            await timeout(g, 4)
        except Timeout:
            log.append(("gate stayed shut", elapsed_ms(clock, t0)))
        g.slot = None
        g.is_open = True
        await timeout(g, 4)  # an open gate passes
        log.append("passed")

    t0 = clock()
    h = s.spawn(main())
    run(clock, timer, s, h)
    h.result()
    assert log == [("slept too long", 3), ("gate stayed shut", 7), "passed"]
    assert timer.wheel.pending == 0


def test_nested_timeouts_each_raise_at_their_own_deadline():
    clock, timer, s = make()
    log = []

    async def inner(ms_inner, ms_work):
        try:
            return await timeout(work(log, ms_work, "inner ok"), ms_inner)
        except Timeout:
            log.append(("inner timeout", elapsed_ms(clock, t0)))
            await sleep_ms(100)
            return "inner recovered"

    async def main():
        for outer_ms, inner_ms, work_ms in ((50, 10, 30), (10, 50, 30), (50, 10, 5)):
            t = clock()
            try:
                r = await timeout(inner(inner_ms, work_ms), outer_ms)
                log.append((r, elapsed_ms(clock, t)))
            except Timeout:
                log.append(("outer timeout", elapsed_ms(clock, t)))
            log.append(("armed", timer.wheel.pending))

    t0 = clock()
    h = s.spawn(main())
    run(clock, timer, s, h)
    h.result()
    assert log == [
        "work finally", ("inner timeout", 10), ("outer timeout", 50), ("armed", 0),
        "work finally", ("outer timeout", 10), ("armed", 0),
        "work done", "work finally", ("inner ok", 5), ("armed", 0),
    ]


def test_cancelling_a_task_inside_a_timeout_disarms_everything():
    clock, timer, s = make()
    log = []

    async def main():
        await timeout(work(log, 100, "v"), 50)

    h = s.spawn(main())
    timer.turn()
    s.tick()
    assert timer.wheel.pending == 2  # the work's sleep and the deadline
    h.cancel()
    assert timer.wheel.pending == 1  # the sleep's entry left at once
    run(clock, timer, s, h)
    assert h.is_cancelled() and log == ["work finally"]
    assert timer.wheel.pending == 0


def test_work_that_swallows_the_expiry_keeps_its_result():
    clock, timer, s = make()

    async def stubborn():
        try:
            await sleep_ms(100)
        except DeadlineExpired:
            return "caught it"

    async def main():
        return await timeout(stubborn(), 5)

    h = s.spawn(main())
    run(clock, timer, s, h)
    assert h.result() == "caught it"


def test_a_busy_task_is_interrupted_at_its_next_yield():
    clock, timer, s = make()
    spins = []

    async def spin():
        while True:
            spins.append(1)
            clock.advance_us(400)  # each step takes 0.4 ms, then the loop turns the timer
            await yield_now()

    async def main():
        try:
            await timeout(spin(), 2)
        except Timeout:
            return len(spins)

    h = s.spawn(main())
    run(clock, timer, s, h, n=1)
    assert h.result() == 2  # 2 ms: 2 rounds of 0.4 ms of work plus 1 ms of loop


def test_errors_inside_the_work_pass_through_and_the_guard_is_reused():
    clock, timer, s = make()

    async def bad():
        await sleep_ms(1)
        raise KeyError("k")

    async def main():
        guards = []
        for _ in range(3):
            g = timeout(bad(), 10)
            guards.append(g)
            try:
                await g
            except KeyError:
                pass
        return guards[0] is guards[1] is guards[2]

    h = s.spawn(main())
    run(clock, timer, s, h)
    assert h.result() is True
    assert timer.wheel.pending == 0


def test_timeout_without_a_timer_says_how_to_attach_one():
    s = StaticScheduler(2)

    async def main():
        await timeout(yield_now(), 5)

    h = s.spawn(main())
    s.tick()
    with raises(NoTimer, match="sched.timer = Timer()"):
        h.result()


def test_closing_the_scheduler_inside_a_timeout_disarms_everything():
    clock, timer, s = make()
    log = []

    async def main():
        await timeout(work(log, 100, "v"), 50)

    h = s.spawn(main())
    timer.turn()
    s.tick()
    assert timer.wheel.pending == 2
    s.close()
    assert h.is_cancelled() and log == ["work finally"]
    assert timer.wheel.pending == 0


def test_a_slot_makes_its_deadline_entry_at_its_first_timeout_and_keeps_it():
    # A slot is smaller without the entry (most tasks never use timeout()): it is made once,
    # by the slot's first timeout, and reused by every later one and by the slot's next tasks.
    clock, timer, s = make()
    assert all(slot.deadline is None for slot in s.slots)
    entries = []

    async def plain():
        await sleep_ms(1)

    async def timed(log):
        for _ in range(3):
            assert await timeout(work(log, 1, "ok"), 5) == "ok"
            entries.append(core.current_slot().deadline)

    h = s.spawn(plain())
    run(clock, timer, s, h)
    assert s.slots[0].deadline is None  # a task without timeout(): no entry
    for _ in range(2):
        h = s.spawn(timed([]))
        run(clock, timer, s, h)
    # The free list is a stack: both ran in plain()'s slot, one after the other.
    slots = [sl for sl in s.slots if sl.deadline is not None]
    assert slots == [s.slots[0]] and None not in entries
    assert all(e is entries[0] for e in entries) and not any(e.is_armed() for e in entries)
    # Two at once: the second slot makes its own entry at its first timeout.
    hs = [s.spawn(timed([])) for _ in range(2)]
    for h in hs:
        run(clock, timer, s, h)
    slots = [sl for sl in s.slots if sl.deadline is not None]
    assert len(slots) == 2 and slots[0].deadline is entries[0]
    assert slots[1].deadline is not entries[0] and not slots[1].deadline.is_armed()
