# A wake into the inbox while the FIFO tick polls clears _local_ok (spawn's in-line case then
# reads no inbox): the spawns after it in the same poll follow the woken task through the inbox,
# by every spawn path (spawn, spawn_detached, a named spawn, the facade's create_task); the
# tick's next drain of the inbox sets _local_ok again, and the spawns of later polls go on its
# own list. Order is the order of the calls, every spawn is counted once. Each check runs on
# the viper tick (what tick() runs here) and on the native one (fastpath.tick_fifo: an executor
# worker's, every FIFO tick on the RP2040). Both runtimes.
from shimeji import Event, StaticScheduler, yield_now
from shimeji.sched import fastpath

TICKS = (lambda s, n=256: s.tick(n), lambda s, n=256: fastpath.tick_fifo(s, n))


async def note(log, name):
    log.append(name)


def _ticks(tick, sched, n=10):
    for _ in range(n):
        tick(sched)


def test_a_wake_clears_it_until_the_ticks_next_drain():
    for tick in TICKS:
        _wake_then_spawns(tick)


def _wake_then_spawns(tick):
    s = StaticScheduler(8)
    ev = Event()
    log = []

    async def waiter():
        await ev.wait()
        log.append("woken")

    async def spawner():
        await yield_now()  # the waiter parks first
        log.append(("before the wake", s._local_ok))
        s.spawn_detached(note(log, "a"))  # the tick's own list
        ev.set()  # the inbox: _local_ok cleared
        log.append(("after the wake", s._local_ok))
        s.spawn_detached(note(log, "b"))  # behind the woken task, in the inbox
        s.spawn(note(log, "c"))
        s.spawn(note(log, "d"), name="named")
        await yield_now()  # the drain sets it again before this task's next poll
        log.append(("next poll", s._local_ok))
        s.spawn(note(log, "e"))

    s.spawn_detached(waiter())
    s.spawn_detached(spawner())
    _ticks(tick, s)
    assert log == [("before the wake", True), ("after the wake", False), "a", "woken", "b",
                   "c", "d", ("next poll", True), "e"]
    assert s.spawned_total == 7 and s.live_count() == 0 and not s._local_ok
    s.close()


def test_spawns_around_a_wake_by_every_path_are_counted_once():
    # In-line spawns, a named spawn (_start) and a wake in one poll: the tick's own list holds
    # consecutive ids (it is counted as last.id - first.id + 1), the rest go by the inbox.
    for tick in TICKS:
        _counted(tick)


def _counted(tick):
    s = StaticScheduler(12)
    ev = Event()
    log = []

    async def waiter():
        await ev.wait()
        log.append("woken")

    async def spawner():
        await yield_now()
        s.spawn(note(log, 1))
        s.spawn(note(log, 2), name="two")  # _start: the tick's own list too
        s.spawn_detached(note(log, 3))
        ev.set()
        s.spawn(note(log, 4), name="four")
        s.spawn(note(log, 5))
        s.spawn_detached(note(log, 6))

    s.spawn_detached(waiter())
    s.spawn_detached(spawner())
    tick(s, 2)  # both polled once: the waiter parks, the spawner yields
    assert tick(s).spawned == 6
    _ticks(tick, s)
    assert log == [1, 2, 3, "woken", 4, 5, 6]
    assert s.spawned_total == 8 and s.live_count() == 0
    s.close()


def test_a_tick_driven_by_a_task_gives_it_back_only_with_an_empty_inbox():
    # outer's task ticks inner: outer's _local_ok is held False meanwhile; given back after
    # inner's tick when nothing entered outer's inbox, kept False when something did.
    for tick in TICKS:
        _driven(tick)


def _driven(tick):
    outer = StaticScheduler(8)
    inner = StaticScheduler(2)
    ev = Event()
    log = []

    async def quiet():
        pass

    async def waking():
        ev.set()  # wakes outer's waiter: outer's inbox

    async def waiter():
        await ev.wait()
        log.append("woken")

    async def driver():
        await yield_now()  # the waiter parks first
        inner.spawn_detached(quiet())
        tick(inner)
        log.append(("quiet inner", outer._local_ok))
        outer.spawn_detached(note(log, "a"))  # the tick's own list
        inner.spawn_detached(waking())
        tick(inner)
        log.append(("waking inner", outer._local_ok))
        outer.spawn_detached(note(log, "b"))  # behind the woken waiter

    outer.spawn_detached(waiter())
    outer.spawn_detached(driver())
    _ticks(tick, outer)
    assert log == [("quiet inner", True), ("waking inner", False), "a", "woken", "b"]
    assert outer.spawned_total == 4 and outer.live_count() == 0
    outer.close()
    inner.close()


def test_the_facades_create_task_follows_a_wake_through_the_inbox():
    import shimeji.asyncio as aio

    log = []

    async def child(name):
        log.append(name)

    async def waiter(ev):
        await ev.wait()
        log.append("woken")

    async def main():
        ev = aio.Event()
        w = aio.create_task(waiter(ev))
        await aio.sleep(0)  # the waiter parks
        a = aio.create_task(child("a"))
        ev.set()
        b = aio.create_task(child("b"))
        await aio.gather(w, a, b)

    aio.run(main())
    assert log == ["a", "woken", "b"]


class _Clock:
    def __init__(self):
        self.t = 0

    def read(self):
        self.t = (self.t + 3) & 0x3FFFFFFF
        return self.t

    def idle(self, us):
        self.t = (self.t + us) & 0x3FFFFFFF


def test_run_loops_lean_tick_clears_and_sets_it_as_tick_does():
    from shimeji import RunLoop, Timer
    from shimeji.sched import leanloop

    if leanloop.run_lean is None:
        return  # rp2: no lean loop (RunLoop.run() ticks with the native tick, checked above)
    clock = _Clock()
    s = StaticScheduler(8, timer=Timer(clock.read, 1))
    ev = Event()
    log = []

    async def waiter():
        await ev.wait()
        log.append("woken")

    async def spawner():
        await yield_now()
        s.spawn(note(log, "a"))
        ev.set()
        log.append(("after the wake", s._local_ok))
        s.spawn(note(log, "b"))
        await yield_now()
        log.append(("next poll", s._local_ok))
        s.spawn(note(log, "c"))

    async def main():
        w = s.spawn(waiter())
        await s.spawn(spawner())
        await w

    RunLoop(s, idle=clock.idle, max_idle_us=None).run(s.spawn(main()))
    assert log == [("after the wake", False), "a", "woken", "b", ("next poll", True), "c"]
