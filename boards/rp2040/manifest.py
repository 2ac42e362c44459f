# Firmware for the rp2040 board: the port's usual frozen modules, shimeji, and the board module
# (imported as shimeji_board).  make firmware BOARD=rp2040 MICROPY_DIR=/path/to/micropython
# freezes it into our board, pico/ (RPI_PICO with a 1280 KB filesystem: the image fits before it).
# word_align_native=True: shimeji keeps its native code, and the freeze runs a copy of
# MicroPython's mpy-tool.py patched (mpy-tool-armv6m-align.patch) to align it to 4 bytes: the
# unpatched tool aligns it to 2 on ARMv6-M and the Cortex-M0+ faults on the first call into it.
# bytecode=True instead freezes a bytecode-only copy (no patch; slower spawn, see docs/boards.md).
include("$(PORT_DIR)/boards/manifest.py")
include("../../manifest.py", word_align_native=True)
module("shimeji_board.py")
