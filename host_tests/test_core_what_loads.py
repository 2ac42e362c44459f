# What a program that uses neither I/O nor the launcher loads (session 14): the RP2040 that
# loads shimeji from .mpy files (`make deploy`) has the code of every loaded module in its
# 241 KB heap, and the asyncio facade took ~217 KB of it (docs/boards.md, "ARMv6-M"). The run
# loop takes io/dispatch.py's functions at its first idle with a task waiting for I/O (the
# poller's module loaded them), and only the unix port looks for tools/mp_launch.py's signalfd.
import sys

from support import IS_MICROPYTHON

PROGRAM = """
import sys
import shimeji.asyncio as asyncio

async def main():
    await asyncio.sleep_ms(1)
    t = asyncio.create_task(asyncio.sleep_ms(1))
    await t
    return 7

assert asyncio.run(main()) == 7
if __name__ == "__main__":  # (CPython's child process: on a board the test reads sys.modules)
    print("LOADED", " ".join(sorted(m for m in sys.modules if m.startswith("shimeji"))))
"""

NEVER = ("shimeji.io", "shimeji.io.dispatch", "shimeji.io.poller", "shimeji.trace")


def loaded():
    """The shimeji modules loaded after PROGRAM ran in a fresh interpreter (CPython: a child
    process; MicroPython: this one, where each test module runs in its own process or after
    a soft reset, when nothing of shimeji.io was loaded before). There the program prints
    nothing: its line of every loaded name was a 1.2 KB string that the STM32's heap had no
    room for after the run (make test-firmware BOARD=stm32, session 23)."""
    if IS_MICROPYTHON:
        before = [m for m in NEVER if m in sys.modules]
        assert not before, "loaded before the program ran: %r" % before
        exec(PROGRAM, {"__name__": "program"})
        return set(m for m in sys.modules if m.startswith("shimeji"))
    import os
    import subprocess

    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    env = dict(os.environ, PYTHONPATH=os.path.join(root, "firmware"))
    out = subprocess.run([sys.executable, "-c", PROGRAM], env=env, capture_output=True,
                         text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    line = [x for x in out.stdout.splitlines() if x.startswith("LOADED")][0]
    return set(line.split()[1:])


def test_a_program_without_io_loads_neither_the_io_package_nor_the_trace():
    got = loaded()
    assert "shimeji.asyncio.loop" in got and "shimeji.sched.runloop" in got  # it ran there
    assert not [m for m in NEVER if m in got], sorted(got)


def test_only_the_unix_port_loads_the_ctrl_c_watch():
    got = loaded()
    on_unix_port = IS_MICROPYTHON and sys.platform == "linux"
    assert ("shimeji.sched.sigint" in got) == on_unix_port
