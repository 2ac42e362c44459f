# The shimeji demo firmware: five tasks on one StaticScheduler, driven by the board's run loop.
#   blink     the LED changes every 250 ms (on the unix board a text LED: ● / ○)
#   sampler   reads a sensor every 10 ms, gives up on a reading after 5 ms (timeout)
#   reporter  takes the readings out of a Channel and reports them every 500 ms
#   button    woken by the button's interrupt handler (on the unix board, a thread presses it)
#   main      starts them, lets them run SECONDS (default 4), stops them and sums up
# make run    runs it (on the unix board when no board is attached); also make example NAME=demo
# ARGS=10 [RUNTIME=cpython]; on a board: make deploy PORT=... EXAMPLE=examples/demo.py
import sys

import shimeji_board

from shimeji import (
    Channel,
    Interval,
    Timeout,
    WaitCell,
    current_task,
    port,
    sleep_ms,
    timeout,
)

SECONDS = float(sys.argv[1]) if len(sys.argv) > 1 else 4

board = shimeji_board.Board()
sched = board.scheduler(8)
readings = Channel(64)  # a preallocated ring: room for 500 ms of readings
pressed = WaitCell(sched.critical_section)
press_at = [0]  # the tick of the last press, written by the interrupt handler
stats = {"samples": 0, "timeouts": 0, "reported": 0, "presses": 0, "blinks": 0}
t0 = board.ticks_us()


def log(msg):
    print("%7.3f s  %s" % (port.ticks_diff(board.ticks_us(), t0) / 1000000, msg))


def on_press(pin):
    press_at[0] = board.ticks_us()  # interrupt context: a store and an ISR-safe wake, no more
    pressed.wake()


async def blink(led):
    every = Interval(period_ms=250)
    try:
        while True:
            led.toggle()
            stats["blinks"] += 1
            await every
    finally:
        led.off()


async def read_sensor(i):
    # Stands for an ADC or I2C read that waits for "conversion ready"; every 50th one hangs.
    await sleep_ms(40 if i % 50 == 49 else 1)
    return 21.0 + ((i * 7) % 13) / 10


async def sampler():
    every = Interval(period_ms=10)
    i = 0
    while True:
        await every
        try:
            value = await timeout(read_sensor(i), 5)
        except Timeout:
            stats["timeouts"] += 1
        else:
            stats["samples"] += 1
            await readings.send(value)
        i += 1


def report():
    n = 0
    total = 0.0
    lo = hi = None
    while True:
        v = readings.try_recv(None)
        if v is None:
            break
        n += 1
        total += v
        lo = v if lo is None or v < lo else lo
        hi = v if hi is None or v > hi else hi
    stats["reported"] += n
    if n:
        log("sensor   %2d readings, mean %.2f °C (%.1f..%.1f), %d timed out so far" % (
            n, total / n, lo, hi, stats["timeouts"]))


async def reporter():
    every = Interval(period_ms=500)
    while True:
        await every
        report()


async def button():
    while True:
        await pressed.wait()
        stats["presses"] += 1
        late_us = port.ticks_diff(board.ticks_us(), press_at[0])
        log("button   press %d woke task %r after %d µs" % (
            stats["presses"], current_task().name, late_us))


async def main(led):
    tasks = [
        sched.spawn(blink(led), "blink"),
        sched.spawn(sampler(), "sampler"),
        sched.spawn(reporter(), "reporter"),
        sched.spawn(button(), "button"),
    ]
    log("started  %s" % ", ".join(t.name for t in tasks))
    await sleep_ms(int(SECONDS * 1000))
    for t in tasks:
        t.cancel()
    for t in tasks:
        try:
            await t
        except BaseException:  # noqa: B036 - Cancelled is what we expect here
            pass
    readings.close()
    report()  # what came in since the reporter's last round: every reading is reported
    return len(tasks)


def summary(how):
    print("%s after %.1f s: %d samples (%d timed out), %d reported, %d LED changes, "
          "%d button presses; %d of %d task slots free" % (
              how, port.ticks_diff(board.ticks_us(), t0) / 1000000, stats["samples"],
              stats["timeouts"], stats["reported"], stats["blinks"], stats["presses"],
              sched.free_count(), sched.capacity))


led = board.led()
if hasattr(led, "out"):  # the unix board's text LED: timestamp its lines like the rest
    led.out = log
print("shimeji demo on the %s board: %d task slots, %s, %d µs timer tick, %.0f s (Ctrl-C stops "
      "it)" % (board.NAME, sched.capacity, "tickless" if board.tickless else "periodic",
               board.tick_us, SECONDS))
try:
    btn = board.button(on_press)
except NotImplementedError:
    btn = None
try:
    board.run(main(led), sched, collect=__import__("gc").collect)
    summary("done")
except KeyboardInterrupt:
    sched.close()
    report()
    summary("stopped by Ctrl-C")
finally:
    if btn is not None:
        btn.stop()
