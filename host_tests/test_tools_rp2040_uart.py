# shimeji: cpython-only (boots the RP2040 firmware in the rp2040js emulator)
# UART streams on an emulated RP2040: host_tests/test_io_uart.py run on the firmware, with
# UART0 and UART1 joined by the emulator's cable (tools/rp2040_emu.mjs) and the working copy
# of shimeji mounted. Runs where an RP2040 image (build/firmware/rp2040/firmware.uf2, or
# RP2040_FIRMWARE=path) and rp2040js (RP2040JS_DIR, docs/boards.md) are there; else skipped,
# saying which is missing.
import os

import emulate
import fwtest
import fwtest_stage
import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
IMAGE = os.environ.get("RP2040_FIRMWARE") or os.path.join(
    ROOT, "build", "firmware", "rp2040", "firmware.uf2")
MODULE = os.path.join(ROOT, "host_tests", "test_io_uart.py")


def _missing():
    if not os.path.exists(IMAGE):
        return ("no RP2040 firmware at %s: `make firmware BOARD=rp2040 MICROPY_DIR=...` or "
                "RP2040_FIRMWARE=path/firmware.uf2" % IMAGE)
    try:
        emulate.rp2040js_dir()
    except emulate.Unavailable as e:
        return str(e)
    return None


MISSING = _missing()


@pytest.mark.skipif(MISSING is not None, reason=str(MISSING))
def test_uart_streams_on_the_emulated_rp2040(tmp_path):
    mount = fwtest_stage.stage_source(str(tmp_path / "fwtest-source"))
    emu = emulate.Rp2040Emulator(IMAGE).start()
    try:
        results, out = fwtest.run_module(emu.path, MODULE, timeout=600, mount=mount)
    finally:
        emu.stop()
    names = ["test_read_exactly_across_partial_arrivals_and_a_second_reader_is_refused",
             "test_select_poll_reports_a_uart_readable_when_bytes_arrive",
             "test_two_tasks_talk_over_the_cable_through_streams"]
    assert results == [("PASS", "test_io_uart::" + n, "") for n in names], out
