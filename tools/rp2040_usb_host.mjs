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
