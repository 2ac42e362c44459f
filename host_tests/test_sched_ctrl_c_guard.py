# shimeji: cpython-only (CPython's signal module and sys.settrace; MicroPython has neither)
# While RunLoop.run() runs on the main thread, Ctrl-C in a task's own code or an idle wait is
# raised at once, and inside shimeji's code or a critical section it waits for the tick to end
# (sched/sigguard.py). LockCriticalSection is an RLock here: a KeyboardInterrupt at any opcode
# of enter/exit/try_enter never leaves it held with no owner.
import _thread
import os
import re
import signal
import subprocess
import sys
import threading

import pytest

from shimeji import (
    Cancelled,
    LockCriticalSection,
    StaticScheduler,
    Timer,
    sleep_ms,
    yield_now,
)
from shimeji.sched.runloop import RunLoop, sleep_idle

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


@pytest.fixture(autouse=True)
def _python_s_sigint_handler():
    """Each test starts with Python's own SIGINT handler, as an interactive program has. A shell
    that starts a job in the background (``nohup make test &``) leaves SIGINT ignored: the
    guard then stays out of the way by design, no simulated Ctrl-C would arrive and the tests
    below that wait for one would spin for ever."""
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    yield
    signal.signal(signal.SIGINT, previous)


def _sched(cs=None):
    return StaticScheduler(8, critical_section=cs or LockCriticalSection(), timer=Timer())


def test_ctrl_c_inside_a_section_waits_until_the_tick_has_ended():
    sched = _sched()
    cs = sched.critical_section
    log = []

    async def worker():
        state = cs.enter()
        signal.raise_signal(signal.SIGINT)  # Ctrl-C lands while the section is held
        log.append("rest of the section")
        cs.exit(state)
        log.append("left")
        while True:
            await yield_now()
            log.append("polled")

    h = sched.spawn(worker())
    loop = RunLoop(sched, tick_size=2)
    with pytest.raises(KeyboardInterrupt):
        loop.run()
    assert log == ["rest of the section", "left", "polled"]  # its tick's two polls, then out
    assert not h.is_complete() and not cs.held()
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler
    sched.timer.turn()
    sched.tick(1)  # it goes on where it was
    assert log[-1] == "polled" and len(log) == 4
    sched.close()
    assert h.is_cancelled()


def test_ctrl_c_in_a_task_s_own_code_interrupts_that_task_at_once():
    sched = _sched()
    log = []

    async def victim():
        signal.raise_signal(signal.SIGINT)
        log.append("never")  # (KeyboardInterrupt is raised before this line)

    async def bystander():
        for i in range(3):
            log.append(i)
            await yield_now()

    v = sched.spawn(victim())
    b = sched.spawn(bystander())
    loop = RunLoop(sched)
    with pytest.raises(KeyboardInterrupt):
        loop.run()
    assert log == []
    with pytest.raises(Cancelled, match="interrupted by KeyboardInterrupt"):
        v.result()
    loop.run(b)
    assert log == [0, 1, 2]


def test_ctrl_c_during_a_long_idle_ends_run_without_waiting_for_the_deadline():
    sched = _sched()

    async def sleeper():
        await sleep_ms(60000)

    h = sched.spawn(sleeper())
    loop = RunLoop(sched, max_idle_us=None)  # one sleep_idle until the deadline, a minute
    timer = threading.Timer(0.2, os.kill, (os.getpid(), signal.SIGINT))
    timer.start()
    try:
        with pytest.raises(KeyboardInterrupt):
            loop.run()
    finally:
        timer.cancel()
    assert not h.is_complete()  # still asleep: run() did not wait for its deadline
    assert loop.idles >= 1
    sched.close()


def test_a_handler_of_the_program_s_own_is_left_in_place():
    seen = []

    def mine(signum, frame):
        seen.append(signum)

    previous = signal.signal(signal.SIGINT, mine)
    try:
        sched = _sched()

        async def main():
            seen.append(signal.getsignal(signal.SIGINT) is mine)
            signal.raise_signal(signal.SIGINT)
            await yield_now()
            return "done"

        assert RunLoop(sched).run(sched.spawn(main())) == "done"
        assert seen == [True, signal.SIGINT]
        assert signal.getsignal(signal.SIGINT) is mine
    finally:
        signal.signal(signal.SIGINT, previous)


