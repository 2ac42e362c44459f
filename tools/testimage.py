"""Which host test modules the stm32 test image for qemu freezes, and which fwtest mounts: one
rule, read by boards/stm32/qemu/manifest_tests.py (what it freezes) and tools/fwtest.py (how it
runs each module on that image).

The image is the firmware plus the test modules a board runs, their helpers and the runner,
in the 1 MB of flash qemu's STM32L475 has. It outgrew it twice as the suite grew: in session
18 (896 B over: the modules that read the checkout or write a file went to the mount, where
fwtest ran them anyway) and in session 20 (11,972 B over). So the test modules are frozen in
sorted order while their source adds up to ``FROZEN_SOURCE_BUDGET`` bytes (the frozen bytecode
is ~0.37 of the source); the rest are left out and run from the mount, behind the frozen
helpers (only the module itself crosses qemu's slow USART). When the link says the image
overflows again, lower the budget.
"""

import os
import re

# A module that reads the checkout (``__file__``: the board modules) or writes a file needs
# the mount even on a frozen image: it runs from the mounted copy, ahead of the frozen one.
NEEDS_FILES = re.compile(r"__file__|(?<![\w.])open\(")
# Bytes of test-module source frozen (session 20: 870,386 B of it took ~324 KB of the image,
# which overflowed the flash by 11,972 B; 780,000 B leaves ~20 KB of flash spare).
FROZEN_SOURCE_BUDGET = 780000


def on_board(name, source):
    """True for a module of host_tests/ a board runs or imports (not CPython- or host-only)."""
    first = source.split("\n", 1)[0]
    return (name.endswith(".py") and name != "conftest.py"
            and "shimeji: cpython-only" not in first and "shimeji: host-only" not in first)


def plan(tests_dir, budget=FROZEN_SOURCE_BUDGET):
    """``(frozen, left_out)``: the file names of ``tests_dir`` the test image freezes (the
    helpers, and the test modules within ``budget``), and the test modules it leaves out for
    lack of flash (fwtest mounts them behind the frozen helpers). A test module that needs
    files (``NEEDS_FILES``) is in neither: fwtest mounts it ahead of everything."""
    frozen, left_out, used = [], [], 0
    for name in sorted(os.listdir(tests_dir)):
        path = os.path.join(tests_dir, name)
        if not os.path.isfile(path):
            continue
        with open(path) as f:
            source = f.read()
        if not on_board(name, source):
            continue
        if not name.startswith("test_"):
            frozen.append(name)
        elif NEEDS_FILES.search(source):
            continue
        elif used + len(source) <= budget:
            used += len(source)
            frozen.append(name)
        else:
            left_out.append(name)
    return frozen, left_out
