# shimeji: host-only (loads boards/stm32/shimeji_board.py against a fake pyb and machine)
# The STM32 board's idle waits for an interrupt AND runs the callbacks interrupts scheduled
# (micropython.schedule: soft Pin/UART/Timer handlers, network.PPP's input): the run loop is
# native code, which never runs them, and machine.idle() is WFI alone. time.sleep_ms(0) is
# one mp_event_wait_ms(1) on the stm32 port: the scheduled callbacks, then WFI.
import sys

from support import IS_MICROPYTHON

if not IS_MICROPYTHON:
    import pytest


def _root():
    here = __file__.replace("\\", "/")
    return here.rsplit("/", 2)[0] if "/" in here else ".."


class FakeMachine:
    def __init__(self):
        self.idles = 0

    def idle(self):
        self.idles += 1

    def disable_irq(self):
        return 0

    def enable_irq(self, state):
        pass


class FakeTime:
    """``time`` for the board module: the sleeps it makes, recorded."""

    def __init__(self):
        self.sleeps = []

    def sleep_ms(self, ms):
        self.sleeps.append(ms)


def load_stm32(**fakes):
    """The stm32 board module, imported with ``fakes`` (name -> module) in sys.modules."""
    saved = {name: sys.modules.get(name) for name in fakes}
    sys.modules.update(fakes)
    sys.path.insert(0, _root() + "/boards/stm32")
    try:
        sys.modules.pop("shimeji_board", None)
        import shimeji_board

        return shimeji_board
    finally:
        sys.path.pop(0)
        sys.modules.pop("shimeji_board", None)
        for name, mod in saved.items():
            if mod is None:
                sys.modules.pop(name, None)
            else:
                sys.modules[name] = mod


def test_idle_is_one_event_wait_not_machine_idle():
    machine, clock = FakeMachine(), FakeTime()
    mod = load_stm32(machine=machine, pyb=object())
    mod.time = clock  # the module's own global: shimeji keeps the real time module
    board = mod.Board()
    for us in (1000, 10, 0):
        board.idle(us)
    assert clock.sleeps == [0, 0, 0]  # sleep_ms(0): pending callbacks, then WFI
    assert machine.idles == 0


def _scheduled_callbacks_run():
    import micropython

    board = load_stm32(machine=FakeMachine(), pyb=object()).Board()  # the real time module
    ran = []
    micropython.schedule(ran.append, "soft irq")
    board.idle(1000)
    assert ran == ["soft irq"]  # run inside idle, before any bytecode of the caller's
    micropython.schedule(ran.append, "again")
    board.idle(0)
    assert ran == ["soft irq", "again"]


if IS_MICROPYTHON:
    def test_idle_runs_what_interrupts_scheduled():
        _scheduled_callbacks_run()
else:
    @pytest.mark.skip(reason="micropython.schedule: only the MicroPython VM has it")
    def test_idle_runs_what_interrupts_scheduled():
        _scheduled_callbacks_run()
