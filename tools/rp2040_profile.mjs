// Where the emulated RP2040's cycles go while a GPIO pin is high (tools/rp2040_profile.py).
// rp2040_emu.mjs calls profileHook(mcu) when RP2040_PROFILE=OUT.json is set:
//   RP2040_PROFILE_PIN     the GPIO that brackets the profiled code (default 21): counting
//                          runs while the firmware drives it high
//   RP2040_PROFILE_OWNERS  a file of "START END KIND" lines (hex addresses; KIND c: code, an
//                          instruction there makes it the owner; b: bytecode, a byte load
//                          from it does, the VM reading that function's opcodes; r: the
//                          VM, START-END its code: a byte load from RAM by it makes this
//                          owner, bytecode compiled at run time in the heap)
//   RP2040_PROFILE_CALLERS hex entry addresses, comma-separated: each call's return address
//                          (LR at the entry) and owner are counted too ("callers")
// Counted per (owner, PC): instructions and cycles as rp2040js charges them (1 a
// instruction, +1 a memory access, +2 a taken branch, ...; flash costs what RAM does: the
// emulator has no XIP cache misses and no wait states). At each falling edge OUT.json is
// written with what that window counted: {window, nanos, instructions, cycles, owners,
// rows: [[owner, pc, instructions, cycles], ...]} (owner -1: none seen yet).
import fs from 'fs';

function readOwners(file) {
  const owners = [];
  if (!file) {
    return owners;
  }
  for (const line of fs.readFileSync(file, 'utf8').split('\n')) {
    const p = line.trim().split(/\s+/);
    if (p.length >= 3) {
      owners.push({ start: parseInt(p[0], 16), end: parseInt(p[1], 16), kind: p[2] });
    }
  }
  return owners;
}

// An Int32Array over [base, top) (one entry per `step` bytes): owner index + 1, or 0.
function table(owners, kind, base, top, step) {
  const t = new Int32Array(Math.max(0, (top - base) / step));
  owners.forEach((o, i) => {
    if (o.kind === kind && o.start >= base && o.end <= top) {
      t.fill(i + 1, (o.start - base) / step, (o.end - base + step - 1) / step);
    }
  });
  return t;
}

export function profileHook(mcu, clock) {
  const out = process.env.RP2040_PROFILE;
  const pin = Number(process.env.RP2040_PROFILE_PIN || 21);
  const owners = readOwners(process.env.RP2040_PROFILE_OWNERS);
  const FLASH = 0x10000000;
  const RAM = 0x20000000;
  const flashTop = Math.max(FLASH, ...owners.filter((o) => o.end < RAM).map((o) => o.end));
  const ramTop = RAM + 0x42000;
  const codeFlash = table(owners, 'c', FLASH, flashTop, 2);
  const codeRam = table(owners, 'c', RAM, ramTop, 2);
  const bytecode = table(owners, 'b', FLASH, flashTop, 1);
  const vm = owners.findIndex((o) => o.kind === 'r');
  const vmStart = vm < 0 ? 0 : owners[vm].start;
  const vmEnd = vm < 0 ? 0 : owners[vm].end;
  const core = mcu.core;
  const counts = new Map(); // owner * 2**32 + pc -> [instructions, cycles]
  const watch = new Set((process.env.RP2040_PROFILE_CALLERS || '').split(',').filter((a) => a)
    .map((a) => parseInt(a, 16)));
  const callers = new Map(); // `${pc} ${lr} ${owner}` -> calls
  let on = false;
  let owner = -1;
  let windows = 0;
  let nanos = 0;
  let since = 0;
  const exec = core.executeInstruction.bind(core);
  core.executeInstruction = () => {
    if (!on) {
      return exec();
    }
    const pc = core.PC & ~1;
    let o = 0;
    if (pc >= FLASH && pc < flashTop) {
      o = codeFlash[(pc - FLASH) >>> 1];
    } else if (pc >= RAM && pc < ramTop) {
      o = codeRam[(pc - RAM) >>> 1];
    }
    if (o) {
      owner = o - 1;
    }
    const key = owner * 4294967296 + pc;
    if (watch.has(pc)) {
      const k = `${pc} ${(core.LR & ~1) >>> 0} ${owner}`;
      callers.set(k, (callers.get(k) || 0) + 1);
    }
    const c = exec();
    const e = counts.get(key);
    if (e) {
      e[0] += 1;
      e[1] += c;
    } else {
      counts.set(key, [1, c]);
    }
    return c;
  };
  const read8 = core.readUint8.bind(core);
  core.readUint8 = (address) => {
    if (on && address >= FLASH && address < flashTop) {
      const o = bytecode[address - FLASH];
      if (o) {
        owner = o - 1;
      }
    } else if (on && address >= RAM && address < ramTop && core.PC >= vmStart &&
        core.PC < vmEnd) {
      owner = vm;
    }
    return read8(address);
  };
  const write = () => {
    const rows = [];
    let instructions = 0;
    let cycles = 0;
    for (const [key, [n, c]] of counts) {
      const o = Math.floor(key / 4294967296);
      rows.push([o, key - o * 4294967296, n, c]);
      instructions += n;
      cycles += c;
    }
    fs.writeFileSync(out, JSON.stringify({ window: windows, nanos, instructions, cycles,
      owners: owners.length, rows,
      callers: [...callers].map(([k, n]) => k.split(' ').map(Number).concat([n])) }));
  };
  mcu.gpio[pin].addListener((state) => {
    const high = state === 1; // GPIOPinState.High
    if (high && !on) {
      on = true;
      owner = -1;
      counts.clear();
      callers.clear();
      since = clock.nanos;
    } else if (!high && on) {
      on = false;
      windows += 1;
      nanos = clock.nanos - since;
      write();
    }
  });
  console.log(`profiling while GPIO ${pin} is high into ${out} (${owners.length} owners)`);
}
