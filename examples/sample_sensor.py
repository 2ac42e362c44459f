# Sample a sensor every 10 ms; a reading that takes longer than 5 ms is given up (timeout).
# Here:       make example NAME=sample_sensor  (unix board; RUNTIME=cpython for CPython)
# A board:    make deploy PORT=... EXAMPLE=examples/sample_sensor.py
import shimeji_board

from shimeji import Interval, Timeout, sleep_ms, timeout

board = shimeji_board.Board()


async def read_sensor(i):
    # Stands for a bus transaction that waits for the sensor's "conversion ready" (on a board:
    # machine.ADC(26).read_u16(), or an I2C read). Every 20th conversion hangs for 30 ms.
    await sleep_ms(30 if i % 20 == 19 else 2)
    return 20.0 + (i % 10) / 10


async def sampler(samples):
    every = Interval(period_ms=10)
    ok = timed_out = 0
    total = 0.0
    for i in range(samples):
        await every
        try:
            value = await timeout(read_sensor(i), 5)
        except Timeout:
            timed_out += 1
            continue
        ok += 1
        total += value
    print("%d samples, mean %.2f, %d timed out, %d periods missed" % (
        ok, total / ok, timed_out, every.missed))
    return ok


sched = board.scheduler(4)
board.run(sampler(100), sched)
