# run_coroutine_threadsafe(coro, loop) and wrap_future(fut): a coroutine handed to a running
# loop from another thread, its outcome read there through shimeji's ConcurrentFuture
# (MicroPython has no concurrent.futures), and a concurrent future awaited in a task. Each
# program runs on shimeji.asyncio (both runtimes) and, under CPython, on CPython's own asyncio
# too: the event lists asserted are what CPython 3.11 gives.
import gc

import shimeji.asyncio as asyncio
from shimeji import BadArgument, NoThreads, ShimejiError
from shimeji.asyncio import threadsafe
from support import HAS_THREAD_MODULE, IS_MICROPYTHON, needs_threads, raises, wait_until


def _fresh():
    asyncio.set_event_loop(None)
    gc.collect()
    return asyncio.new_event_loop()


def _check(program, expected):
    _fresh()
    got = asyncio.run(program(asyncio))
    assert got == expected, got
    if not IS_MICROPYTHON:
        import asyncio as cpython_asyncio

        assert cpython_asyncio.run(program(cpython_asyncio)) == expected, "CPython differs"


async def _work(aio, x):
    await aio.sleep(0.002)
    if x == "boom":
        raise ValueError(x)
    return x * 2


async def _from_another_thread(aio):
    import _thread

    out = []  # what the other thread sees, in its order
    loop_side = []  # what the loop's tasks see

    started = []

    async def forever():
        started.append(True)
        try:
            await aio.sleep(10)
        except aio.CancelledError:
            loop_side.append("forever cancelled")
            raise

    def other(loop, finished):
        try:
            f = aio.run_coroutine_threadsafe(_work(aio, 21), loop)
            out.append(("result", f.result(20), f.done(), f.cancelled(), f.exception()))
            f = aio.run_coroutine_threadsafe(_work(aio, "boom"), loop)
            try:
                f.result(20)
            except ValueError as e:
                out.append(("raised", str(e), type(f.exception(0)).__name__))
            f = aio.run_coroutine_threadsafe(forever(), loop)
            wait_until(lambda: started, "the loop to start forever()")  # (a loaded machine)
            try:
                f.result(0.01)
            except aio.TimeoutError:  # (CPython: the built-in, as concurrent.futures')
                out.append("timed out")
            called = []
            f.add_done_callback(lambda f: called.append(f.cancelled()))
            out.append(("cancel", f.cancel(), f.cancelled(), f.done(), called, f.cancel()))
            try:
                f.result()
            except BaseException as e:  # noqa: BLE001 (CancelledError: a BaseException)
                out.append(("after cancel", type(e).__name__))
            try:
                aio.run_coroutine_threadsafe(_work, loop)
            except TypeError:
                out.append("TypeError for an async function not called")
        except BaseException as e:  # noqa: BLE001 (reported in the list the test compares)
            out.append(("the other thread failed", repr(e)))
        finally:
            loop.call_soon_threadsafe(finished.set_result, None)

    loop = aio.get_running_loop()
    finished = loop.create_future()
    _thread.start_new_thread(other, (loop, finished))
    await finished
    for _ in range(50):  # (bounded: the cancel request reaches the loop in a callback)
        if loop_side:
            break
        await aio.sleep(0.001)
    return out + loop_side


@needs_threads
def test_a_coroutine_handed_over_from_another_thread_gives_its_outcome_there():
    _check(_from_another_thread, [
        ("result", 42, True, False, None), ("raised", "boom", "ValueError"), "timed out",
        ("cancel", True, True, True, [True], True), ("after cancel", "CancelledError"),
        "TypeError for an async function not called", "forever cancelled"])


async def _wrapped(aio):
    out = []
    loop = aio.get_running_loop()
    f = aio.run_coroutine_threadsafe(_work(aio, 5), loop)  # (from the loop's own thread)
    out.append(await aio.wrap_future(f))
    out.append((f.done(), f.result(0)))
    f = aio.run_coroutine_threadsafe(aio.sleep(10), loop)
    w = aio.wrap_future(f)
    out.append(aio.wrap_future(w) is w)
    await aio.sleep(0.001)
    w.cancel()
    try:
        await w
    except aio.CancelledError:
        out.append("wrapper cancelled")
    for _ in range(50):  # (bounded: the cancel reaches the concurrent future by callbacks)
        if f.done():
            break
        await aio.sleep(0.001)
    out.append(f.cancelled())
    return out


@needs_threads
def test_wrap_future_awaits_a_concurrent_future_and_cancels_it():
    _check(_wrapped, [10, (True, 10), True, "wrapper cancelled", True])


@needs_threads
def test_misuse_raises_with_what_to_do():
    _fresh()

    async def main():
        loop = asyncio.get_running_loop()
        f = asyncio.run_coroutine_threadsafe(asyncio.sleep(0.001), loop)
        with raises(threadsafe.WouldDeadlock, "await the coroutine"):
            f.result()  # on the loop's own thread: it would wait for ever (CPython hangs)
        with raises(threadsafe.WouldDeadlock, "await the coroutine"):
            f.exception(1)
        with raises(TypeError, "a number of seconds"):
            f.result("soon")
        await asyncio.wrap_future(f)
        with raises(TypeError, "concurrent future"):
            asyncio.wrap_future(42)
        return f.result(0)

    assert asyncio.run(main()) is None
    coro = _work(asyncio, 1)
    with raises(BadArgument, "give the loop"):
        asyncio.run_coroutine_threadsafe(coro, None)
    coro.close()
    assert issubclass(threadsafe.WouldDeadlock, ShimejiError)


def test_without_threads_it_says_what_to_use_instead():
    # (a port with the _thread module, even one whose second thread cannot run, such as the
    # RP2040 emulator: made to look like a port without it)
    if HAS_THREAD_MODULE:
        import builtins

        orig_import = builtins.__import__

        def fake_import(name, *args, **kwargs):
            if name == "_thread":
                raise ImportError("no _thread")
            return orig_import(name, *args, **kwargs)

        builtins.__import__ = fake_import
        try:
            with raises(NoThreads, "create_task(coro)"):
                threadsafe._threads()
        finally:
            builtins.__import__ = orig_import
    else:
        with raises(NoThreads, "ThreadSafeFlag"):
            asyncio.run_coroutine_threadsafe(_work(asyncio, 1), asyncio.get_event_loop())
