# Scenarios for test_platform_gil.py, run by a MicroPython built with a GIL (MICROPY_GIL_BIN):
#   micropython host_tests/gil_scenarios.py NAME [old]
# Each prints one line "RESULT name=value ..." that the test reads. "old" puts back the idle
# that starved other threads (time.sleep_us, which keeps the GIL), to show the scenario tells.
# Every wait is bounded by a count of the loop's own idles, never by wall-clock time: a starved
# thread cannot stop anything, so the thread that idles stops itself.
import _thread
import sys
import time

import micropython

from shimeji import port
from shimeji.executor import Executor
from shimeji.executor import idle as worker_idle
from shimeji.sched.runloop import RunLoop
from shimeji.sched.scheduler import StaticScheduler
from shimeji.sync.waitcell import WaitCell
from shimeji.time.sleep import sleep_ms
from shimeji.time.timer import Timer

IDLE_LIMIT = 3000  # idles before a run gives up: ~3 s of 1 ms idles


def report(**fields):
    print("RESULT " + " ".join("%s=%s" % (k, fields[k]) for k in sorted(fields)))


def run_loop_wake(old):
    """A native RunLoop idles (nothing runnable, no deadline) until a WaitCell is woken by a
    thread its first idle starts: with an idle that keeps the GIL, that thread never runs.
    (Started before the loop, the thread got the GIL at a bytecode branch on the way into
    it, now and then, on two cores: the control then completed with no idle at all.)"""
    sched = StaticScheduler(4, timer=Timer())
    cell = WaitCell()
    waker_runs = [0]
    idles = [0]
    runs_in_idles = [-1]  # waker_runs when the idles ran out, read in the idle

    async def main():
        await cell.wait()

    def waker():
        waker_runs[0] += 1
        cell.wake()

    prim = time.sleep_us if old else port.sleep_idle

    @micropython.native  # no bytecode branch (a GIL hand-over point) in the idle either
    def idle(us):
        idles[0] += 1
        if idles[0] == 1:
            _thread.start_new_thread(waker, ())
        if idles[0] >= IDLE_LIMIT:
            runs_in_idles[0] = waker_runs[0]  # before the bytecode after the loop hands the
            loop.stop()  # GIL over (at its branches: the waker ran there, on another core)
        prim(us)

    loop = RunLoop(sched, idle=idle)
    handle = sched.spawn(main())
    loop.run(handle)
    runs = waker_runs[0] if runs_in_idles[0] < 0 else runs_in_idles[0]
    report(complete=int(handle.is_complete()), idles=idles[0], waker_runs=runs)


def executor_two_workers(old):
    """Executor(workers=2): main, on worker 0, hands a task to worker 1 and waits for its
    mark in 1 ms sleeps (so worker 0 idles with a deadline, in the idle primitive), at most
    IDLE_LIMIT of them. The task sets the mark at once when worker 1's thread runs."""
    if old:
        worker_idle.sleep_idle = time.sleep_us
    ex = Executor(workers=2, capacity=8)
    seen = {"mark": None}

    async def task():
        seen["mark"] = _thread.get_ident()

    async def main():
        me = _thread.get_ident()
        ex.workers[1].spawn(task())
        n = 0
        while seen["mark"] is None and n < IDLE_LIMIT:
            await sleep_ms(1)
            n += 1
        return n, me

    n, me = ex.run(main())
    other = seen["mark"] is not None and seen["mark"] != me
    report(marked=int(seen["mark"] is not None), sleeps=n, other_thread=int(other),
           polled_1=ex.workers[1].polled)


