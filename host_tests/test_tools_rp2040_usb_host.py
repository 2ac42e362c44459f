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
