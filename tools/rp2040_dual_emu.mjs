// The RP2040 firmware on TWO emulated cores, its USB-CDC REPL on a TCP port.
//   RP2040JS_DUAL_DIR=DIR node tools/rp2040_dual_emu.mjs FIRMWARE.uf2 PORT
// DIR: a build of github.com/c1570/rp2040js, branch rp2350js/WIP (not on npm; see
// docs/boards.md, "Core 1 in the emulator", for the build and the one-line fix it needs).
// That fork steps core 0 and core 1 in lockstep by cycles, with per-core SIO FIFOs; it has
// no PSM, so this script adds the part pico-sdk's multicore_reset_core1 uses (MicroPython's
// _thread.start_new_thread calls it before every launch). Then: mpremote connect
// socket://127.0.0.1:PORT ... Emulated time (the timer follows core 0's cycles, 125 MHz).
import fs from 'fs';
import net from 'net';
import path from 'path';
import { cableUarts } from './rp2040_uart_cable.mjs';
import { hostSerial, pacedHostCdc } from './rp2040_usb_host.mjs';
import { createRequire } from 'module';

const dir = process.env.RP2040JS_DUAL_DIR;
if (!dir) {
  console.error('set RP2040JS_DUAL_DIR to a build of github.com/c1570/rp2040js (rp2350js/WIP)');
  process.exit(3);
}
const require = createRequire(path.join(path.resolve(dir), 'index.js'));
const { RP2040, USBCDC } = require('./dist/cjs/index.js');
const { ConsoleLogger, LogLevel } = require('./dist/cjs/utils/logging.js');

const [image, portArg] = process.argv.slice(2);
if (!image || !portArg) {
  console.error('usage: node rp2040_dual_emu.mjs FIRMWARE.uf2 PORT');
  process.exit(2);
}
function loadBootrom() {
  const text = fs.readFileSync(path.join(dir, 'demo', 'bootrom.ts'), 'utf8');
  const body = text.slice(text.indexOf('['));
  return new Uint32Array(body.match(/0x[0-9a-fA-F]+/g).map((w) => parseInt(w, 16)));
}
const FLASH_START = 0x10000000;
function loadUF2(file, mcu) {
  const data = fs.readFileSync(file);
  let blocks = 0;
  for (let off = 0; off + 512 <= data.length; off += 512) {
    const addr = data.readUInt32LE(off + 12);
    const size = data.readUInt32LE(off + 16);
    mcu.flash.set(data.subarray(off + 32, off + 32 + size), addr - FLASH_START);
    blocks++;
  }
  return blocks;
}
const mcu = new RP2040(); // its SimulationClock moves with core 0's cycles (step())
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
cableUarts(mcu); // the TX interrupt as on the chip (the fork re-raises it too), UART0 <-> UART1
const cdc = new USBCDC(mcu.usbCtrl);
pacedHostCdc(cdc); // an empty OUT completion once per 1 ms frame, not every 10 us
let client = null;
// the client's bytes wait for room in rp2040js's 512 B FIFO instead of being dropped
const fromHost = hostSerial(cdc, { pause: () => client?.pause(), resume: () => client?.resume() });
cdc.onDeviceConnected = () => console.log('USB-CDC ready');
cdc.onSerialData = (value) => {
  if (client) client.write(Buffer.from(value));
  else if (process.env.RP2040_ECHO) process.stdout.write(value);
};
const server = net.createServer((sock) => {
  if (client) { sock.end('another client is connected\r\n'); return; }
  client = sock;
  sock.setNoDelay(true);
  sock.on('data', (chunk) => fromHost.send(chunk));
  const gone = () => { if (client === sock) client = null; };
  sock.on('close', gone);
  sock.on('error', gone);
});
server.listen(Number(portArg), '127.0.0.1', () => console.log(`listening on 127.0.0.1:${portArg}`));
process.on('SIGTERM', () => process.exit(0));
// The fork has no PSM (power-on state machine): pico-sdk's multicore_reset_core1 (which
// MicroPython's _thread.start_new_thread calls) forces core 1 off and on through PSM FRCE_OFF
// and then waits for core 1's bootrom to push a 0. A minimal PSM: FRCE_OFF bit 16 holds core 1
// off; clearing it restarts core 1 at the bootrom's reset vector.
const PROC1 = 1 << 16;
let core1Off = false;
const step1 = mcu.core1.executeInstruction.bind(mcu.core1);
mcu.core1.executeInstruction = () => {
  if (core1Off) { mcu.core1.cycles++; return 1; }
  return step1();
};
function resetCore1() {
  const c = mcu.core1;
  c.registers.fill(0);
  c.VTOR = 0;
  c.reset();
  c.cycles = mcu.core0.cycles;
  c.IPSR = 0;
  c.bankedSP = 0;
  c.N = c.C = c.Z = c.V = false;
  c.PM = false;
  c.SPSEL = 0;
  c.nPRIV = false;
  c.currentMode = 0; // thread mode
  c.interruptNMIMask = 0;
  c.pendingInterrupts = 0;
  c.enabledInterrupts = 0; // its NVIC: core 1's SIO FIFO interrupt was left enabled
  c.interruptPriorities = [0xffffffff, 0x0, 0x0, 0x0];
  c.pendingNMI = c.pendingPendSV = c.pendingSVCall = c.pendingSystick = false;
  c.interruptsUpdated = false;
  c.SHPR2 = 0;
  c.SHPR3 = 0;
  c.eventRegistered = false;
  c.waiting = false;
}
const psm = {
  frceOn: 0, frceOff: 0,
  readUint32(off) {
    if (off === 0) return this.frceOn;
    if (off === 4) return this.frceOff;
    if (off === 0xc) return 0x1ffff; // DONE: every block powered
    return 0;
  },
  readUint32ViaCore(off) { return this.readUint32(off); },
  writeUint32(off, value) {
    if (off === 0) this.frceOn = value;
    if (off !== 4) return;
    const was = this.frceOff;
    this.frceOff = value;
    if (process.env.RP2040_TRACE) console.log(`PSM FRCE_OFF ${was.toString(16)} -> ${value.toString(16)}; core1 PC ${mcu.core1.PC.toString(16)}`);
    if (!(was & PROC1) && (value & PROC1)) core1Off = true;
    if ((was & PROC1) && !(value & PROC1)) { core1Off = false; resetCore1(); }
  },
  writeUint32ViaCore(off, value) { this.writeUint32(off, value); },
  writeUint32Atomic(off, value, type) {
    const cur = this.readUint32(off);
    const v = type === 1 ? cur ^ value : type === 2 ? cur | value : type === 3 ? cur & ~value : value;
    this.writeUint32(off, v);
  },
};
mcu.peripherals[0x40010] = psm;
mcu.core0.PC = FLASH_START;
mcu.core1.PC = FLASH_START;
mcu.core1.waiting = true;
// RP2040_TRACE=1: every 5 s, both cores' state (PC, LR, IPSR, PRIMASK, WFE wait and event
// flag, r0-r7) and which SIO spin locks are held, for resolving a hang with
// arm-none-eabi-addr2line. RP2040_WATCH=ADDR:WORDS,...: those RAM words too (a mutex's owner
// and count: `arm-none-eabi-nm firmware.elf | grep atomic_mutex`). RP2040_PCLOG=ADDR,...: the
// last 32 entries into those functions on either core (core, PC, r0, LR, cycle), printed with
// each report: what each core did last with a lock.
const hex = (v) => (v >>> 0).toString(16);
const watch = (process.env.RP2040_WATCH || '').split(',').filter(Boolean).map((w) => {
  const [addr, words] = w.split(':');
  return [Number(addr), Number(words || 1)];
});
const pcHooks = new Set((process.env.RP2040_PCLOG || '').split(',').filter(Boolean)
  .map((a) => Number(a) & ~1));
