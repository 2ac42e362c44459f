# Review: a Channel's space or item handed to a woken waiter is not taken by a newcomer.
from shimeji import Channel, StaticScheduler, yield_now


def _drain(s):
    while s.tick().has_remaining:
        pass


def test_a_new_sender_does_not_take_the_space_a_woken_sender_was_given():
    s = StaticScheduler(4)
    ch = Channel(1)
    got = []
    ch.try_send("x")

    async def sender(item):
        await ch.send(item)

    async def take_one():
        got.append(ch.try_recv())  # frees the space: p1, the oldest sender, is woken

    s.spawn(sender("p1"))
    s.tick()  # p1 waits: the channel is full
    s.spawn(take_one())
    s.spawn(sender("p2"))  # runs before the woken p1
    _drain(s)
    while not ch.is_empty():
        got.append(ch.try_recv())
        _drain(s)
    assert got == ["x", "p1", "p2"]


def test_a_new_receiver_does_not_take_the_item_a_woken_receiver_was_given():
    s = StaticScheduler(4)
    ch = Channel(2)
    got = []

    async def receiver(tag):
        got.append((tag, await ch.recv()))

    async def put_one():
        ch.try_send(1)  # r1, the oldest receiver, is woken

    s.spawn(receiver("r1"))
    s.tick()  # r1 waits: the channel is empty
    s.spawn(put_one())
    s.spawn(receiver("r2"))  # runs before the woken r1
    _drain(s)
    ch.try_send(2)
    _drain(s)
    assert got == [("r1", 1), ("r2", 2)]


def test_a_sender_woken_forever_after_a_newcomer_is_not_starved():
    s = StaticScheduler(4)
    ch = Channel(1)
    log = []

    async def slow():
        await ch.send("slow")
        log.append("slow sent")

    async def fast():
        for i in range(3):
            await ch.send(i)
            await yield_now()

    async def consumer():
        for _ in range(4):
            await ch.ready()
            log.append(ch.try_recv())
            await yield_now()

    ch.try_send("first")
    s.spawn(slow())
    s.tick()
    s.spawn(consumer())
    s.spawn(fast())
    _drain(s)
    assert log[:3] == ["first", "slow sent", "slow"]


def test_what_a_cancelled_woken_waiter_held_goes_to_the_next():
    s = StaticScheduler(6)
    ch = Channel(1)
    got = []

    async def receiver(tag):
        got.append((tag, await ch.recv()))

    async def sender(tag):
        await ch.send(tag)
        got.append(("sent", tag))

    r1 = s.spawn(receiver("r1"))
    s.spawn(receiver("r2"))
    s.tick()
    ch.try_send(1)  # r1 is woken and holds the item ...
    r1.cancel()  # ... and is cancelled before it runs: r2 gets it
    _drain(s)
    assert got == [("r2", 1)]
    ch.try_send("full")
    s1 = s.spawn(sender("s1"))
    s.spawn(sender("s2"))
    s.tick()
    assert ch.try_recv() == "full"  # s1 is woken and holds the space ...
    s1.cancel()  # ... and is cancelled: s2 gets it
    _drain(s)
    assert got == [("r2", 1), ("sent", "s2")]
    assert (ch.try_recv(), ch._space_held, ch._items_held) == ("s2", 0, 0)
