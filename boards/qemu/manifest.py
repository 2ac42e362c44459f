# Firmware for MicroPython's qemu port (mps2-an385): shimeji, the board module (imported as
# shimeji_board) and the demo.  make firmware BOARD=qemu MICROPY_DIR=/path/to/micropython
include("../../manifest.py")
module("shimeji_board.py")
