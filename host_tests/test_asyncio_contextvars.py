# contextvars with shimeji.asyncio. On CPython each task's steps run in a copy of the context
# current at create_task (or its context=), callbacks in the context current when they were
# scheduled (or their context=), Runner.run() in the Runner's one copy: the same programs run
# on CPython's own asyncio and must give the same event lists. MicroPython has no contextvars:
# there context= is accepted and ignored where CPython takes it, and get_context() is None.
import gc

import shimeji.asyncio as asyncio
from support import IS_MICROPYTHON, cpython_only


def _fresh():
    asyncio.set_event_loop(None)
    gc.collect()
    return asyncio.new_event_loop()


def _both(program):
    """``program(asyncio_module)``'s coroutine run on shimeji.asyncio and on CPython's."""
    import asyncio as cpython_asyncio

    _fresh()
    mine = asyncio.run(program(asyncio))
    assert cpython_asyncio.run(program(cpython_asyncio)) == mine, "CPython differs"
    return mine


def _var():
    import contextvars

    return contextvars, contextvars.ContextVar("var", default="unset")


@cpython_only
def test_each_task_runs_in_a_copy_of_the_context_it_was_created_in():
    contextvars, var = _var()

    async def main(aio):
        out = []
        var.set("main")

        async def child(name):
            out.append((name, "sees", var.get()))
            var.set(name)  # (its own copy: neither main nor the other task sees it)
            await aio.sleep(0)
            out.append((name, "after", var.get()))

        aio.create_task(child("a"))
        ctx = contextvars.copy_context()
        ctx.run(var.set, "ctx")
        t = aio.create_task(child("b"), context=ctx)  # the module's create_task(context=)
        await aio.sleep(0.001)
        out.append(("main", var.get(), ctx[var]))
        async with aio.TaskGroup() as tg:
            tg.create_task(child("g"), context=ctx)
            tg.create_task(child("h"))
        out.append(("main end", var.get(), ctx[var], getattr(t, "get_context", None) is None
                    or t.get_context() is ctx))
        return out

    var.set("outer")
    assert _both(lambda aio: main(aio)) == [
        ("a", "sees", "main"), ("b", "sees", "ctx"), ("a", "after", "a"), ("b", "after", "b"),
        ("main", "main", "b"), ("g", "sees", "b"), ("h", "sees", "main"), ("g", "after", "g"),
        ("h", "after", "h"), ("main end", "main", "g", True)]
    assert var.get() == "outer"  # run() ran main in a copy too


@cpython_only
def test_callbacks_run_in_the_context_they_were_scheduled_in():
    contextvars, var = _var()

    async def main(aio):
        out = []
        loop = aio.get_running_loop()
        ctx = contextvars.copy_context()
        ctx.run(var.set, "ctx")
        loop.call_soon(lambda: out.append(("given", var.get())), context=ctx)
        var.set("then")
        loop.call_later(0.001, lambda: out.append(("later", var.get())))
        var.set("now")
        loop.call_soon(lambda: var.set("set in a callback"))
        await aio.sleep(0.005)
        out.append(("main", var.get()))
        return out

    assert _both(lambda aio: main(aio)) == [("given", "ctx"), ("later", "then"),
                                            ("main", "now")]


@cpython_only
def test_a_runner_runs_its_coroutines_in_one_copy_and_get_context_returns_it():
    contextvars, var = _var()

    async def swap(value):
        old = var.get()
        var.set(value)
        return old

    var.set("outer")
    with asyncio.Runner() as runner:
        assert runner.run(swap("r1")) == "outer"
        assert runner.run(swap("r2")) == "r1"  # (the Runner's context, as CPython's)
        ctx = contextvars.copy_context()
        assert runner.run(swap("r3"), context=ctx) == "outer"
        assert ctx[var] == "r3"
    assert var.get() == "outer"

    async def main():
        me = asyncio.current_task()
        h = asyncio.get_running_loop().call_soon(print)
        h.cancel()
        await asyncio.sleep(0)  # (its task runs, and finds it cancelled)
        return (type(me.get_context()).__name__, type(h.get_context()).__name__,
                me.get_coro().__class__.__name__)

    _fresh()
    assert asyncio.run(main()) == ("Context", "Context", "coroutine")


def test_without_contextvars_context_is_accepted_and_ignored():
    # (CPython: the same calls, each context honoured)
    _fresh()
    ctx = None
    if not IS_MICROPYTHON:
        import contextvars

        ctx = contextvars.copy_context()
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
        await asyncio.sleep(0.002)
        return t.get_context() is ctx, h.get_context() is ctx

    assert asyncio.run(main()) == (True, True)
    assert ran == ["loop", "group", "call_soon", "call_later"]
    if IS_MICROPYTHON:
        with asyncio.Runner() as runner:
            assert runner.run(child("runner"), context=None) is None
        assert ran[-1] == "runner"


@cpython_only
def test_done_callbacks_run_in_the_context_current_when_they_were_added():
    contextvars, var = _var()

    async def main(aio):
        out = []
        loop = aio.get_running_loop()
        fut = loop.create_future()
        var.set("future cb")
        fut.add_done_callback(lambda f: out.append(("future", var.get())))
        ctx = contextvars.copy_context()
        ctx.run(var.set, "given")
        fut.add_done_callback(lambda f: out.append(("given", var.get())), context=ctx)

        async def child():
            await aio.sleep(0)

        t = aio.create_task(child())
        var.set("task cb")
        t.add_done_callback(lambda t: out.append(("task", var.get())))
        var.set("main")
        fut.set_result(None)
        await t
        await aio.sleep(0)
        done = loop.create_future()
        done.set_result(None)
        var.set("done already")
        done.add_done_callback(lambda f: out.append(("done already", var.get())))
        var.set("main")
        await aio.sleep(0)
        return out

    assert _both(lambda aio: main(aio)) == [
        ("future", "future cb"), ("given", "given"), ("task", "task cb"),
        ("done already", "done already")]
