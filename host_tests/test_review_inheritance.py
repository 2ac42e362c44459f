# Review: a Mutex handed to the next waiter lends it the priority of those still waiting.
from shimeji import Mutex, PriorityPolicy, StaticScheduler, WaitQueue, yield_now
from support import alloc_delta, heap_locked, micropython_only


def test_the_new_holder_inherits_from_the_waiters_behind_it():
    s = StaticScheduler(4, policy=PriorityPolicy(levels=8))
    m = Mutex()
    log = []

    async def low():
        async with m:
            log.append("low got")
            await yield_now()  # mid, then high, park on the lock meanwhile
            await yield_now()
        log.append("low released")

    async def mid():
        log.append("mid wants")
        async with m:
            log.append("mid got")
            for i in range(2):
                log.append("mid work %d" % i)
                await yield_now()
        log.append("mid released")

    async def high():
        log.append("high wants")
        async with m:
            log.append("high got")

    async def busy():
        for i in range(3):
            log.append("busy %d" % i)
            await yield_now()

    s.build_task().priority(1).spawn(low())
    s.tick(1)
    s.build_task().priority(3).spawn(mid())
    s.tick(1)
    s.build_task().priority(7).spawn(high())
    s.build_task().priority(5).spawn(busy())
    while s.tick().has_remaining:
        pass
    # mid holds the lock that high waits for: it runs at high's priority, ahead of busy.
    assert log == [
        "low got", "mid wants", "high wants", "low released",
        "mid got", "mid work 0", "mid work 1", "mid released",
        "high got", "busy 0", "busy 1", "busy 2",
    ]


@micropython_only
def test_hand_off_with_loans_allocates_nothing():
    s = StaticScheduler(5, policy=PriorityPolicy(levels=8))
    m = Mutex()
    q = WaitQueue()
    n = [0]

    async def user():
        while True:
            async with m:  # held while parked: the others queue up and lend
                await q.wait()
            n[0] += 1

    async def pump():
        while True:
            q.wake()
            await yield_now()

    for p in (1, 3, 6):
        s.build_task().priority(p).spawn(user())
    s.build_task().priority(0).spawn(pump())

    def cycle():
        for _ in range(20):
            s.tick()

    cycle()
    heap_locked(cycle)
    assert alloc_delta(cycle) == 0
    assert (n[0] > 0, m.waiters()) == (True, 2), (n[0], m.waiters())
