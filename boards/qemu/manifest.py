# Firmware for MicroPython's qemu port (mps2-an385): shimeji, the board module (imported as
# shimeji_board) and the demo.  make firmware BOARD=qemu MICROPY_DIR=/path/to/micropython
# asyncio is frozen too (the qemu port has none by default): the benchmarks and the tests
# compare shimeji with it in the same firmware.
include("$(MPY_DIR)/extmod/asyncio")
include("../../manifest.py")
module("shimeji_board.py")
