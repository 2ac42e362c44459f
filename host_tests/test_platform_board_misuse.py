# shimeji: host-only (tests boards/unix/shimeji_board.py; firmware freezes its own board module)
# A board's set-up calls given the wrong thing (session 25's audit): a button callback that
# cannot be called, a scheduler that is not one. Each raises BadArgument saying what to give,
# before the board changes (no thread started, no poller or level dropped); afterwards the same
# board works. Before: the unix board started the button's thread, whose first press died with
# TypeError in that thread (the press lost); make_loop(None) and background(None) raised
# AttributeError after dropping the board's poller; interrupt_scheduler(sched=3) raised
# AttributeError.
import sys

sys.path.insert(0, __file__.rsplit("/", 1)[0] + "/../boards/unix")
try:
    import shimeji_board
finally:
    sys.path.pop(0)
    sys.modules.pop("shimeji_board", None)  # other tests import other boards by that name

from shimeji import BadArgument, WaitCell, sleep_ms, yield_now  # noqa: E402
from shimeji.platform.bsp import BoardBase  # noqa: E402
from support import HAS_THREADS, raises  # noqa: E402


def test_a_button_callback_that_cannot_be_called_is_refused_before_anything_starts():
    for board in (shimeji_board.Board(), BoardBase()):
        for bad in (None, 3, "press"):
            with raises(BadArgument, "button(callback)"):
                board.button(bad)
    if not HAS_THREADS:
        return
    board = shimeji_board.Board()
    cell = WaitCell()
    button = board.button(lambda arg: cell.wake(), presses_ms=(5,))

    async def main():
        await cell.wait()  # the press arrives: nothing was lost to the refused calls
        return "pressed"

    try:
        assert board.run(main()) == "pressed"
    finally:
        button.stop()


def test_make_loop_and_background_refuse_what_is_not_a_scheduler_before_the_board_changes():
    board = shimeji_board.Board()
    sched = board.scheduler(4)
    loop = board.make_loop(sched)
    poller = board.poller
    for bad in (None, 3, loop):
        with raises(BadArgument, "make_loop(sched)"):
            board.make_loop(bad)
        with raises(BadArgument, "make_loop(sched)"):
            board.background(bad)
        assert board.loop is loop and board.poller is poller  # unchanged
        assert board.ticker is None and not board.behind_repl  # no thread started

    async def main():
        await sleep_ms(2)
        return 9

    assert board.run(main(), sched) == 9


def test_an_interrupt_level_refuses_a_sched_that_is_not_a_scheduler():
    board = shimeji_board.Board()
    for bad in (3, "sched", board):
        with raises(BadArgument, "interrupt_scheduler(sched="):
            board.interrupt_scheduler(2, sched=bad)
    assert not board.interrupt_levels  # nothing made or kept
    sched = board.scheduler(4)
    isr = board.interrupt_scheduler(2, sched=sched)
    assert board.interrupt_levels == [isr]
    isr.close()

    async def main():
        await yield_now()
        return "ok"

    assert board.run(main(), sched) == "ok"
