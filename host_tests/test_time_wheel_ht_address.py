# The wheel's heads and tails (TimerWheel._ht, never moved nor grown) have their address in two
# of its words (wheelentry.note_ht), so that sleep_ms, the hand-off and the advance cast them
# from the words they already hold. Where viper is not compiled (CPython, a bytecode-only
# build) the words stay 0 and the passes read ``_ht``: both ways must run every sleep alike.
from array import array

from shimeji import FakeClock, StaticScheduler, Timer, TimerWheel, sleep_ms
from shimeji.task.words import addr_of

_W_HT = 49  # TimerWheel._w's words of _ht's address: low, high 32 bits (wheel.py)
_BUF = array("i", [0])
VIPER = addr_of(_BUF) is not _BUF  # (task/words.py: the buffer itself where no viper cast)


def _address_in_words(w):
    ws = w._w
    return (ws[_W_HT] & 0xFFFFFFFF) | ((ws[_W_HT + 1] & 0xFFFFFFFF) << 32)


def test_a_new_wheel_holds_its_heads_address_where_viper_runs_else_zero():
    w = TimerWheel(0, capacity=4)
    if VIPER:
        assert _address_in_words(w) == addr_of(w._ht) != 0
    else:
        assert _address_in_words(w) == 0


def test_the_address_survives_growth_of_the_words():
    w = TimerWheel(0, capacity=2)
    before = _address_in_words(w)
    w.reserve(300)  # (the words' array is extended in place: its header is kept)
    assert _address_in_words(w) == before


def _run(clear_words):
    """Fire log of 12 sleepers of 1-7 ms (two rounds each) on a wheel that grows as they arm,
    with the address words as made or cleared (the passes then read ``_ht``)."""
    clock = FakeClock()
    timer = Timer(clock, 1000, capacity=2)
    if clear_words:
        timer.wheel._w[_W_HT] = timer.wheel._w[_W_HT + 1] = 0
    s = StaticScheduler(12, timer=timer)
    log = []

    async def sleeper(k):
        for r in range(2):
            await sleep_ms(1 + k % 7)
            log.append((k, r, clock() // 1000))

    for k in range(12):
        s.spawn(sleeper(k))
    for _ in range(40):
        timer.turn()
        s.tick()
        clock.advance_us(500)
    return log, timer.wheel.pending


def test_sleeps_fire_alike_with_the_address_and_without_it():
    with_words = _run(False)
    assert len(with_words[0]) == 24 and with_words[1] == 0
    assert with_words == _run(True)
    log = with_words[0]
    assert all(t >= (r + 1) * (1 + k % 7) for k, r, t in log)  # never early
