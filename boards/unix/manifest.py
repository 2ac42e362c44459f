# A unix-port micropython with shimeji and the unix board module (imported as shimeji_board)
# frozen in.  make firmware BOARD=unix MICROPY_DIR=/path/to/micropython
include("$(PORT_DIR)/variants/standard/manifest.py")
include("../../manifest.py")
module("shimeji_board.py")
