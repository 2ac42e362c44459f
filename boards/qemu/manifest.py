# Firmware for MicroPython's qemu port (mps2-an385): shimeji, the board module (imported as
# shimeji_board) and the demo.  make firmware BOARD=qemu MICROPY_DIR=/path/to/micropython
# asyncio is frozen too (the qemu port has none): the benchmarks and the tests compare shimeji
# with it in the same firmware. The port has no C _asyncio either, so its task.py goes too.
package("asyncio", ("__init__.py", "core.py", "event.py", "funcs.py", "lock.py", "stream.py",
                    "task.py"), base_path="$(MPY_DIR)/extmod", opt=3)
include("../../manifest.py")
module("shimeji_board.py")
