# A program that never loads contextvars pays nothing for them on MicroPython: the facade's
# create_task is the native one and a task's coroutine is its own (no Context.run per step),
# and context= is accepted and ignored where CPython takes it. Loading the stand-in (`import
# contextvars` and a first use) switches the contexts on for the tasks created after. On
# CPython every context= is honoured (the same calls). test_asyncio_contextvars.py has the rest.
import gc
import sys

import shimeji.asyncio as asyncio
from support import IS_MICROPYTHON


def _fresh():
    asyncio.set_event_loop(None)
    gc.collect()
    return asyncio.new_event_loop()


def test_without_contextvars_context_is_accepted_and_ignored_then_honoured_once_loaded():
    _fresh()
    ctx = None
    if not IS_MICROPYTHON:
        import contextvars

        ctx = contextvars.copy_context()
    else:  # nothing loaded: the native create_task, plain coroutines
        from shimeji.asyncio import contexts, loop

        assert "shimeji.asyncio.contextvars" not in sys.modules
        assert contexts.copy_context is None and loop.create_task.__name__ == "create_task"
    ran = []

    async def child(name):
        ran.append(name)

    async def main():
        loop = asyncio.get_running_loop()
        t = loop.create_task(child("loop"), context=ctx)
        async with asyncio.TaskGroup() as tg:
            tg.create_task(child("group"), context=ctx)
        h = loop.call_soon(ran.append, "call_soon", context=ctx)
        loop.call_later(0, ran.append, "call_later", context=ctx)
        await asyncio.sleep(0)
        me = asyncio.current_task().get_coro()
        await asyncio.sleep(0.002)
        probe = child("")  # (a coroutine object, for its type; closed, never run)
        probe.close()
        return t.get_context() is ctx, h.get_context() is ctx, type(me) is type(probe)

    assert asyncio.run(main()) == (True, True, True)
    assert ran == ["loop", "group", "call_soon", "call_later"]
    if IS_MICROPYTHON:
        with asyncio.Runner() as runner:
            assert runner.run(child("runner"), context=None) is None
        assert ran[-1] == "runner"
        import contextvars  # the stand-in: loaded at its first use

        var = contextvars.ContextVar("v", default="root")
        assert sys.modules["contextvars"] is sys.modules["shimeji.asyncio.contextvars"]
        assert asyncio.create_task.__name__ == "create_task_in_context"

    async def setter():
        var.set("task")
        return var.get()

    async def main2():
        t = asyncio.create_task(setter())
        return await t, var.get(), type(t.get_context()).__name__

    if IS_MICROPYTHON:
        assert asyncio.run(main2()) == ("task", "root", "Context")
        assert var.get() == "root"
