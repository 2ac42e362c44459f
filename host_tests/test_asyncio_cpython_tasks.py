# current_task() in callbacks and outside a loop (the REPL), run()'s main task, and
# Task.cancelling()/uncancel() with timeout() and TaskGroup using them: CPython 3.11's semantics.
# Each program runs on shimeji.asyncio (both runtimes) and, under CPython, on CPython's own
# asyncio too: the event lists asserted are what CPython 3.11 gives.
import gc
import time

import shimeji.asyncio as asyncio
from shimeji import core
from support import IS_MICROPYTHON, needs_threads, raises, wait_until


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


def _is_none_or_task(aio, t):
    return "None" if t is None else ("Task" if isinstance(t, aio.Task) else repr(t))


async def _in_callbacks(aio):
    out = []
    loop = aio.get_running_loop()
    ct = aio.current_task
    loop.call_soon(lambda: out.append(("call_soon", _is_none_or_task(aio, ct()))))
    loop.call_later(0.001, lambda: out.append(("call_later", _is_none_or_task(aio, ct()))))
    fut = loop.create_future()
    fut.add_done_callback(lambda f: out.append(("future cb", _is_none_or_task(aio, ct()))))
    fut.set_result(1)

    async def child():
        return 5

    t = aio.create_task(child())
    t.add_done_callback(lambda f: out.append(("task cb", _is_none_or_task(aio, ct()))))
    await aio.sleep(0.01)
    out.append(("task", _is_none_or_task(aio, ct())))
    return out


def test_current_task_is_none_inside_callbacks_and_the_task_inside_a_task():
    # (it was the callback's own shimeji task, a JoinHandle)
    _check(_in_callbacks, [("call_soon", "None"), ("future cb", "None"), ("task cb", "None"),
                           ("call_later", "None"), ("task", "Task")])


def test_current_task_and_get_running_loop_raise_outside_a_running_loop():
    _fresh()
    with raises(RuntimeError, "no running event loop"):
        asyncio.current_task()
    with raises(RuntimeError, "no running event loop"):
        asyncio.get_running_loop()


def test_current_task_at_the_repl_is_not_a_task_a_loop_thread_polls():
    # The bug: a loop polling on another thread (ThreadBackground, or a thread running
    # asyncio.run) sets the interpreter's shared context (core.context.slot); the REPL's
    # thread calling current_task() mid-poll got that thread's task. As the loop's thread
    # leaves the context mid-poll:
    _fresh()
    ctx = core.context
    assert ctx.slot is None
    ctx.slot = object()
    try:
        with raises(RuntimeError, "no running event loop"):
            asyncio.current_task()
    finally:
        ctx.slot = None


@needs_threads
def test_current_task_on_another_thread_than_a_running_loop_raises():
    import _thread

    _fresh()
    state = {"seen": None, "stop": False, "done": False}

    async def spinner():
        me = asyncio.current_task()
        while not state["stop"]:
            await asyncio.sleep(0)
        return me

    def run_loop():
        try:
            state["seen"] = asyncio.run(spinner())
        finally:
            state["done"] = True

    _thread.start_new_thread(run_loop, ())
    try:
        wait_until(lambda: asyncio.get_event_loop().is_running() or state["done"],
                   "the loop thread to run")
        for _ in range(200):  # (mid-poll or between polls: neither is this thread's task)
            with raises(RuntimeError, "no running event loop"):
                asyncio.current_task()
            with raises(RuntimeError, "no running event loop"):
                asyncio.get_running_loop()
            time.sleep(0.0002)
    finally:
        state["stop"] = True
        wait_until(lambda: state["done"], "the loop thread to end")
    assert isinstance(state["seen"], asyncio.Task)


def _main_task(aio):
    out = []

    async def main():
        me = aio.current_task()
        out.append((me.get_name()[:5], me in aio.all_tasks(), me.done()))  # (Task-<n>)
        me.add_done_callback(lambda t: out.append(
            ("main done", t.result(), _is_none_or_task(aio, aio.current_task()))))
        await aio.sleep(0)
        return "result"

    return main, out


