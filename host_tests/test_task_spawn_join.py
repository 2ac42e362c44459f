# Spawn and join, the folded path: spawn makes a handed-out slot's new handle in one go and
# links a spawn from a task into the inbox in line; completion pops every joiner and wakes it in
# line; awaiting a finished handle ends without a call. Whole event lists, both runtimes.
from shimeji import StaticScheduler, yield_now
from support import alloc_delta, micropython_only, needs_native_shimeji, raises


async def value(v):
    return v


async def boom():
    raise ValueError("boom")


def test_a_batch_spawned_and_joined_from_a_task_gives_every_result_in_order():
    s = StaticScheduler(9)
    got = []

    async def driver():
        for round_ in range(3):
            hs = [s.spawn(value(round_ * 10 + i), "v%d" % i) for i in range(8)]
            assert [(h.id, h.name, h.is_complete()) for h in hs][:2] == [
                (hs[0].id, "v0", False), (hs[1].id, "v1", False)]
            for h in hs:
                got.append(await h)
        return "joined"

    assert s.run_until_complete(driver()) == "joined"
    assert got == [r * 10 + i for r in range(3) for i in range(8)]
    assert s.free_count() == 9


def test_every_joiner_of_a_task_is_woken_once_with_its_outcome():
    s = StaticScheduler(8)
    log = []

    async def slow():
        await yield_now()
        return "late"

    async def joiner(name, h):
        log.append((name, await h))

    async def failing_joiner(h):
        try:
            await h
        except ValueError as e:
            log.append(("error", str(e)))

    async def main():
        h = s.spawn(slow())
        bad = s.spawn(boom())
        js = [s.spawn(joiner(n, h)) for n in ("a", "b", "c")]
        f = s.spawn(failing_joiner(bad))
        for j in js:
            await j
        await f
        assert h.result() == "late"
        return (h._live_slot(), s.slots[0].joiners.head, s.slots[0].joiners.count)

    assert s.run_until_complete(main()) == (None, None, 0)
    assert log == [("error", "boom"), ("a", "late"), ("b", "late"), ("c", "late")]


def test_a_new_handle_stands_for_its_own_task_and_the_old_one_stays_stale():
    from shimeji.errors import StaleHandle

    s = StaticScheduler(1)
    h1 = s.spawn(value(1))
    s.tick()
    assert h1.result() == 1
    h1.detach()
    h2 = s.spawn(value(2), "second")
    assert h2 is not h1 and (h2.name, h2.is_complete()) == ("second", False)
    s.tick()
    assert h2.result() == 2
    with raises(StaleHandle):
        h1.result()
    with raises(StaleHandle, "was detached"):  # (a second detach() is a use too: was None)
        h1.detach()
    h3 = s.spawn(value(3))
    s.tick()
    assert (h2.result(), h3.result()) == (2, 3)


def _spawn_join(s, n):
    async def driver():
        for _ in range(n):
            await s.spawn(value(None))

    s.run_until_complete(driver())


@micropython_only
@needs_native_shimeji
def test_spawn_and_join_allocate_no_more_than_the_floor_and_one_handle():
    s = StaticScheduler(4)
    _spawn_join(s, 10)
    one = alloc_delta(_spawn_join, s, 1)
    many = alloc_delta(_spawn_join, s, 41)
    per_task = (many - one) / 40
    floor = alloc_delta(_exhaust, 40) / 40  # a coroutine made and run to its end by hand

    from shimeji.task.slot import JoinHandle

    handle = alloc_delta(JoinHandle, None, 1, "x")
    assert handle > 0 and per_task <= floor + handle, (per_task, floor, handle)


def _exhaust(n):
    for _ in range(n):
        c = value(None)
        try:
            c.send(None)
        except StopIteration:
            pass
