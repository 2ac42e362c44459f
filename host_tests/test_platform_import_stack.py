# Every module's import chain fits the C stack, from nothing of shimeji loaded. MicroPython's
# qemu port checks its C stack against 10 KB, and each nested import takes some of it: in
# session 12 a board module's chain of ten nested imports (platform/bsp.py -> runloop ->
# loopiter -> fastpath -> task/pool -> task/slot -> the lazy look-up -> task/taskslot -> time)
# ran out of it ("maximum recursion depth exceeded"). Here every module of the package (and
# the board module, where the firmware has one) is imported fresh at the depth a test module
# runs at, MARGIN_BYTES deeper (a pad of Python calls, sized by micropython.stack_use()).
# `margins()` pads further, to measure by hand over mpremote what each chain leaves (on qemu,
# session 13: docs/boards.md, "The C stack an import chain leaves"). The padded imports look
# only where the board's own modules are (`_local_path`): under `mpremote mount` (how the
# firmware tests run) each look-up in /remote is a command to the host with Ctrl-C switched
# off, and a RecursionError raised in the middle of one left the host and the board waiting
# on each other: that, not the port's stack check, was session 13's "stopped answering"
# (session 14: docs/boards.md).
import gc
import sys

from support import IS_MICROPYTHON, _Skipped, micropython_only

# What every chain must leave free at a test module's depth. 0 in sessions 13-15: on qemu,
# pads of 400-2,000 B made a fresh import stop the firmware under the mount. Session 16 found
# why: _local_path took the frozen package (its __file__ "shimeji/__init__.py", relative) for
# the mount's, kept /remote on the path, and the padded imports looked there first (the board
# was in mp_vfs_import_stat -> the mount's stat, reading the host). Now the deepest chains
# (shimeji.executor.idle, .worker, .shutdown, shimeji.sched.background) leave 200-399 B at a
# test module's depth on qemu (1,000-1,199 B at mpremote exec's); 400 fails cleanly, no hang.
MARGIN_BYTES = 200 if sys.platform == "qemu" else 0
PACKAGES = ("asyncio", "executor", "io", "platform", "policy", "sched", "sync", "task", "time",
            "trace")


def public_modules():
    """Every module of the package (read from the checkout's firmware/shimeji, next to this
    module's directory: the frozen copy cannot be listed), then ``shimeji_board``."""
    import os

    here = __file__.rsplit("/", 1)[0] if "/" in __file__ else "."
    names = []

    def walk(d, dotted):
        for f in sorted(os.listdir(d)):
            if f.endswith(".py"):
                names.append(dotted if f == "__init__.py" else dotted + "." + f[:-3])
            elif "." not in f and f != "__pycache__":
                walk(d + "/" + f, dotted + "." + f)

    walk(here + "/../firmware/shimeji", "shimeji")
    return names + ["shimeji_board"]


def _forget():
    for key in [k for k in sys.modules if k.startswith("shimeji")]:
        del sys.modules[key]
    gc.collect()


def _pad(n, name):
    if n:
        return _pad(n - 1, name)
    return __import__(name)


def _depth_use(n):
    if n:
        return _depth_use(n - 1)
    import micropython

    return micropython.stack_use()


def bytes_per_level():
    """The C stack one ``_pad`` call takes (None where ``micropython.stack_use`` is missing)."""
    try:
        return (_depth_use(20) - _depth_use(0)) // 20
    except (ImportError, AttributeError):
        return None


def _local_path():
    """``sys.path`` without the entries `mpremote mount` serves from the host (/remote, and the
    current directory when it is there), unless shimeji itself came from there: an import
    that runs out of C stack inside the mount's file system code (a command to the host sent,
    Ctrl-C switched off, the rest never sent) leaves the board and mpremote waiting on each
    other for good, instead of raising where the stack ran out."""
    try:
        import os

        cwd = os.getcwd()
    except (ImportError, AttributeError, OSError):
        cwd = ""
    mounted = cwd.startswith("/remote")
    here = getattr(sys.modules.get("shimeji"), "__file__", "") or ""  # "" if not loaded
    # A frozen module's __file__ is relative too ("shimeji/__init__.py": MicroPython v1.28
    # drops the ".frozen/" it was found under), so a relative one is the mount's only if the
    # file is there (one look-up on the mount, at the test's own depth).
    if here.startswith("/remote") or (mounted and here and not here.startswith("/") and
                                      _exists(here)):
        return list(sys.path)  # shimeji's own code is on the mount (fwtest --source)
    return [p for p in sys.path if not (p.startswith("/remote") or (mounted and p in ("", ".")))]


