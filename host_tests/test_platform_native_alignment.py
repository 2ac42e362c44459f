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


# Functions that must be among those checked, by module: the scheduler's fast path, the
# value copies, and the timer wheel's viper passes (session 9; first checked on an armv6m
# build in session 10)
_TICK = ("shimeji.sched.owntick", "tick_own") if sys.platform == "rp2" else (  # rp2's: owntick.py
    "shimeji.sched.fastpath", "tick_fifo")
REQUIRED = (_TICK, ("shimeji._values", "_copy_word"),
            ("shimeji.time.wheelplace", "place"), ("shimeji.time.wheelplace", "drain"),
            ("shimeji.time.wheelpass", "hand_off"), ("shimeji.time.timerturn", "turn"),
            ("shimeji.time.sleep", "sleep_ms"))


def _targets(sub, keep):
    """``shimeji.<sub>`` and each module its lazy table names (read by importing it once)."""
    from shimeji import _lazy

    try:
        _import("shimeji." + sub, keep)
    except Exception:  # noqa: BLE001 - a port without what the subpackage needs
        return ["shimeji." + sub]
    paths = ["shimeji." + sub]
    for where in _lazy.entries("shimeji." + sub).values():
        path = where.partition(":")[0]
        if path not in paths:
            paths.append(path)
    return paths


# Free heap below which the loaded modules are forgotten before the next import. Each module
# is imported (and read) once while it fits, not once per module that imports it: on the
# RP2040's .mpy path importing every target afresh, with its whole chain of imports, took
# 783-1,265 s (sessions 13 and 15), past fwtest's 900 s.
LOW_HEAP = 64 * 1024


def _import(path, keep):
    """Import ``path``; if the heap is low, or the import runs out of memory, forget the
    loaded modules first (and try once more). The exception of an import that fails for
    another reason (a port without sockets or threads) propagates."""
    import gc

    if hasattr(gc, "mem_free") and gc.mem_free() < LOW_HEAP:
        _unload(keep)
    try:
        __import__(path)
    except MemoryError:
        _unload(keep)
        __import__(path)


def _unload(keep):
    """Forget every shimeji module not in ``keep``, so that its code can be collected: from
    ``.mpy`` files (code in the heap) the whole package does not fit in the RP2040's heap at
    once (docs/boards.md, "Footprint")."""
    import gc

    from shimeji import _lazy

    for name in [m for m in sys.modules if m.startswith("shimeji") and m not in keep]:
        mod = sys.modules.pop(name)
        parent = sys.modules.get(name.rpartition(".")[0])
        # the parent's __dict__, not getattr: a lazy package's __getattr__ would import
        if parent is not None and parent.__dict__.get(name.rpartition(".")[2]) is mod:
            _forget(parent, name.rpartition(".")[2])
    # A kept package stores each lazy name it resolved (shimeji.StaticScheduler...): that
    # value would keep its module, and the modules it imports, alive.
    for name in keep:
        pkg = sys.modules.get(name)
        for attr in _lazy.entries(name):
            if pkg is not None and attr in pkg.__dict__:
                _forget(pkg, attr)
    gc.collect()


def _forget(mod, attr):
    try:
        delattr(mod, attr)
    except (AttributeError, TypeError):  # a port whose modules refuse it
        pass


def _closure_type():
    x = 1

    def inner():
        return x

    return type(inner)


def _code(f, closure):
    """Where ``f``'s code starts; a closure's, its function's (``mp_obj_closure_t``: base,
    then the function)."""
    import machine

    obj = machine.mem32[id(f) + 4] if type(f) is closure else id(f)
    return machine.mem32[obj + _CODE]


def _functions(kinds, modnames):
    """(name, function) for every function of a ``kinds`` type in the modules ``modnames``,
    module level and class level, and every closure over one (``time.sleep``'s ``sleep_ms``
    is a viper closure since round twelve)."""
    import machine

    closure = _closure_type()
    type_words = [id(k) for k in kinds]  # a function object's first word is its type
    seen = {}
    for modname in modnames:
        # __dict__, not dir(): MicroPython's dir() asks a package's lazy __getattr__ for
        # every interned name
        for name, value in list(sys.modules[modname].__dict__.items()):
            values = [(name, value)]
            if type(value) is type:
                values += [(name + "." + k, v) for k, v in value.__dict__.items()]
            for n, v in values:
                if id(v) in seen:
                    continue
                if type(v) in kinds or (type(v) is closure and machine.mem32[
                        machine.mem32[id(v) + 4]] in type_words):
                    seen[id(v)] = (modname + "." + n, v)
    return list(seen.values())


def _read(modnames, kinds, closure, checked, odd, required):
    """Record where each native function of ``modnames`` starts. A function of its own: a
    function left in a local keeps its module's globals, and through them the modules it
    imports, alive past ``_unload`` (on the RP2040's .mpy path the next imports then ran out
    of memory)."""
    for n, f in _functions(kinds, modnames):
        a = _code(f, closure)
        checked[n] = a
        if a % 4:
            odd.append((n, hex(a)))
        for mod, fn in REQUIRED:
            m = sys.modules.get(mod)
            # by identity: a function imported by another module (io.readop takes
            # _copy_word) is listed under whichever module sys.modules yields first
            if m is not None and getattr(m, fn, None) is f:
                required[mod + "." + fn] = a


@micropython_only
@needs_word_aligned_arch
def test_every_native_function_starts_on_a_word_boundary():
    from shimeji._values import _copy_word
    from shimeji.core import yield_now  # native, in a module that imports little

    def bytecode():
        pass

    native = type(yield_now)
    if native is type(bytecode):
        raise AssertionError("shimeji here is bytecode only: nothing native to check")
    kinds = (native, type(_copy_word))
    closure = _closure_type()
    del yield_now, _copy_word
    keep = set(m for m in sys.modules if m.startswith("shimeji"))
    # Each module's functions read once, while it is loaded; the loaded modules forgotten
    # when the heap runs low (_import): frozen, everything fits at once; from .mpy files
    # it does not.
    checked = {}  # qualified name -> its code's address
    odd = []
    failed = []
    required = {}
    read = set()  # modules whose functions were read (each once)
    for sub in SUBPACKAGES:
        for path in _targets(sub, keep):
            try:
                _import(path, keep)
            except Exception as e:  # noqa: BLE001 - no sockets, no threads, no room...
                failed.append("%s (%s)" % (path, type(e).__name__))
                _unload(keep)
                continue
            fresh = [m for m in sys.modules if m.startswith("shimeji") and m not in read]
            _read(fresh, kinds, closure, checked, odd, required)
            read.update(fresh)
    _unload(keep)
    print("native/viper functions: %d, not word-aligned: %d, modules not imported: %s" % (
        len(checked), len(odd), failed))
    assert odd == []
    assert sorted(required) == sorted(m + "." + f for m, f in REQUIRED), sorted(required)
    assert len(checked) >= 40, sorted(checked)
    # and calls into them run: a spawn and a tick (where 2-byte alignment faulted)
    from shimeji import StaticScheduler

    sched = StaticScheduler(2)
    events = []

    async def job():
        events.append("ran")
        return 7

    handle = sched.spawn(job(), "job")
    sched.tick()
    assert events == ["ran"]
    assert (handle.is_complete(), handle.result()) == (True, 7)
