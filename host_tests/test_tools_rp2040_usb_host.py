# shimeji: cpython-only (runs tools/rp2040_usb_host.mjs under Node.js against a stand-in CDC)
# The RP2040 emulators' USB host gives an empty OUT transfer one 1 ms frame later instead of
# rp2040js's 10 us (which made USB work in proportion to how often the firmware serviced USB:
# docs/boards.md, "Spawn on 32-bit, session 8"); bytes from the host still go at once.
import json
import os
import shutil
import subprocess

import pytest

TOOLS = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "tools")
SCRIPT = """
import { pacedHostCdc } from '%s';
const log = [];
const fifo = [];
const cdc = {
  outEndpoint: 2,
  txFIFO: { get itemCount() { return fifo.length; } },
  usb: {
    onEndpointRead: (endpoint, size) => log.push(['read now', endpoint, size, fifo.splice(0)]),
    endpointReadDone: (e, buffer, delay) => log.push(['done', e, buffer.length, delay]),
  },
};
pacedHostCdc(cdc);
cdc.usb.onEndpointRead(2, 64);  // armed, the host has nothing: an empty completion in 1 ms
fifo.push(65, 66);
cdc.usb.onEndpointRead(2, 64);  // armed with bytes waiting: at once, as rp2040js does
cdc.usb.onEndpointRead(0, 8);  // another endpoint (control): as rp2040js does
console.log(JSON.stringify(log));
"""


@pytest.mark.skipif(shutil.which("node") is None, reason="needs Node.js (node) on the PATH")
def test_an_empty_out_transfer_completes_one_frame_later_and_bytes_at_once(tmp_path):
    path = tmp_path / "check.mjs"
    path.write_text(SCRIPT % os.path.join(TOOLS, "rp2040_usb_host.mjs"))
    out = subprocess.run(["node", str(path)], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout) == [["done", 2, 0, 1000], ["read now", 2, 64, [65, 66]],
                                      ["read now", 0, 8, []]]


# The host's bytes for the chip: rp2040js's USBCDC (the class itself, from RP2040JS_DIR) keeps
# them in a 512-byte FIFO that drops what does not fit; hostSerial keeps the rest until the chip
# arms its OUT endpoint again, 64 B a transfer.
FEED = """
import { createRequire } from 'module';
import { hostSerial, pacedHostCdc } from '%s';
const require = createRequire('%s/');
const { USBCDC } = await import(require.resolve('rp2040js'));
const got = [];
const calls = [];
const usb = { endpointReadDone: (e, buffer) => got.push(...buffer) };
const burst = Buffer.alloc(3000, 0).map((_, i) => i %% 251);
const chip = (cdc) => {  // the chip arms its OUT endpoint until nothing more comes
  for (let armed = 0; armed < 100000; armed++) {
    const before = got.length;
    cdc.usb.onEndpointRead(cdc.outEndpoint, 64);
    if (got.length === before) break;
  }
};
const bare = new USBCDC(usb);
bare.outEndpoint = 2;
for (const byte of burst) bare.sendSerialByte(byte);  // what the emulators did
chip(bare);
const lost = burst.length - got.length;
got.length = 0;
const cdc = new USBCDC(usb);
cdc.outEndpoint = 2;
pacedHostCdc(cdc);
const host = hostSerial(cdc, {
  pause: () => calls.push('pause'), resume: () => calls.push('resume') });
host.send(burst);
const waiting = host.waiting;
chip(cdc);
const same = got.length === burst.length && got.every((b, i) => b === burst[i]);
got.length = 0;
host.send(Buffer.alloc(100 * 1024, 7));  // past the high water: the client is paused
const pausedAt = calls.slice();
chip(cdc);
console.log(JSON.stringify({ lost, waiting, same, pausedAt, calls, after: got.length }));
"""


def _rp2040js_dir():
    d = os.environ.get("RP2040JS_DIR", "")
    return d if d and os.path.isdir(os.path.join(d, "node_modules", "rp2040js")) else None


@pytest.mark.skipif(shutil.which("node") is None or _rp2040js_dir() is None,
                    reason="needs Node.js and rp2040js (RP2040JS_DIR, docs/boards.md)")
def test_a_burst_past_rp2040js_fifo_reaches_the_chip_whole_and_in_order(tmp_path):
    path = tmp_path / "feed.mjs"
    path.write_text(FEED % (os.path.join(TOOLS, "rp2040_usb_host.mjs"),
                            os.path.join(_rp2040js_dir(), "node_modules")))
    out = subprocess.run(["node", str(path)], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    got = json.loads(out.stdout)
    assert got["lost"] == 3000 - 512  # rp2040js alone: everything past its FIFO
    assert got["waiting"] == 3000 - 512  # the rest waits for the chip
    assert got["same"] is True
    assert got["pausedAt"] == ["pause"]
    assert got["calls"] == ["pause", "resume"]
    assert got["after"] == 100 * 1024
