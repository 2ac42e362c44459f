# A thread (or, on a board without one, a hard timer interrupt every ms: irqsource) that wakes
# every task slot over and over (as a buggy or racing waker may) while tasks sleep on the real
# clock in a tickless run loop: no sleep ends before its time, every task finishes: the
# hand-off of ring sleepers without a critical section (wheelpass.py) and wake() from the
# thread or interrupt never both queue a task (a task queued twice would be resumed past its
# next sleep early, or break the run queue); and a wake racing the tick's park on the ring
# sleep, forced deterministically.
from irqsource import InterruptSource, again, needs_interrupt_source
from shimeji import RunLoop, StaticScheduler, Timer, port, sleep_ms
from shimeji.task.words import set_words
from support import cpython_only

TASKS = 12
SLEEPS = 8  # each task's sleeps; more (up to SLEEPS_MAX) until the waker ran among them
SLEEPS_MAX = 2000


@needs_interrupt_source
def test_a_waking_thread_never_ends_a_sleep_early():
    timer = Timer(tick_us=1)
    s = StaticScheduler(TASKS, timer=timer)
    early = []
    done = []
    started = [0]  # the waker's steps when the tasks began to sleep
    repeat = again()

    async def sleeper(i):
        k = 0
        while k < SLEEPS or (src.steps == started[0] and k < SLEEPS_MAX):
            ms = 1 + (i + k) % 3
            t0 = port.ticks_us()
            await sleep_ms(ms)
            took = port.ticks_diff(port.ticks_us(), t0)
            if took < ms * 1000:
                early.append((i, k, ms, took))
            k += 1
        done.append(i)

    def waker():
        for slot in s.slots:
            s.wake(slot)
        return repeat

    for i in range(TASKS):
        s.spawn_detached(sleeper(i))
    src = InterruptSource(waker).start()
    try:
        # Under load (a make test, 2026-12-05) the thread may get no CPU for the whole run:
        # once it stepped, it is runnable whenever the loop idles (and the tasks sleep on
        # until it stepped again, at most SLEEPS_MAX times each).
        assert src.wait_started(), "the waker never started within 5 s"
        started[0] = src.steps
        loop = RunLoop(s, max_idle_us=200)
        while s.live_count():
            loop.step()
    finally:
        src.stop()
    assert early == [], early  # (task, sleep, ms, us it took): sleeps that ended early
    assert src.steps > started[0], "the waker never ran while the tasks slept"
    assert sorted(done) == list(range(TASKS))


class _ParksDuringWake:
    """A task slot whose task parks on its ring sleep (as the tick does, with no section: the
    state ASLEEP) right after ``wake()`` from another thread first reads the state: the
    interleaving behind the one failure of the test above (a ``make test`` under load,
    2026-12-05, when the sleep was a ``sleeping`` flag beside WAITING: a sleep ended early)."""

    # The state is word 0 of the slot's words (task/words.py), read by a machine load in viper
    # on MicroPython: the interleaving is injected on CPython only, where ptr32 is the words'
    # object itself (this one, whose item 0 is the state).

    def __init__(self, sched, entry, state=2):
        self.sched = sched
        self.timer = entry
        self._state = state  # 2: RUNNING, the task is being polled
        # The words: items 0 (state, below), 1 (throw) and 2 (rewoken); wa (what viper casts)
        # with them: on CPython the words' object itself.
        set_words(self, self)
        self.more = [0, 0, 0, 0]
        self.inbox_next = None
        self.reads = 0

    def __getitem__(self, i):
        if i:
            return self.more[i]
        seen = self._state
        if not self.reads and entry_armed(self.timer):
            self._state = 4  # ASLEEP: the tick parks the task now
        self.reads += 1
        return seen

    def __setitem__(self, i, value):
        if i:
            self.more[i] = value
        else:
            self._state = value


def entry_armed(entry):
    return entry.pos >= 0


