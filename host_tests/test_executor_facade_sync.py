"""The rest of the asyncio facade on an executor's worker (issue 14, session 21): a Future's
``remove_done_callback`` (supported from any thread; a Task's refused on a worker, as its
``add_done_callback``), ``Condition`` shared by a worker's task and the loop's (supported),
``Queue`` (refused on a worker with ``WrongThread`` naming shimeji's ``Channel``), and a
done callback the loop adds while a worker's task registers on the same Future (never lost).
Streams are in test_executor_facade_streams.py (host only: sockets).

Until session 21 a callback the loop added between a worker task's read of the callback list
and its registration was dropped (the worker swapped in a copy of the list it read), a
Condition's waiter left the waiters' list without the lock, and a Queue on a worker changed
its list with no lock from two threads."""

import shimeji.asyncio as asyncio
from facadehelp import fresh_loop
from shimeji import Channel, Executor, WrongThread, core, sleep_ms, timeout
from support import Bound, nap, needs_extra_threads

try:
    from _thread import get_ident
except ImportError:  # (no threads: every test here is skipped)
    get_ident = None


def _executor():
    ex = Executor(workers=2, capacity=8)  # worker 0 is left unrun; worker 1 on its thread
    ex.start()
    return ex


def _stop(ex):
    ex.close()
    ex.join()
    assert not ex.errors, ex.errors
    assert not core._threads


async def _until(pred, what, seconds=30):
    bound = Bound(seconds)
    while not pred():
        if bound.passed():
            raise AssertionError("waited %d s for %s" % (seconds, what))
        await asyncio.sleep_ms(1)


def _run(main):
    fresh_loop()
    return asyncio.run(main())


class _SlowList(list):
    """A Future's callback list whose copy (``old + [me]``: a worker task's registration)
    is taken at once but handed back only after the loop has added a callback (at most 5 s):
    the add falls between the worker's read of the list and its swap, every time."""

    worker_thread = [None]  # (set on the instance: MicroPython's list has no __init__)
    copying = False
    added = False

    def __add__(self, other):
        copy = list(self) + other
        if get_ident() == self.worker_thread[0]:
            self.copying = True
            bound = Bound(5)
            while not self.added and not bound.passed():
                nap()
        return copy


@needs_extra_threads(1)
def test_a_callback_the_loop_adds_while_a_worker_task_registers_is_not_lost():
    ex = _executor()
    ran = []
    worker_thread = [None]

    async def main():
        loop = asyncio.get_running_loop()
        fut = loop.create_future()
        fut.add_done_callback(lambda f: ran.append(("first", get_ident())))
        slow = fut._callbacks = _SlowList(fut._callbacks)
        slow.worker_thread = worker_thread

        async def on_worker():
            worker_thread[0] = get_ident()
            return await fut

        h = ex.workers[1].spawn(on_worker())
        await _until(lambda: slow.copying, "the worker's registration")
        fut.add_done_callback(lambda f: ran.append(("second", get_ident())))
        slow.added = True
        await _until(lambda: fut._waiters is not None and fut._waiters.count == 1
                     and len(fut._callbacks) == 3, "the worker's registration to land", 10)
        fut.set_result(4)
        await _until(lambda: h.is_complete() and len(ran) == 2, "the callbacks and the worker")
        return h.result(), get_ident()

    try:
        got, loop_thread = _run(main)
    finally:
        _stop(ex)
    assert got == 4
    assert ran == [("first", loop_thread), ("second", loop_thread)], ran


