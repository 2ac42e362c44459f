# Misuse of the round-two scheduler entry points: InterruptScheduler's arguments and its
# run_until_complete from a task (used to spin for ever), shimeji.spawn outside a task and
# join_all given what is not a handle. Each raises a ShimejiError subclass naming the argument
# or the state and what to do; afterwards the same scheduler runs its tasks, none lost.
from shimeji import (
    BadArgument,
    InterruptScheduler,
    NoCurrentTask,
    NotACoroutine,
    SchedulerBusy,
    ShimejiError,
    StaticScheduler,
    join_all,
    spawn,
    yield_now,
)
from support import raises


async def _value(x):
    await yield_now()
    return x


def test_interrupt_scheduler_arguments():
    for kw, words in (({"budget": 0}, "budget=0): give an int of at least 1"),  # (was a hang)
                      ({"budget": -1}, "budget=-1"),
                      ({"budget": 1.5}, "budget=1.5"),
                      ({"budget": None}, "budget=None"),
                      ({"sections": None}, "sections=None): give a tuple of critical sections")):
        with raises(BadArgument, words) as r:
            InterruptScheduler(4, **kw)
        assert isinstance(r.value, ShimejiError)
    isr = InterruptScheduler(4, budget=1)  # the smallest budget still runs every task
    assert isr.run_until_complete(join_all(isr.spawn(_value(1)), isr.spawn(_value(2)))) == [1, 2]


def test_run_until_complete_from_a_task_is_refused_not_a_hang():
    isr = InterruptScheduler(4)
    thread_level = StaticScheduler(4)
    seen = []

    async def nested():
        c = _value(0)
        with raises(SchedulerBusy, "run_until_complete() from a task would wait for ever"):
            isr.run_until_complete(c)
        c.close()
        seen.append("refused")
        return "went on"

    assert isr.run_until_complete(nested()) == "went on"  # from its own level's task
    h = thread_level.spawn(nested())  # and from a thread-level task
    for _ in range(3):
        thread_level.tick()
    assert h.result() == "went on" and seen == ["refused", "refused"]
    assert isr.run_until_complete(_value(3)) == 3
    assert isr.tasks() == [] and thread_level.live_count() == 0


def test_spawn_outside_a_task_and_join_all_of_what_is_not_a_handle():
    c = _value(0)
    with raises(NoCurrentTask, "inside a task"):
        spawn(c)
    s = StaticScheduler(8)
    out = []

    async def main():
        kept = spawn(c)  # the coroutine refused outside is spawned fine from a task
        for bad in (None, 5, _value):
            with raises(NotACoroutine, "spawn() takes a coroutine object"):
                spawn(bad)
        for args, pos in (((None,), 1), ((kept, _value(9)), 2)):
            with raises(BadArgument, "join_all(*handles): argument %d is" % pos) as r:
                await join_all(*args)
            assert "spawn(coro), not coro" in str(r.value)
            if pos == 2:
                args[1].close()
        out.append(await join_all(kept, spawn(_value(1))))  # kept was not joined half-way
        out.append(await join_all())
        return "done"

    h = s.spawn(main())
    for _ in range(10):
        s.tick()
    assert h.result() == "done" and out == [[0, 1], []]
    assert s.live_count() == 0
