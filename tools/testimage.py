"""Which host test modules the stm32 test image for qemu freezes, and which fwtest mounts: one
rule, read by boards/stm32/qemu/manifest_tests.py (what it freezes) and tools/fwtest.py (how it
runs each module on that image).

The image is the firmware plus the test modules a board runs, their helpers and the runner,
in the 1 MB of flash qemu's STM32L475 has. It outgrew it twice as the suite grew: in session
18 (896 B over: the modules that read the checkout or write a file went to the mount, where
fwtest ran them anyway) and in session 20 (11,972 B over). So the test modules are frozen in
sorted order while their source adds up to ``FROZEN_SOURCE_BUDGET`` bytes (the frozen bytecode
is ~0.37 of the source); the rest are left out and run from the mount, behind the frozen
helpers (only the module itself crosses qemu's slow USART).

The budget follows the board's flash map (session 21): ``FROZEN_SOURCE_BUDGET`` is only the
first build's. A link that overflows the flash is built again at once with the budget lowered
by what it was over (at ``BYTECODE_SHARE``) and ``MARGIN`` more; a link that fits records the
budget it was built with and the flash it left (``BUDGET_FILE``, beside the image), which
fwtest's plan reads (what the image froze), and the next build raises the budget by the spare
flash past ``MARGIN`` (at ``RAISE_SHARE``): as shimeji grows the image freezes fewer test
modules, as it shrinks more, and it never fails to link for the tests' sake.

The test modules the first image leaves out go into a second test image (session 23,
``plan(..., part=2)``: the helpers and those modules, in build/firmware/stm32-qemu-tests2), so
that every module a board runs runs frozen: fwtest boots the first image for its modules, then
the second for the rest. The second image records the first's budget it was planned from; a
first image built again with another budget makes it stale (other modules are left out).
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
BYTECODE_SHARE = 0.37  # frozen bytes (bytecode, constants, qstrs) per byte of test source
# The share a raise assumes: the modules a raise adds (the last in sorted order) came to ~0.52
# frozen bytes a byte of source in session 22 (a raise by 25,828 B of spare left 908 B, not
# MARGIN), more than the whole suite's 0.37; the larger share keeps a raise inside MARGIN.
RAISE_SHARE = 0.55
MARGIN = 8192  # bytes of flash a budget leaves spare
BUDGET_FILE = "frozen_test_budget.txt"  # "<budget> <spare flash>" of the image beside it
BUDGET_ENV = "SHIMEJI_TEST_BUDGET"  # the budget of the build under way (firmware.py sets it)
PART_ENV = "SHIMEJI_TEST_PART"  # "2" while the second test image builds (firmware.py sets it)
FLASH = re.compile(r"^\s*FLASH\s*\(\w+\)\s*:\s*ORIGIN\s*=\s*\w+,\s*LENGTH\s*=\s*(\d+)([KM]?)",
                   re.M)
_SIZE = re.compile(r"^\s*(\d+)\s+(\d+)\s+\d+\s+\d+\s+[0-9a-f]+\s+\S*firmware\.elf\s*$", re.M)
# The test image's build directory (firmware.build_dir("stm32", emulated=True, tests=True)).
_BUILD = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "build",
                      "firmware", "stm32-qemu-tests")
_BUILD2 = _BUILD + "2"  # the second test image's (firmware.build_dir(..., tests=2))


def built(build_dir=None):
    """``(budget, spare)``: the budget the test image in ``build_dir`` was built with and the
    bytes of flash it left; ``(FROZEN_SOURCE_BUDGET, None)`` where none was recorded."""
    try:
        with open(os.path.join(build_dir or _BUILD, BUDGET_FILE)) as f:
            budget, spare = f.read().split()
        return int(budget), int(spare)
    except (OSError, ValueError):
        return FROZEN_SOURCE_BUDGET, None


def current_budget(build_dir=None):
    """The budget the plan uses: the build's under way (``BUDGET_ENV``), else the image's."""
    under_way = os.environ.get(BUDGET_ENV)
    return int(under_way) if under_way else built(build_dir)[0]


def current_part():
    """The image the manifest freezes for: 2 while the second test image builds, else 1."""
    return 2 if os.environ.get(PART_ENV) == "2" else 1


def second_is_stale(first_dir=None, second_dir=None):
    """True when the second test image was planned from another budget than the first image
    was built with (or records none): it freezes other modules than the first leaves out."""
    if not os.path.exists(os.path.join(second_dir or _BUILD2, BUDGET_FILE)):
        return True
    return built(second_dir or _BUILD2)[0] != built(first_dir)[0]


def next_budget(build_dir=None):
    """The budget a new build starts from: the image's, raised by its spare flash past
    ``MARGIN`` (at ``RAISE_SHARE``) when it left more than twice that."""
    budget, spare = built(build_dir)
    if spare is not None and spare > 2 * MARGIN:
        budget += int((spare - MARGIN) / RAISE_SHARE)
    return budget


def lowered(budget, over):
    """The budget for a build whose link overflowed the flash by ``over`` bytes."""
    return budget - int((over + MARGIN) / BYTECODE_SHARE)


def flash_bytes(linker_script):
    """The FLASH region's length in a GNU linker script (``LENGTH = 1024K``)."""
    with open(linker_script) as f:
        m = FLASH.search(f.read())
    if not m:
        raise ValueError("no FLASH region in %s" % linker_script)
    return int(m.group(1)) * {"": 1, "K": 1024, "M": 1024 * 1024}[m.group(2)]


def record(build_dir, budget, build_output, flash):
    """Keep ``budget`` and the flash the link left (its ``size`` line's text + data, in the
    build's output) beside the image; returns the spare bytes, None if no size was printed."""
    m = _SIZE.search(build_output)
    if not m:
        return None
    spare = flash - int(m.group(1)) - int(m.group(2))
    with open(os.path.join(build_dir, BUDGET_FILE), "w") as f:
        f.write("%d %d\n" % (budget, spare))
    return spare


def on_board(name, source):
    """True for a module of host_tests/ a board runs or imports (not CPython- or host-only)."""
    first = source.split("\n", 1)[0]
    return (name.endswith(".py") and name != "conftest.py"
            and "shimeji: cpython-only" not in first and "shimeji: host-only" not in first)


def plan(tests_dir, budget=None, part=1):
    """``(frozen, left_out)``: the file names of ``tests_dir`` the test image freezes (the
    helpers and the test modules other modules import, and the test modules within ``budget``,
    by default ``current_budget()``), and the test modules it leaves out for lack of flash
    (fwtest runs them on the second image, or mounts them behind the frozen helpers). A test
    module that needs files (``NEEDS_FILES``) is in neither: fwtest mounts it ahead of
    everything. ``part=2``: the second image's, the same helpers and the first's left-out
    modules frozen, none left out."""
    if budget is None:
        budget = current_budget()
    sources = {}
    for name in sorted(os.listdir(tests_dir)):
        path = os.path.join(tests_dir, name)
        if name.endswith(".py") and os.path.isfile(path):  # (a run's stage holds .mpy too)
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
    if part == 2:
        helpers = [n for n in frozen if not n.startswith("test_") or n in imported]
        return sorted(helpers + left_out), []
    return frozen, left_out