def test_runs_main_task_is_named_listed_and_calls_its_done_callbacks_before_run_returns():
    # (its done callbacks were never called: run() returned the moment it finished)
    main, out = _main_task(asyncio)
    _fresh()
    assert asyncio.run(main()) == "result"
    expected = [("Task-", True, False), ("main done", "result", "None")]
    assert out == expected
    if not IS_MICROPYTHON:
        import asyncio as cpython_asyncio

        main, out = _main_task(cpython_asyncio)
        assert cpython_asyncio.run(main()) == "result"
        assert out == expected, "CPython differs"


async def _cancelling(aio):
    out = []

    async def sleeper():
        try:
            await aio.sleep(1)
        except aio.CancelledError:
            out.append(("inside", aio.current_task().cancelling()))
            raise

    t = aio.create_task(sleeper())
    await aio.sleep(0)
    out.append(("before", t.cancelling()))
    t.cancel()
    t.cancel()
    out.append(("after two", t.cancelling()))
    try:
        await t
    except aio.CancelledError:
        pass
    out.append(("done", t.cancelling(), t.uncancel(), t.uncancel(), t.uncancel()))
    out.append(("cancel a done task", t.cancel(), t.cancelling()))
    return out


def test_cancelling_counts_cancel_requests_and_uncancel_takes_them_back():
    _check(_cancelling, [("before", 0), ("after two", 2), ("inside", 2), ("done", 2, 1, 0, 0),
                         ("cancel a done task", False, 0)])


async def _outside_cancel_at_the_deadline(aio):
    out = []

    async def inner():
        try:
            async with aio.timeout(0.005) as cm:
                await aio.sleep(1)
        except aio.TimeoutError:
            out.append("timeout swallowed the cancel")
        out.append(("went on", cm.expired()))

    t = aio.create_task(inner())
    # This task's deadline is armed first, the same delay: it never wakes after the timeout's.
    await aio.sleep(0.005)
    t.cancel()
    try:
        await t
        out.append("not cancelled")
    except aio.CancelledError:
        out.append(("cancelled", t.cancelling()))
    return out


def test_a_cancel_from_outside_at_the_timeouts_deadline_is_not_swallowed():
    # (the block's timeout() turned it into TimeoutError when it had expired too: the task
    # went on as if only the timeout had struck)
    _check(_outside_cancel_at_the_deadline, [("cancelled", 1)])


async def _nested_timeouts(aio):
    out = []
    loop = aio.get_running_loop()
    when = loop.time() + 0.005
    try:
        async with aio.timeout_at(when) as outer:
            try:
                async with aio.timeout_at(when) as inner:
                    await aio.sleep(1)
            except aio.TimeoutError:
                out.append("the inner block raised it")
            out.append("after the inner block")
            await aio.sleep(0)
    except aio.TimeoutError:
        out.append(("the outer block raised it", inner.expired(), outer.expired()))
    out.append(("cancelling", aio.current_task().cancelling()))
    return out


def test_two_timeouts_expiring_together_the_outermost_raises_timeouterror():
    # CPython's rule: "the top-most affected timeout() converts CancelledError"
    _check(_nested_timeouts, [("the outer block raised it", True, True), ("cancelling", 0)])


async def _group_cancels(aio):
    out = []

    async def bad():
        await aio.sleep(0)
        raise ValueError("x")

    async def group(then_sleep):
        try:
            async with aio.TaskGroup() as tg:
                tg.create_task(bad())
                await aio.sleep(1)
        except BaseException as eg:  # noqa: BLE001 (an ExceptionGroup on both runtimes)
            out.append((type(eg).__name__.endswith("ExceptionGroup"),
                        aio.current_task().cancelling()))
        if then_sleep:
            await aio.sleep(0)
            out.append("slept on")

    await aio.create_task(group(False))  # the group's own cancel of its body is taken back
    g = aio.create_task(group(True))
    await aio.sleep(0)
    await aio.sleep(0)
    g.cancel()  # from outside while the group aborts: still counted
    try:
        await g
    except aio.CancelledError:
        out.append("cancelled")
    return out


def test_a_taskgroup_takes_back_its_own_cancel_of_the_body_and_only_that():
    # (the body's task kept cancelling() == 1 after the group's own cancel)
    _check(_group_cancels, [(True, 0), (True, 1), "slept on"])
