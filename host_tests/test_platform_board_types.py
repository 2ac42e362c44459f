# shimeji: cpython-only (runs mypy against each port's PyPI stubs; see tools/typecheck.py)
# Board modules type-check against their port's MicroPython stubs, and the check has teeth.
import os

import typecheck

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _check(board):
    errors = typecheck.check_board(board)
    assert errors == [], "\n".join(errors)


def test_rp2040_board_type_checks_against_rp2_stubs():
    _check("rp2040")


def test_esp32_board_type_checks_against_esp32_stubs():
    _check("esp32")


def test_stm32_board_type_checks_against_stm32_stubs():
    _check("stm32")


def test_unix_board_type_checks_against_unix_stubs():
    _check("unix")


def test_qemu_board_type_checks_against_unix_stubs():
    _check("qemu")


def test_the_stubs_catch_a_wrong_hardware_call():
    path = "build/typecheck-canary.py"
    os.makedirs(os.path.join(ROOT, "build"), exist_ok=True)
    with open(os.path.join(ROOT, path), "w") as f:
        f.write("import machine\n"
                "t = machine.Timer(-1, mode=machine.Timer.PERIODIC, freq='fast')\n"
                "machine.idle(3)\n"
                "import pyb\n"
                "pyb.Timer(4, freq=1000).callback(1, 2)\n")
    rp2_errors, _ = typecheck.mypy([path], "micropython-rp2-stubs")
    assert [e.split(":")[1] for e in rp2_errors] == ["2", "3", "4"]  # rp2 has no pyb
    stm_errors, _ = typecheck.mypy([path], "micropython-stm32-stubs")
    assert sorted(set(e.split(":")[1] for e in stm_errors)) == ["2", "3", "5"]
