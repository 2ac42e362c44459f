# shield, wait (FIRST_COMPLETED / FIRST_EXCEPTION / ALL_COMPLETED, timeout), as_completed
# (timeout, async for), ensure_future and all_tasks: CPython's API, which MicroPython's asyncio
# lacks. Each program runs on shimeji.asyncio (both runtimes) and, under CPython, on CPython's
# own asyncio too: the event lists asserted are what CPython 3.11 gives.
import gc

import shimeji.asyncio as asyncio
from support import IS_MICROPYTHON, raises


def _fresh():
    asyncio.set_event_loop(None)
    gc.collect()
    return asyncio.new_event_loop()


def _check(program, expected, cpython_too=True):
    _fresh()
    assert asyncio.run(program(asyncio)) == expected
    if cpython_too and not IS_MICROPYTHON:
        import asyncio as cpython_asyncio

        assert cpython_asyncio.run(program(cpython_asyncio)) == expected, "CPython differs"


async def _work(aio, out, name, ms, exc=None):
    try:
        await aio.sleep(ms / 1000)
    except aio.CancelledError:
        out.append(name + " cancelled")
        raise
    out.append(name)
    if exc is not None:
        raise exc(name)
    return name.upper()


async def _shielding(aio):
    out = []
    go = aio.Event()
    inner = aio.create_task(_after(aio, out, "inner", go))

    async def outer():
        try:
            return await aio.shield(inner)
        except aio.CancelledError:
            out.append("outer cancelled")
            raise

    o = aio.create_task(outer())
    await aio.sleep(0)
    o.cancel()
    try:
        await o
    except aio.CancelledError:
        out.append(("o", o.cancelled(), inner.done()))
    go.set()
    out.append(await inner)
    # shield of a coroutine: made a task; the awaiter's result is the coroutine's
    out.append(await aio.shield(_after(aio, out, "coro", go)))
    # cancelling the inner task itself still cancels it, and the shield's awaiter
    inner2 = aio.create_task(_work(aio, out, "inner2", 1000))
    o2 = aio.create_task(outer2(aio, inner2, out))
    await aio.sleep(0)
    inner2.cancel()
    await _rounds(aio)
    out.append((o2.done(), inner2.cancelled()))
    return out


async def _rounds(aio, n=5):
    for _ in range(n):  # (a task's end, its done callbacks, their awaiter: 3 rounds at most)
        await aio.sleep(0)


async def outer2(aio, inner, out):
    try:
        await aio.shield(inner)
    except aio.CancelledError:
        out.append("outer2 cancelled")
        raise


def test_shield_protects_the_inner_task_from_the_awaiters_cancellation():
    _check(_shielding, ["outer cancelled", ("o", True, False), "inner", "INNER", "coro", "CORO",
                        "inner2 cancelled", "outer2 cancelled", (True, True)])


async def _after(aio, out, name, ev):
    await ev.wait()
    out.append(name)
    return name.upper()


async def _waiting(aio):
    out = []
    ev = aio.Event()
    ts = [aio.create_task(_after(aio, out, "a", ev)), aio.create_task(_work(aio, out, "b", 1)),
          aio.create_task(_after(aio, out, "c", ev))]
    done, pending = await aio.wait(ts, return_when=aio.FIRST_COMPLETED)
    out.append(("first", sorted(t.result() for t in done), len(pending)))
    ev.set()
    done, pending = await aio.wait(ts)
    out.append(("all", sorted(t.result() for t in done), len(pending)))
    bad = aio.create_task(_work(aio, out, "bad", 1, ValueError))
    slow = aio.create_task(_work(aio, out, "slow", 1000))
    done, pending = await aio.wait([slow, bad], return_when=aio.FIRST_EXCEPTION)
    out.append(("exception", [type(t.exception()).__name__ for t in done], pending == {slow}))
    done, pending = await aio.wait([slow], timeout=0.002)
    out.append(("timeout", len(done), pending == {slow}, slow.done()))
    done, pending = await aio.wait([slow, bad], return_when=aio.FIRST_EXCEPTION)
    out.append(("already failed", done == {bad}, pending == {slow}))
    slow.cancel()
    done, pending = await aio.wait({slow})
    out.append(("cancelled", [t.cancelled() for t in done]))
    return out


def test_wait_returns_done_and_pending_sets_for_each_return_when_and_on_timeout():
    _check(_waiting, ["b", ("first", ["B"], 2), "a", "c", ("all", ["A", "B", "C"], 0), "bad",
                      ("exception", ["ValueError"], True), ("timeout", 0, True, False),
                      ("already failed", True, True), "slow cancelled",
                      ("cancelled", [True])])


async def _gated(aio, out, name, ev, exc=None):
    await ev.wait()
    out.append(name)
    if exc is not None:
        raise exc(name)
    return name.upper()


async def _drive(aio, events):
    for ev in events:  # one finishes, and the consumer runs, before the next is let go
        await _rounds(aio)
        ev.set()


