# Priority inheritance end to end: the real async Mutex with PriorityPolicy and CfsPolicy.
from shimeji import CfsPolicy, Mutex, PriorityPolicy, StaticScheduler, WaitQueue, yield_now
from shimeji.core import current_slot
from support import alloc_delta, heap_locked, micropython_only


def _inversion(policy, low_prio, med_prio, high_prio):
    s = StaticScheduler(4, policy=policy)
    m = Mutex()
    log = []

    async def low():
        async with m:
            log.append("low got")
            for i in range(3):
                log.append("low work %d" % i)
                await yield_now()
        log.append("low released")
        await yield_now()
        log.append("low done")

    async def medium():
        for i in range(3):
            log.append("med %d" % i)
            await yield_now()

    async def high():
        log.append("high wants")
        async with m:
            log.append("high got")

    lo = s.build_task().name("low").priority(low_prio).spawn(low())
    s.tick(1)  # low takes the lock and yields while holding it
    s.build_task().name("high").priority(high_prio).spawn(high())
    s.build_task().name("med").priority(med_prio).spawn(medium())
    while s.tick().has_remaining:
        pass
    assert lo.is_complete()
    return log


def test_mutex_lends_priority_to_the_holder_until_unlock():
    log = _inversion(PriorityPolicy(levels=8), 1, 4, 7)
    # Without inheritance the medium task would run before "low work 1" and delay "high got".
    assert log == [
        "low got", "low work 0", "high wants", "low work 1", "low work 2", "low released",
        "high got", "med 0", "med 1", "med 2", "low done",
    ]


def test_inheritance_ends_on_release():
    s = StaticScheduler(2, policy=PriorityPolicy(levels=8))
    m = Mutex()
    seen = []

    async def holder():
        me = current_slot()
        async with m:
            seen.append(("before", me.priority))
            await yield_now()  # the waiter arrives and parks on the lock
            await yield_now()
            seen.append(("lent", me.priority))
        seen.append(("after", me.priority))

    async def waiter():
        async with m:
            seen.append("waiter got")

    s.build_task().priority(1).spawn(holder())
    s.tick(1)
    s.build_task().priority(6).spawn(waiter())
    while s.tick().has_remaining:
        pass
    assert seen == [("before", 1), ("lent", 6), ("after", 1), "waiter got"]
    assert not m.locked()


def test_cfs_holder_borrows_the_waiters_nice_value():
    log = _inversion(CfsPolicy(), 19, 0, -20)
    assert log.index("low work 2") < log.index("high got")
    assert log.index("high got") < log.index("low done")


# a Mutex handed to the next waiter lends it the priority of those still waiting.
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
