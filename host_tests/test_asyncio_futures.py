# Future, done callbacks (Future's and Task's), loop.call_soon/call_later/call_at and their
# handles, get_running_loop: CPython's API, which MicroPython's asyncio lacks. Each program runs
# on shimeji.asyncio (both runtimes) and, under CPython, on CPython's own asyncio too: the event
# lists asserted are what CPython 3.11 gives, so the order of callbacks and tasks is CPython's.
import gc
import sys

import shimeji.asyncio as asyncio
from shimeji import DurationTooLong
from support import IS_MICROPYTHON, needs_threads, raises


def _fresh():
    asyncio.set_event_loop(None)
    gc.collect()
    return asyncio.new_event_loop()


def _check(program, expected):
    """Run ``program(asyncio_module)`` on shimeji.asyncio, and on CPython's asyncio where it
    runs (CPython), and compare each event list with ``expected``."""
    _fresh()
    assert asyncio.run(program(asyncio)) == expected
    if not IS_MICROPYTHON:
        import asyncio as cpython_asyncio

        assert cpython_asyncio.run(program(cpython_asyncio)) == expected, "CPython differs"


async def _futures(aio):
    out = []
    loop = aio.get_running_loop()
    fut = loop.create_future()
    out.append((fut.done(), fut.cancelled()))
    fut.add_done_callback(lambda f: out.append(("cb1", f.result())))
    fut.add_done_callback(lambda f: out.append(("cb2", f.result())))

    async def setter():
        out.append("setter")
        fut.set_result(42)
        out.append("set")

    async def waiter(name):
        out.append((name, await fut))

    aio.create_task(waiter("w1"))
    aio.create_task(setter())
    aio.create_task(waiter("w2"))
    out.append(("main", await fut))
    await aio.sleep(0)
    failing = loop.create_future()
    loop.call_soon(failing.set_exception, ValueError("boom"))
    try:
        await failing
    except ValueError as e:
        out.append(("raised", str(e), type(failing.exception()).__name__))
    return out


def test_a_future_wakes_its_awaiters_then_runs_its_callbacks_in_order():
    # (CPython: the awaiting tasks are done callbacks too, called in the order they came;
    # w2 awaits a Future already done: it does not wait)
    _check(_futures, [(False, False), "setter", "set", ("w2", 42), ("cb1", 42), ("cb2", 42),
                      ("main", 42), ("w1", 42), ("raised", "boom", "ValueError")])


async def _cancelling(aio):
    out = []
    loop = aio.get_running_loop()
    fut = loop.create_future()

    async def waiter():
        try:
            await fut
        except aio.CancelledError:
            out.append("waiter cancelled")
            raise

    t = aio.create_task(waiter())
    await aio.sleep(0)
    t.cancel()
    await aio.sleep(0)
    out.append(("fut", fut.cancelled(), t.cancelled()))
    f2 = loop.create_future()
    f2.add_done_callback(lambda f: out.append(("cb", f.cancelled())))
    out.append(f2.cancel())
    out.append(f2.cancel())
    try:
        await f2
    except aio.CancelledError:
        out.append("await raises")
    try:
        f2.result()
    except aio.CancelledError:
        out.append("result raises")
    await aio.sleep(0)
    return out


def test_cancelling_a_task_that_awaits_a_future_cancels_the_future():
    _check(_cancelling, ["waiter cancelled", ("fut", True, True), True, False, "await raises",
                         "result raises", ("cb", True)])


async def _handles(aio):
    out = []
    loop = aio.get_running_loop()
    t0 = loop.time()
    last = loop.create_future()

    def later():
        out.append("later 20")
        last.set_result(None)

    loop.call_later(0.02, later)
    loop.call_at(t0 + 0.002, out.append, "at 2")
    h = loop.call_later(0.001, out.append, "cancelled")
    out.append((type(h.when()).__name__, h.cancelled()))
    h.cancel()
    loop.call_soon(out.append, "soon 1")
    loop.call_soon(out.append, "soon 2").cancel()
    loop.call_soon(out.append, "soon 3")

    async def task():
        out.append("task")

    aio.create_task(task())
    out.append(("cancelled", h.cancelled()))
    await aio.sleep(0)
    out.append("main")
    await last
    return out


def test_call_soon_runs_in_fifo_order_with_tasks_and_timers_at_their_deadline():
    _check(_handles, [("float", False), ("cancelled", True), "soon 1", "soon 3", "task",
                      "main", "at 2", "later 20"])


async def _task_callbacks(aio):
    out = []

    async def work(x):
        await aio.sleep(0.001)
        if x == "bad":
            raise KeyError(x)
        return x

    def cb(t):
        out.append(("cb", t.exception() if t.cancelled() is False else "cancelled"))

    def other(t):
        out.append("removed: never called")

    a = aio.create_task(work(1))
    a.add_done_callback(cb)
    a.add_done_callback(other)
    a.add_done_callback(other)
    out.append(a.remove_done_callback(other))
    b = aio.create_task(work("bad"))
    b.add_done_callback(lambda t: out.append(("b", type(t.exception()).__name__)))
    c = aio.create_task(aio.sleep(1))
    c.add_done_callback(lambda t: out.append(("c", t.cancelled())))
    await aio.sleep(0)
    c.cancel()
    out.append(await a)
    await aio.wait([b])  # (b's callbacks run first: they came first)
    a.add_done_callback(lambda t: out.append(("late", t.result())))
    await aio.sleep(0)
    return out


