# spawn takes any coroutine-like object (send, throw and close), not only what an async def
# returns. The viper tick polls a generator with the generator type's own send (no method
# look-up per poll) and anything else by its own send: the slot's W_SEND word says which
# (task/words.py), set by _start and the facade's create_task, cleared by the in-line
# completion. Generators and coroutine-like objects share slots in any order and each runs its
# own way, on the plain scheduler and in the facade.
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
