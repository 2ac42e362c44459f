// The USB-CDC host side of the RP2040 emulators, paced as a host polls the bus: rp2040js's
// USBCDC completes every OUT transfer the firmware arms 10 us later, with zero bytes when it
// has nothing to send. Each completion interrupts the chip, whose USB task re-arms the
// endpoint, so the chip did USB work in proportion to how often it serviced USB (on the rp2
// port every ipoll does: asyncio's loop polls on every iteration), which inflated asyncio's
// figures in rp2040js (docs/boards.md, "Spawn on 32-bit, session 8"). Here an empty
// completion comes one 1 ms frame later instead; bytes from the host still go at once. (Not
// never: rp2040js jumps over the time the chip sleeps, and a completion per frame keeps its
// clock from running far ahead of the host's, whose replies mpremote's mount waits for.)
const IDLE_FRAME_US = 1000;

export function pacedHostCdc(cdc) {
  const complete = cdc.usb.onEndpointRead;
  cdc.usb.onEndpointRead = (endpoint, size) => {
    if (endpoint === cdc.outEndpoint && cdc.txFIFO.itemCount === 0) {
      cdc.usb.endpointReadDone(endpoint, new Uint8Array(0), IDLE_FRAME_US);
      return;
    }
    complete(endpoint, size);
  };
}

// Bytes from the host for the chip, none lost. rp2040js's USBCDC keeps them in a 512-byte FIFO
// that drops whatever does not fit, and the chip takes at most 64 B per OUT transfer: a burst
// past 512 B (a `mpremote mount` read of a file over ~512 B, sent in one write) lost its tail,
// and the board then waited for bytes that never came. Here the rest waits in a backlog that
// tops the FIFO up each time the chip arms its OUT endpoint, as a real host holds bytes while
// the device NAKs. Past HIGH_WATER bytes waiting, `pause()` is called (stop reading the
// client), and `resume()` once the backlog is empty. Install after pacedHostCdc: the FIFO is
// topped up before the paced host looks whether it has bytes.
const HIGH_WATER = 64 * 1024;

export function hostSerial(cdc, { pause = () => {}, resume = () => {} } = {}) {
  const backlog = [];
  let offset = 0;
  let waiting = 0;
  let paused = false;
  const topUp = () => {
    const fifo = cdc.txFIFO;
    while (backlog.length && !fifo.full) {
      const chunk = backlog[0];
      fifo.push(chunk[offset++]);
      waiting--;
      if (offset === chunk.length) {
        backlog.shift();
        offset = 0;
      }
    }
    if (paused && waiting === 0) {
      paused = false;
      resume();
    }
  };
  const read = cdc.usb.onEndpointRead;
  cdc.usb.onEndpointRead = (endpoint, size) => {
    if (endpoint === cdc.outEndpoint) {
      topUp();
    }
    read(endpoint, size);
  };
  return {
    send(chunk) {
      if (chunk.length) {
        backlog.push(chunk);
        waiting += chunk.length;
      }
      topUp();
      if (!paused && waiting > HIGH_WATER) {
        paused = true;
        pause();
      }
    },
    get waiting() {
      return waiting;
    },
  };
}
