# contextvars with shimeji.asyncio. Each task's steps run in a copy of the context current at
# create_task (or its context=), callbacks in the context current when they were scheduled (or
# their context=), Runner.run() in the Runner's one copy. On CPython the same programs run on
# CPython's own asyncio and must give the same event lists; on MicroPython (no contextvars)
# `import contextvars` finds shimeji.asyncio's stand-in and the programs give the same lists.
# (A program that never loads it: test_asyncio_contextvars_unused.py.)
import gc

import shimeji.asyncio as asyncio
from support import IS_MICROPYTHON


def _fresh():
    asyncio.set_event_loop(None)
    gc.collect()
    return asyncio.new_event_loop()


def _both(program):
    """``program(asyncio_module)``'s coroutine run on shimeji.asyncio (and on CPython's own
    asyncio: the same result)."""
    _fresh()
    mine = asyncio.run(program(asyncio))
    if not IS_MICROPYTHON:
        import asyncio as cpython_asyncio

        assert cpython_asyncio.run(program(cpython_asyncio)) == mine, "CPython differs"
    return mine


def _var():
    import contextvars

    return contextvars, contextvars.ContextVar("var", default="unset")


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
        probe = main()  # (a coroutine object, for its type; closed, never run)
        probe.close()
        return (type(me.get_context()).__name__, type(h.get_context()).__name__,
                type(me.get_coro()) is type(probe))

    _fresh()
    assert asyncio.run(main()) == ("Context", "Context", True)


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


def test_context_vars_tokens_and_contexts_as_cpythons():
    contextvars, var = _var()
    other = contextvars.ContextVar("other")
    out = []
    try:
        other.get()
    except LookupError:
        out.append("lookup")
    out.append((other.get("given"), var.get(), var.get("arg wins"), other.name))

    def inside():
        t1 = var.set("one")
        t2 = var.set("two")
        out.append((t1.var is var, t1.old_value is contextvars.Token.MISSING, t2.old_value))
        try:
            other.reset(t1)  # a token of another variable
        except ValueError as e:
            out.append(type(e).__name__)
        var.reset(t2)
        out.append(("reset", var.get()))
        try:
            var.reset(t2)  # used already
        except RuntimeError:
            out.append("used")
        try:
            ctx.run(len, ())  # entered already
        except RuntimeError:
            out.append("entered")
        return t1

    ctx = contextvars.copy_context()
    t1 = ctx.run(inside)
    out.append((ctx[var], ctx.get(other, "none"), var in ctx, other in ctx, len(ctx) >= 1))
    out.append(sorted(v.name for v in ctx if v in (var, other)))
    try:
        var.reset(t1)  # made in another context
    except ValueError:
        out.append("other context")
    copy = ctx.copy()
    copy.run(var.set, "copied")
    out.append((ctx[var], copy[var], var.get()))
    t = var.set("here")
    var.reset(t)
    out.append(var.get())
    assert out == [
        "lookup", ("given", "unset", "arg wins", "other"), (True, True, "one"), "ValueError",
        ("reset", "one"), "used", "entered", ("one", "none", True, False, True), ["var"],
        "other context", ("one", "copied", "unset"), "unset"], out


def test_to_thread_and_call_soon_threadsafe_keep_working_with_contexts():
    contextvars, var = _var()

    async def main():
        loop = asyncio.get_running_loop()
        var.set("main")
        done = asyncio.Event()
        got = []
        loop.call_soon(lambda: got.append(var.get()))
        loop.call_soon(done.set)
        await done.wait()
        t = asyncio.create_task(asyncio.sleep(0))
        await t
        return got, var.get(), t.get_context() is not None

    _fresh()
    assert asyncio.run(main()) == (["main"], "main", True)