def test_run_on_another_thread_has_no_guard_and_runs():
    sched = _sched()
    out = []

    async def main():
        await yield_now()
        return signal.getsignal(signal.SIGINT) is signal.default_int_handler

    def body():
        out.append(RunLoop(sched).run(sched.spawn(main())))

    _thread.start_new_thread(body, ())
    for _ in range(5000):
        if out:
            break
        sleep_idle(1000)
    assert out == [True]


def _inject_at(func_name, k):
    # A trace function that raises KeyboardInterrupt at the k-th opcode of func_name in
    # locksection.py: every position where a signal could land.
    count = [0]

    def local(frame, event, arg):
        if event == "opcode":
            count[0] += 1
            if count[0] == k:
                raise KeyboardInterrupt
        return local

    def trace(frame, event, arg):
        code = frame.f_code
        if code.co_name == func_name and code.co_filename.endswith("locksection.py"):
            frame.f_trace_opcodes = True
            return local
        return None

    return trace


def _other_thread_enters(cs):
    done = []

    def body():
        cs.exit(cs.enter())
        done.append(1)

    _thread.start_new_thread(body, ())
    for _ in range(3000):
        if done:
            return True
        sleep_idle(1000)
    return False


@pytest.mark.parametrize("name", ["enter", "exit", "try_enter"])
def test_a_ctrl_c_at_any_opcode_of_the_section_leaves_it_recoverable(name):
    interrupted = 0
    k = 1
    while True:
        cs = LockCriticalSection()
        outer = cs.enter() if name == "exit" else None
        state = None
        hit = False
        sys.settrace(_inject_at(name, k))
        try:
            state = cs.exit(outer) if name == "exit" else (
                cs.enter() if name == "enter" else cs.try_enter())
        except KeyboardInterrupt:
            hit = True
        finally:
            sys.settrace(None)
        if not hit:
            break
        interrupted += 1
        mine = cs.try_enter()  # never held by nobody: this thread can always take it
        assert mine is not None, (name, k)
        cs.exit(mine)
        cs.leave_interrupted()  # what run() and close() do after a Ctrl-C
        assert not cs.held() and _other_thread_enters(cs), (name, k)
        k += 1
    assert interrupted >= 2 and state == (None if name == "exit" else 0)  # the last: no hit


def test_the_demo_like_stress_survives_a_ctrl_c_per_cycle():
    # host_tests/ctrl_c_stress.py runs a busy demo-like scheduler (a thread wakes a task every
    # 300 µs); this sends SIGINT at a random moment of each cycle. After every Ctrl-C it checks
    # that another thread can take the section and that every task progresses again; every 8th
    # cycle close() must return. Before the fix a section stayed held within 3 cycles.
    cycles = 40
    env = dict(os.environ, PYTHONUNBUFFERED="1", PYTHONPATH=os.pathsep.join(
        [os.path.join(ROOT, "firmware"), os.path.join(ROOT, "boards", "unix")]))
    proc = subprocess.Popen([sys.executable, os.path.join(ROOT, "host_tests", "ctrl_c_stress.py"),
                             str(cycles)], env=env, cwd=ROOT, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True,
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    import random

    lines = []
    watchdog = threading.Timer(120, proc.kill)  # a hang fails the test instead of stalling it
    watchdog.start()
    try:
        for line in proc.stdout:
            lines.append(line.rstrip())
            if line.startswith("READY"):
                sleep_idle(random.randrange(0, 30000))
                proc.send_signal(signal.SIGINT)
            elif line.startswith("DONE"):
                break
        proc.wait(timeout=60)
    finally:
        watchdog.cancel()
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    cycles_ok = [x for x in lines if re.match(r"CYCLE \d+ ok", x)]
    assert len(cycles_ok) == cycles and lines[-1] == "DONE problems 0", "\n".join(lines[-30:])
