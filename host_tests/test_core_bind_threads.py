# The calls that bind an awaitable to the calling task when called (sleep_ms/sleep_us/
# sleep_until: the task's timer entry; timeout(): its guard; wait_readable/wait_writable: its
# I/O object) on another thread than a ThreadBackground's loop thread (the REPL's). That
# thread polls with the interpreter's context, which the REPL's thread shares: mid-poll, a
# sleep_ms() typed at the REPL found the loop's task there and armed its timer entry. While
# a loop thread runs, those modules find the task by the calling thread (their
# check_threads); the hot paths' look-ups are unchanged otherwise. Both runtimes.
import time

from shimeji import (
    NoCurrentTask,
    StaticScheduler,
    Timer,
    core,
    sleep_ms,
    sleep_until,
    sleep_us,
    timeout,
    wait_readable,
    wait_writable,
    yield_now,
)
from shimeji.io import wait as waitmod
from shimeji.platform.bsp import BoardBase
from shimeji.sched import background as bgmod
from shimeji.sched.background import ThreadBackground
from shimeji.sched.runloop import RunLoop
from shimeji.time import deadline as deadlinemod
from shimeji.time import sleep as sleepmod
from support import needs_thread_module, needs_threads, wait_until


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


def _checked():
    return (sleepmod._bound[0] is sleepmod._CHECKED and sleepmod._slot_of is core.task_slot
            and deadlinemod._slot_of is core.task_slot and waitmod._context is waitmod._UNSET)


def _fast():
    return (sleepmod._bound[0] is core.context and sleepmod._slot_of is core.current_slot
            and deadlinemod._slot_of is core.current_slot and waitmod._context is core.context)


class _MidPoll:
    """As a loop thread (``ident``) leaves the interpreter's context mid-poll of a task: its
    slot set, and the binding modules switched as the thread's start switches them."""

    def __init__(self, ident):
        self.sched = StaticScheduler(2, timer=Timer())
        self.handle = self.sched.spawn(_nothing(), "loop's task")
        self.slot = self.sched.live_slots()[0]
        self.ident = ident

    def __enter__(self):
        assert core.context.slot is None and not bgmod._loop_threads
        self.keep = core.slot_here[0]
        bgmod._loop_threads[self.ident] = True
        core.slot_here[0] = bgmod._slot_here
        bgmod._check_threads(True)
        core.context.slot = self.slot
        core.context.sched = self.sched
        return self

    def __exit__(self, *exc):
        core.context.slot = None
        core.context.sched = None
        bgmod._loop_threads.pop(self.ident, None)
        bgmod._check_threads(False)
        core.slot_here[0] = self.keep
        self.slot.timer.cancel()
        self.sched.close()
        return False


@needs_thread_module
def test_another_thread_mid_poll_binds_nothing_to_the_loops_task():
    import _thread

    assert _fast()
    with _MidPoll(-1) as mid:  # -1: no thread's ident (this thread is not the loop's)
        assert _checked()
        slot = mid.slot
        guard = slot.timeout_guard
        for fn, arg in ((sleep_ms, 10), (sleep_us, 500), (sleep_until, 0), (wait_readable, mid),
                        (wait_writable, mid)):
            _raises_no_task(fn, arg)
        coro = _nothing()
        _raises_no_task(timeout, coro, 10)
        coro.close()
        assert slot.timer.pos < 0  # the loop's task: no timer entry armed,
        assert slot.timeout_guard is guard  # no guard taken,
        assert slot.io_obj is None  # no object recorded
    assert _fast()
    with _MidPoll(_thread.get_ident()) as mid:  # the loop's own thread: its task, as before
        assert sleep_ms(10) is not None
        assert mid.slot.timer.pos >= 0
        mid.slot.timer.cancel()
        assert wait_readable(mid) is not None and mid.slot.io_obj is mid
        mid.slot.io_obj = None


def test_without_a_loop_thread_the_look_ups_are_the_fast_ones():
    assert not bgmod._loop_threads and _fast()
    sched = StaticScheduler(2, timer=Timer())
    seen = []

    async def me():
        aw = sleep_ms(1)
        seen.append(sched.live_slots()[0].timer.pos >= 0)
        await aw

    sched.spawn(me(), "me")
    sched.tick()
    assert seen == [True]
    try:
        sleep_ms(1)  # outside any task: the fast path's own error, as before
    except NoCurrentTask as e:
        assert "inside a task" in str(e)
    else:
        raise AssertionError("sleep_ms() outside a task did not raise")
    sched.close()


@needs_threads
def test_the_repl_thread_cannot_arm_a_background_loops_task():
    sched = StaticScheduler(4, timer=Timer())
    bg = ThreadBackground(_Board(), RunLoop(sched, max_idle_us=200))
    state = {"stop": False, "sleeps": 0, "polls": 0}

    async def sleeper():  # sleeps in the loop thread work as before
        while not state["stop"]:
            await sleep_ms(1)
            state["sleeps"] += 1
        return state["sleeps"]

    async def spinner():  # keeps the loop thread mid-poll much of the time
        while not state["stop"]:
            state["polls"] += 1
            await yield_now()
        return 0

    bg.start()
    try:
        hs = bg.spawn(sleeper(), "sleeper")
        hp = bg.spawn(spinner(), "spinner")
        wait_until(lambda: state["sleeps"] > 2 or hs.is_complete(), "the sleeper's sleeps")
        assert _checked()
        for _ in range(300):  # mid-poll or between polls: never this thread's task
            _raises_no_task(sleep_ms, 5)
            _raises_no_task(wait_readable, state)
            coro = _nothing()
            _raises_no_task(timeout, coro, 5)
            coro.close()
        assert not hs.is_complete() and not hp.is_complete()
    finally:  # a failure above must not leave the loop thread polling for the next tests
        state["stop"] = True
        try:
            wait_until(lambda: hs.is_complete() and hp.is_complete(), "the tasks to end")
        finally:
            stopped = bg.stop()
    assert stopped is True
    assert hs.result() > 2 and hp.result() == 0
    assert not bgmod._loop_threads and _fast()  # no loop thread left: as before
    sched.close()
