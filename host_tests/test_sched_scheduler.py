# The tick loop: counters, only woken tasks polled, wakes from tasks, outside and threads.
import shimeji
from gate import Gate, ThreadGate
from irqsource import BUSY, DONE, WAIT, InterruptSource, needs_interrupt_source, uses_timer
from shimeji import FifoPolicy, StaticScheduler, core, yield_now
from support import IS_MICROPYTHON, raises


def test_tick_counters():
    s = StaticScheduler(8)

    async def two_polls():
        await yield_now()

    for _ in range(3):
        s.spawn(two_polls())
    t = s.tick()
    assert (t.polled, t.completed, t.spawned, t.woken, t.has_remaining) == (6, 3, 3, 0, False)
    t = s.tick()
    assert (t.polled, t.completed, t.spawned) == (0, 0, 0)


def test_tick_polls_at_most_n():
    s = StaticScheduler(8)

    async def forever():
        while True:
            await yield_now()

    hs = [s.spawn(forever()) for _ in range(3)]
    t = s.tick(2)
    assert (t.polled, t.has_remaining) == (2, True)
    t = s.tick(5)
    assert t.polled == 5
    for h in hs:
        h.cancel()
    t = s.tick()
    assert (t.completed, t.has_remaining) == (3, False)


def test_only_woken_tasks_are_polled():
    s = StaticScheduler(8)
    gates = [Gate() for _ in range(4)]
    polls = [0, 0, 0, 0]

    async def waiter(i):
        while True:
            polls[i] += 1
            await gates[i]

    for i in range(4):
        s.spawn(waiter(i))
    t = s.tick()
    assert (t.polled, polls) == (4, [1, 1, 1, 1])
    t = s.tick()
    assert (t.polled, t.has_remaining) == (0, False)
    gates[2].open()
    t = s.tick()
    assert (t.polled, t.woken_external, t.woken_internal, polls) == (1, 1, 0, [1, 1, 2, 1])


def test_wake_from_a_task_counts_internal():
    s = StaticScheduler(4)
    g = Gate()
    log = []

    async def sleeper():
        await g
        log.append("woke")

    async def waker():
        await yield_now()
        g.open()
        log.append("opened")

    s.spawn(sleeper())
    s.spawn(waker())
    t = s.tick()
    assert (t.woken_internal, t.woken_external, t.woken) == (1, 0, 1)
    assert log == ["opened", "woke"]


def test_wake_is_idempotent_and_safe_after_completion():
    s = StaticScheduler(2)
    g = Gate()
    runs = []

    async def once():
        runs.append(1)
        await g
        runs.append(2)

    h = s.spawn(once())
    s.tick()
    slot = h._live_slot()
    g.is_open = True
    for _ in range(5):
        core.wake(slot)
    t = s.tick()
    assert (t.polled, t.woken, runs) == (1, 1, [1, 2])
    assert h.is_complete()
    core.wake(slot)  # finished: nothing happens
    s.wake(slot)
    assert s.tick().polled == 0


def test_wake_while_running_is_not_lost():
    s = StaticScheduler(2)
    g = Gate()
    log = []

    async def self_waker():
        g.is_open = True
        core.wake(core.current_slot())  # a wake that lands before the task parks
        await g
        log.append("passed")

    s.spawn(self_waker())
    s.tick()
    assert log == ["passed"]


def test_spurious_wake_parks_again():
    s = StaticScheduler(2)
    g = Gate()
    log = []

    async def waiter():
        await g
        log.append("through")

    h = s.spawn(waiter())
    s.tick()
    core.wake(h._live_slot())  # nobody opened the gate
    t = s.tick()
    assert (t.polled, log) == (1, [])
    g.open()
    s.tick()
    assert log == ["through"]


def test_run_until_complete_idles_until_an_outside_wake():
    s = StaticScheduler(2)
    g = Gate()
    idles = []

    def idle():
        idles.append(1)
        if len(idles) == 3:
            g.open()  # an "interrupt" arrives while idle

    async def main():
        await g
        return "done"

    assert s.run_until_complete(main(), idle=idle) == "done"
    assert len(idles) == 3


def test_set_policy_only_without_live_tasks():
    s = StaticScheduler(2)
    h = s.spawn(yield_now_twice())
    with raises(shimeji.SchedulerBusy, "no live tasks"):
        s.set_policy(FifoPolicy())
    while s.tick().has_remaining:
        pass
    assert h.is_complete()
    s.set_policy(FifoPolicy())


async def yield_now_twice():
    await yield_now()
    await yield_now()


@needs_interrupt_source
def test_wakes_from_another_thread_are_never_lost_or_doubled():
    # Another thread opens the gate (a hard timer interrupt on a board without one).
    import time

    s = StaticScheduler(4)
    # A plain Gate can lose a wake to another CPU's store buffer (gate.py), not to an
    # interrupt on the CPU it interrupts: a timer source opens a Gate.
    gate = Gate() if uses_timer() else ThreadGate()
    n_wakes = 300
    seen = []
    opened = [0]

    async def counter():
        while len(seen) < n_wakes:
            await gate
            seen.append(1)
        return len(seen)

    h = s.spawn(counter())
    s.tick()

    def interrupter():
        if opened[0] == n_wakes:
            return DONE
        if gate.is_open:  # the task has not consumed the last one yet
            return WAIT
        gate.open()
        opened[0] += 1
        return BUSY

    src = InterruptSource(interrupter).start()
    # Bounded only as a guard against a hang; how many rounds it takes depends on load.
    rounds = 0
    try:
        while not (src.done and h.is_complete()) and rounds < 5_000_000:
            s.tick()
            rounds += 1
            if rounds % 64 == 0:
                time.sleep_ms(1) if IS_MICROPYTHON else time.sleep(0.0005)
    finally:
        src.stop()
    assert src.done, "the interrupt source did not finish"
    assert h.result() == n_wakes
    assert len(seen) == n_wakes and opened[0] == n_wakes


def test_wake_right_after_parking_is_queued_once():
    # A wake that lands just after the park leaves the critical section (as an interrupt or a
    # second thread may) must queue the task exactly once.
    from shimeji.sync.critical import NoCriticalSection

    class WakeOnExit(NoCriticalSection):
        def __init__(self):
            self.target = None
            self.fired = 0

        def exit(self, state):
            target = self.target
            if target is not None and target.w[0] == 3 and not self.fired:  # WAITING
                self.fired += 1
                sched.wake(target)

    cs = WakeOnExit()
    sched = StaticScheduler(2, critical_section=cs)
    g = Gate()
    runs = []

    async def waiter():
        while True:
            runs.append(len(runs))
            await g

    h = sched.spawn(waiter())
    cs.target = h._live_slot()
    t = sched.tick()
    assert (cs.fired, t.polled, runs) == (1, 2, [0])
    t = sched.tick()
    assert (t.polled, t.has_remaining, runs) == (0, False, [0])


# run_until_complete and JoinHandle recycling.
def test_run_until_complete_returns_its_own_result_when_the_slot_is_reused():
    # main() finishes; in the same tick another task spawns into main's freed slot. The
    # handle run_until_complete waits on must keep main's outcome.
    s = StaticScheduler(2)
    log = []

    async def child():
        log.append("child")
        return "child"

    async def spawner():
        await yield_now()  # main finishes during this tick, before we resume
        s.spawn(child())
        log.append("spawned")

    async def main():
        s.spawn(spawner())
        await yield_now()
        log.append("main")
        return "main"

    assert s.run_until_complete(main(), idle=lambda: None) == "main"
    while s.tick().has_remaining:
        pass
    assert log == ["main", "spawned", "child"]
