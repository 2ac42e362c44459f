# Batch hand-off: a turn moves every expired task entry of a wheel slot to the scheduler's
# run queue in one pass, under one critical section per 16 entries (none for tasks parked on
# sleep_ms's ring awaitable, MicroPython); callback entries of the same slot still fire, in
# arming order. And the run loop reads the clock once per iteration.
from gate import Gate
from shimeji import FakeClock, StaticScheduler, Timer, TimerEntry, sleep_ms, sleep_us
from shimeji.sched.runloop import RunLoop
from shimeji.sync.critical import NoCriticalSection
from shimeji.time import sleep as sleep_module
from support import alloc_delta, heap_locked, micropython_only

MASK = (1 << 30) - 1


class CountingSection(NoCriticalSection):
    """A critical section that counts how often it is entered."""

    def __init__(self):
        NoCriticalSection.__init__(self)
        self.entered = 0

    def enter(self):
        self.entered += 1
        return 0


def _sleepers(n, start_us=MASK - 1500, wait=None):
    clock = FakeClock(start_us)  # the deadlines lie across the 2**30 wrap
    timer = Timer(clock)
    cs = CountingSection()
    s = StaticScheduler(n + 1, timer=timer, critical_section=cs)
    order = []

    async def sleeper(i):
        await (sleep_ms(2) if wait is None else wait())
        order.append(i)

    for i in range(n):
        s.spawn(sleeper(i))
    s.tick()  # every sleeper arms the same tick
    return clock, timer, s, cs, order


def test_one_turn_hands_every_sleeper_of_a_tick_over_in_arming_order():
    # sleep_us parks with core.PARK (the Python awaitable): the section is taken per batch.
    clock, timer, s, cs, order = _sleepers(40, wait=lambda: sleep_us(2000))
    clock.advance(2)
    before = cs.entered
    turn = timer.turn()
    assert turn.expired == 40 and timer.wheel.pending == 0
    assert cs.entered - before == 3  # 40 entries: critical sections of 16, 16 and 8
    t = s.tick()
    assert order == list(range(40))
    assert (t.polled, t.completed, t.woken_external) == (40, 40, 40)


def test_ring_sleepers_go_straight_into_the_run_queue_without_a_section():
    clock, timer, s, cs, order = _sleepers(40)
    clock.advance(2)
    before = cs.entered
    turn = timer.turn()
    assert turn.expired == 40 and timer.wheel.pending == 0
    ring = sleep_module._ring_iter is not None  # MicroPython: sleep_ms's C iterator
    assert cs.entered - before == (0 if ring else 3)
    assert s._inbox_head is None  # straight into the FIFO queue, in arming order
    t = s.tick()
    assert order == list(range(40))
    assert (t.polled, t.completed, t.woken_external) == (40, 40, 40)


def test_callback_entries_of_the_slot_fire_after_the_hand_off_in_their_order():
    clock, timer, s, cs, order = _sleepers(3)
    fired = []
    a = TimerEntry(callback=lambda e: fired.append(("a", len(order))))
    b = TimerEntry(callback=lambda e: fired.append(("b", len(order))))
    timer.arm_ms(a, 2)
    timer.arm_ms(b, 2)
    clock.advance(2)
    assert timer.turn().expired == 5
    assert fired == [("a", 0), ("b", 0)]  # the tasks are queued, not yet polled
    s.tick()
    assert order == [0, 1, 2]


def test_a_raising_callback_loses_no_entry_of_the_slot():
    clock, timer, s, cs, order = _sleepers(2)
    fired = []

    def bad(e):
        fired.append("bad")
        raise ValueError("callback failed")

    timer.arm_ms(TimerEntry(callback=bad), 2)
    timer.arm_ms(TimerEntry(callback=lambda e: fired.append("good")), 2)
    clock.advance(2)
    try:
        timer.turn()
    except ValueError:
        pass
    else:
        raise AssertionError("the callback's error should leave turn()")
    assert fired == ["bad"] and timer.wheel.pending == 1
    assert timer.turn().expired == 1
    assert fired == ["bad", "good"] and timer.wheel.pending == 0
    s.tick()
    assert order == [0, 1]


