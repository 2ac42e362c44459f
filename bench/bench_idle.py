"""idle: an idle board with one sleeper due in 1 s. Loop wake-ups during that second (the
idle waits that ended), and how late the sleeper woke.

shimeji tickless: a µs ``Timer`` and ``RunLoop(max_idle_us=None)``, as the RP2040, ESP32 and
qemu boards run it (their idle ends on any interrupt, so it needs no shorter bound). The unix
board's own loop (``boards/unix``): it idles in ``poll`` on its wake socket, which a wake from
another thread ends, so it too idles until the deadline; and the same board with
``wake_socket=False`` (``sleep_us`` idles, at most 1 ms each) for reference. asyncio:
``sleep_ms(1000)``; its wake-ups are the calls of its loop's ``wait_io_event``."""

import sys
import time

from benchlib import emit

from shimeji import StaticScheduler, Timer, sleep_ms
from shimeji.sched.runloop import RunLoop

IS_MP = sys.implementation.name == "micropython"

if IS_MP:
    ticks_us = time.ticks_us
    ticks_diff = time.ticks_diff
    sleep_us = time.sleep_us
else:

    def ticks_us():
        return time.perf_counter_ns() // 1000

    def ticks_diff(a, b):
        return a - b

    def sleep_us(us):
        time.sleep(us / 1e6)


def run_shimeji(max_idle_us):
    timer = Timer(tick_us=1)
    s = StaticScheduler(2, timer=timer)
    wakes = [0]
    late = [0]

    def idle(us):
        sleep_us(us)
        wakes[0] += 1

    async def sleeper():
        t0 = ticks_us()
        await sleep_ms(1000)
        late[0] = ticks_diff(ticks_us(), t0) - 1000000

    RunLoop(s, idle=idle, max_idle_us=max_idle_us).run(s.spawn(sleeper()))
    return wakes[0], late[0]


def run_unix_board(wake_socket):
    here = __file__.rsplit("/", 1)[0] if "/" in __file__ else "."
    sys.path.append(here + "/../boards/unix")
    import shimeji_board

    board = shimeji_board.Board(wake_socket=wake_socket)
    inner = board.idle
    wakes = [0]
    late = [0]

    def idle(us):
        inner(us)
        wakes[0] += 1

    board.idle = idle

    async def sleeper():
        t0 = ticks_us()
        await sleep_ms(1000)
        late[0] = ticks_diff(ticks_us(), t0) - 1000000

    board.run(sleeper(), board.scheduler(2))
    return wakes[0], late[0]


def run_asyncio():
    import asyncio

    q = asyncio.core._io_queue
    inner = q.wait_io_event
    wakes = [0]
    late = [0]

    def wait_io_event(dt):
        inner(dt)
        wakes[0] += 1

    async def sleeper():
        t0 = ticks_us()
        await asyncio.sleep_ms(1000)
        late[0] = ticks_diff(ticks_us(), t0) - 1000000

    q.wait_io_event = wait_io_event
    try:
        asyncio.run(sleeper())
    finally:
        del q.wait_io_event
    return wakes[0], late[0]


def main():
    tl = run_shimeji(None)
    # The unix board module runs where the unix port does; firmware freezes its own board.
    hosted = sys.platform in ("linux", "darwin")
    ux = run_unix_board(True) if hosted else None
    capped = run_unix_board(False) if hosted else None
    asy = run_asyncio() if IS_MP else None
    emit("idle", "loop wake-ups while one sleeper waits 1 s, tickless", "", tl[0],
         None if asy is None else asy[0])
    if hosted:
        emit("idle", "loop wake-ups while one sleeper waits 1 s, unix board (wake socket)", "",
             ux[0], None if asy is None else asy[0])
        emit("idle", "loop wake-ups while one sleeper waits 1 s, unix board, sleep_us "
             "(1 ms cap)", "", capped[0], None if asy is None else asy[0])
        emit("idle", "µs late, the 1 s sleeper, unix board (wake socket)", "us", ux[1],
             None if asy is None else asy[1])
    emit("idle", "µs late, the 1 s sleeper, tickless", "us", tl[1],
         None if asy is None else asy[1])


main()
