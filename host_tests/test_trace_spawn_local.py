# A task's spawn while the traced FIFO tick polls goes on the tick's own list, as the untraced
# tick's does: no critical section per spawn (the inbox's took one, 3.5k of the 40k
# instructions of a traced spawn+join_all on the unix port), and the same polls in the same
# order, the same counts, as untraced: spawns before and after a wake, a spawn in a task's
# last poll, spawns in ticks cut short by ``n``.
from shimeji import Event, StaticScheduler, Trace, yield_now
from shimeji.sync.critical import NoCriticalSection


class CountingSection(NoCriticalSection):
    """A critical section that counts how often it is entered."""

    def __init__(self):
        NoCriticalSection.__init__(self)
        self.entered = 0

    def enter(self):
        self.entered += 1
        return 0


def workload(traced, n=256, more=0):
    cs = CountingSection()
    s = StaticScheduler(16 + more, critical_section=cs)
    if traced:
        Trace(64).attach(s)
    log = []
    ev = Event()

    async def child(name):
        log.append(name)
        await yield_now()
        log.append(name + "'")

    async def waiter():
        await ev.wait()
        log.append("woken")

    async def last_words():  # spawns in its last poll: the tick's loop ends on its return
        s.spawn(child("z"))

    async def parent():
        for name in ("a", "b", "c"):
            s.spawn(child(name))
        ev.set()  # a wake: the spawns after it go through the inbox (the order is kept)
        s.spawn(child("d"))
        await yield_now()
        log.append("parent")
        s.spawn(last_words())
        await yield_now()
        for name in ("e", "f") + tuple("m%d" % i for i in range(more)):
            s.spawn(child(name))
        return "done"

    s.spawn(waiter())
    s.tick()  # the waiter waits
    entered = cs.entered
    h = s.spawn(parent())
    ticks = []
    while not h.is_complete() or s.tick(0).has_remaining:
        t = s.tick(n)
        ticks.append((t.polled, t.completed))
    while s.tick(n).has_remaining:
        pass
    return log, ticks, s.spawned_total, cs.entered - entered


def test_a_traced_tick_polls_spawns_as_the_untraced_one_does():
    for n in (256, 3, 1):
        for more in (0, 10):
            assert workload(True, n, more)[:3] == workload(False, n, more)[:3], (n, more)


def test_a_traced_spawn_from_a_task_takes_no_critical_section():
    # (the trace takes the section for its own records: a wake's, moved from its side ring)
    for n in (256, 3, 1):
        few, many = workload(True, n)[3], workload(True, n, more=10)[3]
        assert many == few, (n, few, many)  # (before: one more per spawn, 10 more)
        assert workload(False, n, more=10)[3] == workload(False, n)[3]
