# The traced ticks behave exactly like the untraced ones: the same polls in the same order,
# the same Tick figures, the same outcomes, for FIFO (the fast path's copy) and for the
# general path (round-robin, priorities, CFS).
from shimeji import (
    CfsPolicy,
    Event,
    FakeClock,
    PriorityPolicy,
    RoundRobinPolicy,
    StaticScheduler,
    Timer,
    Trace,
    preempt_point,
    sleep_ms,
    yield_now,
)
from shimeji.trace import kinds as K


def workload(policy, traced):
    clk = FakeClock(0, 1000)
    timer = Timer(clk, 1000)
    s = StaticScheduler(8, policy=policy, clock_us=clk, timer=timer)
    if traced:
        Trace(16).attach(s)  # small: it wraps many times
    log = []
    ev = Event()

    async def worker(name, n):
        for i in range(n):
            log.append((name, i))
            clk.advance_us(30)
            await preempt_point()
            await yield_now()
        return name

    async def waiter():
        await ev.wait()
        log.append("woken")
        await sleep_ms(2)
        log.append("slept")
        raise ValueError("late")

    async def boss():
        h = s.spawn(worker("child", 2), "child")
        ev.set()
        log.append(("joined", await h))

    hs = [s.spawn(worker("a", 3), "a"), s.spawn(waiter(), "w"), s.spawn(boss(), "boss"),
          s.spawn(worker("b", 2), "b")]
    ticks = []
    for _ in range(30):
        clk.advance_us(500)
        timer.turn()
        t = s.tick(3)
        ticks.append((t.polled, t.completed, t.spawned, t.woken_internal, t.woken_external,
                      t.has_remaining))
    outcomes = []
    for h in hs:
        try:
            outcomes.append(h.result())
        except ValueError as e:
            outcomes.append(str(e))
    return log, ticks, outcomes, s.live_count(), s.failed_total


def same(make_policy):
    plain = workload(make_policy(), False)
    traced = workload(make_policy(), True)
    assert traced == plain
    assert plain[2] == ["a", "late", None, "b"] and plain[3] == 0


def test_fifo_traced_tick_behaves_like_the_fast_path():
    same(lambda: None)


def test_round_robin_traced_tick_behaves_like_the_general_path():
    same(lambda: RoundRobinPolicy(slice_us=50))


def test_priority_traced_tick_behaves_like_the_general_path():
    same(PriorityPolicy)


def test_cfs_traced_tick_behaves_like_the_general_path():
    same(CfsPolicy)


class Steps:
    """Coroutine-like, not a generator: ``k`` yields, then returns ``value``."""

    def __init__(self, k, value):
        self.k = k
        self.value = value

    def send(self, _):
        if self.k:
            self.k -= 1
            return None
        raise StopIteration(self.value)

    def throw(self, exc, *rest):
        raise exc

    def close(self):
        self.k = 0


def test_fifo_traced_tick_polls_coroutine_like_objects_and_generators_sharing_a_slot():
    # The traced FIFO loop polls a generator with the generator type's own send and anything
    # else by its own send, as the untraced viper tick does (the slot's W_SEND word): in one
    # slot, one after the other in both orders, with every poll recorded.
    s = StaticScheduler(1)
    tr = Trace(64).attach(s)

    async def gen(v):
        await yield_now()
        return v

    got = []
    for coro in (Steps(2, "a"), gen("b"), Steps(1, "c"), gen("d")):
        h = s.spawn(coro)
        while s.tick().has_remaining:
            pass
        got.append(h.result())
    assert got == ["a", "b", "c", "d"]
    ends = [r[3] for r in tr.records() if r[1] == K.POLL_END]
    assert ends == [K.END_YIELD, K.END_YIELD, K.END_DONE, K.END_YIELD, K.END_DONE,
                    K.END_YIELD, K.END_DONE, K.END_YIELD, K.END_DONE], ends
    assert s.free_count() == 1
