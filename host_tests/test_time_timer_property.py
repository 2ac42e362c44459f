# shimeji: cpython-only (hypothesis)
# Random arm/cancel/advance sequences against a reference model (a sorted list): the same
# entries fire, at the same tick, in the same order, and none is lost.
from hypothesis import given, settings
from hypothesis import strategies as st

from shimeji import FakeClock, Timer, TimerEntry, TimerWheel
from shimeji.time.wheel import WHEEL_MAX

MASK = (1 << 30) - 1
N_ENTRIES = 12

delays = st.one_of(
    st.integers(0, 70), st.integers(0, 5000), st.integers(0, 300000), st.integers(0, WHEEL_MAX)
)
ops = st.lists(
    st.one_of(
        st.tuples(st.just("arm"), st.integers(0, N_ENTRIES - 1), delays),
        st.tuples(st.just("cancel"), st.integers(0, N_ENTRIES - 1), st.just(0)),
        st.tuples(
            st.just("advance"),
            st.just(0),
            st.one_of(st.integers(0, 3), st.integers(0, 100), st.integers(0, 1 << 29)),
        ),
    ),
    max_size=60,
)
starts = st.one_of(st.integers(0, MASK), st.integers(MASK - 5000, MASK))


class Model:
    """Armed entries in a list kept sorted by (deadline, arming order); ticks not wrapped."""

    def __init__(self, now):
        self.now = now
        self.armed = []  # [(deadline, seq, key)]
        self.seq = 0

    def arm(self, key, delay):
        self.cancel(key)
        self.seq += 1
        self.armed.append((self.now + delay, self.seq, key))
        self.armed.sort()

    def cancel(self, key):
        self.armed = [a for a in self.armed if a[2] != key]

    def advance(self, n):
        self.now += n
        fired = [(key, d) for d, _, key in self.armed if d <= self.now]
        self.armed = [a for a in self.armed if a[0] > self.now]
        return fired


@settings(max_examples=150, deadline=None)
@given(starts, ops)
def test_wheel_matches_a_sorted_list(start, program):
    wheel = TimerWheel(start)
    model = Model(start)
    fired = []

    def record(entry):
        fired.append((entry.key, wheel.now))

    entries = [TimerEntry(callback=record) for _ in range(N_ENTRIES)]
    for i, e in enumerate(entries):
        e.key = i
    expected = []
    for op, key, arg in program:
        if op == "arm":
            wheel.arm_after(entries[key], arg)
            model.arm(key, arg)
        elif op == "cancel":
            assert entries[key].cancel() == any(a[2] == key for a in model.armed)
            model.cancel(key)
        else:
            wheel.advance(arg)
            expected += [(k, d & MASK) for k, d in model.advance(arg)]
        assert wheel.pending == len(model.armed)
        assert fired == expected
        if model.armed:
            assert 0 <= wheel.next_in_ticks() <= model.armed[0][0] - model.now
        else:
            assert wheel.next_in_ticks() == -1
        cached = wheel.next_in_ticks()
        kept = wheel._next
        wheel._next = -1  # the remembered answer is the one a fresh scan gives
        assert wheel.next_in_ticks() == cached
        wheel._next = kept
    assert wheel.now == model.now & MASK


@settings(max_examples=100, deadline=None)
@given(
    st.integers(0, MASK),
    st.sampled_from([1, 10, 250, 1000, 5000]),
    st.lists(st.tuples(st.integers(0, 20000), st.integers(1, 3000)), min_size=1, max_size=20),
)
def test_timer_entries_never_fire_early_and_at_most_a_tick_and_a_step_late(start, tick, plan):
    clock = FakeClock(start, tick)
    timer = Timer(clock, tick)
    late = []

    def fired(entry):
        late.append(((clock() - entry.key) & MASK) - entry.deadline_us)

    entries = []
    for us, step in plan:
        e = TimerEntry(callback=fired)
        e.key = clock()
        e.deadline_us = us
        timer.arm_us(e, us)
        entries.append(e)
        clock.advance_us(step)
        timer.turn()
    while timer.wheel.pending:
        clock.advance_us(7)
        timer.turn()
    assert len(late) == len(plan)
    for lateness in late:
        assert 0 <= lateness < tick + 3000