@needs_extra_threads(1)
def test_remove_done_callback_of_a_future_works_on_a_worker_and_a_tasks_is_refused():
    ex = _executor()
    ran = []
    out = {}

    def a(f):
        ran.append("a")

    def b(f):
        ran.append("b")

    async def main():
        loop = asyncio.get_running_loop()
        fut = loop.create_future()
        task = asyncio.create_task(sleep_ms(1))
        task.add_done_callback(a)
        for fn in (a, b, a):
            fut.add_done_callback(fn)

        async def on_worker():
            out["removed"] = fut.remove_done_callback(a)
            try:
                task.remove_done_callback(a)
            except WrongThread as e:
                out["task"] = str(e)
            out["got"] = await fut  # (its own registration is kept by a later remove)
            return fut.remove_done_callback(b)  # done: nothing left to remove

        h = ex.workers[1].spawn(on_worker())
        await _until(lambda: fut._waiters is not None and fut._waiters.count == 1,
                     "the worker's await")
        assert fut.remove_done_callback(print) == 0  # the loop's remove keeps the awaiter
        fut.set_result(8)
        await _until(h.is_complete, "the worker's task")
        await task
        await asyncio.sleep_ms(5)  # (the task's callback runs after it)
        return h.result()

    try:
        assert _run(main) == 0
    finally:
        _stop(ex)
    assert out["removed"] == 2 and out["got"] == 8, out
    assert "worker" in out["task"] and "Task.remove_done_callback()" in out["task"], out
    assert "spawn(coro)" in out["task"], out
    assert sorted(ran) == ["a", "b"], ran  # b once (the Future), a once (the Task)


@needs_extra_threads(1)
def test_a_condition_is_shared_by_a_worker_task_and_the_loops_task():
    # Turns taken in strict alternation, 100 each: a lost notify or a waiter left behind
    # stops the exchange (bounded: the loop's side by wait_for, the worker's by _until).
    ex = _executor()
    n = 100
    state = [0]
    order = []

    async def main():
        cond = asyncio.Condition()

        async def side(parity, who):
            for _ in range(n):
                async with cond:
                    await cond.wait_for(lambda: state[0] % 2 == parity)
                    order.append(who)
                    state[0] += 1
                    cond.notify_all()

        h = ex.workers[1].spawn(side(1, "worker"))
        await asyncio.wait_for(side(0, "loop"), 60)
        await _until(h.is_complete, "the worker's last turn")
        h.result()
        async with cond:  # the loop's own use afterwards
            cond.notify()
        return len(cond._waiters), cond.locked()

    try:
        assert _run(main) == (0, False)
    finally:
        _stop(ex)
    assert state[0] == 2 * n
    assert order == ["loop", "worker"] * n


@needs_extra_threads(1)
def test_a_queue_is_refused_on_a_worker_and_a_channel_works_there():
    ex = _executor()
    refused = []
    got = []

    async def main():
        q = asyncio.Queue()
        q.put_nowait("kept")
        ch = Channel(4)

        async def on_worker():
            for what, call in (("Queue.put_nowait()", lambda: q.put_nowait(1)),
                               ("Queue.get_nowait()", q.get_nowait),
                               ("Queue.task_done()", q.task_done)):
                try:
                    call()
                except WrongThread as e:
                    refused.append((what, what in str(e) and "Channel" in str(e)))
            for what, make in (("Queue.put()", lambda: q.put(2)), ("Queue.get()", q.get),
                               ("Queue.join()", q.join)):
                try:
                    await timeout(make(), 2000)  # (let through, a join would wait for ever)
                except WrongThread as e:
                    refused.append((what, what in str(e) and "Channel" in str(e)))
            for i in range(10):  # what the message says to use instead
                await ch.send(i)
            return q.qsize()

        h = ex.workers[1].spawn(on_worker())
        for _ in range(10):  # (bounded: a worker task that failed sends nothing)
            got.append(await timeout(ch.recv(), 30000))
        await _until(h.is_complete, "the worker's task")
        left = q.get_nowait()  # the loop's own Queue, untouched by the refused calls
        q.task_done()
        await q.join()
        return h.result(), left, q.qsize()

    try:
        assert _run(main) == (1, "kept", 0)
    finally:
        _stop(ex)
    assert refused == [("Queue.put_nowait()", True), ("Queue.get_nowait()", True),
                       ("Queue.task_done()", True), ("Queue.put()", True),
                       ("Queue.get()", True), ("Queue.join()", True)], refused
    assert got == list(range(10))