def test_task_done_callbacks_run_after_it_finishes_and_can_be_removed():
    _check(_task_callbacks, [2, ("c", True), ("cb", None), 1, ("b", "KeyError"),
                             ("late", 1)])


def test_a_raising_callback_goes_to_the_exception_handler_and_the_loop_goes_on():
    loop = _fresh()
    seen = []
    loop.set_exception_handler(lambda lp, ctx: seen.append(
        (ctx["message"].split(" ")[0:3], type(ctx["exception"]).__name__)))

    def bad():
        raise ZeroDivisionError

    async def main():
        lp = asyncio.get_running_loop()
        lp.call_soon(bad)
        lp.call_later(0.001, bad)
        fut = lp.create_future()
        fut.add_done_callback(lambda f: 1 / 0)
        fut.set_result(None)
        for _ in range(10000):  # until the timer's callback ran too (however loaded)
            if len(seen) == 3:
                break
            await asyncio.sleep_ms(1)
        return "went on"

    try:
        assert asyncio.run(main()) == "went on"
    finally:
        loop.set_exception_handler(None)
    assert seen == [(["Exception", "in", "callback"], "ZeroDivisionError")] * 3


def test_misuse_raises_cpythons_exception_types_with_what_to_do():
    loop = _fresh()
    fut = loop.create_future()
    with raises(asyncio.InvalidStateError, "await the Future first"):
        fut.result()
    with raises(asyncio.InvalidStateError, "await the Future first"):
        fut.exception()
    with raises(TypeError, "StopIteration"):
        fut.set_exception(StopIteration)
    with raises(TypeError, "an exception class or instance"):
        fut.set_exception(5)
    fut.set_result(1)
    with raises(asyncio.InvalidStateError, "set_result(): the Future is already done"):
        fut.set_result(2)
    with raises(TypeError, "callable"):
        loop.call_soon(5)
    with raises(TypeError, "call_later(delay) must be a number"):
        loop.call_later("1", print)
    with raises(RuntimeError, "no running event loop"):
        asyncio.get_running_loop()
    assert fut.result() == 1  # unchanged by the refused calls
    assert asyncio.isfuture(fut) and not asyncio.isfuture(object())


@needs_threads
def test_call_soon_threadsafe_from_another_thread_wakes_the_idle_loop():
    import _thread

    _fresh()
    out = []

    def other(loop, fut, go):
        while not go:  # (the loop is idle, waiting on the Future, once main has set go)
            pass
        loop.call_soon_threadsafe(out.append, "from thread")
        loop.call_soon_threadsafe(fut.set_result, "set by thread")

    async def main():
        loop = asyncio.get_running_loop()
        fut = loop.create_future()
        go = []
        _thread.start_new_thread(other, (loop, fut, go))
        await asyncio.sleep(0)
        go.append(1)
        out.append(await asyncio.wait_for(fut, 10))  # (a bound: never a hang)
        return out

    assert asyncio.run(main()) == ["from thread", "set by thread"]


def test_a_delay_longer_than_the_timer_holds_is_refused_and_nothing_is_armed():
    loop = _fresh()
    with raises(DurationTooLong):
        loop.call_later(10 ** 7, print)  # ~116 days: the timer holds ~6 at 1 ms
    with raises(TypeError, "callable"):
        loop.call_soon_threadsafe(None)

    async def main():
        asyncio.get_running_loop().call_later(0.001, out.append, "ok")
        await asyncio.sleep(0.005)
        return out

    out = []
    assert asyncio.run(main()) == ["ok"]


def test_the_loop_is_usable_after_everything_above():
    # (run last: the exception handler and the loops of the tests above leave nothing behind)
    _fresh()

    async def main():
        fut = asyncio.get_running_loop().create_future()
        asyncio.get_running_loop().call_later(0.001, fut.set_result, sys.implementation.name)
        return await fut

    assert asyncio.run(main()) == sys.implementation.name


async def _names(aio):
    async def nap():
        await aio.sleep(0)

    out = []
    a = aio.create_task(nap(), name="worker")
    b = aio.get_running_loop().create_task(nap(), name=7)
    c = aio.create_task(nap())
    out.append((a.get_name(), b.get_name(), c.get_name().startswith("Task-")))
    c.set_name("renamed")
    async with aio.TaskGroup() as tg:
        d = tg.create_task(nap(), name="in group")
    out.append((c.get_name(), d.get_name()))
    await aio.gather(a, b, c)
    return out


def test_tasks_have_cpythons_names():
    _check(_names, [("worker", "7", True), ("renamed", "in group")])


def test_a_call_later_of_a_dropped_loop_never_runs_in_the_next():
    # new_event_loop() reuses an idle loop (MicroPython's rule) only when nothing is armed on
    # its timer: a pending call_later belongs to the dropped loop, as with CPython's new loop.
    _fresh()
    out = []

    async def first():
        asyncio.get_running_loop().call_later(0.005, out.append, "dropped")
        return "first"

    async def second():
        await asyncio.sleep(0.02)
        return "second"

    assert asyncio.run(first()) == "first"
    old = asyncio.get_event_loop()
    new = asyncio.new_event_loop()
    assert asyncio.run(second()) == "second"
    assert (out, new is old) == ([], False)
    reused = asyncio.new_event_loop()  # idle, nothing armed: reset and returned
    assert reused is new
