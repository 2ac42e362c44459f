# shimeji: host-only (loads the boards' shimeji_board.py against a fake machine)
# The ESP32 board's critical section is the runtime's (a _thread lock), never disable_irq: on
# that port disable_irq is a FreeRTOS critical section, and a thread that waits, or a GIL
# hand-over, inside one hangs FreeRTOS (docs/boards.md, "ESP32 (Xtensa), session 13").
# default_critical_section() has given the lock there since session 13; the board's own
# critical_section(), which board.scheduler() uses, still masked interrupts until session 25.
import sys

from shimeji import yield_now
from shimeji.sync.critical import IrqCriticalSection, default_critical_section


def _root():
    here = __file__.replace("\\", "/")
    return here.rsplit("/", 2)[0] if "/" in here else ".."


class CountingMachine:
    """``machine`` with the calls a section or the demo makes, counting ``disable_irq``."""

    def __init__(self):
        self.masked = 0

    def disable_irq(self):
        self.masked += 1
        return 0

    def enable_irq(self, state):
        pass

    def idle(self):
        pass


class FakeTime:
    """``time`` for the board module: a µs clock that moves 100 µs a read."""

    def __init__(self):
        self.now = 0

    def ticks_us(self):
        self.now += 100
        return self.now


def load_board(name, machine):
    saved = sys.modules.get("machine")
    sys.modules["machine"] = machine
    sys.path.insert(0, _root() + "/boards/" + name)
    try:
        sys.modules.pop("shimeji_board", None)
        import shimeji_board

        return shimeji_board
    finally:
        sys.path.pop(0)
        sys.modules.pop("shimeji_board", None)
        if saved is None:
            sys.modules.pop("machine", None)
        else:
            sys.modules["machine"] = saved


def test_esp32_board_section_is_the_runtimes_never_disable_irq():
    machine = CountingMachine()
    mod = load_board("esp32", machine)
    mod.time = FakeTime()  # the module's own global: shimeji keeps the real time module
    board = mod.Board()
    assert board.critical_section() is default_critical_section()
    assert not isinstance(board.critical_section(), IrqCriticalSection)
    sched = board.scheduler(4)
    ran = []

    async def napper(i):
        await yield_now()
        ran.append(i)

    for i in range(3):
        sched.spawn(napper(i))
    for _ in range(10):
        sched.tick()
    assert sorted(ran) == [0, 1, 2]
    assert machine.masked == 0


def test_the_rp2040_board_still_masks_interrupts():
    # (stm32's module imports pyb, not on a host; the qemu board has no interrupts to mask)
    machine = CountingMachine()
    mod = load_board("rp2040", machine)
    mod.time = FakeTime()
    section = mod.Board().critical_section()
    assert isinstance(section, IrqCriticalSection), section
    section.exit(section.enter())
    assert machine.masked == 1
