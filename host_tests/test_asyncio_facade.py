# shimeji.asyncio: asyncio programs run unchanged on a shimeji scheduler (both runtimes):
# tasks, gather, cancellation, wait_for, the primitives, Queue, TaskGroup and timeout(). The
# event loop's own life (new, dropped, run_forever, its exception handler):
# test_asyncio_facade_loop.py.
import shimeji.asyncio as asyncio
from facadehelp import fresh_loop
from support import raises


def test_run_create_task_and_interleaving():
    fresh_loop()
    log = []

    async def worker(name, n):
        for i in range(n):
            log.append("%s%d" % (name, i))
            await asyncio.sleep(0)
        return name

    async def main():
        a = asyncio.create_task(worker("a", 3))
        b = asyncio.create_task(worker("b", 2))
        log.append("main")
        return await a, await b

    assert asyncio.run(main()) == ("a", "b")
    assert log == ["main", "a0", "b0", "a1", "b1", "a2"]


def test_gather_results_exceptions_and_return_exceptions():
    fresh_loop()

    async def ok(v, ms):
        await asyncio.sleep_ms(ms)
        return v

    async def bad(ms):
        await asyncio.sleep(ms / 1000)
        raise ValueError(ms)

    async def main():
        r1 = await asyncio.gather(ok(1, 5), ok(2, 1), ok(3, 0))
        r2 = await asyncio.gather(ok(1, 1), bad(2), return_exceptions=True)
        try:
            await asyncio.gather(ok(1, 20), bad(1))
        except ValueError as e:
            r3 = e.args
        return r1, [type(x).__name__ for x in r2], r3, await asyncio.gather()

    assert asyncio.run(main()) == ([1, 2, 3], ["int", "ValueError"], (1,), [])


def test_gather_resumes_once_after_the_last_task_or_at_the_first_failure():
    # The gather joins one unfinished task at a time (the last first); it must still resume
    # only once everything finished (tasks finishing out of order), or at once when a task it
    # does not join fails, and the early end must leave the other tasks running.
    fresh_loop()
    log = []

    async def ok(v, ms):
        await asyncio.sleep_ms(ms)
        log.append(v)
        return v

    async def bad(ms):
        await asyncio.sleep_ms(ms)
        log.append("bad")
        raise ValueError(ms)

    async def main():
        # 10 ms steps: the tasks are armed one after another on the wall clock, and on a
        # loaded machine 1 ms steps let a later, shorter sleep end after an earlier, longer one
        r1 = await asyncio.gather(ok("a", 80), ok("b", 20), ok("c", 40), ok("d", 10))
        log.append(r1)
        slow = asyncio.create_task(ok("slow", 300))
        try:
            await asyncio.gather(ok("e", 10), bad(30), slow)
        except ValueError as e:
            log.append(("raised", e.args[0], slow.done()))
        r3 = await asyncio.gather(bad(10), ok("f", 20), return_exceptions=True)
        log.append([type(x).__name__ for x in r3])
        await slow
        log.append(("slow done", slow.result()))
        return r1

    assert asyncio.run(main()) == ["a", "b", "c", "d"]
    assert log == ["d", "b", "c", "a", ["a", "b", "c", "d"], "e", "bad", ("raised", 30, False),
                   "bad", "f", ["ValueError", "str"], "slow", ("slow done", "slow")]


def test_gather_cancelled_while_waiting_cancels_the_unfinished_tasks():
    fresh_loop()
    log = []

    async def ok(v, ms):
        try:
            await asyncio.sleep_ms(ms)
        except asyncio.CancelledError:
            log.append(("cancelled", v))
            raise
        log.append(v)
        return v

    async def gatherer():
        try:
            await asyncio.gather(ok("a", 1), ok("b", 5000), ok("c", 6000))
        except asyncio.CancelledError:
            log.append("gather cancelled")
            raise

    async def main():
        g = asyncio.create_task(gatherer())
        # (not a fixed 10 ms sleep: at load 12 the gather's tasks, whose sleeps count from
        # their first poll, often started after such a sleep had ended: "a" was cancelled too)
        for _ in range(5000):
            if "a" in log:
                break
            await asyncio.sleep_ms(1)
        g.cancel()
        try:
            await g
        except asyncio.CancelledError:
            log.append("main saw it")
        await asyncio.sleep_ms(1)

    asyncio.run(main())
    # (MicroPython's asyncio gives this list too: the cancelled tasks run before the waiter)
    assert log == ["a", "gather cancelled", ("cancelled", "b"), ("cancelled", "c"),
                   "main saw it"]


