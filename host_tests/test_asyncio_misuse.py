# Misuse of the asyncio facade, table-driven. Where MicroPython's (or CPython's) asyncio
# raises a built-in exception, the facade raises the same type (a program that catches it
# keeps working): TypeError for what is not a coroutine or a number, RuntimeError for the wrong
# state (run() inside the loop, a Lock released unheld, a TaskGroup outside its block),
# ValueError for counts (a negative Semaphore, task_done() too often). Where neither asyncio
# checks at all (Queue's maxsize), a ShimejiError subclass. Each message says what to do,
# and afterwards the loop, and the object, still work: nothing queued is lost.
import gc

import shimeji.asyncio as asyncio
from shimeji import BadArgument, InvalidPermits, ShimejiError
from support import raises


def _fresh():
    asyncio.set_event_loop(None)
    gc.collect()
    return asyncio.new_event_loop()


async def _value(x):
    await asyncio.sleep_ms(1)
    return x


def test_what_is_not_a_coroutine_is_a_typeerror_everywhere():
    _fresh()
    bad = (None, 5, _value, "coro")
    for b in bad:
        with raises(TypeError, "coroutine expected"):
            asyncio.run(b)
        with raises(TypeError, "coroutine expected"):
            asyncio.create_task(b)
        with raises(TypeError, "coroutine expected"):
            asyncio.get_event_loop().create_task(b)
    refused = []

    async def main():
        for b in bad:
            with raises(TypeError):
                await asyncio.wait_for(b, 1)
            with raises(TypeError):
                await asyncio.gather(_value(0), b)
            async with asyncio.TaskGroup() as tg:
                kept = tg.create_task(_value(len(refused)))
                with raises(TypeError, "TaskGroup.create_task(coro): coroutine expected"):
                    tg.create_task(b)
            refused.append(kept.result())  # the group's good task ran to its end
        return await asyncio.gather(_value(1), _value(2))

    assert asyncio.run(main()) == [1, 2]
    assert refused == [0, 1, 2, 3]


def test_run_inside_the_loop_is_refused_before_anything_is_scheduled():
    _fresh()
    ran = []

    async def child():
        ran.append("child")

    async def main():
        loop = asyncio.get_event_loop()
        c = child()
        for call in (lambda: asyncio.run(c), lambda: loop.run_until_complete(c),
                     lambda: asyncio.run_until_complete(c), loop.run_forever):
            with raises(RuntimeError, "the event loop is already running: await"):
                call()
        await asyncio.sleep_ms(2)
        assert ran == []  # the refused run() did not start child behind our back
        await c  # the coroutine is still ours, untouched
        return asyncio.get_event_loop().sched.live_count()

    assert asyncio.run(main()) == 1  # only main itself: no stray task was made
    assert ran == ["child"]
    assert asyncio.run(_value(7)) == 7


def test_timeout_taskgroup_and_queue_arguments():
    _fresh()
    for delay in ("x", [1]):
        with raises(TypeError, "timeout(delay): delay must be a number of seconds"):
            asyncio.timeout(delay)
    for size in (None, 1.5, "8"):
        with raises(BadArgument, "Queue(maxsize): give an int") as r:
            asyncio.Queue(size)
        assert isinstance(r.value, ShimejiError)
    tg = asyncio.TaskGroup()
    c = _value(0)
    with raises(RuntimeError, "TaskGroup has not been entered"):
        tg.create_task(c)
    c.close()

    async def main():
        got = []
        async with tg:
            tg.create_task(_value(1))
        c = _value(2)
        with raises(RuntimeError, "TaskGroup is finished"):
            tg.create_task(c)
        c.close()
        async with asyncio.timeout(None):  # None: no deadline
            got.append(await _value(3))
        q = asyncio.Queue(0)  # 0 and less: unbounded
        for i in range(5):
            q.put_nowait(i)
        got.append([q.get_nowait() for _ in range(q.qsize())])
        return got

    assert asyncio.run(main()) == [3, [0, 1, 2, 3, 4]]


