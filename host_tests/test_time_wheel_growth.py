# The timer wheel's words are one array('i') (time/wheel.py). On a board's fragmented heap that
# block is the thing that may not fit: a Timer makes it once, at its capacity, with no
# temporary as large beside it; growing it is an allocation that may fail, and a failed growth
# raises TimerFull (saying what to do) with the wheel left as it was.
import shimeji.time.wheelroom as wheelmod  # (the wheel's room: its _extend hook)
from shimeji import (
    BadArgument,
    FakeClock,
    StaticScheduler,
    Timer,
    TimerEntry,
    TimerFull,
    TimerWheel,
    sleep_ms,
)
from support import alloc_delta, micropython_only

MASK = (1 << 30) - 1
_W_CAP = 38  # TimerWheel._w's capacity word (wheel.py)
_E = 52  # its words before the entries' (4 per entry)
_LISTS = 321  # list indexes: TimerWheel._ht holds a 16-bit head and tail for each


def _cap(w):
    return w._w[_W_CAP]


class _Failing:
    """Stands in for wheelroom._extend: raises MemoryError as a full heap would (after the list
    grew, as when the array's block is the one that is not free), ``fails`` times."""

    def __init__(self, fails=1000, above=0):
        self.real = wheelmod._extend
        self.fails = fails
        self.above = above  # fail only growths of more than this many entries
        self.calls = []

    def __call__(self, ws, objs, k):
        self.calls.append(k)
        if self.fails and k > self.above:
            self.fails -= 1
            objs.extend([None] * k)
            raise MemoryError("memory allocation failed, allocating %d bytes" % (16 * k))
        self.real(ws, objs, k)

    def __enter__(self):
        wheelmod._extend = self
        return self

    def __exit__(self, *exc):
        wheelmod._extend = self.real


def test_a_timer_makes_its_words_at_its_capacity_and_a_default_scheduler_does_not_grow_them():
    timer = Timer(FakeClock(0))
    ws = timer.wheel._w
    assert _cap(timer.wheel) == 32 and len(ws) == _E + 4 * 32
    assert len(timer.wheel._obj) == 32
    StaticScheduler(timer=timer)  # 16 slots: reserves 32, which the timer has
    assert len(ws) == _E + 4 * 32 and timer.wheel._w is ws
    big = Timer(FakeClock(0), capacity=100)
    assert _cap(big.wheel) == 100 and len(big.wheel._w) == _E + 400
    StaticScheduler(50, timer=big)
    assert len(big.wheel._w) == _E + 400


def test_a_bad_timer_capacity_says_what_to_pass():
    for bad in (0, -3, "32", None, 1.5, 65536):
        try:
            Timer(FakeClock(0), capacity=bad)
        except BadArgument as e:
            assert "capacity" in str(e) and "int from 1 to 65535" in str(e)
        else:
            raise AssertionError("Timer(capacity=%r) did not raise" % (bad,))


@micropython_only
def test_making_a_timer_allocates_its_words_once():
    # Before session 11 a Timer allocated a list as large as the words, the words, then the
    # words again at 16 entries and (with a scheduler) at 32: three blocks of ~3 KB besides.
    clock = FakeClock(0)

    def make():
        Timer(clock)

    words = 4 * (_E + 4 * 32) + 2 * 2 * _LISTS  # the words, and the heads and tails
    d = alloc_delta(make)
    assert words <= d < words + 1800, d  # the two arrays, and the small objects of a Timer


def test_no_block_of_a_default_timer_is_larger_than_its_heads_and_tails():
    # Session 11's RP2040 .mpy runs failed to find one 3,248 B block for a Timer's words (the
    # heads and tails were 642 of them): they are 16-bit numbers in an array of their own now,
    # and the block that grows with the capacity holds only the entries' words.
    w = Timer(FakeClock(0)).wheel
    assert len(w._ht) == 2 * _LISTS and len(bytes(w._ht)) == 4 * _LISTS  # 16-bit numbers
    assert len(w._w) == _E + 4 * 32 and len(bytes(w._w)) == 4 * len(w._w) < 4 * _LISTS
    assert all(x == 0xFFFF for x in w._ht)  # every list empty