async def _completing(aio):
    out = []
    a, b, c = aio.Event(), aio.Event(), aio.Event()
    aws = [_gated(aio, out, "a", a), _gated(aio, out, "b", b, KeyError),
           _gated(aio, out, "c", c)]
    aio.create_task(_drive(aio, (b, c, a)))
    for aw in aio.as_completed(aws):
        try:
            out.append(("got", await aw))
        except KeyError:
            out.append("got KeyError")
    never = aio.Event()
    slow = aio.create_task(_gated(aio, out, "slow", never))
    fast = aio.create_task(_work(aio, out, "fast", 0))
    try:
        for aw in aio.as_completed([slow, fast], timeout=0.005):
            out.append(("got", await aw))
    except aio.TimeoutError:
        out.append(("timeout", slow.done()))
    slow.cancel()
    await aio.sleep(0)
    out.append(slow.cancelled())
    return out


def test_as_completed_gives_results_in_the_order_they_finish_and_times_out():
    _check(_completing, ["b", "got KeyError", "c", ("got", "C"), "a", ("got", "A"), "fast",
                         ("got", "FAST"), ("timeout", False), True])


async def _async_for(aio):
    out = []
    x, y = aio.Event(), aio.Event()
    ts = [aio.create_task(_gated(aio, out, "x", x)), aio.create_task(_gated(aio, out, "y", y))]
    aio.create_task(_drive(aio, (y, x)))
    async for t in aio.as_completed(ts):
        out.append((t in ts, t.result()))
    return out


def test_as_completed_with_async_for_gives_the_finished_tasks():
    # (CPython 3.13's form; 3.11's as_completed has no __aiter__: not compared there)
    _check(_async_for, ["y", (True, "Y"), "x", (True, "X")], cpython_too=False)


def test_a_task_handed_back_failed_by_wait_is_not_reported_as_unretrieved():
    loop = _fresh()
    seen = []
    loop.set_exception_handler(lambda lp, ctx: seen.append(ctx["message"]))

    async def main():
        out = []
        t = asyncio.create_task(_work(asyncio, out, "bad", 1, ValueError))
        done, _ = await asyncio.wait([t])
        await _rounds(asyncio)  # rounds for a report
        lost = asyncio.create_task(_work(asyncio, out, "lost", 0, ValueError))
        while not lost.done():
            await asyncio.sleep(0)
        await _rounds(asyncio)
        return out, [type(x.exception()).__name__ for x in done], lost.done()

    try:
        assert asyncio.run(main()) == (["bad", "lost"], ["ValueError"], True)
    finally:
        loop.set_exception_handler(None)
    assert seen == ["Task exception wasn't retrieved"]  # the task nobody looked at


def test_ensure_future_all_tasks_and_misuse():
    _fresh()

    async def main():
        out = []
        fut = asyncio.get_running_loop().create_future()
        out.append(asyncio.ensure_future(fut) is fut)
        t = asyncio.ensure_future(_work(asyncio, out, "t", 1))
        out.append(asyncio.ensure_future(t) is t)
        out.append(t in asyncio.all_tasks() and asyncio.current_task() in asyncio.all_tasks())
        with raises(TypeError, "ensure_future(obj)"):
            asyncio.ensure_future(5)
        coro = _work(asyncio, out, "never", 1)
        with raises(TypeError, "create_task(coro)"):
            await asyncio.wait([coro])
        coro.close()
        coro = _work(asyncio, out, "x", 1)
        with raises(TypeError, "expected an iterable of Tasks or Futures"):
            await asyncio.wait(coro)
        coro.close()
        with raises(ValueError, "empty"):
            await asyncio.wait([])
        with raises(ValueError, "return_when"):
            await asyncio.wait([t], return_when="SOMETIME")
        with raises(TypeError, "as_completed(fs)"):
            asyncio.as_completed(t)
        out.append(await t)
        return out

    assert asyncio.run(main()) == [True, True, True, "t", "T"]


async def _futures_elsewhere(aio):
    out = []
    loop = aio.get_running_loop()
    f1, f2 = loop.create_future(), loop.create_future()
    loop.call_soon(f1.set_result, 1)
    loop.call_later(0.001, f2.set_result, 2)
    out.append(await aio.gather(f1, f2))
    f3 = loop.create_future()
    try:
        await aio.wait_for(f3, 0.002)
    except aio.TimeoutError:
        out.append(("timed out", f3.cancelled()))
    f4 = loop.create_future()
    loop.call_soon(f4.set_exception, OSError("f4"))
    out.append([(type(e).__name__, e.args) for e in await aio.gather(f4, return_exceptions=True)])
    done, _ = await aio.wait([f4])
    out.append(done == {f4})
    return out


def test_futures_in_gather_wait_for_and_wait():
    _check(_futures_elsewhere, [[1, 2], ("timed out", True), [("OSError", ("f4",))], True])
