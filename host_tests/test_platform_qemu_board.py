"""The qemu board module (boards/qemu/shimeji_board.py) refuses what the port lacks with a
ShimejiError subclass that says what to use, as every misuse in shimeji does."""

import sys

from shimeji import NoThreads, NotOnThisBoard, ShimejiError
from support import raises

sys.path.insert(0, __file__.rsplit("/", 1)[0] + "/../boards/qemu")
try:
    import shimeji_board as qemu_board
finally:
    sys.path.pop(0)
    sys.modules.pop("shimeji_board", None)  # other tests import the unix board by that name


def test_background_raises_no_threads_saying_to_tick_or_run():
    # called on the class: making a Board needs the port's time.ticks_us
    with raises(NoThreads, "board.run(main)"):
        qemu_board.Board.background(None, None)
    assert issubclass(NoThreads, ShimejiError)


def test_button_raises_not_on_this_board_saying_to_call_the_handler():
    with raises(NotOnThisBoard, "call the handler yourself"):
        qemu_board.Board.button(None, lambda pin: None)
    assert issubclass(NotOnThisBoard, ShimejiError)
