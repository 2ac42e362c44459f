# What MicroPython's asyncio lacks, with CPython's semantics, as a user porting a CPython
# program meets them: TaskGroup (a failure interrupts the body; the body's task cancelled from
# outside cancels the group; tasks woken with the failing one still run), timeout() with
# expired()/when()/reschedule() and timeout_at(), create_task of awaitables that CPython makes
# coroutines (sleep(0), Event.wait()), a raising exception handler. Each expected list is what
# CPython 3.11's asyncio prints for the same program (a TaskGroup's ExceptionGroup is the built-in
# on CPython and shimeji.asyncio's stand-in on MicroPython: both caught as asyncio.ExceptionGroup).
import gc

from mpyheap import needs_heap_beside_mpy_code

import shimeji.asyncio as asyncio
from shimeji import port
from support import raises

# On the RP2040's .mpy path the facade's and the scheduler's code fill most of the heap; the
# tests marked below load more of it (timeouts, a failing group): each passed there with 22 KB
# free before it, the least seen, so each skips only under that (docs/boards.md, "RP2040,
# session 22").
_MPY_HEAP = 22 * 1024


def _fresh():
    asyncio.set_event_loop(None)
    gc.collect()
    return asyncio.new_event_loop()


async def _slow(out, name):
    try:
        await asyncio.sleep(60)
    except asyncio.CancelledError:
        out.append(name + " cancelled")
        raise


async def _bad(out, name="bad"):
    await asyncio.sleep(0.01)
    out.append(name)
    raise ValueError(name)


def test_cancelling_the_task_of_a_taskgroup_cancels_its_tasks_and_goes_on():
    # It used to be lost: awaiting a child forwarded the cancel to that child, the group took
    # it for the child's own and the body's task went on as if nothing happened.
    _fresh()

    async def main():
        out = []

        async def runner():
            async with asyncio.TaskGroup() as tg:
                tg.create_task(_slow(out, "a"))
                tg.create_task(_slow(out, "b"))
            out.append("not reached")

        t = asyncio.create_task(runner())
        await asyncio.sleep(0.01)
        t.cancel()
        try:
            await t
        except asyncio.CancelledError:
            out.append("runner cancelled")
        return out, t.cancelled()

    assert asyncio.run(main()) == (["a cancelled", "b cancelled", "runner cancelled"], True)


def test_a_failing_task_interrupts_the_body_and_its_error_leaves_the_block():
    _fresh()

    async def main():
        out = []
        try:
            async with asyncio.TaskGroup() as tg:
                tg.create_task(_bad(out))
                s = tg.create_task(_slow(out, "slow"))
                try:
                    await asyncio.sleep(5)  # interrupted, not slept out
                    out.append("slept 5")
                except asyncio.CancelledError:
                    out.append("body cancelled")
                    raise
        except asyncio.ExceptionGroup as eg:
            out.append("raised " + ", ".join(str(e) for e in eg.exceptions))
        out.append(s.cancelled())
        with raises(RuntimeError, "TaskGroup is finished"):
            tg.create_task(asyncio.sleep(0))
        with raises(RuntimeError, "TaskGroup has already been entered"):
            async with tg:
                pass
        return out

    assert asyncio.run(main()) == ["bad", "slow cancelled", "body cancelled", "raised bad",
                                   True]


async def _bad_on(go, out, name):
    await go.wait()
    out.append(name)
    raise ValueError(name)


@needs_heap_beside_mpy_code(_MPY_HEAP)
def test_tasks_woken_with_the_failing_one_still_run_and_new_tasks_are_refused():
    # CPython's group hears of a failure through a done callback, which runs after the tasks
    # already runnable: both tasks woken together fail. (Woken by one event, set by a timer
    # callback: two 10 ms sleeps armed one after the other fell in different ticks on a
    # loaded emulator, qemu's firmware in session 11.)
    _fresh()

    async def main():
        out = []
        go = asyncio.Event()
        asyncio.get_event_loop().call_later(0.01, go.set)
        try:
            async with asyncio.TaskGroup() as tg:
                tg.create_task(_bad_on(go, out, "one"))
                tg.create_task(_bad_on(go, out, "two"))
                try:
                    await asyncio.sleep(60)
                except asyncio.CancelledError:
                    try:
                        tg.create_task(asyncio.sleep(0))
                    except RuntimeError as e:
                        out.append("refused: " + str(e).split(" (")[0])
                    raise
        except asyncio.ExceptionGroup as eg:
            out.append("raised " + ", ".join(str(e) for e in eg.exceptions))
        return out

    assert asyncio.run(main()) == ["one", "two", "refused: TaskGroup is shutting down",
                                   "raised one, two"]


def test_a_task_cancelled_by_the_user_does_not_fail_the_group():
    _fresh()

    async def val(x):
        await asyncio.sleep(0.001)
        return x

    async def main():
        async with asyncio.TaskGroup() as tg:
            a = tg.create_task(asyncio.sleep(60))
            b = tg.create_task(val(20))
            c = tg.create_task(asyncio.sleep(0))  # not a coroutine here: CPython's is one
            await asyncio.sleep(0)
            a.cancel()
        return a.cancelled(), b.result(), c.result()

    assert asyncio.run(main()) == (True, 20, None)


