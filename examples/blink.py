# Blink the board's LED at 2 Hz, twelve changes, drift-free (Interval keeps absolute deadlines).
# Here:       make example NAME=blink  (on the unix board; RUNTIME=cpython for CPython)
# A board:    make deploy PORT=... EXAMPLE=examples/blink.py
import shimeji_board

from shimeji import Interval

board = shimeji_board.Board()
led = board.led()


async def blink(period_ms, changes):
    every = Interval(period_ms=period_ms)
    for _ in range(changes):
        led.toggle()
        await every
    led.off()
    return every.missed


sched = board.scheduler(4)
missed = board.run(blink(250, 12), sched)
print("blink done, %d periods missed" % missed)
