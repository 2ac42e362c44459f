# One loop, two APIs: shimeji tasks and shimeji.asyncio tasks await each other's handles,
# events and locks; a task awaiting the runtime's OWN asyncio gets ForeignAwaitable.
import asyncio as real_asyncio

from mpyheap import needs_heap_beside_mpy_code

import shimeji
import shimeji.asyncio as asyncio
from shimeji import Event as ShimejiEvent
from shimeji import Mutex, join_all, spawn, yield_now
from support import needs_threads

# On the RP2040's .mpy path the facade's and the scheduler's code fill most of the heap; each
# test marked below skips there only with less free than it passed with (the least seen, in KB:
# docs/boards.md, "RP2040, session 22").


@needs_heap_beside_mpy_code(11 * 1024)
def test_handles_events_and_locks_cross_both_ways():
    asyncio.new_event_loop()
    log = []
    shared_ev = asyncio.Event()  # a facade Event is a shimeji Event
    plain_ev = ShimejiEvent()
    lock = asyncio.Lock()  # a facade Lock is a shimeji Mutex
    mutex = Mutex()

    async def shimeji_side(facade_task):
        log.append("shimeji waits for the facade event")
        await shared_ev.wait()
        async with lock:
            log.append("shimeji holds the facade lock")
            await yield_now()
        log.append(("shimeji joined a facade task", await facade_task))
        plain_ev.set()
        return "from shimeji"

    async def facade_child():
        await asyncio.sleep_ms(1)
        return "from facade"

    async def main():
        child = asyncio.create_task(facade_child())
        h = spawn(shimeji_side(child), "native")  # on the facade loop's own scheduler
        await asyncio.sleep(0)
        shared_ev.set()
        await asyncio.sleep(0)
        await lock.acquire()  # waits for the shimeji task to release it
        log.append("facade holds the lock")
        lock.release()
        await plain_ev.wait()  # a plain shimeji Event awaited by a facade task
        async with mutex:
            log.append("facade holds a shimeji Mutex")
        log.append(("facade joined a shimeji handle", await h))
        return await join_all(spawn(facade_child()), spawn(facade_child()))

    assert asyncio.run(main()) == ["from facade", "from facade"]
    assert log == [
        "shimeji waits for the facade event",
        "shimeji holds the facade lock",
        "facade holds the lock",
        ("shimeji joined a facade task", "from facade"),
        "facade holds a shimeji Mutex",
        ("facade joined a shimeji handle", "from shimeji"),
    ]


@needs_heap_beside_mpy_code(19 * 1024)
def test_gather_accepts_shimeji_handles():
    asyncio.new_event_loop()

    async def native(v):
        await yield_now()
        return v

    async def main():
        return await asyncio.gather(spawn(native(1)), native(2))

    assert asyncio.run(main()) == [1, 2]


def test_join_all_awaits_facade_tasks_and_refuses_a_non_handle_after_them():
    # A facade Task is a JoinHandle subclass: join_all awaits it even when it has finished
    # with None (a subclass's await may do more), keeps every place in order, and still
    # refuses anything else before awaiting any handle, naming its position.
    asyncio.new_event_loop()

    async def none():
        return None

    async def main():
        done = asyncio.create_task(none())
        plain = spawn(none())
        await asyncio.sleep(0)
        assert done.done() and plain.is_complete()
        got = await join_all(spawn(none()), done, asyncio.create_task(value(3)), spawn(none()))
        c = none()
        try:
            await join_all(plain, done, c)
        except shimeji.BadArgument as e:
            refused = str(e)
        c.close()
        return got, refused

    got, refused = asyncio.run(main())
    assert got == [None, None, 3, None], got
    assert refused.startswith("join_all(*handles): argument 3 is"), refused


async def value(v):
    await yield_now()
    return v


