# Firmware for the esp32 board: the port's usual frozen modules, shimeji, and the board module
# (imported as shimeji_board).  make firmware BOARD=esp32 MICROPY_DIR=/path/to/micropython
include("$(PORT_DIR)/boards/manifest.py")
# word_align_native="rv32imc": native code word-aligned on the ESP32-C3, whose frozen native
# code MicroPython's mpy-tool.py aligns to 2 in .text, where linker relaxation left it at odd
# addresses (an illegal instruction at the first call, seen in qemu; docs/boards.md). The
# Xtensa chips' native code is word-aligned already and the patch leaves it as it is.
include("../../manifest.py", word_align_native="rv32imc")
module("shimeji_board.py")
