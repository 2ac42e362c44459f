# A ring sleeper's number, freed by the hand-off, keeps its slot in the wheel's _obj and is
# tagged with the address of the slot's words (wheelpass.hand_off); the slot's next sleep_ms
# takes it back first and, finding its own tag, leaves _obj as it is. Any other way a number
# is freed clears the tag, and a number another slot takes is written over: every sleep wakes
# its own task, never early, however the numbers pass between slots.
from shimeji import FakeClock, StaticScheduler, Timer, TimerEntry, sleep_ms, yield_now
from shimeji.task.words import addr_of

_E = 52  # TimerWheel._w's entries: four words each from here (wheel.py)
_BUF = bytearray(4)
VIPER = addr_of(_BUF) is not _BUF  # (task/words.py: tags only where viper compiles)


def _run(plan, rounds=60, polls=1):
    """Tasks sleeping the ms of ``plan`` (one list a task; 0: a yield instead), on a 1 ms
    timer, ``polls`` polls a tick: the log of (task, step, ms asked, ms slept)."""
    clock = FakeClock()
    timer = Timer(clock, 1000, capacity=2)
    s = StaticScheduler(len(plan) + 1, timer=timer)
    log = []

    async def task(k, steps):
        for n, ms in enumerate(steps):
            t0 = clock() // 1000
            if ms:
                await sleep_ms(ms)
            else:
                await yield_now()
            log.append((k, n, ms, clock() // 1000 - t0))

    for k, steps in enumerate(plan):
        s.spawn(task(k, steps))
    for _ in range(rounds):
        timer.turn()
        s.tick(polls)
        clock.advance_us(1000)
    return log, timer


def test_a_number_freed_by_one_slot_and_taken_by_another_wakes_the_other():
    # Task 0 sleeps 1 ms and is handed off (its number tagged); task 1, queued ahead of it
    # by its yields (one poll a tick), then sleeps first and takes that number: its own 5 ms
    # must pass, and task 0's sleeps theirs.
    log, timer = _run([[1, 1, 1, 1], [0, 0, 5, 0, 5]])
    assert len(log) == 9 and timer.wheel.pending == 0
    assert all(slept >= ms for _, _, ms, slept in log)  # never early
    assert [e[3] for e in log if e[0] == 1 and e[2] == 5] == [5, 5]


def test_many_slots_trading_numbers_each_sleep_their_own():
    plan = [[(k + n) % 5 for n in range(6)] for k in range(7)]  # sleeps of 1-4 ms, yields
    log, timer = _run(plan, rounds=200, polls=3)
    assert len(log) == 42 and timer.wheel.pending == 0
    assert all(slept >= ms for _, _, ms, slept in log)


def test_a_cancelled_or_callback_freed_number_carries_no_tag():
    clock = FakeClock()
    timer = Timer(clock, 1000, capacity=4)
    w = timer.wheel
    fired = []
    e = TimerEntry(callback=lambda e: fired.append(1))
    timer.arm_ms(e, 3)
    i = e.pos
    e.cancel()
    assert w._w[_E + 4 * i + 1] == 0xFFFF  # (the tag word: untagged)
    timer.arm_ms(e, 1)
    i = e.pos
    clock.advance_us(2000)
    timer.turn()
    assert fired == [1] and w._w[_E + 4 * i + 1] == 0xFFFF


def test_a_ring_sleepers_number_is_tagged_where_viper_runs():
    clock = FakeClock()
    timer = Timer(clock, 1000, capacity=2)
    s = StaticScheduler(2, timer=timer)

    async def napper():
        await sleep_ms(1)
        await sleep_ms(50)

    h = s.spawn(napper())
    s.tick()
    slot = s.slots[0] if s.slots[0].coro is not None else s.slots[1]
    i = slot.w[4]  # (its number: task/words.py W_TPOS)
    clock.advance_us(1000)
    timer.turn()
    words = timer.wheel._w
    if VIPER:
        a = addr_of(slot.w)
        assert (words[_E + 4 * i + 3] & 0xFFFFFFFF) == a & 0xFFFFFFFF
    else:
        assert words[_E + 4 * i + 1] == 0xFFFF
    s.tick()
    assert slot.w[4] == i  # the same number back (first out of the free list)
    assert timer.wheel._obj[i] is slot and not h.is_complete()
