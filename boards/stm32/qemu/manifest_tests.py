# The stm32 test image for qemu (tools/firmware.py stm32 --emulated --tests, used by
# `make test-firmware BOARD=stm32`): the board's firmware plus the host test modules that run
# on a board, their helpers and the runner (tools/fwtest_board.py), all frozen. qemu's STM32
# USART takes ~125 bytes a second into the board, so mounting each module over it cost minutes;
# frozen, a module is one import. CPython-only and host-only modules stay out (fwtest reports
# them skipped without asking the board), and so do the modules fwtest runs from the mount
# whatever is frozen (they read the checkout or write a file: tools/fwtest.py's NEEDS_FILES,
# the same pattern): frozen, they only took flash, and the image outgrew the 1 MB (session 18).
import os
import re

_NEEDS_FILES = re.compile(r"__file__|(?<![\w.])open\(")

include("../manifest.py")
module("fwtest_board.py", base_path="../../../tools")

_TESTS = "../../../host_tests"
for _name in sorted(os.listdir(_TESTS)):
    if not _name.endswith(".py") or _name == "conftest.py":
        continue
    with open(os.path.join(_TESTS, _name)) as _f:
        _source = _f.read()
    _first = _source.split("\n", 1)[0]
    if "shimeji: cpython-only" in _first or "shimeji: host-only" in _first:
        continue
    if _name.startswith("test_") and _NEEDS_FILES.search(_source):
        continue
    module(_name, base_path=_TESTS)
