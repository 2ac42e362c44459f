// The RP2040 firmware in the rp2040js emulator, its USB-CDC REPL on a TCP port.
//   node tools/rp2040_emu.mjs FIRMWARE.uf2 PORT     (NODE_PATH: node_modules holding rp2040js)
// Then: mpremote connect socket://127.0.0.1:PORT ...   (tools/emulate.py does all this)
// The bootrom (B1) is read from RP2040_BOOTROM, default $RP2040JS_DIR/bootrom.ts: rp2040js's
// demo/bootrom.ts (github.com/wokwi/rp2040js), which the npm package does not ship.
// Prints "USB-CDC ready" once the firmware's USB device is up. One TCP client at a time; the
// emulator runs in emulated time (125 MHz), about 0.2x real time on a PC.
// A null-modem cable joins UART0 and UART1 (each one's TX to the other's RX; RP2040_UART_LOOP=0
// cuts it): a byte every 10 bit times at the baud rate the firmware set, in emulated time, so
// the firmware can test its UARTs with no host on the other end (host_tests/test_io_uart.py).
import fs from 'fs';
import net from 'net';
import path from 'path';
import { createRequire } from 'module';

const require = createRequire(path.join(process.cwd(), 'index.js'));
const { Simulator, USBCDC, ConsoleLogger, LogLevel } = await import(
  require.resolve('rp2040js', { paths: (process.env.NODE_PATH || '').split(path.delimiter) })
);

const [image, portArg] = process.argv.slice(2);
if (!image || !portArg) {
  console.error('usage: node rp2040_emu.mjs FIRMWARE.uf2 PORT');
  process.exit(2);
}

function loadBootrom() {
  const file = process.env.RP2040_BOOTROM ||
    path.join(process.env.RP2040JS_DIR || process.cwd(), 'bootrom.ts');
  if (!fs.existsSync(file)) {
    console.error(`no RP2040 bootrom at ${file}: copy demo/bootrom.ts of ` +
      'github.com/wokwi/rp2040js there, or set RP2040_BOOTROM');
    process.exit(3);
  }
  const text = fs.readFileSync(file, 'utf8');
  const body = text.slice(text.indexOf('['));
  const words = body.match(/0x[0-9a-fA-F]+/g).map((w) => parseInt(w, 16));
  return new Uint32Array(words);
}

const FLASH_START = 0x10000000;
const UF2_MAGIC = [0x0a324655, 0x9e5d5157];

function loadUF2(file, mcu) {
  const data = fs.readFileSync(file);
  let blocks = 0;
  for (let off = 0; off + 512 <= data.length; off += 512) {
    if (data.readUInt32LE(off) !== UF2_MAGIC[0] || data.readUInt32LE(off + 4) !== UF2_MAGIC[1]) {
      throw new Error(`${file} is not a UF2 file (block ${off / 512})`);
    }
    const addr = data.readUInt32LE(off + 12);
    const size = data.readUInt32LE(off + 16);
    mcu.flash.set(data.subarray(off + 32, off + 32 + size), addr - FLASH_START);
    blocks++;
  }
  return blocks;
}

const simulator = new Simulator();
const mcu = simulator.rp2040;
mcu.loadBootrom(loadBootrom());
mcu.logger = new ConsoleLogger(LogLevel.Error);
console.log(`loaded ${loadUF2(image, mcu)} UF2 blocks from ${image}`);
// RP2040_FLASH_IMAGE=FILE@OFFSET: bytes written into flash at OFFSET before boot (the
// emulator does not emulate flash programming): tools/flash_image.py's littlefs image of /lib.
if (process.env.RP2040_FLASH_IMAGE) {
  const spec = process.env.RP2040_FLASH_IMAGE;
  const at = spec.lastIndexOf('@');
  const bytes = fs.readFileSync(spec.slice(0, at));
  mcu.flash.set(bytes, Number(spec.slice(at + 1)));
  console.log(`loaded ${bytes.length} bytes of flash image at offset ${spec.slice(at + 1)}`);
}

// rp2040js 1.4.1 raises a UART's TX interrupt again on every interrupt check ("TODO: a proper
// FIFO for TX"), so clearing it never holds; MicroPython 1.28 keeps the TX interrupt enabled,
// and the core never left the UART's handler once a UART was made. Here the TX interrupt is
// raised when the line has sent everything written (the TX FIFO ran empty), as on the chip.
const UART_TX_INTR = 1 << 5;
for (const uart of mcu.uart) {
  uart.checkInterrupts = function () {
    this.rp2040.setInterrupt(this.irq, !!(this.interruptStatus & this.interruptMask));
  };
}

function txDone(uart) {
  uart.interruptStatus |= UART_TX_INTR;
  uart.checkInterrupts();
}

// One direction of the cable: bytes written to `from` reach `to`'s RX FIFO one by one, each
// after a character time (10 bits); while that FIFO is full the line waits (no overrun).
function uartWire(from, to) {
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

if (process.env.RP2040_UART_LOOP !== '0') {
  uartWire(mcu.uart[0], mcu.uart[1]);
  uartWire(mcu.uart[1], mcu.uart[0]);
  console.log('UART0 and UART1 cross-connected');
} else {
  for (const uart of mcu.uart) {
    uart.onByte = () => txDone(uart); // sent at once, to nowhere
  }
}

const cdc = new USBCDC(mcu.usbCtrl);
let client = null;
let pending = [];
cdc.onDeviceConnected = () => {
  console.log('USB-CDC ready');
};
cdc.onSerialData = (value) => {
  if (client) {
    client.write(Buffer.from(value));
  } else if (process.env.RP2040_ECHO) {
    process.stdout.write(value);
  }
};

const server = net.createServer((sock) => {
  if (client) {
    sock.end('another client is connected\r\n');
    return;
  }
  client = sock;
  sock.setNoDelay(true);
  sock.on('data', (chunk) => {
    for (const byte of chunk) {
      cdc.sendSerialByte(byte);
    }
  });
  const gone = () => {
    if (client === sock) {
      client = null;
    }
  };
  sock.on('close', gone);
  sock.on('error', gone);
});
server.listen(Number(portArg), '127.0.0.1', () => {
  console.log(`listening on 127.0.0.1:${portArg}`);
});

process.on('SIGTERM', () => process.exit(0));
mcu.core.PC = FLASH_START;
simulator.execute();
