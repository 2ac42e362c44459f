# Firmware for the stm32 board: the port's usual frozen modules, shimeji, and the board module
# (imported as shimeji_board).  make firmware BOARD=stm32 MICROPY_DIR=/path/to/micropython
include("$(PORT_DIR)/boards/manifest.py")
include("../../manifest.py")
module("shimeji_board.py")
