# A TaskGroup whose tasks (or body) fail raises an ExceptionGroup, as CPython 3.11's does: the
# built-in on CPython, shimeji.asyncio's stand-in on MicroPython (no built-in there), caught on
# both as asyncio.ExceptionGroup. A failed child keeps its exception (Task.exception() used to
# return None: the group's wrapper swallowed it) and is not reported to the exception handler.
# Each expected list is what CPython 3.11's asyncio gives for the same program.
import gc

import shimeji.asyncio as asyncio
from support import raises


def _fresh():
    asyncio.set_event_loop(None)
    gc.collect()
    return asyncio.new_event_loop()


async def _fail(out, name, ms, exc=ValueError):
    await asyncio.sleep_ms(ms)
    out.append(name)
    raise exc(name)


async def _fail_on(out, name, go, exc=ValueError):
    await go.wait()
    out.append(name)
    raise exc(name)


async def _slow(out, name):
    try:
        await asyncio.sleep(60)
    except asyncio.CancelledError:
        out.append(name + " cancelled")
        raise


def test_failed_children_keep_their_exception_and_the_group_holds_them_all():
    _fresh()
    reports = []
    asyncio.get_event_loop().set_exception_handler(lambda loop, ctx: reports.append(ctx))

    async def main():
        out = []
        go = asyncio.Event()
        try:
            async with asyncio.TaskGroup() as tg:
                a = tg.create_task(_fail_on(out, "a", go))
                b = tg.create_task(_fail_on(out, "b", go, KeyError))
                s = tg.create_task(_slow(out, "s"))
                go.set()  # a and b fail in the same round (two sleeps could end a tick apart)
        except asyncio.ExceptionGroup as e:
            group = e
            out.append(str(group))
            out.append([(type(e).__name__, e.args) for e in group.exceptions])
        out.append((type(a.exception()).__name__, type(b.exception()).__name__, s.cancelled()))
        out.append(a.exception() is group.exceptions[0])
        try:
            await a
        except ValueError as e:
            out.append("await a: " + str(e))
        await asyncio.sleep_ms(5)  # a round for any report of an unretrieved exception
        return out

    try:
        out = asyncio.run(main())
    finally:
        asyncio.get_event_loop().set_exception_handler(None)
    assert out == ["a", "b", "s cancelled", "unhandled errors in a TaskGroup (2 sub-exceptions)",
                   [("ValueError", ("a",)), ("KeyError", ("b",))],
                   ("ValueError", "KeyError", True), True, "await a: a"]
    assert reports == []


def test_the_bodys_own_error_joins_the_group_after_the_tasks():
    _fresh()

    async def main():
        out = []
        try:
            async with asyncio.TaskGroup() as tg:
                tg.create_task(_slow(out, "s"))
                await asyncio.sleep(0)
                raise OSError("body")
        except asyncio.ExceptionGroup as eg:
            out.append([(type(e).__name__, str(e)) for e in eg.exceptions])
        try:
            async with asyncio.TaskGroup() as tg:
                tg.create_task(_fail(out, "x", 1))
                try:
                    await asyncio.sleep(60)
                finally:
                    raise OSError("body too")  # replaces the group's cancel of the body
        except asyncio.ExceptionGroup as eg:
            out.append([str(e) for e in eg.exceptions])
        return out

    assert asyncio.run(main()) == ["s cancelled", [("OSError", "body")], "x", ["x", "body too"]]


def test_a_group_with_no_error_raises_none_and_a_base_error_passes_as_it_is():
    _fresh()

    class Stop(BaseException):
        pass

    async def val(x):
        await asyncio.sleep_ms(1)
        return x

    async def main():
        out = []
        async with asyncio.TaskGroup() as tg:
            t = tg.create_task(val(7))
        out.append(t.result())
        try:
            async with asyncio.TaskGroup() as tg:
                tg.create_task(_slow(out, "s"))
                await asyncio.sleep(0)
                raise Stop
        except Stop:
            out.append("Stop")
        return out

    assert asyncio.run(main()) == [7, "s cancelled", "Stop"]


def test_split_and_subgroup_pick_exceptions_by_type_or_predicate():
    eg = asyncio.ExceptionGroup("m", [ValueError(1), KeyError(2), ValueError(3)])
    match, rest = eg.split(ValueError)
    assert [e.args[0] for e in match.exceptions] == [1, 3]
    assert [e.args[0] for e in rest.exceptions] == [2]
    assert match.message == "m"
    assert eg.subgroup(lambda e: e.args[0] == 2).exceptions[0].args == (2,)
    assert eg.subgroup(OSError) is None
    assert eg.split((KeyError, ValueError))[1] is None
    assert isinstance(eg, Exception)
    with raises(asyncio.ExceptionGroup, "m (3 sub-exceptions)"):
        raise eg