def test_counts_and_locks_raise_what_asyncio_raises_and_keep_their_state():
    _fresh()
    with raises(ValueError, "Semaphore initial value must be >= 0"):
        asyncio.Semaphore(-1)
    with raises(InvalidPermits, "Semaphore(permits) must be an int"):
        asyncio.BoundedSemaphore(1.5)
    with raises(InvalidPermits, "from 0 to 1073741823"):
        asyncio.Semaphore(2 ** 30)

    async def main():
        out = []
        bs = asyncio.BoundedSemaphore(1)
        with raises(ValueError, "released too many times"):
            bs.release()
        async with bs:
            out.append(bs.locked())
        out.append(bs.locked())
        lock = asyncio.Lock()
        with raises(RuntimeError, "Lock not acquired"):
            lock.release()
        async with lock:
            out.append(lock.locked())
        q = asyncio.Queue(1)
        await q.put("a")
        with raises(asyncio.QueueFull):
            q.put_nowait("b")
        out.append(await q.get())
        q.task_done()
        with raises(ValueError, "task_done() called too many times"):
            q.task_done()
        await q.join()
        await q.put("c")  # the queue still works after each refusal
        out.append(q.get_nowait())
        return out

    assert asyncio.run(main()) == [True, False, True, "a", "c"]


def test_awaitables_that_are_not_coroutines_still_go_through_wait_for_and_gather():
    # (MicroPython: yield_now's awaitable is a C iterator with __next__ only; the check that
    # refuses None or a number must not refuse it)
    _fresh()
    import shimeji

    async def main():
        ev = asyncio.Event()
        ev.set()
        a = await asyncio.wait_for(shimeji.yield_now(), 1)
        b = await asyncio.wait_for(ev.wait(), 1)
        c = await asyncio.gather(shimeji.yield_now(), _value(4))
        return a, b, c

    assert asyncio.run(main()) == (None, True, [None, 4])


def test_wait_for_a_semaphore_acquire_waits_for_the_permits_asked():
    # Semaphore.acquire(n) keeps n on the calling task (allocation-free); awaited in the task
    # wait_for makes, it used to raise TypeError (no n there), a CPython idiom broken.
    _fresh()

    async def main():
        sem = asyncio.Semaphore(2)
        out = [await asyncio.wait_for(sem.acquire(), 1), sem._permits]
        with raises(asyncio.TimeoutError):
            await asyncio.wait_for(sem.acquire(2), 0.01)  # one free, two asked: times out
        out.append(sem._permits)  # the timed-out acquire took nothing
        sem.release()
        out.append(await asyncio.wait_for(sem.acquire(2), 1))
        out.append(sem._permits)
        out.append(await asyncio.gather(sem.acquire(0), _value(5)))
        return out

    assert asyncio.run(main()) == [True, 1, 1, True, 0, [True, 5]]


def test_an_exception_handler_that_is_not_callable_is_refused():
    loop = _fresh()
    seen = []
    with raises(TypeError, "a callable object or None is expected, got 5"):
        loop.set_exception_handler(5)
    assert loop.get_exception_handler() is None  # unchanged: failures are still reported

    async def boom():
        raise ValueError("boom")

    async def main():
        loop.set_exception_handler(lambda lp, ctx: seen.append(type(ctx["exception"])))
        asyncio.create_task(boom())
        await asyncio.sleep_ms(2)
        loop.set_exception_handler(None)

    asyncio.run(main())
    assert seen == [ValueError]


def test_outside_a_task_and_awaiting_a_task_twice():
    _fresh()
    with raises(RuntimeError, "no running event loop"):
        asyncio.current_task()
    with raises(RuntimeError, "no running event loop"):
        asyncio.get_running_loop()

    async def main():
        t = asyncio.create_task(_value(5))
        first = await t
        second = await t  # a finished task gives its result again
        c = asyncio.create_task(_value(6))
        c.cancel()
        c.cancel()  # a second cancel changes nothing
        with raises(asyncio.CancelledError):
            await c
        return first, second, c.done(), c.cancelled()

    assert asyncio.run(main()) == (5, 5, True, True)


def test_closing_the_running_loop_is_refused_and_no_failure_report_is_lost():
    # CPython's asyncio raises RuntimeError("Cannot close a running event loop"). The facade's
    # close() dropped the reports of failed tasks not yet run: a task that failed just before
    # was never reported to the exception handler.
    loop = _fresh()
    seen = []

    async def boom():
        raise ValueError("boom")

    async def main():
        loop.set_exception_handler(lambda lp, ctx: seen.append(type(ctx["exception"])))
        t = asyncio.create_task(boom())
        await asyncio.sleep(0)  # boom fails; its report waits for its round
        assert t.done()
        del t
        with raises(RuntimeError, "Cannot close a running event loop"):
            loop.close()
        for _ in range(3):
            await asyncio.sleep(0)
        return "still running"

    assert asyncio.run(main()) == "still running"
    assert seen == [ValueError]
    assert asyncio.run(_value(7)) == 7
