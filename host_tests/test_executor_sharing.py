"""A busy worker shares with a sleeping one: it rings the sleeper to take work it spawned, and
hands the newer half of its runnable tasks straight into the sleeper's inbox
(docs/executor.md, "Sleepers and sharing")."""


try:
    import _thread
except ImportError:  # the qemu port: every test here is marked needs_threads
    _thread = None


from shimeji import Executor, yield_now
from support import (
    Bound,
    needs_threads,
    reserve_threads,
)

# ESP32: the three worker threads and the feeding thread of the largest test, made while their
# stacks fit (support.reserve_threads); elsewhere nothing.
reserve_threads(4)


@needs_threads  # the workers are threads (the qemu port has none)
def test_a_sleeping_worker_is_rung_to_share_work_a_busy_worker_spawned():
    # Worker 1 falls asleep with nothing to do; then a task on worker 0 spawns (locally) more
    # than one worker can run. Nothing else rings worker 1: only worker 0 sharing its surplus
    # can bring it back (it hands the surplus over at its tick's end). No clock involved: the
    # tasks spin until worker 1 has taken some (CPython's GIL may start it late), or for a
    # bound they never reach then.
    ex = Executor(workers=2, capacity=40)
    w1 = ex.workers[1]

    async def spin():
        for _ in range(300):
            await yield_now()
        k = 0
        while w1.stolen == 0 and k < 20000:
            k += 1
            await yield_now()

    async def main():
        bound = Bound(60)
        while not (w1.sleeping and w1._asked is None):  # ran dry, asked in vain, sleeps
            assert not bound.passed(), "worker 1 did not fall asleep within 60 s"
            await yield_now()
        slept = w1.slept
        hs = [ex.spawn(spin()) for _ in range(24)]
        for h in hs:
            await h
        return slept

    slept = ex.run(main())
    assert slept >= 1
    assert w1.stolen > 0 and w1.polled > 0
    assert w1.stolen_from[0] == w1.stolen


@needs_threads  # the workers are threads (the qemu port has none)
def test_a_busy_worker_hands_the_newer_half_straight_into_a_sleepers_inbox():
    # The step of the loop above, made directly: worker 0 has 8 runnable tasks and worker 1
    # sleeps. The sleeper gets the newer 4 in its inbox and is rung, without asking: no
    # steal request, no failed round, and the older half stays, in order.
    ex = Executor(workers=2, capacity=16)
    w0, w1 = ex.workers
    order = []  # the first 16 steps, all in worker 0's first tick (one thread)
    counts = [0] * 8  # each task its own element: no list grows while both workers run
    # (two threads appending to one list lose items on a port without a GIL: the RP2040)

    async def step(i):
        for _ in range(100):
            if len(order) < 16:
                order.append(i)
            counts[i] += 1
            await yield_now()
        return i

    handles = [w0.spawn(step(i)) for i in range(8)]
    assert w0.tick().polled == 256  # a tick's budget: 32 rounds, 8 runnable tasks queued
    assert order == list(range(8)) * 2 and all(h._live_slot() for h in handles)
    with ex.critical_section:
        w1.sleeping = True  # as its _sleep leaves it, on its bell
        ex.sleepers += 1
    w0._share()
    assert [h._live_slot().sched for h in handles] == [w0] * 4 + [w1] * 4
    moved = []
    slot = w1._inbox_head
    while slot is not None:
        moved.append(slot)
        slot = slot.inbox_next
    assert moved == [h._live_slot() for h in handles[4:]]  # oldest first, in their order
    assert not w1.sleeping and ex.sleepers == 0 and w1._bell.acquire(0)  # rung
    w1._bell.acquire(0)  # (held again, as a worker's bell is while it runs)
    assert (w0.given, w1.stolen, w1.stolen_from, w1.steal_requests, w1.failed_steals) == (
        4, 4, [4, 0], 0, 0)
    w0._share()  # nobody sleeps now: nothing moves
    assert w0.given == 4 and w0.policy.has_ready()

    async def main():
        results = []
        for h in handles:
            results.append(await h)
        return results

    assert ex.run(main()) == list(range(8))
    assert counts == [100] * 8, counts  # every step once, on either worker
