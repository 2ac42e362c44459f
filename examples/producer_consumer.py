# A producer and a consumer over a bounded Channel: the producer makes a reading every 5 ms,
# the consumer handles them in batches every 40 ms. When the channel is full the producer
# waits (back-pressure) instead of dropping readings or growing a queue.
# Here:       make example NAME=producer_consumer  (unix board; RUNTIME=cpython for CPython)
import shimeji_board

from shimeji import Channel, ChannelClosed, Interval, sleep_ms

board = shimeji_board.Board()
sched = board.scheduler(4)
readings = Channel(8)  # a preallocated ring of 8 items


async def producer(count):
    every = Interval(period_ms=5)
    for i in range(count):
        await every
        await readings.send(i)  # waits while the channel is full
    readings.close()  # the consumer drains what is left, then sees ChannelClosed
    return count


async def consumer():
    got = batches = 0
    while True:
        await sleep_ms(40)
        try:
            item = await readings.recv()
        except ChannelClosed:
            break
        n = 1
        while readings.try_recv(None) is not None:  # take the rest of the batch
            n += 1
        got += n
        batches += 1
        print("batch %d: %d readings, up to #%d" % (batches, n, item + n - 1))
    return got


async def main():
    p = sched.spawn(producer(60), "producer")
    c = sched.spawn(consumer(), "consumer")
    made = await p
    got = await c
    print("produced %d, consumed %d, nothing lost" % (made, got) if made == got else "LOST")


board.run(main(), sched)