def _exists(path):
    import os

    try:
        os.stat(path)
    except OSError:
        return False
    return True


def _set_path(entries):
    while sys.path:
        sys.path.pop()
    sys.path.extend(entries)


def fits(levels, name):
    """True if ``name`` imports, from nothing of shimeji loaded, ``levels`` calls deeper;
    None if it does not import here at all (``_thread``, ``socket``: not this port's)."""
    local = _local_path()
    _forget()
    saved = list(sys.path)
    _set_path(local)
    try:
        _pad(levels, name)
    except RuntimeError as e:  # MicroPython: "maximum recursion depth exceeded"
        if "recursion" not in str(e):
            raise
        return False
    except ImportError:
        return None
    finally:
        _set_path(saved)
    return True


def _how_deep(box):
    box[0] += 1
    return _how_deep(box)


def deepest():
    """How many calls deep the runtime lets a plain recursion go from here before it raises
    (MicroPython: a RuntimeError, "maximum recursion depth exceeded"; CPython RecursionError,
    a RuntimeError too)."""
    box = [0]
    try:
        _how_deep(box)
    except RuntimeError as e:
        assert "recursion" in str(e), e
        return box[0]
    raise AssertionError("a recursion without end returned")


def margins(names=None, most=400):
    """{module: levels of ``_pad`` still free (binary search, at most ``most``)}."""
    out = {}
    for name in names or public_modules():
        lo, hi = 0, most  # fits(lo) holds; find the largest
        first = fits(0, name)
        if not first:
            out[name] = None if first is None else -1
            continue
        while lo < hi:
            mid = (lo + hi + 1) // 2
            if fits(mid, name):
                lo = mid
            else:
                hi = mid - 1
        out[name] = lo
    return out


def _code_in_a_small_heap():
    """Why not to run the chains here: shimeji's code goes into a heap under 1 MB (``.mpy``
    files in /lib, or source, on a board), where importing every module fresh one after the
    other measures the heap's pieces, not the C stack (the RP2040's ``.mpy`` path: the
    asyncio facade alone takes ~200 KB of 241 KB). None where the check means what it says."""
    from shimeji import _lazy

    if not hasattr(gc, "mem_free") or not _lazy._COLLECT:  # (frozen: its code is in flash)
        return None
    gc.collect()
    if gc.mem_free() + gc.mem_alloc() >= 1 << 20:
        return None
    return ("shimeji's code is in a heap of %d B here (not frozen): fresh imports of every "
            "module measure its pieces, not the C stack" % (gc.mem_free() + gc.mem_alloc()))


def _frozen_or_big_heap(fn):
    if not IS_MICROPYTHON:
        return fn
    why = _code_in_a_small_heap()
    return fn if why is None else _Skipped(fn, why)


@micropython_only
@_frozen_or_big_heap
def test_every_public_modules_import_chain_leaves_a_margin_of_c_stack():
    per = bytes_per_level()
    levels = 0 if per is None else (MARGIN_BYTES + per - 1) // max(per, 1)
    got = {n: fits(levels, n) for n in public_modules()}
    _forget()
    short = [n for n in got if got[n] is False]
    assert not short, "less than %d B of C stack left importing %r" % (MARGIN_BYTES, short)
    assert len([n for n in got if got[n]]) > 80  # most import everywhere


def test_recursion_past_the_c_stack_raises():
    # Bounded by the stack itself: on the qemu port (a 10 KB check) ~45 calls.
    first = deepest()
    assert first > 10
    assert deepest() == first  # nothing was left behind: the same depth again


@micropython_only
@_frozen_or_big_heap
def test_an_import_chain_that_runs_out_of_c_stack_raises_and_the_next_one_imports():
    # An import started 3 calls short of the deepest plain recursion needs more than those 3
    # calls' stack (the chain of nested imports under shimeji.sched.runloop: ~8 KB on qemu):
    # it must raise RuntimeError, not stop the board (session 13's hang under the mount), and
    # leave nothing behind that stops the same import from the usual depth.
    assert fits(max(deepest() - 3, 0), "shimeji.sched.runloop") is False
    assert fits(0, "shimeji.sched.runloop") is True
    _forget()


def test_the_module_list_covers_every_package():
    names = public_modules()
    for package in PACKAGES:
        assert "shimeji." + package in names
    assert "shimeji.sched.runloop" in names and "shimeji.platform.bsp" in names
