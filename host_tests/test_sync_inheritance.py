# Priority inheritance end to end: the real async Mutex with PriorityPolicy and CfsPolicy.
from shimeji import CfsPolicy, Mutex, PriorityPolicy, StaticScheduler, yield_now
from shimeji.core import current_slot


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