@cpython_only  # (see _ParksDuringWake)
def test_a_wake_racing_the_park_on_a_ring_sleep_is_ignored():
    from shimeji import TimerEntry

    timer = Timer(tick_us=1)
    s = StaticScheduler(1, timer=timer)
    entry = TimerEntry()
    timer.arm_ms(entry, 5)  # the sleep's entry, armed: the tick parks the task on it
    slot = _ParksDuringWake(s, entry)
    s._plain_slot = _ParksDuringWake  # (the stand-in taken in line, as a TaskSlot is)
    s.wake(slot)
    assert (slot._state, s._inbox_head, slot.reads) == (4, None, 1)  # asleep, not queued
    s.wake(slot)  # asleep: ignored, even with the entry disarmed (only _unwait ends it)
    entry.cancel()
    s.wake(slot)
    assert (slot._state, s._inbox_head) == (4, None)
    slot._state = 3  # what _unwait (a cancel, an expired timeout) leaves: that wake gets in
    s.wake(slot)
    assert s._inbox_head is slot and slot._state == 1


def _wakes_all_along(traced, policy=None):
    # A sleeper's two sleeps with a wake before and after every turn and tick (what a racing
    # waker may send at any point): each wake reads the state once, under the section, and
    # finds RUNNING, QUEUED or the sleep (ASLEEP on MicroPython's ring sleep: ignored; on
    # CPython _Sleep parks WAITING and re-parks the spurious wake): no sleep ends early.
    # (The "ABA" of sched/waking.py's design note: with a ``sleeping`` flag beside WAITING, a
    # wake that read WAITING in sleep 1 and WAITING again in sleep 2 queued the sleeper.)
    from shimeji import FakeClock
    from shimeji.trace import Trace

    clock = FakeClock(0)
    s = StaticScheduler(2, timer=Timer(clock), policy=policy)
    if traced:
        Trace(64).attach(s)
    events = []

    async def sleeper():
        await sleep_ms(3)  # sleep 1
        events.append(("sleep 1 ended", clock()))
        await sleep_ms(5)  # sleep 2
        events.append(("sleep 2 ended", clock()))

    s.spawn(sleeper())
    slot = s.slots[0]
    states = set()
    for _ in range(40):
        if len(events) == 2:
            break
        clock.advance(1)
        s.wake(slot)
        s.timer.turn()
        s.wake(slot)
        s.tick()
        states.add(slot.w[0])
        s.wake(slot)
    assert 3 in states or 4 in states, states  # it did sleep (WAITING or ASLEEP)
    if port.IS_MICROPYTHON:
        assert 4 in states, states  # the ring sleep: ASLEEP
    return events


def test_wakes_at_every_step_never_end_a_sleep_early():
    assert _wakes_all_along(False) == [("sleep 1 ended", 4000), ("sleep 2 ended", 9000)]


def test_the_traced_tick_keeps_a_sleeper_asleep_the_same_way():
    assert _wakes_all_along(True) == [("sleep 1 ended", 4000), ("sleep 2 ended", 9000)]


def test_a_policys_tick_keeps_a_sleeper_asleep_the_same_way():
    from shimeji import RoundRobinPolicy

    assert _wakes_all_along(False, RoundRobinPolicy()) == [("sleep 1 ended", 4000),
                                                           ("sleep 2 ended", 9000)]


def test_a_cancel_of_a_ring_sleeper_still_gets_through_the_inbox():
    from shimeji import Cancelled, FakeClock

    clock = FakeClock(0)
    s = StaticScheduler(1, timer=Timer(clock))
    seen = []

    async def sleeper():
        try:
            await sleep_ms(50)
        except Cancelled:
            seen.append(("cancelled", clock()))
            raise

    h = s.spawn(sleeper())
    s.tick()
    clock.advance(1)
    h.cancel()
    s.timer.turn()
    s.tick()
    assert seen == [("cancelled", 1000)] and s.live_count() == 0
