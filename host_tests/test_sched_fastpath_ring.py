# tick_fifo and its traced copy keep the run queue as a ring while they run
# (sched/fastpath.py, sched/tracedfifo.py): the ways a task leaves or joins the ring (yield,
# park, wake into an empty ring, spawn from the last task, completion, an interrupt, a tick
# cut short by n) give the general path's whole log, on both runtimes.
from gate import Gate
from shimeji import FifoPolicy, StaticScheduler, Trace, core, yield_now


class GeneralFifo(FifoPolicy):
    """FIFO through the scheduler's general path (only exactly FifoPolicy is inlined)."""


def _both(body, ticks):
    """Run ``body(s, log)``'s tasks with ticks of ``ticks`` polls on the fast path, the
    general path and the traced fast path (a callable in ``ticks`` runs between two ticks
    instead); the log (a '|' after each tick, then its polled, completed and has_remaining)
    must be the same."""
    logs = []
    for policy, traced in ((FifoPolicy(), False), (GeneralFifo(), False), (FifoPolicy(), True)):
        s = StaticScheduler(6, policy=policy)
        if traced:
            Trace(64).attach(s)
        log = []
        body(s, log)
        for n in ticks:
            if callable(n):
                n()
                continue
            try:
                t = s.tick(n)
                log.append(("|", t.polled, t.completed, t.has_remaining))
            except KeyboardInterrupt:
                log.append("interrupted")
        assert s.live_count() == 0
        logs.append(log)
    assert logs[0] == logs[1] == logs[2]
    return logs[0]


def test_ticks_cut_short_keep_the_ring_order():
    def body(s, log):
        async def worker(tag):
            for i in range(2):
                log.append((tag, i))
                await yield_now()

        for tag in "abc":
            s.spawn_detached(worker(tag))

    assert _both(body, [2, 1, 4, 5]) == [
        ("a", 0), ("b", 0), ("|", 2, 0, True),
        ("c", 0), ("|", 1, 0, True),
        ("a", 1), ("b", 1), ("c", 1), ("|", 4, 1, True),
        ("|", 2, 2, False),
    ]


def test_a_lone_task_parks_and_is_woken_into_an_empty_ring():
    def body(s, log):
        g = Gate()

        async def lone():
            log.append("lone yields")
            await yield_now()
            log.append("lone parks")
            await g
            log.append("lone woken")

        async def opener():
            await yield_now()
            await yield_now()
            log.append("opens")
            g.open()  # the ring holds only the opener: lone goes in ahead of it

        s.spawn_detached(lone())
        s.spawn_detached(opener())

    assert _both(body, [10]) == [
        "lone yields", "lone parks", "opens", "lone woken", ("|", 6, 2, False),
    ]


def test_an_outside_wake_refills_an_empty_ring():
    gates = []

    def body(s, log):
        g = Gate()
        gates.append(g)

        async def waiter():
            log.append("parks")
            await g
            log.append("woken")
            await yield_now()
            log.append("done")

        s.spawn_detached(waiter())

    def open_gate():
        gates[-1].open()  # from outside any task: through the inbox into the empty ring

    assert _both(body, [3, 3, open_gate, 1, 3]) == [
        "parks", ("|", 1, 0, False), ("|", 0, 0, False),
        "woken", ("|", 1, 0, True), "done", ("|", 1, 1, False),
    ]


def test_the_last_task_spawns_and_completes():
    def body(s, log):
        async def child(tag):
            log.append(tag)
            await yield_now()
            log.append(tag + " again")

        async def last():
            log.append("last")
            s.spawn_detached(child("child"))  # the tick's own spawn list, then the ring
            s.spawn_detached(child("second"))

        s.spawn_detached(last())

    assert _both(body, [10]) == [
        "last", "child", "second", "child again", "second again", ("|", 5, 3, False),
    ]


def test_an_interrupt_leaves_the_rest_of_the_ring_in_order():
    def body(s, log):
        async def worker(tag):
            for i in range(3):
                log.append((tag, i))
                await yield_now()

        async def interrupting():
            log.append("x")
            await yield_now()
            raise KeyboardInterrupt

        s.spawn_detached(worker("a"))
        s.spawn_detached(interrupting())
        s.spawn_detached(worker("b"))

    assert _both(body, [10, 10]) == [
        ("a", 0), "x", ("b", 0), ("a", 1), "interrupted",
        ("b", 1), ("a", 2), ("b", 2), ("|", 5, 2, False),
    ]


