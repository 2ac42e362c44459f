# The stm32 board's idle on the board (the STM32L475 in qemu: `make test-firmware BOARD=stm32`):
# a soft callback (micropython.schedule from a hard machine.Timer interrupt, as a Pin or UART
# handler would) that wakes a task is followed by that task's poll with no idle wait between.
# Before session 7 the idle ran such a callback inside time.sleep_ms(0) and then WFI'd anyway:
# the woken task waited for the next interrupt (1,000 µs median from callback to task in qemu,
# against 2-3 µs now: docs/boards.md, "STM32 idle, session 7"). Counted in waits, not timed.
# Skipped, saying so, where there is no stm32 board module (CPython, the unix port, other
# boards).
import sys
import time

from support import IS_MICROPYTHON

ROUNDS = 20


def _stm32_board():
    if sys.platform != "pyboard":
        return "needs the stm32 board (sys.platform 'pyboard'), not %r" % sys.platform
    try:
        import shimeji_board
    except ImportError:
        return "needs the stm32 board module (shimeji_board) frozen in"
    if getattr(shimeji_board.Board, "NAME", None) != "stm32":
        return "the frozen shimeji_board is not the stm32 one"
    return shimeji_board


_board = _stm32_board()
REASON = _board if isinstance(_board, str) else None


def needs_stm32_board(fn):
    if REASON is None:
        return fn
    if IS_MICROPYTHON:
        from support import _Skipped

        return _Skipped(fn, REASON)
    import pytest

    return pytest.mark.skip(reason=REASON)(fn)


class CountingTime:
    """The board module's ``time``: the real one, with the waits that ended counted (after
    each ``sleep_ms`` returns, with no branch between: a callback run inside the wait, before
    its WFI, sees the count before that wait ends)."""

    def __init__(self):
        self.ended = 0
        self.ticks_us = time.ticks_us

    def sleep_ms(self, ms):
        time.sleep_ms(ms)
        self.ended += 1


@needs_stm32_board
def test_a_soft_callbacks_wake_is_served_without_another_wait():
    import machine
    import micropython

    from shimeji.sync.waitcell import WaitCell

    board = _board.Board()
    clock = CountingTime()
    cell = WaitCell()
    ended_at_callback = [0]
    between = []  # waits that ended between each callback and its task's poll
    late_us = []

    def callback(_arg):
        ended_at_callback[0] = clock.ended
        late_us.append(time.ticks_us())
        cell.wake()

    def interrupt(_timer):
        micropython.schedule(callback, None)

    async def main():
        timer = machine.Timer(period=7, callback=interrupt, hard=True)
        try:
            for i in range(ROUNDS):
                await cell.wait()
                between.append(clock.ended - ended_at_callback[0])
                late_us[i] = time.ticks_diff(time.ticks_us(), late_us[i])
        finally:
            timer.deinit()

    _board.time = clock
    try:
        board.run(main())
    finally:
        _board.time = time
    assert between == [0] * ROUNDS, between  # the old idle: a wait (WFI) after each callback
    assert clock.ended >= ROUNDS  # it did wait between the rounds (7 ms apart)
    print("stm32 wake: callback to task µs, min/median/max",
          min(late_us), sorted(late_us)[ROUNDS // 2], max(late_us))
