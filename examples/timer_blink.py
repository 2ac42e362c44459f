# Blink at 2 Hz, sample every 10 ms, give up on a slow sensor after 200 ms.
# Run: make example NAME=timer_blink  (RUNTIME=cpython for CPython)
# On a board, make the LED a machine.Pin and let a hardware timer call timer.interrupt.
from shimeji import Interval, StaticScheduler, Timeout, Timer, sleep_ms, timeout

timer = Timer()  # 1 ms ticks from time.ticks_us
sched = StaticScheduler(capacity=4, timer=timer)
# On a board:  machine.Timer(-1, period=1, callback=timer.interrupt)


async def blink(times):
    led = 0
    iv = Interval(250)  # drift-free: 250, 500, 750 ms... after the first await
    for _ in range(times):
        await iv
        led ^= 1
        print("led", "on" if led else "off", "(missed %d)" % iv.missed)


async def sample(n):
    total = 0
    iv = Interval(10)
    for i in range(n):
        await iv
        total += i  # read an ADC here
    return total


async def slow_sensor():
    await sleep_ms(1000)  # never answers in time
    return 42


async def main():
    led = sched.spawn(blink(4), "blink")
    adc = sched.spawn(sample(50), "sample")
    try:
        await timeout(slow_sensor(), 200)
    except Timeout as e:
        print("sensor:", e)
    print("samples summed:", await adc)
    await led
    return "done"


print(sched.run_until_complete(main()))
