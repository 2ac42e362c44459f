# The timer wheel on its own: ordering, same-tick order, cascading through every level,
# cancel before/at/after expiry, re-arm, far deadlines, the 2**30 wrap and 10,000 entries
# (fewer on a board: as many as half its free heap holds).
from shimeji import DurationTooLong, TimerEntry, TimerWheel
from shimeji.time.wheel import WHEEL_MAX
from support import heap_scaled, raises

MASK = (1 << 30) - 1


class Recorder:
    def __init__(self, wheel):
        self.wheel = wheel
        self.events = []

    def __call__(self, entry):
        self.events.append((entry.key, self.wheel.now))

    def entry(self, key):
        e = TimerEntry(callback=self)
        e.key = key
        return e


def run_to(wheel, target_delta):
    """Advance ``target_delta`` ticks, jumping from deadline to deadline."""
    left = target_delta
    while left > 0:
        k = wheel.next_in_ticks()
        if k < 0 or k > left:
            wheel.advance(left)
            return
        step = k if k > 0 else 0
        wheel.advance(step)
        left -= step
        if step == 0:
            wheel.advance(0)


def test_entries_fire_in_deadline_order_at_their_tick():
    w = TimerWheel()
    r = Recorder(w)
    for key, d in (("c", 30), ("a", 5), ("d", 200), ("b", 6)):
        w.arm(r.entry(key), d)
    for _ in range(250):
        w.advance(1)
    assert r.events == [("a", 5), ("b", 6), ("c", 30), ("d", 200)]
    assert w.pending == 0


def test_same_tick_entries_fire_in_arming_order_even_after_cascading():
    w = TimerWheel()
    r = Recorder(w)
    w.arm(r.entry("far1"), 5000)  # level 2 at arming time
    w.advance(100)
    w.arm(r.entry("far2"), 5000)  # level 1 now
    w.advance(4800)
    w.arm(r.entry("near"), 5000)  # level 0
    assert w.advance(200) == 3
    assert r.events == [("far1", 5000), ("far2", 5000), ("near", 5000)]


def test_cascading_through_every_level_fires_each_entry_exactly_on_time():
    deadlines = [1, 63, 64, 65, 4095, 4096, 4097, 262143, 262144, 262145, (1 << 24) - 1,
                 1 << 24, (1 << 24) + 1, (1 << 29) - 1, 777777, 123456789]
    for start in (0, 12345, MASK - 70000):
        w = TimerWheel(start)
        r = Recorder(w)
        for d in deadlines:
            w.arm_after(r.entry(d), d)
        run_to(w, 1 << 29)
        got = [(k, (now - start) & MASK) for k, now in r.events]
        assert got == [(d, d) for d in sorted(deadlines)], got


def test_stepping_one_tick_at_a_time_matches_one_jump():
    deadlines = [3, 64, 100, 4096, 5000, 70000]
    w1 = TimerWheel(MASK - 3000)
    w2 = TimerWheel(MASK - 3000)
    r1 = Recorder(w1)
    r2 = Recorder(w2)
    for d in deadlines:
        w1.arm_after(r1.entry(d), d)
        w2.arm_after(r2.entry(d), d)
    for _ in range(70001):
        w1.advance(1)
    assert w2.advance(70001) == len(deadlines)
    assert r1.events == r2.events
    assert w1.now == w2.now == (MASK - 3000 + 70001) & MASK


def test_cancel_before_at_and_after_expiry():
    w = TimerWheel()
    r = Recorder(w)
    before = r.entry("before")
    at = r.entry("at")
    after = r.entry("after")
    for e in (before, at, after):
        w.arm(e, 10)
    assert before.cancel() is True and not before.is_armed()
    w.advance(9)
    assert at.cancel() is True  # in the tick it would fire
    w.advance(1)
    assert r.events == [("after", 10)]
    assert after.cancel() is False  # already fired: a no-op
    assert before.cancel() is False
    assert w.pending == 0 and w.next_in_ticks() == -1


def test_cancel_from_the_middle_of_a_slot_and_from_a_callback():
    w = TimerWheel()
    r = Recorder(w)
    es = [r.entry(i) for i in range(5)]
    for e in es:
        w.arm(e, 700)
    es[2].cancel()
    victim = es[4]

    def cancel_victim(entry):
        victim.cancel()
        r(entry)

    es[1].callback = cancel_victim
    w.advance(700)
    assert [k for k, _ in r.events] == [0, 1, 3]


def test_rearm_moves_an_armed_entry():
    w = TimerWheel()
    r = Recorder(w)
    e = r.entry("e")
    w.arm(e, 5000)
    w.arm(e, 20)  # re-arm earlier
    assert w.pending == 1
    w.advance(30)
    assert r.events == [("e", 20)]
    w.arm(e, 40)  # re-arm after firing
    w.arm(e, 45)
    w.advance(100)
    assert r.events == [("e", 20), ("e", 45)]
    assert w.pending == 0


def test_rearm_from_its_own_callback():
    w = TimerWheel()
    r = Recorder(w)
    e = r.entry("tick")

    def again(entry):
        r(entry)
        if len(r.events) < 3:
            w.arm_after(entry, 50)

    e.callback = again
    w.arm_after(e, 50)
    w.advance(1000)
    assert r.events == [("tick", 50), ("tick", 100), ("tick", 150)]


