# The interrupt-level scheduler (shimeji.sched.interrupt): its callback, the one-pending rule,
# a full schedule queue, critical sections that mask it, its timer, a board driving both levels
# and its policy order. MicroPython runs the level's callback at the VM's next check point (even
# inside a poll); CPython's stand-in between polls or at port.check_point(). Both are asserted.
# The rules between the levels: test_sched_interrupt_levels.py.
from levelhelp import settle, waiter
from shimeji import (
    FakeClock,
    InterruptScheduler,
    NoCriticalSection,
    Timer,
    WaitCell,
    current_task,
    sleep_ms,
)
from support import IS_MICROPYTHON, needs_threads


def test_spawn_from_set_up_runs_at_the_next_check_point():
    isr = InterruptScheduler(4)
    log = []

    async def hello():
        log.append(("hello", current_task().name))
        return 7

    h = isr.spawn(hello(), "hi")
    settle()
    assert log == [("hello", "hi")]
    assert h.result() == 7 and isr.runs >= 1 and isr.tasks() == []


def test_a_wake_runs_the_woken_task_and_the_level_goes_idle():
    isr = InterruptScheduler(4)
    cell = WaitCell()
    log = []
    isr.spawn(waiter(cell, log, "urgent", 3), "u")
    settle()
    assert log == [] and isr._active is False and isr._pending is False
    for _ in range(3):
        cell.wake()
        settle()
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
    settle()
    cs = isr.critical_section
    state = cs.enter()  # hold the level off, as a thread-level section would
    for c in cells:
        c.wake()  # the first queues the callback; the others only link their task
    assert queued[0] == 1 and isr._pending is True and log == []
    cs.exit(state)
    settle()
    for c in cells:  # outside a section
        c.wake()
    settle()
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
    settle()
    full[0] = True
    cell.wake()  # refused: nothing raised into the waker, the task stays linked
    settle()
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
    settle()
    assert log == [("a", "a"), ("b", "b"), ("a", "a")] and len(refused) == 3


def test_the_level_waits_for_a_critical_section_to_end():
    isr = InterruptScheduler(4)
    cell = WaitCell()
    log = []
    isr.spawn(waiter(cell, log, "urgent"), "u")
    settle()
    cs = isr.critical_section
    state = cs.enter()
    cell.wake()
    for _ in range(20):  # check points inside the section: the callback defers itself
        settle()
    log.append("section ends")
    assert isr.deferred >= 1
    cs.exit(state)
    settle()
    assert log == ["section ends", ("urgent", "u")]


def test_sections_given_to_it_mask_the_level_too():
    other = NoCriticalSection()  # e.g. the section a thread-level scheduler was given
    isr = InterruptScheduler(4, sections=(other,))
    cell = WaitCell()
    log = []
    isr.spawn(waiter(cell, log, "urgent"), "u")
    settle()
    state = other.enter()
    cell.wake()
    for _ in range(5):
        settle()
    log.append("section ends")
    other.exit(state)
    settle()
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
    settle()
    for _ in range(4):
        clock.advance(1)
        timer.interrupt()  # what machine.Timer(callback=timer.interrupt) calls
        settle()
    assert log == [("sleep", 0)]
    clock.advance(1)
    timer.interrupt()
    settle()
    assert log == [("sleep", 0), ("woke", 5)]
    assert timer.interrupts == 5 and isr._due_armed is False


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
    settle()
    cs = isr.critical_section
    state = cs.enter()  # all three woken before the level runs
    for c in cells:
        c.wake()
    cs.exit(state)
    settle()
    assert log == [("w", "p3"), ("w", "p1"), ("w", "p0")]


@needs_threads  # (the thread that schedules)
def test_the_schedule_stand_in_queues_only_while_an_interrupt_level_is_open():
    # CPython's micropython.schedule queued a callback from another thread until a check
    # point for the rest of the process once any interrupt level existed (tests depended on
    # their order, session 23); now only while one is open. MicroPython: real check points.
    import _thread
    import time

    from shimeji import core, port

    micropython = __import__("micropython")
    ran = []

    def from_a_thread(v):
        done = []
        _thread.start_new_thread(lambda: done.append(micropython.schedule(ran.append, v)), ())
        while not done:
            time.sleep(0.001)

    isr = InterruptScheduler(2)
    from_a_thread(1)
    if not IS_MICROPYTHON:
        assert ran == [] and type(core.context).__name__ == "CheckPointContext"  # queued
    port.check_point()
    assert ran == [1]
    isr.close()
    if not IS_MICROPYTHON:
        assert type(core.context).__name__ == "Context"
    from_a_thread(2)  # CPython: run at once, in that thread, as before any level existed
    port.check_point()
    assert ran == [1, 2] and core.context.slot is None
    again = InterruptScheduler(2)  # and a new level queues again
    h = again.spawn(_seven())
    port.check_point()
    assert h.result() == 7
    again.close()


async def _seven():
    return 7
