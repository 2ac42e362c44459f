// The RP2040 firmware in the rp2040js emulator, its USB-CDC REPL on a TCP port.
//   node tools/rp2040_emu.mjs FIRMWARE.uf2 PORT     (NODE_PATH: node_modules holding rp2040js)
// Then: mpremote connect socket://127.0.0.1:PORT ...   (tools/emulate.py does all this)
// The bootrom (B1) is read from RP2040_BOOTROM, default $RP2040JS_DIR/bootrom.ts: rp2040js's
// demo/bootrom.ts (github.com/wokwi/rp2040js), which the npm package does not ship.
// Prints "USB-CDC ready" once the firmware's USB device is up. One TCP client at a time; the
// emulator runs in emulated time (125 MHz), about 0.2x real time on a PC.
// UART0 and UART1 joined by a null-modem cable (tools/rp2040_uart_cable.mjs).
import fs from 'fs';
import net from 'net';
import path from 'path';
import { cableUarts } from './rp2040_uart_cable.mjs';
import { hostSerial, pacedHostCdc } from './rp2040_usb_host.mjs';
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

cableUarts(mcu); // the TX interrupt as on the chip, and UART0 <-> UART1
if (process.env.RP2040_PROFILE) { // cycles per PC while a pin is high (rp2040_profile.py)
  (await import('./rp2040_profile.mjs')).profileHook(mcu, simulator.clock);
}

const cdc = new USBCDC(mcu.usbCtrl);
pacedHostCdc(cdc); // an empty OUT completion once per 1 ms frame, not every 10 us
let client = null;
// the client's bytes wait for room in rp2040js's 512 B FIFO instead of being dropped
const fromHost = hostSerial(cdc, { pause: () => client?.pause(), resume: () => client?.resume() });
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
  sock.on('data', (chunk) => fromHost.send(chunk));
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