const pcLog = [];
const pcLogSize = Number(process.env.RP2040_PCLOG_N || 256);
process.on('SIGUSR2', () => console.log('lock calls, oldest first:\n' + pcLog.join('\n')));
if (pcHooks.size) {
  for (const [n, c] of [[0, mcu.core0], [1, mcu.core1]]) {
    const inner = c.executeInstruction.bind(c);
    c.executeInstruction = () => {
      if (!c.waiting && pcHooks.has(c.PC)) {
        const r0 = c.registers[0];
        const at = r0 >= 0x20000000 && r0 < 0x20042000 ? ` [r0]=${hex(mcu.readUint32(r0 & ~3))}` : '';
        const w = watch.length ? ` w=${hex(mcu.readUint32(watch[0][0] + 4 * (watch[0][1] - 1)))}` : '';
        pcLog.push(`c${n} ${hex(c.PC)}(r0=${hex(r0)}${at}) lr=${hex(c.registers[14])}${w} @${c.cycles}`);
        if (pcLog.length > pcLogSize) pcLog.shift();
      }
      return inner();
    };
  }
}
function coreState(n, c) {
  const regs = Array.from(c.registers.slice(0, 8), hex).join(' ');
  return `core${n} PC ${hex(c.PC)} LR ${hex(c.registers[14])} IPSR ${c.IPSR} PM ${c.PM ? 1 : 0} ` +
    `waiting ${c.waiting} event ${c.eventRegistered} r0-r7 ${regs}`;
}
let lastReport = Date.now();
function report() {
  console.log(`@${mcu.core0.cycles} ${coreState(0, mcu.core0)}`);
  console.log(`  ${coreState(1, mcu.core1)}`);
  console.log(`  spin locks held ${hex(mcu.sio.spinLock)}` + watch.map(([a, k]) => {
    const words = [];
    for (let i = 0; i < k; i++) words.push(hex(mcu.readUint32(a + 4 * i)));
    return `; [${hex(a)}] ${words.join(' ')}`;
  }).join(''));
  if (pcLog.length) console.log('  last lock calls: ' + pcLog.slice(-8).join(' | '));
}
function run() {
  const end = Date.now() + 20;
  while (Date.now() < end) {
    for (let i = 0; i < 1000; i++) mcu.step();
  }
  if (process.env.RP2040_TRACE && Date.now() - lastReport > 5000) {
    lastReport = Date.now();
    report();
  }
  setImmediate(run);
}
run();
