// The UARTs of an emulated RP2040 (rp2040js 1.4.1 or the two-core fork: the same RPUART),
// used by tools/rp2040_emu.mjs and tools/rp2040_dual_emu.mjs.
//
// rp2040js raises a UART's TX interrupt again on every interrupt check ("TODO: a proper FIFO
// for TX"), so clearing it never holds; MicroPython 1.28 keeps the TX interrupt enabled, and
// the core never left the UART's handler once a UART was made. Here the TX interrupt is raised
// when the line has sent everything written (the TX FIFO ran empty), as on the chip.
//
// A null-modem cable joins UART0 and UART1 (each one's TX to the other's RX; RP2040_UART_LOOP=0
// cuts it): a byte every 10 bit times at the baud rate the firmware set, in emulated time, so
// the firmware can test its UARTs with no host on the other end (host_tests/test_io_uart.py).
const UART_TX_INTR = 1 << 5;

export function cableUarts(mcu) {
  for (const uart of mcu.uart) {
    uart.checkInterrupts = function () {
      this.rp2040.setInterrupt(this.irq, !!(this.interruptStatus & this.interruptMask));
    };
  }
  if (process.env.RP2040_UART_LOOP !== '0') {
    uartWire(mcu, mcu.uart[0], mcu.uart[1]);
    uartWire(mcu, mcu.uart[1], mcu.uart[0]);
    console.log('UART0 and UART1 cross-connected');
  } else {
    for (const uart of mcu.uart) {
      uart.onByte = () => txDone(uart); // sent at once, to nowhere
    }
  }
}

function txDone(uart) {
  uart.interruptStatus |= UART_TX_INTR;
  uart.checkInterrupts();
}

// One direction of the cable: bytes written to `from` reach `to`'s RX FIFO one by one, each
// after a character time (10 bits); while that FIFO is full the line waits (no overrun).
function uartWire(mcu, from, to) {
  const queue = [];
  let busy = false;
  const alarm = mcu.clock.createAlarm(() => {
    busy = false;
    if (to.rxFIFO.full) {
      busy = true;
      alarm.schedule(charNanos(to));
      return;
    }
    to.feedByte(queue.shift());
    if (!queue.length) {
      txDone(from);
    }
    next();
  });
  function next() {
    if (!busy && queue.length) {
      busy = true;
      alarm.schedule(charNanos(from));
    }
  }
  from.onByte = (value) => {
    queue.push(value);
    next();
  };
}

function charNanos(uart) {
  const baud = uart.baudDivider ? uart.baudRate : 115200;
  return Math.round(10e9 / baud);
}
