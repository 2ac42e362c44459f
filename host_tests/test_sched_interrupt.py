# The interrupt-level scheduler (shimeji.sched.interrupt): its callback, the one-pending rule,
# a full schedule queue, critical sections that mask it, its timer, and the level rules.
# MicroPython runs the level's callback at the VM's next check point (even inside a poll);
# CPython's stand-in between polls or at port.check_point(). Both are asserted.
from gate import Gate
from shimeji import (
    Event,
    FakeClock,
    InterruptScheduler,
    NoCriticalSection,
    StaticScheduler,
    Timer,
    WaitCell,
    WrongLevel,
    current_task,
    port,
    sleep_ms,
    yield_now,
)
from support import IS_MICROPYTHON, raises


def _settle():
    port.check_point()


async def waiter(cell, log, name, rounds=1):
    for _ in range(rounds):
        await cell.wait()
        log.append((name, current_task().name))


def test_spawn_from_set_up_runs_at_the_next_check_point():
    isr = InterruptScheduler(4)
    log = []

    async def hello():
        log.append(("hello", current_task().name))
        return 7

    h = isr.spawn(hello(), "hi")
    _settle()
    assert log == [("hello", "hi")]
    assert h.result() == 7 and isr.runs >= 1 and isr.tasks() == []


def test_a_wake_runs_the_woken_task_and_the_level_goes_idle():
    isr = InterruptScheduler(4)
    cell = WaitCell()
    log = []
    isr.spawn(waiter(cell, log, "urgent", 3), "u")
    _settle()
    assert log == [] and isr._active is False and isr._pending is False
    for _ in range(3):
        cell.wake()
        _settle()
    assert log == [("urgent", "u")] * 3
    assert isr.tasks() == [] and isr._pending is False


def test_one_pending_callback_whatever_the_number_of_wakes():
    isr = InterruptScheduler(4)
    real_schedule = isr._schedule
    real_run = isr._run_cb
    queued = [0, 0]  # now, most ever

    def schedule(fn, arg):
        real_schedule(fn, arg)
        queued[0] += 1
        queued[1] = max(queued[1], queued[0])

    def run(arg):
        queued[0] -= 1
        real_run(arg)

    isr._schedule = schedule
    isr._run_cb = run
    log = []
    cells = [WaitCell() for _ in range(3)]
    for i, c in enumerate(cells):
        isr.spawn(waiter(c, log, "w%d" % i, 2), "w%d" % i)
    _settle()
    cs = isr.critical_section
    state = cs.enter()  # hold the level off, as a thread-level section would
    for c in cells:
        c.wake()  # the first queues the callback; the others only link their task
    assert queued[0] == 1 and isr._pending is True and log == []
    cs.exit(state)
    _settle()
    for c in cells:  # outside a section
        c.wake()
    _settle()
    assert sorted(log) == [("w0", "w0"), ("w0", "w0"), ("w1", "w1"), ("w1", "w1"),
                           ("w2", "w2"), ("w2", "w2")]
    assert queued == [0, 1] and isr.tasks() == []


def test_a_full_schedule_queue_is_retried_and_loses_no_wake():
    isr = InterruptScheduler(4)
    real = isr._schedule
    full = [True]
    refused = []

    def schedule(fn, arg):
        if full[0]:
            refused.append(arg)
            raise RuntimeError("schedule queue full")
        real(fn, arg)

    isr._schedule = schedule
    cell = WaitCell()
    other = WaitCell()
    log = []
    full[0] = False
    isr.spawn(waiter(cell, log, "a", 2), "a")
    isr.spawn(waiter(other, log, "b"), "b")
    _settle()
    full[0] = True
    cell.wake()  # refused: nothing raised into the waker, the task stays linked
    _settle()
    assert log == [] and isr.queue_full == 1 and isr._want is True
    other.wake()  # the next wake retries (refused again)
    assert isr.queue_full == 2
    full[0] = False
    isr.service()  # the run loop's retry: both tasks run now
    assert log == [("a", "a"), ("b", "b")] and isr._want is False
    full[0] = True
    cell.wake()
    assert isr.queue_full == 3 and log == [("a", "a"), ("b", "b")]
    full[0] = False
    timer = Timer(FakeClock())
    isr.attach_timer(timer)
    timer.interrupt()  # a timer tick retries too
    _settle()
    assert log == [("a", "a"), ("b", "b"), ("a", "a")] and len(refused) == 3


def test_the_level_waits_for_a_critical_section_to_end():
    isr = InterruptScheduler(4)
    cell = WaitCell()
    log = []
    isr.spawn(waiter(cell, log, "urgent"), "u")
    _settle()
    cs = isr.critical_section
    state = cs.enter()
    cell.wake()
    for _ in range(20):  # check points inside the section: the callback defers itself
        _settle()
    log.append("section ends")
    assert isr.deferred >= 1
    cs.exit(state)
    _settle()
    assert log == ["section ends", ("urgent", "u")]


def test_sections_given_to_it_mask_the_level_too():
    other = NoCriticalSection()  # e.g. the section a thread-level scheduler was given
    isr = InterruptScheduler(4, sections=(other,))
    cell = WaitCell()
    log = []
    isr.spawn(waiter(cell, log, "urgent"), "u")
    _settle()
    state = other.enter()
    cell.wake()
    for _ in range(5):
        _settle()
    log.append("section ends")
    other.exit(state)
    _settle()
    assert log == ["section ends", ("urgent", "u")] and isr.deferred >= 1