def test_past_and_present_deadlines_fire_on_the_next_advance():
    w = TimerWheel(1000)
    r = Recorder(w)
    w.arm(r.entry("past"), 900)
    w.arm(r.entry("now"), 1000)
    w.arm_after(r.entry("zero"), 0)
    assert w.next_in_ticks() == 0
    assert w.advance(0) == 3
    assert r.events == [("past", 1000), ("now", 1000), ("zero", 1000)]


def test_far_deadlines_and_the_range_limit():
    w = TimerWheel(MASK - 5)
    r = Recorder(w)
    w.arm_after(r.entry("max"), WHEEL_MAX)
    w.arm_after(r.entry("half"), 1 << 29)
    with raises(DurationTooLong, match="beyond the wheel's range"):
        w.arm_after(r.entry("too far"), WHEEL_MAX + 1)
    assert w.pending == 2  # the refused entry changed nothing
    run_to(w, WHEEL_MAX)
    start = MASK - 5
    assert [(k, (n - start) & MASK) for k, n in r.events] == [
        ("half", 1 << 29), ("max", WHEEL_MAX)]


def test_the_wheel_wraps_like_ticks():
    w = TimerWheel(MASK - 10)
    r = Recorder(w)
    for d in (5, 10, 11, 12, 100, 5000):
        w.arm_after(r.entry(d), d)
    for _ in range(5001):
        w.advance(1)
    assert r.events == [(5, MASK - 5), (10, MASK), (11, 0), (12, 1), (100, 89), (5000, 4989)]
    assert w.now == 4990


def test_next_in_ticks_is_never_later_than_the_next_deadline():
    w = TimerWheel(MASK - 200)
    r = Recorder(w)
    w.arm_after(r.entry("x"), 300000)
    seen = 0
    while w.pending:
        k = w.next_in_ticks()
        assert 0 <= k <= 300000 - seen
        w.advance(k)
        seen += k
    assert seen == 300000 and r.events == [("x", (MASK - 200 + 300000) & MASK)]


def _lcg(seed):
    return (seed * 1103515245 + 12345) & 0x7FFFFFFF


def test_ten_thousand_entries():
    n = heap_scaled(10000, 240)  # TimerEntry, key and event tuples, the lists: on 32-bit
    w = TimerWheel(MASK - 50000)
    r = Recorder(w)
    seed = 7
    entries = []
    for i in range(n):
        seed = _lcg(seed)
        d = seed % 3000000 + 1
        e = r.entry(i)
        e.key = (d, i)
        w.arm_after(e, d)
        entries.append(e)
    cancelled = set()
    for i in range(0, n, 7):
        entries[i].cancel()
        cancelled.add(i)
    assert w.pending == n - len(cancelled)
    run_to(w, 3000001)
    expected = sorted(e.key for i, e in enumerate(entries) if i not in cancelled)
    assert [k for k, _ in r.events] == expected
    for (d, _), now in r.events:
        assert now == (MASK - 50000 + d) & MASK
    assert w.pending == 0


def test_a_raising_callback_loses_nothing():
    w = TimerWheel()
    r = Recorder(w)

    def boom(entry):
        r(entry)
        raise ValueError("callback failed")

    w.arm(r.entry("a"), 10)
    bad = r.entry("bad")
    bad.callback = boom
    w.arm(bad, 20)
    w.arm(r.entry("c"), 20)
    w.arm(r.entry("d"), 5000)
    with raises(ValueError):
        w.advance(6000)
    assert w.now == 20 and w.lag == 5980
    assert w.advance(0) == 2  # catches up: the rest of tick 20, then 5000
    assert r.events == [("a", 10), ("bad", 20), ("c", 20), ("d", 5000)]
    assert w.now == 6000 and w.lag == 0


def test_level_one_slots_on_their_start_and_ragged_ones_fire_on_time():
    # A level-1 slot whose entries all fall on its start (the slack's grid) is handed off
    # without the cascade's walk; a "ragged" one (an entry past the start) cascades. Both
    # fire every entry at its tick, in arming order within a tick, also across the wrap
    # (there the entries start on level 4 and reach level 1 by cascading).

    def ragged(w):
        return [w._w[i] for i in range(33, 37)]  # TimerWheel._w's level-1 ragged bitmap

    for start in (0, MASK - 150):
        w = TimerWheel(start)
        r = Recorder(w)
        for key, d in (("a", 128), ("b", 130), ("a2", 128), ("c", 192), ("d", 320)):
            w.arm(r.entry(key), (start + d) & MASK)
        gone = r.entry("gone")
        w.arm(gone, (start + 256) & MASK)
        if start == 0:
            assert ragged(w) == [4, 0, 0, 0]  # slot 2 of level 1 is ragged ("b")
        gone.cancel()
        assert w.advance(400) == 5
        assert r.events == [(k, (start + d) & MASK) for k, d in
                            (("a", 128), ("a2", 128), ("b", 130), ("c", 192), ("d", 320))]
        assert ragged(w) == [0, 0, 0, 0]  # cleared with the slot it marked
        e = r.entry("e")
        w.arm(e, (w.now + 70) & MASK)  # ragged on level 1, then cancelled: cleared
        assert ragged(w) != [0, 0, 0, 0]
        e.cancel()
        assert ragged(w) == [0, 0, 0, 0] and w.pending == 0
