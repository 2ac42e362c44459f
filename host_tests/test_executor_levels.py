"""Spawns across levels on an executor (issue 14): a worker's task spawns while an
interrupt-level scheduler polls on the main thread (the level's context is the interpreter's,
which a worker's spawn check must not read), and an interrupt-level task spawns onto the
executor (from no worker: into the injector). Until session 20 the first was refused with
``WrongLevel``: the spawn checks read the interpreter's context's scheduler."""

from levelhelp import settle
from shimeji import (
    Executor,
    InterruptScheduler,
    JoinHandle,
    WaitCell,
    WrongLevel,
    core,
    sleep_ms,
    spawn,
)
from support import (
    Bound,
    nap,
    needs_extra_threads,
    needs_thread_module,
    start_thread,
    wait_until,
)


async def _child(log, what):
    log.append(what)
    return what


def _level_spinning_until(cell, flag, log):
    # An interrupt-level task that, once woken, holds the main thread (its poll lasts) until
    # ``flag[0]``: meanwhile the interpreter's context holds the level's scheduler. It naps
    # (a blocking sleep): with a GIL a spinning callback would keep the workers from running.
    async def urgent():
        await cell.wait()
        log.append("level polls")
        bound = Bound(30)
        while not flag[0] and not bound.passed():
            nap()
        log.append("level ends")

    return urgent


@needs_extra_threads(1)
def test_a_worker_task_spawns_while_an_interrupt_level_polls_on_the_main_thread():
    isr = InterruptScheduler(2)
    cell = WaitCell()
    flag = [False]
    log = []
    isr.spawn(_level_spinning_until(cell, flag, log)())
    settle()
    ex = Executor(workers=2, capacity=8)  # (worker 0 is left unrun: start())
    out = {}

    async def on_worker():
        while "level polls" not in log:
            await sleep_ms(1)
        try:
            out["spawn"] = await spawn(_child(log, "spawn"))
            out["ex.spawn"] = await ex.spawn(_child(log, "ex.spawn"))
            out["worker.spawn"] = await ex.workers[1].spawn(_child(log, "worker.spawn"))
        except WrongLevel as e:
            out["refused"] = str(e)
        finally:
            flag[0] = True

    h = ex.workers[1].spawn(on_worker())
    ex.start()
    try:
        cell.wake()
        settle()  # the level runs here, on the main thread, until the worker's spawns end
        wait_until(h.is_complete, "the worker's task")
    finally:
        flag[0] = True
        ex.close()
        ex.join()
        isr.close()
    assert "refused" not in out, out
    assert out == {"spawn": "spawn", "ex.spawn": "ex.spawn", "worker.spawn": "worker.spawn"}, out
    assert log.index("level ends") > log.index("worker.spawn"), log  # (spawned mid-level)
    assert not ex.errors and not core._threads


@needs_thread_module
def test_an_interrupt_level_task_spawns_onto_an_executor_through_its_injector():
    isr = InterruptScheduler(2)
    cell = WaitCell()
    log = []
    ex = Executor(workers=1, capacity=4)
    handles = []

    async def urgent():
        await cell.wait()
        try:
            handles.append(ex.spawn(_child(log, "from the level")))
        except WrongLevel as e:
            handles.append(str(e))

    isr.spawn(urgent())
    settle()
    cell.wake()
    settle()
    try:
        assert len(handles) == 1 and isinstance(handles[0], JoinHandle), handles
        assert ex.injector.count == 1 and ex.injector.pushed == 1  # queued there, not run yet
        assert log == []

        async def main():
            return await handles[0]

        assert ex.run(main()) == "from the level"
    finally:
        isr.close()
    assert log == ["from the level"]
    assert ex.workers[0].stats()["injected"] == 1  # worker 0 took it from the injector


def _spawns_from_a_third_thread(ex, log, out):
    # Every spawn a thread that is neither a worker's nor the level's home thread can make,
    # while the interrupt level polls there: each lands, none is refused. Until session 21
    # a worker's own spawn (``w.spawn``...) was refused with ``WrongLevel`` there: its level
    # check read the interpreter's context, which names the level to every thread.
    from shimeji import TaskSlot

    w = ex.workers[-1]  # (the one that runs: worker 1 on its thread if started, else 0)
    got = out["handles"] = []
    try:
        got.append(ex.spawn(_child(log, "ex.spawn")))
        ex.spawn_detached(_child(log, "ex.spawn_detached"))
        got.append(w.spawn(_child(log, "worker.spawn")))
        w.spawn_detached(_child(log, "worker.spawn_detached"))
        got.append(w.spawn_allocated(TaskSlot(), _child(log, "spawn_allocated")))
    except WrongLevel as e:
        out["refused"] = str(e)


def _third_thread_spawns_while_the_level_polls(workers, started):
    isr = InterruptScheduler(2)
    cell = WaitCell()
    flag = [False]
    log = []
    isr.spawn(_level_spinning_until(cell, flag, log)())
    settle()
    ex = Executor(workers=workers, capacity=8)
    out = {}

    def third():
        try:
            wait_until(lambda: "level polls" in log, "the level's poll")
            _spawns_from_a_third_thread(ex, log, out)
        finally:
            out["done"] = True
            flag[0] = True

    if started:
        ex.start()  # workers 1.. on their threads (registered), worker 0 left unrun
    start_thread(third)
    try:
        cell.wake()
        settle()  # the level polls here, on the main thread, until the third thread is done
        wait_until(lambda: "done" in out, "the third thread")
        assert log.index("level ends") > log.index("level polls"), log
        assert "refused" not in out, out

        async def main():
            results = []
            for h in out["handles"]:
                results.append(await h)
            return results

        if started:
            results = ex.run_worker(0, main())  # (worker 1 runs what is its own)
        else:
            results = ex.run(main())
    finally:
        flag[0] = True
        ex.close()
        ex.join()
        isr.close()
    assert results == ["ex.spawn", "worker.spawn", "spawn_allocated"], results
    ran = [what for what in log if not what.startswith("level")]
    assert sorted(ran) == sorted(["ex.spawn", "ex.spawn_detached", "worker.spawn",
                                      "worker.spawn_detached", "spawn_allocated"]), log
    assert not ex.errors and not core._threads


@needs_extra_threads(1)
def test_a_third_thread_spawns_while_an_interrupt_level_polls_on_the_main_thread():
    _third_thread_spawns_while_the_level_polls(1, started=False)


@needs_extra_threads(2)
def test_a_third_thread_spawns_beside_running_workers_while_an_interrupt_level_polls():
    _third_thread_spawns_while_the_level_polls(2, started=True)
