# Channel: FIFO through the ring, full/empty, close with clean wake-ups, cancellation, misuse.
from shimeji import Channel, ChannelClosed, InvalidCapacity, StaticScheduler, yield_now
from support import raises
from synchelp import drain


async def sender(ch, items, log, name):
    try:
        for x in items:
            await ch.send(x)
            log.append((name, "sent", x))
    except ChannelClosed:
        log.append((name, "closed"))


async def receiver(ch, n, log, name):
    try:
        for _ in range(n):
            log.append((name, "got", await ch.recv()))
    except ChannelClosed:
        log.append((name, "closed"))


def test_try_send_try_recv_ring_wraps_in_order():
    ch = Channel(3)
    out = []
    for i in range(10):
        assert ch.try_send(i)
        if ch.is_full():
            out.append(ch.try_recv())
    assert len(ch) == 2
    while not ch.is_empty():
        out.append(ch.try_recv())
    assert out == list(range(10))
    assert ch.try_recv("none") == "none"


def test_full_and_empty():
    ch = Channel(2)
    assert ch.try_send("a") and ch.try_send("b")
    assert ch.is_full() and ch.try_send("c") is False
    assert ch.try_recv() == "a" and ch.try_recv() == "b"
    assert ch.is_empty() and ch.try_recv() is None


def test_sender_waits_while_full_receiver_while_empty():
    s = StaticScheduler(4)
    ch = Channel(2)
    log = []
    s.spawn(sender(ch, [1, 2, 3, 4], log, "s"))
    drain(s)
    assert log == [("s", "sent", 1), ("s", "sent", 2)] and ch.is_full()
    s.spawn(receiver(ch, 5, log, "r"))
    drain(s)
    assert log[2:] == [
        ("r", "got", 1),
        ("r", "got", 2),
        ("s", "sent", 3),
        ("s", "sent", 4),
        ("r", "got", 3),
        ("r", "got", 4),
    ]
    assert ch.try_send(5)
    drain(s)
    assert log[-1] == ("r", "got", 5)


def test_senders_and_receivers_are_served_in_fifo_order():
    s = StaticScheduler(8)
    ch = Channel(1)
    log = []
    for name in ("r1", "r2"):
        s.spawn(receiver(ch, 2, log, name))
    drain(s)
    for name, items in (("a", "ab"), ("b", "cd")):
        s.spawn(sender(ch, items, log, name))
    drain(s)
    # Sender a queued first, so its items go first; receivers take turns.
    assert log == [
        ("a", "sent", "a"), ("r1", "got", "a"), ("a", "sent", "b"), ("r2", "got", "b"),
        ("b", "sent", "c"), ("r1", "got", "c"), ("b", "sent", "d"), ("r2", "got", "d"),
    ]


def test_close_wakes_senders_and_lets_receivers_drain_first():
    s = StaticScheduler(8)
    ch = Channel(1)
    log = []
    s.spawn(sender(ch, ["x", "y"], log, "s"))
    drain(s)
    ch.close()
    drain(s)
    assert log == [("s", "sent", "x"), ("s", "closed")]
    assert ch.try_send("z") is False
    s.spawn(receiver(ch, 3, log, "r"))
    drain(s)
    assert log[2:] == [("r", "got", "x"), ("r", "closed")]


def test_close_wakes_waiting_receivers():
    s = StaticScheduler(8)
    ch = Channel(4)
    log = []
    s.spawn(receiver(ch, 1, log, "r1"))
    s.spawn(receiver(ch, 1, log, "r2"))
    drain(s)
    ch.close()
    drain(s)
    assert log == [("r1", "closed"), ("r2", "closed")]


def test_cancelled_sender_sends_nothing_and_leaves_at_once():
    s = StaticScheduler(8)
    ch = Channel(1)
    log = []
    assert ch.try_send("first")
    h = s.spawn(sender(ch, ["never"], log, "s"))
    drain(s)
    h.cancel()
    assert ch._senders.count == 0
    drain(s)
    assert ch.try_recv() == "first" and ch.try_recv() is None and log == []


def test_item_woken_for_a_cancelled_receiver_goes_to_the_next():
    s = StaticScheduler(8)
    ch = Channel(2)
    log = []
    h1 = s.spawn(receiver(ch, 1, log, "r1"))
    s.spawn(receiver(ch, 1, log, "r2"))
    drain(s)
    ch.try_send("item")  # wakes r1 ...
    h1.cancel()  # ... which is cancelled before it resumes
    drain(s)
    assert log == [("r2", "got", "item")] and h1.is_cancelled()


def test_ready_then_try_recv_loop():
    s = StaticScheduler(4)
    ch = Channel(2)
    got = []

    async def consumer():
        try:
            while True:
                await ch.ready()
                item = ch.try_recv()
                if item is not None:
                    got.append(item)
        except ChannelClosed:
            got.append("closed")

    s.spawn(consumer())
    drain(s)
    for i in range(5):
        ch.try_send(i)
        drain(s)
    ch.try_send(5)
    ch.close()
    drain(s)
    assert got == [0, 1, 2, 3, 4, 5, "closed"]


def test_capacity_must_be_positive():
    for bad in (0, -1, 1.5, None):
        with raises(InvalidCapacity, "at least 1"):
            Channel(bad)


def test_woken_receiver_whose_item_was_taken_keeps_its_place():
    s = StaticScheduler(8)
    ch = Channel(1)
    log = []
    s.spawn(receiver(ch, 1, log, "r1"))
    s.spawn(receiver(ch, 1, log, "r2"))
    drain(s)
    ch.try_send("x")  # wakes r1 ...
    assert ch.try_recv() == "x"  # ... but an interrupt handler takes the item first
    drain(s)
    assert log == [] and ch._receivers.head is not None
    ch.try_send("y")
    drain(s)
    assert log == [("r1", "got", "y")]  # r1 went back to the head, ahead of r2


def test_woken_sender_whose_space_was_taken_keeps_its_place():
    s = StaticScheduler(8)
    ch = Channel(1)
    log = []
    assert ch.try_send("first")
    s.spawn(sender(ch, ["a"], log, "a"))
    s.spawn(sender(ch, ["b"], log, "b"))
    drain(s)
    assert ch.try_recv() == "first"  # wakes a ...
    assert ch.try_send("isr")  # ... but an interrupt handler fills the space first
    drain(s)
    assert log == []
    assert ch.try_recv() == "isr"
    drain(s)
    assert log == [("a", "sent", "a")]


# a Channel's space or item handed to a woken waiter is not taken by a newcomer.
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