def test_an_interrupt_level_sleep_fires_from_the_timer_interrupt():
    clock = FakeClock()
    timer = Timer(clock)
    isr = InterruptScheduler(4, timer=timer)
    log = []

    async def sleeper():
        log.append(("sleep", timer.now()))
        await sleep_ms(5)
        log.append(("woke", timer.now()))

    isr.spawn(sleeper())
    _settle()
    for _ in range(4):
        clock.advance(1)
        timer.interrupt()  # what machine.Timer(callback=timer.interrupt) calls
        _settle()
    assert log == [("sleep", 0)]
    clock.advance(1)
    timer.interrupt()
    _settle()
    assert log == [("sleep", 0), ("woke", 5)]
    assert timer.interrupts == 5 and isr._due_armed is False


def test_ticking_it_by_hand_is_refused():
    isr = InterruptScheduler(2)
    with raises(WrongLevel, "wake its tasks"):
        isr.tick()


def test_thread_level_tasks_cannot_spawn_or_join_across_levels():
    isr = InterruptScheduler(4)
    sched = StaticScheduler(4)
    cell = WaitCell()
    log = []
    ih = isr.spawn(waiter(cell, log, "i"), "i")
    _settle()

    async def short():
        await yield_now()

    async def thread_task():
        coro = short()
        try:
            isr.spawn(coro)
        except WrongLevel as e:
            coro.close()
            log.append(("spawn", "spawn its tasks" in str(e)))
        try:
            await ih
        except WrongLevel as e:
            log.append(("join", "another level" in str(e)))
        return "ok"

    assert sched.run_until_complete(thread_task()) == "ok"
    assert log == [("spawn", True), ("join", True)]
    th = sched.spawn(short(), "t")

    async def interrupt_task():
        coro = short()
        try:
            sched.spawn(coro)
        except WrongLevel as e:
            coro.close()
            log.append(("interrupt spawn refused", "Channel or Event" in str(e)))
        try:
            await th
        except WrongLevel:
            log.append("interrupt join refused")
        for call in (th.cancel, sched.close, sched.tick, lambda: sched.set_priority(th, 1)):
            try:
                call()
            except WrongLevel:
                log.append("refused")

    isr.spawn(interrupt_task())
    _settle()
    assert log[-6:] == [("interrupt spawn refused", True), "interrupt join refused"] + [
        "refused"] * 4
    cell.wake()
    _settle()
    assert log[-1] == ("i", "i") and ih.result() is None
    sched.tick()
    assert sched.tasks() == [] and isr.tasks() == [] and th.result() is None

    async def thread_cancels(h):  # the other way round is allowed: it takes the section
        return h.cancel()

    ih2 = isr.spawn(waiter(cell, log, "i2"), "i2")
    _settle()
    assert sched.run_until_complete(thread_cancels(ih2)) is True
    _settle()
    assert ih2.is_cancelled() and isr.tasks() == []


def test_context_of_the_interrupted_task_is_kept():
    isr = InterruptScheduler(4)
    sched = StaticScheduler(4)
    ev = Event()
    log = []

    async def urgent():
        await ev.wait()
        log.append(("urgent", current_task().name))

    async def worker():
        log.append(("start", current_task().name))
        ev.set()  # wakes the interrupt level from inside this poll
        n = 0
        for i in range(2000):  # never yields: check points only
            n += i
        log.append(("end", current_task().name))
        await yield_now()
        log.append(("after", current_task().name))

    isr.spawn(urgent(), "urgent")
    _settle()
    h = sched.spawn(worker(), "worker")
    while not h.is_complete():
        sched.tick()
    if IS_MICROPYTHON:  # preempted at a check point inside the poll
        assert log == [("start", "worker"), ("urgent", "urgent"), ("end", "worker"),
                       ("after", "worker")]
    else:  # the stand-in runs it between polls
        assert log == [("start", "worker"), ("end", "worker"), ("urgent", "urgent"),
                       ("after", "worker")]


def test_a_thread_level_wake_runs_the_level_before_the_waker_goes_on():
    # Check points are backward jumps and branches of bytecode (the loop below); the
    # scheduler's native fast path has none, and on CPython the stand-in runs the callback
    # when the poll ends: either way before the worker's next round.
    isr = InterruptScheduler(4)
    sched = StaticScheduler(4)
    g = Gate()
    log = []

    async def urgent():
        await g
        log.append("urgent")

    async def worker():
        for i in range(2):
            log.append(("worker", i))
            if i == 0:
                g.open()
            await yield_now()

    isr.spawn(urgent())
    _settle()
    sched.run_until_complete(worker())
    assert log == [("worker", 0), "urgent", ("worker", 1)]


def test_a_board_drives_both_levels_from_one_hardware_timer():
    from shimeji.platform.bsp import BoardBase

    board = BoardBase()
    sched = board.scheduler(4)
    isr = board.interrupt_scheduler(4, sched)
    assert isr.critical_section is sched.critical_section
    assert board.interrupt_levels == [isr] and BoardBase().interrupt_levels == ()
    fire = board.ticker_callback(sched.timer)
    fire(None)
    fire(None)
    assert sched.timer.interrupts == 2 and isr.timer.interrupts == 2
    assert BoardBase().ticker_callback(sched.timer) == sched.timer.interrupt


def test_its_own_tasks_run_in_its_policy_order():
    from shimeji import PriorityPolicy

    isr = InterruptScheduler(4, policy=PriorityPolicy(levels=4))
    cells = [WaitCell() for _ in range(3)]
    log = []
    for i, prio in enumerate((0, 3, 1)):
        isr.build_task().name("p%d" % prio).priority(prio).spawn(waiter(cells[i], log, "w"))
    _settle()
    cs = isr.critical_section
    state = cs.enter()  # all three woken before the level runs
    for c in cells:
        c.wake()
    cs.exit(state)
    _settle()
    assert log == [("w", "p3"), ("w", "p1"), ("w", "p0")]