def executor_busy_worker(old):
    """Executor(workers=2): main, on worker 0, hands worker 1 a task of YIELDS yield_now()
    rounds and waits for its end in 1 ms sleeps (worker 0 idles with a deadline, in the
    idle primitive), at most IDLE_LIMIT of them: worker 1 (or worker 0, if it steals the
    task) must get the GIL while worker 0 sleeps."""
    from shimeji import yield_now

    if old:
        worker_idle.sleep_idle = time.sleep_us
    ex = Executor(workers=2, capacity=8)
    rounds = [0]

    async def task():
        while rounds[0] < YIELDS:
            rounds[0] += 1
            await yield_now()

    longest = [0]

    async def main():
        ex.workers[1].spawn(task())
        n = 0
        while rounds[0] < YIELDS and n < IDLE_LIMIT:
            t0 = time.ticks_us()
            await sleep_ms(1)
            longest[0] = max(longest[0], time.ticks_diff(time.ticks_us(), t0))
            n += 1
        return n

    n = ex.run(main())
    report(rounds=rounds[0], sleeps=n, polled_0=ex.workers[0].polled,
           polled_1=ex.workers[1].polled, stolen_0=ex.workers[0].stolen,
           longest_sleep_us=longest[0])


YIELDS = 20000


def executor_busy_worker_one_core(old):
    """Run under ``taskset -c 0 chrt -f 1`` (one CPU, threads of equal real-time priority, as
    FreeRTOS runs them on a one-core ESP32-C3): main, on worker 0, sleeps 1 ms at a time while
    worker 1 runs 10 x YIELDS yield_now rounds. A thread there runs until it waits, so worker 0
    wakes only when worker 1 waits: at its GIL hand-overs (``Worker.gil_turn_ms``), or, with
    ``old`` (none), once the task has ended: 1 sleep."""
    from shimeji import yield_now
    from shimeji.executor import worker as worker_mod

    if old:
        worker_mod.Worker.gil_turn_ms = 0
    ex = Executor(workers=2, capacity=8)
    rounds = [0]
    total = 10 * YIELDS
    seen = [0]  # rounds worker 1 had made when worker 0's sleeps ended, first time

    async def task():
        while rounds[0] < total:
            rounds[0] += 1
            await yield_now()

    async def main():
        ex.workers[1].spawn(task())
        n = 0
        while rounds[0] < total and n < IDLE_LIMIT:
            await sleep_ms(1)
            n += 1
            if n == 1:
                seen[0] = rounds[0]
        return n

    n = ex.run(main())
    report(rounds=rounds[0], sleeps=n, first_wake_at=seen[0],
           handovers_1=ex.workers[1].gil_handovers, turn_ms=ex.workers[1].gil_turn_ms)


def executor_throughput(old):
    """64 CPU-bound tasks (chunks of arithmetic, yield_now between), on 1 and 2 workers: the
    tasks per second of each (what 2 workers gain on a GIL build)."""
    from shimeji import yield_now

    if old:
        worker_idle.sleep_idle = time.sleep_us

    def measure(workers):
        ex = Executor(workers=workers, capacity=80)
        done = [0]

        async def work():
            x = 0
            for _ in range(20):
                for i in range(500):
                    x = (x * 31 + i) & 0xFFFF
                await yield_now()
            with ex.critical_section:  # both workers count: a GIL may switch inside the +=
                done[0] += 1

        async def main():
            handles = [ex.spawn(work()) for _ in range(64)]
            for h in handles:
                await h

        t0 = time.ticks_us()
        ex.run(main())
        return time.ticks_diff(time.ticks_us(), t0), done[0]

    measure(1)  # warm-up
    best = {1: None, 2: None}
    done = {1: 0, 2: 0}
    for _ in range(3):  # alternated, the best of three each
        for workers in (1, 2):
            us, n = measure(workers)
            done[workers] += n
            if best[workers] is None or us < best[workers]:
                best[workers] = us
    report(us_1=best[1], us_2=best[2], done_1=done[1], done_2=done[2],
           speedup_x100=best[1] * 100 // best[2])


SCENARIOS = {
    "run_loop_wake": run_loop_wake,
    "executor_two_workers": executor_two_workers,
    "executor_busy_worker": executor_busy_worker,
    "executor_throughput": executor_throughput,
    "executor_busy_worker_one_core": executor_busy_worker_one_core,
}

if __name__ == "__main__":
    report_gil = getattr(sys.implementation, "_thread", None)
    print("GIL", report_gil, "port.GIL", port.GIL)
    SCENARIOS[sys.argv[1]](len(sys.argv) > 2 and sys.argv[2] == "old")