def test_task_get_coro_and_a_failed_task_reported_with_its_coroutine():
    fresh_loop()
    seen = []

    async def fails():
        raise KeyError("x")

    async def main():
        loop = asyncio.get_event_loop()
        loop.set_exception_handler(lambda lp, ctx: seen.append(
            (type(ctx["exception"]).__name__, ctx["future"].coro is coro)))
        coro = fails()
        t = asyncio.create_task(coro)
        got = t.get_coro() is coro
        await asyncio.sleep_ms(5)
        loop.set_exception_handler(None)
        return got

    assert asyncio.run(main()) is True
    assert seen == [("KeyError", True)]


def test_cancel_is_forwarded_to_the_awaited_task_and_raises_cancelled_error():
    fresh_loop()
    log = []

    async def inner():
        try:
            await asyncio.sleep(10)
        except asyncio.CancelledError:
            log.append("inner cancelled")
            raise

    async def outer():
        try:
            await asyncio.create_task(inner())
        except asyncio.CancelledError:
            log.append("outer cancelled")
            raise

    async def main():
        t = asyncio.create_task(outer())
        await asyncio.sleep_ms(5)
        assert t.cancel()
        try:
            await t
        except asyncio.CancelledError as e:
            log.append(repr(e))
        assert t.done() and not t.cancel()
        with raises(RuntimeError):
            asyncio.current_task().cancel()
        log.append("can't cancel self")

    asyncio.run(main())
    assert log == ["inner cancelled", "outer cancelled", "CancelledError()", "can't cancel self"]


def test_wait_for_timeout_and_result():
    fresh_loop()

    async def slow(ms, v):
        await asyncio.sleep_ms(ms)
        return v

    async def main():
        a = await asyncio.wait_for(slow(1, "fast"), 1)
        try:
            await asyncio.wait_for_ms(slow(1000, "slow"), 5)
            b = "no timeout"
        except asyncio.TimeoutError:
            b = "timeout"
        return a, b

    assert asyncio.run(main()) == ("fast", "timeout")


def test_event_lock_and_threadsafeflag():
    fresh_loop()
    log = []

    async def waiter(ev):
        log.append(("woke", await ev.wait()))

    async def holder(lock, name):
        async with lock:
            log.append(("have", name))
            await asyncio.sleep(0)
        log.append(("released", name))

    async def main():
        ev = asyncio.Event()
        t = asyncio.create_task(waiter(ev))
        await asyncio.sleep(0)
        ev.set()
        await t
        lock = asyncio.Lock()
        assert await lock.acquire() is True
        tasks = [asyncio.create_task(holder(lock, n)) for n in "xy"]
        await asyncio.sleep(0)
        lock.release()
        await asyncio.gather(*tasks)
        with raises(RuntimeError):
            lock.release()
        flag = asyncio.ThreadSafeFlag()
        flag.set()
        await flag.wait()  # a set() with nobody waiting is kept
        log.append(("flag", flag.is_set()))

    asyncio.run(main())
    assert log == [("woke", True), ("have", "x"), ("released", "x"), ("have", "y"),
                   ("released", "y"), ("flag", False)]


def test_queue_semaphores_taskgroup_and_timeout():
    fresh_loop()
    log = []

    async def producer(q):
        for i in range(4):
            await q.put(i)
        await q.put(None)

    async def consumer(q):
        while True:
            item = await q.get()
            q.task_done()
            if item is None:
                return
            log.append(item)

    async def limited(sem, i):
        async with sem:
            log.append(("in", i, sem.locked()))
            await asyncio.sleep(0)

    async def fails():
        await asyncio.sleep(0)
        raise KeyError("tg")

    async def forever():
        await asyncio.sleep(10)

    async def main():
        q = asyncio.Queue(maxsize=2)
        await asyncio.gather(producer(q), consumer(q))
        with raises(asyncio.QueueEmpty):
            q.get_nowait()
        q.put_nowait(1)
        q.put_nowait(2)
        with raises(asyncio.QueueFull):
            q.put_nowait(3)
        sem = asyncio.Semaphore(1)
        await asyncio.gather(limited(sem, 0), limited(sem, 1))
        bs = asyncio.BoundedSemaphore(1)
        with raises(ValueError):
            bs.release()
        try:
            async with asyncio.TaskGroup() as tg:
                other = tg.create_task(forever())
                tg.create_task(fails())
        except asyncio.ExceptionGroup as eg:
            log.append(("tg", other.cancelled(), [type(e).__name__ for e in eg.exceptions]))
        try:
            async with asyncio.timeout(0.005):
                await asyncio.sleep(10)
        except asyncio.TimeoutError:
            log.append("timeout")

    asyncio.run(main())
    assert log == [0, 1, 2, 3, ("in", 0, True), ("in", 1, True), ("tg", True, ["KeyError"]),
                   "timeout"]
