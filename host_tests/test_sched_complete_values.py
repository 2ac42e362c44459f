# A task that returns a value on a plain StaticScheduler's FIFO tick is completed by the tick in
# line, as one that returns None (no call to _complete): its handle keeps the value, its joiner
# gets it, its slot is freed, a name is cleared. A returned exception or TaskSlot (which the
# handle keeps wrapped), a failure, a cancel and a subclass's own _complete still go through
# _complete. Both runtimes.
from shimeji import Cancelled, StaticScheduler, TaskSlot, join_all, yield_now
from support import raises


async def give(value):
    return value


async def fail():
    raise KeyError("failed")


def counting(s):
    """Calls of ``s._complete`` that the tick makes (an instance attribute: the tick's test of
    the class's ``_complete`` still finds StaticScheduler's)."""
    calls = []

    def complete(slot, status, value):
        calls.append(value)
        StaticScheduler._complete(s, slot, status, value)

    s._complete = complete
    return calls


def drain(s):
    while s.tick().has_remaining:
        pass


def test_plain_values_complete_in_line_with_every_effect_of_complete():
    s = StaticScheduler(8)
    calls = counting(s)
    got = []

    async def joiner(h):
        got.append(await h)  # parks first: the value reaches it through the completion

    values = [1, "two", (3,), None, 4.5]
    hs = [s.spawn(give(v)) for v in values]
    s.spawn_detached(joiner(hs[0]))
    named = s.build_task().name("kept?").spawn(give("named"))
    drain(s)
    assert calls == []  # none of them went through _complete
    assert [h.result() for h in hs] == values
    assert got == [1]
    assert named.result() == "named" and named.name == "kept?"
    assert all(x.coro is None and x.name is None and list(x.w)[:3] == [0, 0, 0]
               and x.throw_exc is None for x in s.slots)
    assert s.live_count() == 0 and s.free_count() == 8
    assert s.completed_total == 7


def test_wrapped_values_failures_and_cancels_go_through_complete():
    s = StaticScheduler(6)
    calls = counting(s)
    err = ValueError("returned")
    own = TaskSlot()
    h_err = s.spawn(give(err))
    h_slot = s.spawn(give(own))
    h_fail = s.spawn(fail())
    h_cancel = s.spawn(give("never"))
    h_cancel.cancel()
    drain(s)
    assert len(calls) == 4
    assert h_err.result() is err and h_slot.result() is own
    with raises(KeyError, "failed"):
        h_fail.result()
    with raises(Cancelled):
        h_cancel.result()
    assert s.free_count() == 6


def test_a_subclass_with_its_own_complete_gets_every_value():
    seen = []

    class Counting(StaticScheduler):
        def _complete(self, slot, status, value):
            seen.append(value)
            StaticScheduler._complete(self, slot, status, value)

    s = Counting(4)
    hs = [s.spawn(give(i)) for i in range(3)]
    drain(s)
    assert sorted(seen) == [0, 1, 2]
    assert [h.result() for h in hs] == [0, 1, 2]


def test_slots_reused_after_value_completions_run_their_next_tasks_normally():
    s = StaticScheduler(3)
    calls = counting(s)

    async def driver():
        total = 0
        for round_ in range(5):
            hs = [s.spawn(give(round_ * 10 + i)) for i in range(2)]
            total += sum(await join_all(*hs))
            await yield_now()
        return total

    assert s.run_until_complete(driver()) == sum(r * 20 + 1 for r in range(5))
    assert calls == []  # (the driver's value too: run_until_complete's tick is the same)
    assert s.free_count() == 3
