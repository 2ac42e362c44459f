# The hot paths take no heap block even for a moment. A bytecode function whose locals and
# stack pass 11 words gets its frame from the heap and frees it on return: heap_lock cannot
# see it (MicroPython then falls back to the C stack) and neither can a gc.mem_alloc() delta
# (the block is freed). micropython.mem_total(), the bytes ever allocated, does: each steady
# state round below must leave it where it was. The workloads are the other alloc tests'
# (their helpers are reused), so every path proved heap_lock-clean there is checked here too.
# The traced paths, the run loop's I/O wait, the executor and streams are in
# test_sched_transient_alloc_traced.py; each test imports the workload it runs, so a board
# without mem_total imports none (the RP2040's .mpy path ran out of heap importing them all).
# Paths still taking a frame are listed in docs/benchmarks.md ("Transient heap frames").
import gc

from framehelp import let_go, needs_mem_total, spent, steady
from gate import Gate
from shimeji import (
    CfsPolicy,
    FifoPolicy,
    InterruptScheduler,
    PriorityPolicy,
    RoundRobinPolicy,
    StaticScheduler,
    WaitCell,
    port,
    preempt_due,
    preempt_point,
    yield_now,
)
from support import FakeClock, thread_section


async def checker(clk):
    while True:
        clk.advance(30)
        if preempt_due():
            await preempt_point()
        await yield_now()


@needs_mem_total
def test_tick_and_preemption_checks_take_no_frame_under_every_policy():
    from test_policy_alloc import _ticks

    seen = []
    for make_policy in (FifoPolicy, lambda: FifoPolicy(hog_us=60),
                        lambda: RoundRobinPolicy(70, hog_us=60), lambda: CfsPolicy(50),
                        PriorityPolicy, lambda: PriorityPolicy(slice_us=70, hog_us=60)):
        policy = make_policy()
        clk = FakeClock()
        s = StaticScheduler(4, policy=policy, clock_us=clk.now)
        for _ in range(3):
            s.spawn(checker(clk))
        seen.append((policy.name, steady(_ticks, s, 20)))
        s.close()
    assert seen == [(name, 0) for name, _ in seen], seen


@needs_mem_total
def test_wakes_from_tasks_and_the_inbox_take_no_frame_under_every_policy():
    from test_policy_alloc import _loaded, _ticks

    seen = []
    # Each policy made for its run and dropped with its scheduler (a policy keeps its queued
    # slots): two 12-slot schedulers alive at once did not fit the STM32L475's heap.
    for make_policy, prios in (
            (FifoPolicy, None), (lambda: RoundRobinPolicy(70, hog_us=60), None),
            (lambda: CfsPolicy(granularity_us=50), [0, 5, -5, 19, -20, 3, 0, 1, 0, 2]),
            (lambda: PriorityPolicy(slice_us=70), [1, 1, 2, 0, 3, 1, 2, 0, 4, 4, 5, 6])):
        policy = make_policy()
        s = _loaded(policy, prios)[0]  # workers, parked gates and a task opening them
        seen.append((policy.name, steady(_ticks, s, 20)))
        s.close()
        s = policy = None
        gc.collect()
    assert [name for name, _ in seen] == ["fifo", "round-robin", "cfs", "priority"]
    assert seen == [(name, 0) for name, _ in seen], seen


@needs_mem_total
def test_sync_wait_and_wake_take_no_frame():
    from test_sync_alloc import CYCLES  # WaitCell, WaitQueue + Event, Mutex + Semaphore, ...

    seen = []
    for setup in CYCLES:  # ... channels, WaitMap
        s, cycle, check = setup(thread_section())
        seen.append((setup.__name__, steady(cycle)))
        assert check(), setup.__name__
        s.close()
    assert seen == [(name, 0) for name, _ in seen], seen


def _inbox_round(s, g):
    g.open()  # what an interrupt handler does: the wake goes through the inbox
    s.tick()


@needs_mem_total
def test_a_wake_from_outside_and_the_park_take_no_frame():
    s = StaticScheduler(4)
    g = Gate()
    n = [0]

    async def parked():
        while True:
            await g
            n[0] += 1

    s.spawn(parked())
    s.tick()
    bytes_taken = steady(_inbox_round, s, g)
    assert bytes_taken == 0, bytes_taken
    assert n[0] == 2


@needs_mem_total
def test_timer_turns_and_sleeps_take_no_frame():
    from test_time_alloc import _loop, make, mixed_sleeper, sleeper

    clock, timer, s = make()
    for _ in range(4):
        s.spawn(mixed_sleeper(timer))
    for i in range(8):
        s.spawn(sleeper(1 + i * 5))
    bytes_taken = steady(_loop, clock, timer, s, 100)
    assert bytes_taken == 0, bytes_taken


def _isr_round(cell):
    cell.wake()
    port.check_point()  # the interrupt level's callback runs here


@needs_mem_total
def test_the_interrupt_level_wake_and_run_take_no_frame():
    isr = InterruptScheduler(4)
    cell = WaitCell()
    n = [0]

    async def urgent():
        while True:
            await cell.wait()
            n[0] += 1

    isr.spawn(urgent())
    port.check_point()
    bytes_taken = steady(_isr_round, cell)
    let_go(isr)
    assert bytes_taken == 0, bytes_taken
    assert n[0] == 2 and isr.error is None


def _mixed_spent(policy_class):
    """One policy's figure in a frame of its own. Made in the test's loop, the scheduler
    outlived ``del`` and ``close()``: MicroPython's VM leaves popped values in the frame's
    value stack, which the GC scans, so a stale slot kept the last policy's scheduler alive
    while the next was made, and on the STM32L475 (92 KB heap, qemu, main bfdf6d6) the third's
    fields failed (MemoryError; 34,048 -> 21,216 -> 18,432 B free). A returned frame is gone."""
    from test_sched_alloc_hot_paths import _mixed, _mixed_rounds

    clock, timer, s = _mixed(policy_class(), FakeClock())
    n = spent(_mixed_rounds, clock, timer, s, 20)
    s.close()
    return n


@needs_mem_total
def test_the_mixed_workload_takes_no_frame_under_every_policy():
    seen = []
    for policy_class in (FifoPolicy, RoundRobinPolicy, CfsPolicy, PriorityPolicy):
        seen.append((policy_class.__name__, _mixed_spent(policy_class)))
        gc.collect()
    assert seen == [(name, 0) for name, _ in seen], seen


@needs_mem_total
def test_a_timeout_that_is_met_takes_no_frame():
    from test_time_alloc import _loop, guarded, make

    clock, timer, s = make()
    for _ in range(4):
        s.spawn(guarded(3, 10))  # timeout(sleep_ms(3), 10), again and again
    bytes_taken = steady(_loop, clock, timer, s, 50)
    assert bytes_taken == 0, bytes_taken
