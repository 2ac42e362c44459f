# Sync primitives in one screen: an "interrupt handler" feeds a Channel, two tasks share a bus
# through a Mutex, a Semaphore limits how many may sample at once, an Event says "stop".
# Run: make example NAME=sync_pipeline  (RUNTIME=cpython for CPython: the same code)
# On the unix port and CPython a second thread plays the interrupt handler; on a board the
# handler would be a Pin or Timer callback calling the same ISR-safe methods.
import _thread
import time

from shimeji import Channel, Event, Mutex, Semaphore, StaticScheduler, WaitCell

samples = Channel(4)  # preallocated ring: try_send from the handler allocates nothing
data_ready = WaitCell()  # like asyncio's ThreadSafeFlag
bus = Mutex()
adc_slots = Semaphore(1)
stop = Event()
log = []


def interrupt_handler(n):
    # ISR-safe calls only: try_send and wake never block and never allocate.
    for i in range(n):
        while not samples.try_send(i):  # full: a real handler would count an overrun
            time.sleep(0.001)
        data_ready.wake()


async def consumer(name, total):
    got = 0
    while got < total:
        await samples.ready()  # allocation-free receive: ready() then try_recv()
        item = samples.try_recv()
        if item is None:
            continue  # the other consumer was faster
        got += 1
        async with adc_slots:
            async with bus:
                log.append((name, item))
    return got


async def main(sched, n):
    _thread.start_new_thread(interrupt_handler, (n,))
    await data_ready.wait()  # the first wake from the handler
    a = sched.spawn(consumer("a", n // 2), "a")
    b = sched.spawn(consumer("b", n - n // 2), "b")
    total = await a + await b
    stop.set()
    await stop.wait()
    return total


sched = StaticScheduler(capacity=8)
n = 20
total = sched.run_until_complete(main(sched, n))
items = sorted(item for _, item in log)
print("received %d items, all present: %s" % (total, items == list(range(n))))
print("per consumer:", [sum(1 for who, _ in log if who == w) for w in "ab"])