def test_a_sleeper_of_another_scheduler_on_the_same_timer_goes_to_its_own_inbox():
    clock = FakeClock()
    timer = Timer(clock)
    s1 = StaticScheduler(2, timer=timer)
    s2 = StaticScheduler(2, timer=timer)
    order = []

    async def sleeper(name):
        await sleep_us(1500)
        order.append(name)

    s1.spawn(sleeper("one"))
    s2.spawn(sleeper("two"))
    s1.tick()
    s2.tick()
    clock.advance(2)
    assert timer.turn().expired == 2
    assert (s1.tick().polled, s2.tick().polled) == (1, 1)
    assert order == ["one", "two"]


def test_a_slot_of_entries_of_two_schedulers_and_a_callback_hands_each_to_its_own():
    # One wheel slot, in arming order: two sleepers of s1, a callback entry (no task), one of
    # s2, one more of s1: the pass decides for each new scheduler, and the callback stays.
    clock = FakeClock()
    timer = Timer(clock)
    s1 = StaticScheduler(4, timer=timer)
    s2 = StaticScheduler(2, timer=timer)
    order = []
    fired = []

    async def sleeper(name):
        await sleep_ms(2)
        order.append(name)

    s1.spawn(sleeper("a1"))
    s1.spawn(sleeper("a2"))
    s1.tick()
    timer.arm_ms(TimerEntry(callback=lambda e: fired.append(len(order))), 2)
    s2.spawn(sleeper("b1"))
    s2.tick()
    s1.spawn(sleeper("a3"))
    s1.tick()
    clock.advance(2)
    assert timer.turn().expired == 5 and fired == [0] and timer.wheel.pending == 0
    assert (s1.tick().polled, s2.tick().polled) == (3, 1)
    assert order == ["a1", "a2", "a3", "b1"]


def test_a_sleep_due_at_once_is_handed_over_from_the_due_list():
    clock = FakeClock()
    timer = Timer(clock)
    s = StaticScheduler(2, timer=timer)
    events = []

    async def task():
        await sleep_ms(0)
        events.append("after 0 ms")

    s.spawn(task())
    s.tick()
    assert timer.turn().expired == 1
    s.tick()
    assert events == ["after 0 ms"]


class CountingClock(FakeClock):
    def __init__(self, start_us=0):
        FakeClock.__init__(self, start_us)
        self.reads = 0

    def __call__(self):
        self.reads += 1
        return self.t


def test_the_run_loop_reads_the_clock_once_per_iteration():
    clock = CountingClock()
    timer = Timer(clock)
    s = StaticScheduler(4, timer=timer)
    waits = []

    def idle(us):
        waits.append(us)
        clock.advance_us(us)

    loop = RunLoop(s, idle=idle, max_idle_us=100000)
    gate = Gate()
    entry = TimerEntry(callback=lambda e: gate.open())
    timer.arm_ms(entry, 5)

    async def waiter():
        await gate
        return "opened"

    h = s.spawn(waiter())
    clock.reads = 0
    loop.step()  # tick (the waiter parks), turn, idle 5 ms
    loop.step()  # tick (nothing), turn (fires the entry), no idle
    loop.step()  # tick: the waiter finishes; turn, nothing armed: idle at most max_idle_us
    assert h.result() == "opened"
    assert waits == [5000, 100000]
    assert clock.reads == loop.iterations == 3


def _rounds(clock, timer, s, n):
    for _ in range(n):
        clock.advance(2)
        timer.turn()
        s.tick()


async def _forever(ms):
    while True:
        await sleep_ms(ms)


@micropython_only
def test_handing_over_forty_sleepers_a_turn_allocates_nothing():
    clock = FakeClock(MASK - 30000)
    timer = Timer(clock)
    s = StaticScheduler(40, timer=timer)
    for _ in range(40):
        s.spawn(_forever(2))
    s.tick()
    _rounds(clock, timer, s, 5)
    heap_locked(_rounds, clock, timer, s, 20)
    assert alloc_delta(_rounds, clock, timer, s, 20) == 0
    assert timer.wheel.pending == 40