def test_a_task_woken_while_it_runs_stays_in_the_ring():
    def body(s, log):
        g = Gate()

        async def self_waking():
            log.append("wakes itself")
            core.wake(core.current_slot())  # while it runs: parking keeps it runnable
            await g
            log.append("through")

        async def other():
            log.append("other")
            await yield_now()
            log.append("other opens")
            g.open()

        s.spawn_detached(self_waking())
        s.spawn_detached(other())

    assert _both(body, [10]) == [
        "wakes itself", "other", "other opens", "through", ("|", 5, 2, False),
    ]


class _Stop(Exception):
    pass


class _StoppingScheduler(StaticScheduler):
    """Raises out of the tick when a task returns "stop", as the facade's completion does
    (asyncio/loop.py's _StopTick): the tick's closing code must put the ring back."""

    def _complete(self, slot, status, value):
        StaticScheduler._complete(self, slot, status, value)
        if value == "stop":
            raise _Stop()


async def _worker(log, tag):
    for i in range(3):
        log.append((tag, i))
        await yield_now()


async def _stopper(log):
    log.append("x")
    await yield_now()
    log.append("y")
    return "stop"


def test_an_exception_out_of_a_completion_leaves_the_rest_of_the_ring_in_order():
    # tick_fifo has no finally (the classic ESP32's reach: fastpath.py's "Shape" note): an
    # exception out of a call in its loop ends the loop and is raised after the ring is back;
    # tick_traced runs its loop in a function of its own, inside its try
    logs = []
    for policy, traced in ((FifoPolicy(), False), (GeneralFifo(), False), (FifoPolicy(), True),
                           (GeneralFifo(), True)):
        s = _StoppingScheduler(6, policy=policy)
        if traced:
            Trace(64).attach(s)
        log = []
        s.spawn_detached(_worker(log, "a"))
        s.spawn_detached(_stopper(log))
        s.spawn_detached(_worker(log, "b"))
        for _ in range(2):
            try:
                t = s.tick(10)
                log.append(("|", t.polled, t.completed, t.has_remaining))
            except _Stop:
                log.append("stopped")
        assert s.live_count() == 0
        logs.append(log)
    assert logs[0] == logs[1] == logs[2] == logs[3] == [
        ("a", 0), "x", ("b", 0), ("a", 1), "y", "stopped",
        ("b", 1), ("a", 2), ("b", 2), ("|", 5, 2, False),
    ]


def test_runs_of_tasks_that_leave_between_tasks_that_stay_keep_the_ring():
    # The FIFO tick writes the tail's link once per run of tasks that left (parked or ended),
    # when the ring next turns: the ring's last task leaving, a lone task turning after a run
    # of them and the next tick's wakes all find it whole.
    gates = []

    def body(s, log):
        del gates[:]

        async def parker(tag):
            g = Gate()
            gates.append(g)
            log.append(tag + " parks")
            await g
            log.append(tag + " woken")

        async def yielder():
            for i in range(2):
                log.append(("y", i))
                await yield_now()
            log.append("y done")

        async def done():
            log.append("c done")

        for coro in (parker("p1"), yielder(), parker("p2"), done(), parker("p3")):
            s.spawn_detached(coro)

    def open_gates():
        for k in (2, 0, 1):  # p3, p1, p2: woken from outside, in that order
            gates[k].open()

    assert _both(body, [10, open_gates, 10]) == [
        "p1 parks", ("y", 0), "p2 parks", "c done", "p3 parks", ("y", 1), "y done",
        ("|", 7, 2, False),
        "p3 woken", "p1 woken", "p2 woken", ("|", 3, 3, False),
    ]


def test_a_wake_after_a_park_joins_a_ring_whose_tail_link_is_stale():
    gates = []

    def body(s, log):
        del gates[:]
        g1, g2 = Gate(), Gate()
        gates.append(g2)

        async def parker(tag, g):
            log.append(tag + " parks")
            await g
            log.append(tag + " woken")

        async def opener():
            log.append("o opens")
            g1.open()  # p1 parked just before: into the ring behind its tail, r

        for coro in (parker("p", g1), opener(), parker("r", g2)):
            s.spawn_detached(coro)

    assert _both(body, [10, lambda: gates[0].open(), 10]) == [
        "p parks", "o opens", "r parks", "p woken", ("|", 4, 2, False),
        "r woken", ("|", 1, 1, False),
    ]
