# The stm32 test image for qemu (tools/firmware.py stm32 --emulated --tests, used by
# `make test-firmware BOARD=stm32`): the board's firmware plus the host test modules that run
# on a board, their helpers and the runner (tools/fwtest_board.py), all frozen. qemu's STM32
# USART takes ~125 bytes a second into the board, so mounting each module over it cost minutes;
# frozen, a module is one import. CPython-only and host-only modules stay out (fwtest reports
# them skipped without asking the board), and so do the modules fwtest runs from the mount
# whatever is frozen (they read the checkout or write a file), and the test modules past the
# image's budget of flash (the second test image freezes them: SHIMEJI_TEST_PART=2, which
# tools/firmware.py sets for its build): tools/testimage.py's plan, which fwtest reads too.
import os
import sys

sys.path.insert(0, os.path.abspath("../../../tools"))
import testimage  # noqa: E402

include("../manifest.py")
module("fwtest_board.py", base_path="../../../tools")

_TESTS = "../../../host_tests"
for _name in testimage.plan(_TESTS, part=testimage.current_part())[0]:
    module(_name, base_path=_TESTS)
