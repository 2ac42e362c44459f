# The wheel's lists are machine words (time/wheel.py): an armed entry takes a number from the
# wheel's free list and gives it back when it fires or is cancelled; the array grows when the
# free list is empty (an allocation, outside the reserved capacity) and every pass takes its
# pointer again after a callback that may have grown it.
from shimeji import FakeClock, StaticScheduler, Timer, TimerEntry, TimerWheel, sleep_ms
from shimeji.errors import BadArgument
from support import alloc_delta, heap_locked, micropython_only

MASK = (1 << 30) - 1
_W_CAP = 38  # TimerWheel._w's capacity word (wheel.py)


def _cap(w):
    return w._w[_W_CAP]


def test_arming_past_the_capacity_grows_and_fires_every_entry_in_order():
    w = TimerWheel(MASK - 100, capacity=2)
    fired = []
    entries = [TimerEntry(callback=lambda e: fired.append(e.key)) for _ in range(300)]
    for k, e in enumerate(entries):
        e.key = k
        w.arm_after(e, 1 + (k * 37) % 5000)  # every level up to 2, across the wrap
    assert w.pending == 300 and _cap(w) >= 300
    nums = [e.pos for e in entries]
    assert len(set(nums)) == 300 and min(nums) >= 0  # one number each
    while w.pending:
        w.advance(64)
    want = sorted(range(300), key=lambda k: (1 + (k * 37) % 5000, k))
    assert fired == want
    assert all(e.pos == -1 and not e.is_armed() for e in entries)


def test_numbers_come_back_on_cancel_and_fire_so_the_array_stays_its_size():
    w = TimerWheel(0, capacity=4)
    es = [TimerEntry(callback=lambda e: None) for _ in range(4)]
    for _ in range(500):
        for k, e in enumerate(es):
            w.arm_after(e, 1 + k * 100)
        es[1].cancel()
        es[3].cancel()
        w.advance(1000)
    assert _cap(w) == 4 and w.pending == 0
    assert w.list_index(es[0]) == -1


def test_list_index_is_the_level_and_slot_and_the_due_list():
    w = TimerWheel(0)
    e = TimerEntry(callback=lambda e: None)
    w.arm_after(e, 5)
    assert w.list_index(e) == 5
    w.arm_after(e, 64 * 3)
    assert w.list_index(e) == 64 + 3
    w.arm_after(e, 0)
    assert w.list_index(e) == 320
    other = TimerWheel(0)
    assert other.list_index(e) == -1
    e.cancel()
    assert w.list_index(e) == -1


def test_a_callback_that_grows_the_array_mid_advance_loses_nothing():
    w = TimerWheel(0, capacity=1)
    late = [TimerEntry(callback=lambda e: fired.append(e.key)) for _ in range(64)]
    fired = []

    def arm_many(entry):
        fired.append("first")
        for k, e in enumerate(late):  # grows the array while the slot is drained
            e.key = k
            w.arm_after(e, 1 + k % 3)

    first = TimerEntry(callback=arm_many)
    second = TimerEntry(callback=lambda e: fired.append("second"))
    w.arm_after(first, 3)
    w.arm_after(second, 3)
    w.advance(3)
    assert fired == ["first", "second"]
    w.advance(10)
    assert fired[2:] == sorted(range(64), key=lambda k: (k % 3, k))
    assert w.pending == 0 and _cap(w) >= 65


def test_a_bad_capacity_says_what_to_pass():
    for bad in (0, -1, "8", None):
        try:
            TimerWheel(0, capacity=bad)
        except BadArgument as e:
            assert "capacity" in str(e)
        else:
            raise AssertionError("TimerWheel(capacity=%r) did not raise" % (bad,))


def test_a_scheduler_reserves_two_numbers_per_slot_on_its_timer():
    timer = Timer(FakeClock(0))
    StaticScheduler(40, timer=timer)
    assert _cap(timer.wheel) == 80


async def _sleeper(ms):
    while True:
        await sleep_ms(ms)


@micropython_only
def test_sleeps_of_every_slot_of_a_scheduler_allocate_nothing_within_its_reserve():
    clock = FakeClock(MASK - 20_000)
    timer = Timer(clock)
    s = StaticScheduler(24, timer=timer)
    for i in range(24):
        s.spawn(_sleeper(1 + i % 9))

    def run(n):
        for _ in range(n):
            clock.advance(1)
            timer.turn()
            s.tick()

    run(30)
    heap_locked(run, 100)
    assert alloc_delta(run, 100) == 0
    assert _cap(timer.wheel) == 48


def test_sleep_ms_grows_a_timer_set_after_the_scheduler_was_made():
    clock = FakeClock(MASK - 5_000)
    timer = Timer(clock)
    s = StaticScheduler(40)
    s.timer = timer  # no reserve: sleep_ms takes numbers past the wheel's first 16
    woke = []

    async def sleeper(i):
        await sleep_ms(1 + i % 5)
        woke.append(i)

    for i in range(40):
        s.spawn(sleeper(i))
    s.tick()
    assert timer.wheel.pending == 40 and _cap(timer.wheel) >= 40
    for _ in range(10):
        clock.advance(1)
        timer.turn()
        s.tick()
    assert sorted(woke) == list(range(40))
    assert woke == sorted(woke, key=lambda i: (i % 5, i))
