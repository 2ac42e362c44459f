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
# Test modules that ran out of the STM32's 92 KB heap mounted (their code then takes heap),
# and pass frozen (session 20's run: a trace ring's 8 KB, a scheduler's slots, a grown wheel).
NEEDS_HEAP = ("test_time_wheel_words.py", "test_trace_fifo_records.py",
              "test_trace_spawn_local.py", "test_trace_top.py")
_IMPORTS = re.compile(r"^\s*(?:from|import) (test_\w+)", re.M)


def on_board(name, source):
    """True for a module of host_tests/ a board runs or imports (not CPython- or host-only)."""
    first = source.split("\n", 1)[0]
    return (name.endswith(".py") and name != "conftest.py"
            and "shimeji: cpython-only" not in first and "shimeji: host-only" not in first)


def plan(tests_dir, budget=FROZEN_SOURCE_BUDGET):
    """``(frozen, left_out)``: the file names of ``tests_dir`` the test image freezes (the
    helpers and the test modules other modules import, and the test modules within ``budget``),
    and the test modules it leaves out for lack of flash (fwtest mounts them behind the frozen
    helpers). A test module that needs
    files (``NEEDS_FILES``) is in neither: fwtest mounts it ahead of everything."""
    sources = {}
    for name in sorted(os.listdir(tests_dir)):
        path = os.path.join(tests_dir, name)
        if os.path.isfile(path):
            with open(path) as f:
                source = f.read()
            if on_board(name, source):
                sources[name] = source
    # A test module another one imports (its helpers: test_trace_alloc's rounds) is frozen
    # whatever the budget: left out, that import would fail on the board. So is one that
    # needs the heap its code would take if mounted (NEEDS_HEAP).
    imported = set(n for n in NEEDS_HEAP if n in sources)
    for source in sources.values():
        imported.update(m + ".py" for m in _IMPORTS.findall(source))
    frozen, left_out = [], []
    used = sum(len(sources[n]) for n in imported if n in sources)  # (theirs counts first)
    for name, source in sorted(sources.items()):
        if not name.startswith("test_") or name in imported:
            frozen.append(name)
        elif NEEDS_FILES.search(source):
            continue
        elif used + len(source) <= budget:
            used += len(source)
            frozen.append(name)
        else:
            left_out.append(name)
    return frozen, left_out
