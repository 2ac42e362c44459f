# Firmware for the rp2040 board: the port's usual frozen modules, shimeji, and the board module
# (imported as shimeji_board).  make firmware BOARD=rp2040 MICROPY_DIR=/path/to/micropython
# bytecode=True: shimeji is frozen as bytecode only. MicroPython's mpy-tool.py aligns frozen
# native code to 2 bytes on ARMv6-M and the Cortex-M0+ faults on the first call into it.
include("$(PORT_DIR)/boards/manifest.py")
include("../../manifest.py", bytecode=True)
module("shimeji_board.py")
