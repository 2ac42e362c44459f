# to_thread, loop.run_in_executor(None, ...) and Runner: CPython's, which MicroPython's asyncio
# lacks. A blocking function runs in a thread of its own while the loop's tasks go on; its
# result or exception comes back to the awaiting task. Where the order is deterministic the
# program also runs on CPython's own asyncio and must give the same list.
import gc
import time

import shimeji.asyncio as asyncio
from shimeji import BadArgument
from support import IS_MICROPYTHON, needs_threads, raises


def _fresh():
    asyncio.set_event_loop(None)
    gc.collect()
    return asyncio.new_event_loop()


def _blocking(go, x, scale=1):
    n = 0
    while not go and n < 20000:  # (bounded: a failing test must not hang)
        time.sleep(0.001)
        n += 1
    if x == "bad":
        raise KeyError(x)
    return x * scale


async def _threads(aio):
    out = []
    go = []

    async def ticker():
        for i in range(3):
            out.append(("tick", i))
            await aio.sleep(0)
        go.append(1)  # the thread may finish now: the loop ran while it blocked

    aio.create_task(ticker())
    out.append(("to_thread", await aio.to_thread(_blocking, go, 21, scale=2)))
    loop = aio.get_running_loop()
    out.append(("executor", await loop.run_in_executor(None, _blocking, go, 5)))
    try:
        await aio.to_thread(_blocking, go, "bad")
    except KeyError as e:
        out.append(("raised", e.args))
    return out


@needs_threads
def test_a_blocking_function_runs_in_a_thread_while_tasks_go_on():
    expected = [("tick", 0), ("tick", 1), ("tick", 2), ("to_thread", 42), ("executor", 5),
                ("raised", ("bad",))]
    _fresh()
    assert asyncio.run(_threads(asyncio)) == expected
    if not IS_MICROPYTHON:
        import asyncio as cpython_asyncio

        assert cpython_asyncio.run(_threads(cpython_asyncio)) == expected, "CPython differs"


@needs_threads
def test_an_executor_other_than_none_is_refused_with_what_to_do():
    _fresh()

    async def main():
        with raises(BadArgument, "only None is supported"):
            await asyncio.get_running_loop().run_in_executor(object(), print)
        return await asyncio.to_thread(len, "abc")

    assert asyncio.run(main()) == 3


async def _add(x):
    await asyncio.sleep(0)
    return x + 1


def test_runner_runs_several_coroutines_on_one_loop_and_refuses_after_close():
    _fresh()
    with asyncio.Runner() as runner:
        loop = runner.get_loop()
        assert (runner.run(_add(1)), runner.run(_add(2))) == (2, 3)
        assert runner.get_loop() is loop
        with raises(ValueError, "a coroutine was expected"):
            runner.run(5)
    coro = _add(3)
    with raises(RuntimeError, "Runner is closed"):
        runner.run(coro)
    coro.close()
    assert asyncio.run(_add(9)) == 10  # the module's run still works
