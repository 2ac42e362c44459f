# shimeji: cpython-only (runs a stand-in for tools/rp2040_emu.mjs under Node.js)
"""The RP2040 emulator's own output after its start: tools/emulate.py reads it for as long as
the emulator runs (before, nothing read it after "USB-CDC ready", so what it printed then was
lost), keeps the last of it, and says it when the emulator exits on its own."""

import shutil
import time

import emulate
import pytest

pytestmark = pytest.mark.skipif(shutil.which("node") is None, reason="needs Node.js (node)")

# Ready, then 256 KB (four pipe buffers) and a last line: an emulator that throws and exits.
CHATTY = """
console.log('USB-CDC ready');
let left = 256;
const more = () => {
  if (left-- > 0) { process.stdout.write('x'.repeat(1023) + '\\n', () => setImmediate(more)); }
  else { console.log('Error: the last words'); process.exitCode = 7; }
};
more();
"""


def _emulator(monkeypatch, tmp_path, script):
    path = tmp_path / "emu.mjs"
    path.write_text(script)
    monkeypatch.setattr(emulate, "EMU_SCRIPT", str(path))
    monkeypatch.setattr(emulate, "rp2040js_dir", lambda: str(tmp_path))
    return emulate.Rp2040Emulator(str(tmp_path / "firmware.uf2"), timeout=30.0)


def test_what_the_emulator_prints_after_its_start_is_read_and_its_end_said(monkeypatch,
                                                                          tmp_path):
    emu = _emulator(monkeypatch, tmp_path, CHATTY).start()
    try:
        assert emu.path.startswith("socket://127.0.0.1:")
        deadline = time.monotonic() + 30
        while emu.proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.05)
        assert emu.proc.returncode == 7  # it wrote all of it: the pipe was read
        note = emu.exit_note()
        assert "exited (status 7)" in note and note.endswith("Error: the last words")
        assert len(emu.tail) <= emulate.TAIL_BYTES
    finally:
        emu.stop()


def test_a_running_emulator_has_no_exit_note_and_stops(monkeypatch, tmp_path):
    emu = _emulator(monkeypatch, tmp_path,
                    "console.log('USB-CDC ready');\nsetTimeout(() => {}, 60000);\n").start()
    try:
        assert emu.exit_note() is None
    finally:
        emu.stop()
    assert emu.proc.poll() is not None