def test_growth_that_fails_raises_timer_full_and_leaves_the_wheel_intact():
    w = TimerWheel(MASK - 50, capacity=4)
    fired = []
    es = [TimerEntry(callback=lambda e: fired.append(e.key)) for _ in range(6)]
    for k, e in enumerate(es):
        e.key = k
    for k in range(4):
        w.arm_after(es[k], 10 + k)
    words = list(w._w)
    with _Failing() as inject:
        try:
            w.arm_after(es[4], 5)
        except TimerFull as e:
            msg = str(e)
        else:
            raise AssertionError("a failed growth did not raise TimerFull")
    assert inject.calls == [10, 8]  # by half and 8 (14 entries), then by 8: both refused
    assert "Timer(capacity=" in msg and "could not grow" in msg
    assert list(w._w) == words and len(w._obj) == 4  # nothing changed, the list trimmed back
    assert w.pending == 4 and _cap(w) == 4 and es[4].pos == -1 and not es[4].is_armed()
    w.advance(20)
    assert fired == [0, 1, 2, 3]  # the armed entries fire, in order, across the wrap
    for k in range(6):  # and once the heap has room, the wheel grows
        w.arm_after(es[k], 1 + k % 2)
    assert _cap(w) >= 6 and w.pending == 6
    w.advance(2)
    assert fired[4:] == [0, 2, 4, 1, 3, 5]


def test_growth_falls_back_to_a_small_step_when_the_large_block_is_not_free():
    w = TimerWheel(0, capacity=16)
    es = [TimerEntry(callback=lambda e: None) for _ in range(17)]
    for e in es[:16]:
        w.arm_after(e, 3)
    with _Failing(fails=1, above=8) as inject:
        w.arm_after(es[16], 3)  # by half (16 + 8 + 8) fails; by 8 fits
    assert inject.calls == [16, 8]
    assert _cap(w) == 24 and len(w._obj) == 24 and len(w._w) == _E + 4 * 24
    assert w.pending == 17 and w.advance(3) == 17


def test_a_sleep_whose_growth_fails_raises_in_its_task_and_the_others_still_wake():
    clock = FakeClock(MASK - 2_000)
    timer = Timer(clock, capacity=4)
    s = StaticScheduler(8)
    s.timer = timer  # no reserve: the fifth sleep grows the wheel
    woke = []
    failed = []

    async def sleeper(i):
        try:
            await sleep_ms(2 + i)
        except TimerFull as e:
            failed.append((i, "Timer(capacity=" in str(e)))
            return
        woke.append(i)

    for i in range(5):
        s.spawn(sleeper(i))
    with _Failing():
        s.tick()
    assert failed == [(4, True)] and timer.wheel.pending == 4 and _cap(timer.wheel) == 4
    for _ in range(10):
        clock.advance(1)
        timer.turn()
        s.tick()
    assert woke == [0, 1, 2, 3] and timer.wheel.pending == 0


def test_a_growth_past_the_16_bit_numbers_raises_timer_full_and_says_what_to_do():
    # (A growth the heap cannot hold raises TimerFull too: the injected MemoryErrors above.)
    w = TimerWheel(0, capacity=2)
    e = TimerEntry(callback=lambda e: None)
    w.arm_after(e, 1)
    for n in (1 << 16, 1 << 24):
        try:
            w.reserve(n)
        except TimerFull as err:
            assert "at most 65535" in str(err) and "second Timer" in str(err), str(err)
        else:
            raise AssertionError("reserve(%d) did not raise TimerFull" % n)
    assert _cap(w) == 2 and len(w._obj) == 2 and w.pending == 1
    assert w.advance(1) == 1


def test_the_wheel_module_still_has_its_extend_hook():
    # The injection above replaces wheelroom._extend; a renamed hook would make those tests pass
    # without injecting anything.
    assert callable(wheelmod._extend)
    w = TimerWheel(0, capacity=1)
    with _Failing(fails=0) as inject:
        w.reserve(3)
    assert inject.calls == [2] and _cap(w) == 3
    assert len(w._w) == _E + 12 and len(w._obj) == 3