def test_timeout_expired_when_reschedule_and_timeout_at():
    _fresh()

    async def main():
        out = []
        loop = asyncio.get_running_loop()
        try:
            async with asyncio.timeout(0.02) as cm:
                await asyncio.sleep(60)
        except asyncio.TimeoutError:
            out.append(("expired", cm.expired()))
        async with asyncio.timeout(5) as cm:
            await asyncio.sleep(0.001)
        out.append(("in time", cm.expired(), cm.when() > loop.time()))
        try:
            async with asyncio.timeout(None) as cm:
                assert cm.when() is None
                cm.reschedule(loop.time() + 0.02)
                await asyncio.sleep(60)
        except asyncio.TimeoutError:
            out.append(("rescheduled", cm.expired()))
        try:
            async with asyncio.timeout_at(loop.time() + 0.02):
                await asyncio.sleep(60)
        except asyncio.TimeoutError:
            out.append("timeout_at")
        try:
            async with asyncio.timeout(5):
                try:
                    async with asyncio.timeout(0.01):
                        await asyncio.sleep(60)
                except asyncio.TimeoutError:
                    out.append("inner")
                await asyncio.sleep(0.001)
            out.append("outer in time")
        except asyncio.TimeoutError:
            out.append("outer expired")
        with raises(RuntimeError, "only inside its async with block"):
            cm.reschedule(None)
        return out

    assert asyncio.run(main()) == [("expired", True), ("in time", False, True),
                                   ("rescheduled", True), "timeout_at", "inner",
                                   "outer in time"]


@needs_heap_beside_mpy_code(_MPY_HEAP)
def test_timeout_error_is_the_builtin_one_on_cpython():
    # CPython's asyncio raises the built-in TimeoutError (3.11+); MicroPython has none.
    _fresh()

    async def main():
        try:
            await asyncio.wait_for(asyncio.sleep(60), 0.01)
        except asyncio.TimeoutError as e:
            return e

    e = asyncio.run(main())
    assert isinstance(e, asyncio.TimeoutError)
    if not port.IS_MICROPYTHON:
        import builtins

        assert isinstance(e, builtins.TimeoutError)


def test_create_task_takes_awaitables_that_cpython_makes_coroutines():
    _fresh()

    async def main():
        ev = asyncio.Event()
        lock = asyncio.Lock()
        tasks = [asyncio.create_task(asyncio.sleep(0)), asyncio.create_task(ev.wait()),
                 asyncio.get_running_loop().create_task(lock.acquire())]
        await asyncio.sleep(0)
        ev.set()
        r = []
        for t in tasks:  # (MicroPython: no await inside a comprehension)
            r.append(await t)
        with raises(TypeError, "coroutine expected"):
            asyncio.create_task(tasks[0])  # a Task is not a coroutine (as in asyncio)
        return r, lock.locked()

    assert asyncio.run(main()) == ([None, True, True], True)


def test_an_exception_handler_that_raises_does_not_stop_the_loop():
    # CPython logs "Unhandled error in exception handler" and goes on (MicroPython's run()
    # raises the handler's exception); later failures are still reported.
    loop = _fresh()
    seen = []

    def handler(lp, ctx):
        seen.append(str(ctx["exception"]))
        raise KeyError("handler")

    async def bad(n):
        raise ValueError(n)

    async def main():
        loop.set_exception_handler(handler)
        try:
            asyncio.create_task(bad("first"))
            await asyncio.sleep(0.01)
            asyncio.create_task(bad("second"))
            await asyncio.sleep(0.01)
        finally:
            loop.set_exception_handler(None)
        return "done"

    assert asyncio.run(main()) == "done"
    assert seen == ["first", "second"]


async def _cancel_messages(aio):
    out = []

    async def victim(name):
        try:
            await aio.sleep(60)
        except aio.CancelledError as e:
            out.append((name, e.args))
            raise

    a = aio.create_task(victim("a"))
    b = aio.create_task(victim("b"))
    await aio.sleep(0)
    out.append((a.cancel("stop now"), b.cancel()))
    early = aio.create_task(victim("early"))
    early.cancel("before its first run")  # the body never runs: nothing records it
    for name, t in (("a", a), ("b", b), ("early", early)):
        try:
            await t
        except aio.CancelledError as e:  # the awaiter gets the task's error, msg and all
            out.append((name, e.args, t.cancelled()))
    return out


def test_cancel_msg_reaches_the_task_as_cancelled_error_args():
    expected = [(True, True), ("a", ("stop now",)), ("b", ()), ("a", ("stop now",), True),
                ("b", (), True), ("early", ("before its first run",), True)]
    _fresh()
    assert asyncio.run(_cancel_messages(asyncio)) == expected
    if not port.IS_MICROPYTHON:  # CPython's own asyncio gives the same list
        import asyncio as cpython_asyncio

        assert cpython_asyncio.run(_cancel_messages(cpython_asyncio)) == expected
