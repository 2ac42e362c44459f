# On ARMv6-M (the RP2040's Cortex-M0+) and RV32IMC (the ESP32-C3) every native and viper
# function of shimeji starts on a 4-byte boundary: the VM reads a word there (py/objfun.h); the
# Cortex-M0+ faults on an unaligned one, and on the C3 MicroPython's own 2-byte alignment left
# frozen native code at odd addresses (an illegal instruction at the first call, in qemu).
# Frozen code gets there through the patched mpy-tool.py (tools/native_align.py), code loaded
# from .mpy files through the heap. Elsewhere a misaligned start is harmless (skipped).
import sys

from support import IS_MICROPYTHON, _Skipped, micropython_only

# sys.implementation._mpy >> 10: MP_NATIVE_ARCH_ARMV6M, MP_NATIVE_ARCH_RV32IMC
_WORD_ALIGNED_ARCHS = {4: "ARMv6-M", 11: "RV32IMC"}
_CODE = 12  # offset of mp_obj_fun_bc_t.bytecode on 32-bit: base, context, child_table
SUBPACKAGES = ("asyncio", "executor", "io", "platform", "policy", "sched", "sync", "task",
               "time", "trace")


def _arch():
    return (getattr(sys.implementation, "_mpy", 0) >> 10) & 0x0F


def needs_word_aligned_arch(fn):
    if IS_MICROPYTHON and _arch() not in _WORD_ALIGNED_ARCHS:
        return _Skipped(fn, "only ARMv6-M (the RP2040) and RV32IMC (the ESP32-C3) need native "
                            "code word-aligned; this runtime is another architecture")
    return fn


def _import_everything():
    """Every module of shimeji that imports here: each subpackage and each module its lazy
    table names. Returns the names that failed to import (no sockets, no threads...)."""
    import shimeji
    from shimeji import _lazy

    failed = []
    for sub in SUBPACKAGES:
        try:
            __import__("shimeji." + sub)
        except Exception:  # noqa: BLE001 - a port without what the subpackage needs
            failed.append("shimeji." + sub)
    for table in list(_lazy.TABLES.values()):
        for where in table.values():
            path = where.partition(":")[0]
            try:
                __import__(path)
            except Exception:  # noqa: BLE001
                failed.append(path)
    return shimeji, failed


def _functions(kinds):
    """(name, function) for every function of a ``kinds`` type in shimeji's loaded modules,
    module level and class level."""
    seen = {}
    for modname in list(sys.modules):
        if not modname.startswith("shimeji"):
            continue
        # __dict__, not dir(): MicroPython's dir() asks a package's lazy __getattr__ for
        # every interned name
        for name, value in list(sys.modules[modname].__dict__.items()):
            values = [(name, value)]
            if type(value) is type:
                values += [(name + "." + k, v) for k, v in value.__dict__.items()]
            for n, v in values:
                if type(v) in kinds and id(v) not in seen:
                    seen[id(v)] = (modname + "." + n, v)
    return list(seen.values())


@micropython_only
@needs_word_aligned_arch
def test_every_native_function_starts_on_a_word_boundary():
    import machine

    from shimeji import StaticScheduler
    from shimeji._values import _copy_word
    from shimeji.sched.fastpath import tick_fifo

    def bytecode():
        pass

    native = type(tick_fifo)
    if native is type(bytecode):
        raise AssertionError("shimeji here is bytecode only: nothing native to check")
    _shimeji, failed = _import_everything()
    kinds = (native, type(_copy_word))
    found = _functions(kinds)
    starts = [(n, machine.mem32[id(f) + _CODE]) for n, f in found]
    odd = [(n, hex(a)) for n, a in starts if a % 4]
    print("native/viper functions: %d, not word-aligned: %d, modules not imported: %s" % (
        len(found), len(odd), failed))
    assert odd == []
    names = [n for n, _ in found]
    # by identity: a function imported by another module (io.readop takes _copy_word) is
    # listed under whichever module sys.modules yields first
    assert [f for _, f in found if f is tick_fifo], names
    assert [f for _, f in found if f is _copy_word], names
    # the timer wheel's viper passes (session 9; first checked on an armv6m build in session 10)
    mods = sys.modules
    for mod, fn in (("wheelplace", "place"), ("wheelplace", "drain"), ("wheelpass", "hand_off"),
                    ("timerturn", "turn"), ("sleep", "sleep_ms")):
        f = getattr(mods["shimeji.time." + mod], fn)
        assert [g for _, g in found if g is f], (mod, fn)
    assert len(found) >= 40, names
    # and calls into them run: a spawn and a tick (where 2-byte alignment faulted)
    sched = StaticScheduler(2)
    events = []

    async def job():
        events.append("ran")
        return 7

    handle = sched.spawn(job(), "job")
    sched.tick()
    assert events == ["ran"]
    assert (handle.is_complete(), handle.result()) == (True, 7)