def test_awaiting_the_runtimes_own_asyncio_raises_foreign_awaitable():
    asyncio.new_event_loop()
    seen = []

    async def native():
        aw = real_asyncio.Event().wait()
        try:
            await aw
            seen.append("returned")
        except shimeji.ForeignAwaitable:
            seen.append("ForeignAwaitable")
        if hasattr(aw, "close"):
            aw.close()

    async def main():
        await spawn(native())
        await asyncio.sleep_ms(1)  # the facade loop keeps working afterwards
        return "still running"

    assert asyncio.run(main()) == "still running"
    assert seen == ["ForeignAwaitable"]


@needs_heap_beside_mpy_code(7 * 1024)
def test_wait_for_on_a_shimeji_handle_cancels_it_on_timeout():
    asyncio.new_event_loop()
    log = []

    async def native_forever():
        try:
            while True:
                await yield_now()
        except shimeji.Cancelled:
            log.append("native cancelled")
            raise

    async def main():
        h = spawn(native_forever())
        try:
            await asyncio.wait_for(h, 0.005)
        except asyncio.TimeoutError:
            log.append("timeout")
        await asyncio.sleep(0)
        return h.is_complete(), h.is_cancelled()

    assert asyncio.run(main()) == (True, True)
    assert log == ["native cancelled", "timeout"]


@needs_threads  # the executor's workers are threads
def test_asyncio_sleeps_in_tasks_of_an_executor():
    # On a worker thread the task is found through the thread (no context slot): the facade's
    # sleep_ms is then shimeji's own (it made a coroutine that called itself for ever).
    from shimeji import Executor

    ex = Executor(workers=2, capacity=8)

    async def child(i):
        await asyncio.sleep_ms(5)
        await asyncio.sleep(0.002)
        return i

    async def main():
        hs = [ex.spawn(child(i)) for i in range(4)]
        out = []
        for h in hs:
            out.append(await h)
        return out

    assert ex.run(main()) == [0, 1, 2, 3]


def test_asyncio_sleep_ms_in_an_interrupt_level_task():
    # An interrupt-level task gets shimeji's own sleep from the facade's sleep_ms: no SleepMs
    # is made for its slot (nothing allocated at that level).
    from shimeji import FakeClock, InterruptScheduler, Timer, port

    clock = FakeClock()
    timer = Timer(clock)
    isr = InterruptScheduler(4, timer=timer)
    log = []

    async def sleeper():
        log.append(("sleep", timer.now()))
        await asyncio.sleep_ms(5)
        log.append(("woke", timer.now(), shimeji.core.current_slot().fsleep))

    isr.spawn(sleeper())
    port.check_point()
    for _ in range(5):
        clock.advance(1)
        timer.interrupt()
        port.check_point()
    assert log == [("sleep", 0), ("woke", 5, None)]


def test_a_detached_task_on_the_loop_is_its_current_task_and_its_gather_fails_early():
    # spawn_detached's in-line case leaves the fields of the handle its slot reuses to whoever
    # hands that handle out (sched/detached.py): asyncio.current_task() and gather() do here.
    asyncio.new_event_loop()
    log, mine = [], []

    async def boom():
        raise ValueError("boom")

    async def slow():
        for _ in range(5):
            await asyncio.sleep(0)
        log.append("slow ended")

    async def detached():
        try:  # (gather first: it is the first to hand the handle out)
            await asyncio.gather(asyncio.create_task(boom()), asyncio.create_task(slow()))
        except ValueError as e:
            log.append(str(e))  # woken by boom's failure, before slow ends
        me = asyncio.current_task()
        log.append(me._live_slot() is not None and not me.is_complete())

    async def who():  # current_task() the first to hand it out
        me = asyncio.current_task()
        mine.append((me._live_slot() is not None, me.is_complete()))

    async def main():
        asyncio.get_running_loop().sched.spawn_detached(who())
        asyncio.get_running_loop().sched.spawn_detached(detached())
        for _ in range(20):
            await asyncio.sleep(0)

    asyncio.run(main())
    assert log == ["boom", True, "slow ended"] and mine == [(True, False)]
