# spawn takes any coroutine-like object (send, throw and close), not only what an async def
# returns. The viper tick polls a generator with the generator type's own send (no method
# look-up per poll) and anything else by its own send: the slot's W_SEND word says which
# (task/words.py), set by _start and the facade's create_task, cleared by the completions
# (in line, StaticScheduler._complete, the facade's). Generators and coroutine-like objects
# share slots in any order and each runs its own way, on the plain scheduler and in the facade.
import shimeji.asyncio as asyncio
from shimeji import StaticScheduler, yield_now
from shimeji.task.words import W_SEND


class Steps:
    """A coroutine-like object that is not a generator: ``k`` yields, then returns ``value``."""

    def __init__(self, log, k, value=None):
        self.log = log
        self.k = k
        self.value = value

    def send(self, _):
        if self.k:
            self.k -= 1
            self.log.append("step")
            return None  # what yield_now yields: the task stays runnable
        raise StopIteration(self.value)

    def throw(self, exc, *rest):
        raise exc

    def close(self):
        self.k = 0


async def gen(log, v=None):
    await yield_now()
    log.append("gen")
    return v


def test_a_coroutine_like_object_runs_by_its_own_send_in_a_slot_generators_share():
    s = StaticScheduler(2)
    log = []
    h = s.spawn(Steps(log, 2, "v"))  # from outside a task: _start marks the slot
    slot = h._ref
    assert slot.w[W_SEND] == 1
    while s.tick().has_remaining:
        pass
    assert h.result() == "v" and log == ["step", "step"]

    async def main():
        got = [await s.spawn(gen(log, 1))]  # the in-line case: a generator, no mark
        h2 = s.spawn(Steps(log, 1))  # not a generator: through _start, marked
        slot2 = h2._ref
        marks = [slot2.w[W_SEND]]
        got.append(await h2)  # returned None: the in-line completion clears the mark
        marks.append(slot2.w[W_SEND])
        got.append(await s.spawn(gen(log, 2)))  # (a slot still marked polls it the general way)
        return got, marks

    m = s.spawn(main())
    while s.tick().has_remaining:
        pass
    assert m.result() == ([1, None, 2], [1, 0]), m.result()
    assert log == ["step", "step", "gen", "step", "gen"], log
    assert s.free_count() == 2 and s.live_count() == 0


def test_the_facade_runs_a_coroutine_like_object_and_generators_in_its_slots():
    log = []

    async def main():
        t = asyncio.create_task(Steps(log, 3, "facade"))
        g = asyncio.create_task(gen(log, "g"))
        return await asyncio.gather(t, g)

    assert asyncio.run(main()) == ["facade", "g"]
    assert log == ["step", "step", "gen", "step"], log


class Fails(Steps):
    def send(self, _):
        raise ValueError("boom")


def test_every_completion_clears_the_mark_so_the_slot_polls_generators_the_fast_way_again():
    # A coroutine-like task that ends with a value, an error or a cancellation completes
    # through _complete, not in line: its slot's mark is cleared there too (before, the slot
    # stayed marked until a task in it completed in line).
    s = StaticScheduler(1)
    log = []
    for coro in (Steps(log, 1, "v"), Fails(log, 0), Steps(log, 5)):
        h = s.spawn(coro)
        slot = h._ref
        assert slot.w[W_SEND] == 1
        if isinstance(coro, Fails):
            s.tick()
            assert h.is_complete() and not h.is_cancelled()
        elif coro.k == 5:
            s.tick(1)
            h.cancel()
            s.tick()
            assert h.is_cancelled()
        else:
            s.tick()
            assert h.result() == "v"
        assert slot.w[W_SEND] == 0 and slot.coro is None
    s.close()


def test_the_facades_completion_with_a_value_clears_the_mark():
    marks = []

    async def main():
        t = asyncio.create_task(Steps([], 1, "x"))
        slot = t._ref
        got = await t
        marks.append(slot.w[W_SEND])
        return got

    assert asyncio.run(main()) == "x"
    assert marks == [0]
