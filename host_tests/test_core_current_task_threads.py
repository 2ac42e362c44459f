# shimeji.current_task() and spawn() on another thread than a ThreadBackground's loop thread
# (the REPL's): that thread polls with the interpreter's context, which the REPL's thread
# shares, so mid-poll the REPL found the loop's task there. Both runtimes.
import time

from shimeji import NoCurrentTask, StaticScheduler, core, current_task, spawn, yield_now
from shimeji.platform.bsp import BoardBase
from shimeji.sched import background as bgmod
from shimeji.sched.background import ThreadBackground
from shimeji.sched.runloop import RunLoop
from support import alloc_delta, micropython_only, needs_thread_module, needs_threads, wait_until


class _Board(BoardBase):
    NAME = "fake"

    def idle(self, us):
        time.sleep(0.0002)


async def _nothing():
    return 0


def _raises_no_task(fn, *args):
    try:
        fn(*args)
    except NoCurrentTask as e:
        assert "bg.spawn" in str(e) and "thread of its own" in str(e), str(e)
        return
    raise AssertionError("%r did not raise NoCurrentTask" % (fn,))


class _MidPoll:
    """As a loop thread (``ident``) leaves the interpreter's context mid-poll: its slot set."""

    def __init__(self, ident):
        self.sched = StaticScheduler(2)
        self.handle = self.sched.spawn(_nothing(), "loop's task")
        self.slot = self.sched.live_slots()[0]
        self.ident = ident

    def __enter__(self):
        assert core.context.slot is None
        self.keep = core.slot_here[0]
        bgmod._loop_threads[self.ident] = True
        core.slot_here[0] = bgmod._slot_here
        core.context.slot = self.slot
        return self

    def __exit__(self, *exc):
        core.context.slot = None
        bgmod._loop_threads.pop(self.ident, None)
        core.slot_here[0] = self.keep
        self.sched.close()
        return False


@needs_thread_module
def test_another_thread_mid_poll_is_in_no_task():
    import _thread

    with _MidPoll(-1):  # -1: no thread's ident
        _raises_no_task(current_task)
        coro = _nothing()
        _raises_no_task(spawn, coro)
        coro.close()
        assert core.current_slot() is core.context.slot  # the hot paths' read is unchanged
    with _MidPoll(_thread.get_ident()) as mid:  # the loop's own thread: its task
        assert current_task() is mid.handle
    with _MidPoll(-1) as mid:  # no loop thread runs any more: the context answers again
        bgmod._loop_threads.pop(-1)
        assert current_task() is mid.handle


def test_without_a_background_thread_the_context_answers():
    keep = core.slot_here[0]
    core.slot_here[0] = None
    try:
        sched = StaticScheduler(2)
        seen = []

        async def me():
            seen.append(current_task())
            await yield_now()
            seen.append(spawn(_nothing(), "child"))

        h = sched.spawn(me(), "me")
        sched.tick()
        assert seen[0] is h and seen[1].name == "child"
        try:
            current_task()
        except NoCurrentTask as e:
            assert "inside a task" in str(e)
        else:
            raise AssertionError("current_task() outside a task did not raise")
        sched.close()
    finally:
        core.slot_here[0] = keep


@micropython_only
@needs_thread_module
def test_current_task_in_the_loop_threads_task_allocates_nothing():
    import _thread

    out = []

    def read():
        out.append(current_task())
        out.pop()

    out.append(None)
    out.pop()
    with _MidPoll(_thread.get_ident()):
        read()
        assert alloc_delta(read) == 0


@needs_threads
def test_the_repl_thread_is_in_no_task_while_a_background_loop_polls():
    sched = StaticScheduler(4)
    bg = ThreadBackground(_Board(), RunLoop(sched, max_idle_us=200))
    state = {"stop": False, "mine": 0, "polls": 0}

    async def spinner():
        me = current_task()
        while not state["stop"]:
            assert current_task() is me  # its own thread still finds it
            state["polls"] += 1
            await yield_now()
        child = spawn(_nothing(), "child")  # spawn() in a task of the loop thread works
        return me, child

    bg.start()
    try:
        h = bg.spawn(spinner(), "spinner")
        wait_until(lambda: state["polls"] > 0 or h.is_complete(), "the spinner's first poll")
        for _ in range(300):  # mid-poll or between polls: neither is this thread's task
            _raises_no_task(current_task)
            coro = _nothing()
            _raises_no_task(spawn, coro)
            coro.close()
    finally:  # a failure above must not leave the loop thread polling for the next tests
        state["stop"] = True
        try:
            wait_until(h.is_complete, "the spinner to end")
        finally:
            stopped = bg.stop()
    assert stopped is True
    me, child = h.result()
    assert me is h and child.name == "child"
    assert not bgmod._loop_threads  # the loop thread is gone: the context answers again
    seen = []

    async def here():
        seen.append(current_task())

    h2 = sched.spawn(here(), "here")
    sched.tick()
    assert seen == [h2]
    sched.close()
