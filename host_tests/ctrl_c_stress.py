"""A demo-like program for Ctrl-C stress runs (test_sched_ctrl_c_guard.py sends the SIGINTs).

``python ctrl_c_stress.py CYCLES`` prints ``READY n`` and runs the loop until a Ctrl-C; then
checks that another thread can take the critical section, that every task progresses again
(tasks the interrupt ended are spawned again) and, every 8th cycle, that ``close()`` returns;
prints ``CYCLE n ok`` or what went wrong; ends with ``DONE problems N``. Runs on both runtimes
(PYTHONPATH / MICROPYPATH: firmware and boards/unix).
"""

import _thread
import sys

import shimeji_board

from shimeji import Channel, Interval, Timeout, WaitCell, port, sleep_ms, timeout, yield_now
from shimeji.sched.runloop import sleep_idle

CYCLES = int(sys.argv[1]) if len(sys.argv) > 1 else 100
board = shimeji_board.Board()
count = {"spinner": 0, "blink": 0, "sampler": 0, "reporter": 0, "button": 0}
quit_ = [False]
cell = [None]


def presser():  # the button's interrupt handler, every 300 µs
    while not quit_[0]:
        c = cell[0]
        if c is not None:
            c.wake()
        sleep_idle(300)


async def blink():
    every = Interval(period_ms=1)
    while True:
        count["blink"] += 1
        await every


async def read(i):
    await sleep_ms(9 if i % 5 == 4 else 0)
    return i


async def sampler(ch):
    i = 0
    while True:
        try:
            v = await timeout(read(i), 3)
        except Timeout:
            v = -1
        await ch.send(v)
        count["sampler"] += 1
        i += 1


async def reporter(ch):
    while True:
        await ch.recv()
        count["reporter"] += 1


async def spinner(c, ch):  # busy: sections, wakes and yields all the time
    while True:
        c.wake()
        await c.wait()
        ch.try_send(1)
        ch.try_recv(None)
        await yield_now()
        count["spinner"] += 1


async def button(c):
    while True:
        await c.wait()
        count["button"] += 1


def make():
    sched = board.scheduler(8)
    cs = sched.critical_section
    ch = Channel(4, cs)
    c = WaitCell(cs)
    cell[0] = c
    makers = {
        "spinner": lambda: spinner(WaitCell(cs), Channel(2, cs)),
        "blink": blink,
        "sampler": lambda: sampler(ch),
        "reporter": lambda: reporter(ch),
        "button": lambda: button(c),
    }
    handles = {name: sched.spawn(mk(), name) for name, mk in makers.items()}
    loop = board.make_loop(sched)
    board.start_wakeups(sched.timer)
    return sched, makers, handles, loop


def section_free(cs):
    done = []

    def enter_and_leave():
        cs.exit(cs.enter())
        done.append(1)

    _thread.start_new_thread(enter_and_leave, ())
    for _ in range(2000):
        if done:
            return True
        sleep_idle(1000)
    return False


def progressed(loop, sched):
    before = dict(count)
    stop_at = port.ticks_add(port.ticks_ms(), 300)

    async def probe():
        while port.ticks_diff(stop_at, port.ticks_ms()) > 0:
            if all(count[k] > before[k] for k in count):
                return []
            await sleep_ms(2)
        return [k for k in count if count[k] == before[k]]

    return loop.run(sched.spawn(probe(), "probe"))


def main():
    _thread.start_new_thread(presser, ())
    sched, makers, handles, loop = make()
    problems = 0
    for cycle in range(CYCLES):
        interrupted = False
        try:
            print("READY", cycle)
            loop.run()
        except KeyboardInterrupt:
            interrupted = True
        notes = [] if interrupted else ["run() returned without KeyboardInterrupt"]
        if not section_free(sched.critical_section):
            print("CYCLE", cycle, "section held after the Ctrl-C")
            problems += 1
            break
        for name, h in handles.items():
            if h.is_complete():
                handles[name] = sched.spawn(makers[name](), name)
        lost = progressed(loop, sched)
        if lost:
            notes.append("no progress: %s" % ", ".join(lost))
        if cycle % 8 == 7:
            board.stop_wakeups()
            sched.close()
            if sched.live_count():
                notes.append("close() left %d tasks" % sched.live_count())
            sched, makers, handles, loop = make()
        problems += 1 if notes else 0
        print("CYCLE", cycle, "; ".join(notes) if notes else "ok")
    quit_[0] = True
    board.stop_wakeups()
    sched.close()
    print("DONE problems", problems)


main()
