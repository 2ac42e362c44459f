"""Run the host tests on booted firmware, module by module, and print passed/failed/skipped.

Usage: python tools/fwtest.py BOARD --micropy-dir DIR [-v] [--jobs N] [host_tests/test_x.py ...]
       python tools/fwtest.py --port PORT [...]     (a board or emulator already running)

BOARD is ``qemu`` (the firmware is built if needed and booted in qemu-system-arm) or
``rp2040`` (the RP2040 firmware booted in the rp2040js emulator, see tools/emulate.py). Each
test module runs after a soft reset (a fresh heap) with the checkout mounted by ``mpremote
mount`` and ``host_tests/`` on the path; shimeji itself is the copy frozen into the firmware.
The per-test lines are the same as the unix-port runner's (tools/mptest.py). A module whose
first line says ``shimeji: host-only (why)`` runs on CPython and the unix port only (sockets,
the unix board module): each of its tests is reported skipped here, with that reason. On the
RP2040 emulator the tests that start a ``_thread`` are skipped, saying so (it runs core 0
only: a thread hangs it), unless ``--dual`` (``DUAL=1``) boots it in the two-core emulator
(tools/rp2040_dual_emu.mjs), where core 1 runs the threads: the executor's tests, e.g.
``make test-firmware BOARD=rp2040 DUAL=1 TESTS="host_tests/test_executor*.py"``. Without a
MicroPython tree (CI) every module is reported skipped with the reason, and the exit status
is 0.
"""

import argparse
import os
import re
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import device  # noqa: E402
import mptest  # noqa: E402
import testimage  # noqa: E402
from fwtest_stage import is_source_stage, module_paths, mpy_image, skip_all, stage  # noqa: E402

ROOT = mptest.ROOT
TESTS = mptest.TESTS
MODULE_TIMEOUT_S = 900
# Boards whose tests are mounted compiled (``--compile``) unless told otherwise.
SMALL_BOARDS = ("stm32",)

# Boards whose test image has the tests frozen in (``--frozen``, their default): qemu's STM32
# USART takes ~125 bytes a second into the board (docs/boards.md), so a module mounted over it
# cost 1-3 minutes; frozen, the host sends one line per module.
FROZEN_BOARDS = ("stm32",)
# A module that reads the checkout (``__file__``: the board modules) or writes a file needs
# the mount even on a frozen image: it runs from the mounted copy, ahead of the frozen one. A
# test module past the image's flash budget is not frozen: it runs from the mount, behind the
# frozen helpers (tools/testimage.py, the rule boards/stm32/qemu/manifest_tests.py follows).
NEEDS_FILES = testimage.NEEDS_FILES


def _runner_source():
    """tools/fwtest_board.py's code (its comments dropped: every byte crosses the link)."""
    with open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "fwtest_board.py")) as f:
        return "".join(line for line in f if not line.lstrip().startswith("#"))


# --mpy: shimeji from the board's /lib (.mpy files, as `make deploy` leaves them), ahead of
# the frozen copy; the run stops if it came from anywhere else. Loading a module's .mpy
# leaves garbage beside its code blocks, and MicroPython collects only when an allocation
# fails: by then the free heap is in pieces too small for the next native function (2-5 KB).
# A collection every 4 KB allocated keeps it whole (docs/boards.md, "RP2040 / qemu / STM32,
# session 14").
_FROM_LIB = """import gc, sys
gc.threshold(4096)
sys.path[:] = [''] + ['/lib'] + [p for p in sys.path if p not in ('', '/lib')]
import shimeji
assert shimeji.__file__.startswith('/lib/shimeji/'), 'shimeji from ' + shimeji.__file__
"""


def run_module(port, path, timeout=None, mount=ROOT, no_threads=None, from_lib=False,
               frozen=False, second=False):
    """Run one test module on the board at ``port``: ``(results, output)`` as mptest's.
    ``frozen``: the firmware has the tests and tools/fwtest_board.py frozen in; nothing is
    mounted unless the module reads or writes files (NEEDS_FILES). ``second``: the board runs
    the second test image, which has the modules the first leaves out frozen."""
    timeout = timeout or MODULE_TIMEOUT_S
    name = os.path.splitext(os.path.basename(path))[0]
    # The tests the board will find are the mounted copy's (staged when the run started): a
    # checkout edited since (a rebase mid-run) must not make a new test count as not run.
    staged = os.path.join(mount, "" if is_source_stage(mount) else "host_tests",
                          os.path.basename(path))
    with open(staged if os.path.exists(staged) else path) as f:
        source = f.read()
    expected = re.findall(r"^def (test_\w+)", source, re.M)
    first = source.split("\n", 1)[0]
    if "shimeji: cpython-only" in first:
        return [("SKIP", "%s::%s" % (name, t), "cpython-only module") for t in expected], ""
    host = re.search(r"shimeji: host-only \((.*)\)", first)
    if host:
        why = "host-only module: " + host.group(1)
        return [("SKIP", "%s::%s" % (name, t), why) for t in expected], ""
    prelude = _FROM_LIB if from_lib else ""
    # The checkout is mounted (tests that load boards/<name>/shimeji_board.py find it), the
    # tests' directory goes on the path; a --source stage is the tests' directory itself.
    tests_dir = "/remote" if is_source_stage(mount) else "/remote/host_tests"
    left_out = frozen and not second and name + ".py" in _left_out(os.path.dirname(
        staged if os.path.exists(staged) else path))
    if frozen and left_out:  # past the image's budget: the module mounted, behind the frozen
        cmd = [device.mpremote_exe(), "connect", port, "mount", mount, "exec", prelude + (
            "import sys\nsys.path.append(%r)\nimport fwtest_board\n"
            "fwtest_board.run(%r, None, %r)" % (tests_dir, name, no_threads))]
    elif frozen and not NEEDS_FILES.search(source):
        cmd = [device.mpremote_exe(), "connect", port, "exec", prelude + (
            "import fwtest_board\nfwtest_board.run(%r, None, %r)" % (name, no_threads))]
    elif frozen:  # the mounted copy of the module (and its helpers) ahead of the frozen one
        cmd = [device.mpremote_exe(), "connect", port, "mount", mount, "exec", prelude + (
            "import sys\nsys.path.insert(0, %r)\nimport fwtest_board\n"
            "fwtest_board.run(%r, None, %r)" % (tests_dir, name, no_threads))]
    else:
        cmd = [device.mpremote_exe(), "connect", port, "mount", mount, "exec",
               prelude + _runner_source() + "run(%r, %r, %r)\n" % (name, tests_dir,
                                                                   no_threads)]
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
        out = proc.stdout + proc.stderr
        crashed = proc.returncode != 0 or "MODULE-DONE" not in out
    except subprocess.TimeoutExpired as e:
        out = e.stdout.decode(errors="replace") if isinstance(e.stdout, bytes) else (
            e.stdout or "")
        out += "\n[timed out after %d s]" % timeout
        crashed = True
    results = []
    for line in out.splitlines():
        m = re.match(r"^(PASS|FAIL|SKIP) (test_\w+)(?::\s*(.*))?$", line)
        if m:
            results.append((m.group(1), "%s::%s" % (name, m.group(2)), m.group(3) or ""))
    seen = {r[1].split("::")[1] for r in results}
    missing = sorted(set(expected) - seen)
    if crashed or missing:
        results.append(("FAIL", "%s (module)" % name, "crashed or did not run: %s" % missing))
    return results, out


_LEFT_OUT = {}


def _left_out(tests_dir):
    """The test modules of ``tests_dir`` the stm32 test image leaves out (its flash budget)."""
    if tests_dir not in _LEFT_OUT:
        _LEFT_OUT[tests_dir] = set(testimage.plan(tests_dir)[1])
    return _LEFT_OUT[tests_dir]


def run_all(port, paths, verbose=False, out=print, source=False, no_threads=None,
            restart=None, mount=None, compiled=False, from_lib=False, frozen=False,
            second=False):
    """Run each module; after one that crashed or hung the board, ``restart()`` (when given:
    the emulator is ours) boots it again and returns the new port, so the next modules run."""
    counts = {"PASS": 0, "FAIL": 0, "SKIP": 0}
    if mount is None:
        mount = stage(source, out, compiled)
    for path in module_paths(paths):
        t0 = time.monotonic()
        results, output = run_module(port, path, mount=mount, no_threads=no_threads,
                                     from_lib=from_lib, frozen=frozen, second=second)
        failed = False
        for kind, name, info in results:
            counts[kind] += 1
            failed = failed or kind == "FAIL"
            if verbose or kind != "PASS":
                out("%s %s%s" % (kind, name, (": " + info) if info else ""))
        if verbose:
            out("(%s: %.0f s)" % (os.path.basename(path), time.monotonic() - t0))
        if failed:
            out("---- output of %s ----\n%s\n----" % (os.path.basename(path), output.rstrip()))
        if restart is not None and any(r[1].endswith("(module)") for r in results):
            out("(the board did not finish %s: emulator restarted)" % os.path.basename(path))
            port = restart()
    return counts


def run_parallel(emus, paths, verbose=False, out=print, source=False, no_threads=None,
                 compiled=False, from_lib=False, frozen=False, second=False):
    """``run_all`` over several emulators at once (``--jobs``): each takes the next module
    when it is free; a module's lines are printed together when it ends."""
    import threading

    mount = stage(source, out, compiled)
    todo = list(module_paths(paths))
    counts = {"PASS": 0, "FAIL": 0, "SKIP": 0}
    lock = threading.Lock()

    def work(emu):
        while True:
            with lock:
                if not todo:
                    return
                path = todo.pop(0)
            lines = []
            got = run_all(emu.path, [path], verbose, lines.append, no_threads=no_threads,
                          restart=emu.restart, mount=mount, from_lib=from_lib, frozen=frozen,
                          second=second)
            with lock:
                for line in lines:
                    out(line)
                for k in counts:
                    counts[k] += got[k]

    threads = [threading.Thread(target=work, args=(emu,)) for emu in emus]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return counts


def image_groups(board, micropy_dir, paths, out=print):
    """stm32's two test images: ``[(paths, second)]``, the modules the first image froze (or
    mounts whatever is frozen), then (``second`` True) those it leaves out for its flash budget,
    frozen in the second image. The first image is found (or built) first: its budget says
    which it leaves out. Without a second image to be had they run mounted on the first."""
    import emulate

    emulate.firmware_image(board, micropy_dir, True)
    _LEFT_OUT.clear()  # (the plan of the image just found or built)
    left = _left_out(TESTS)
    paths = list(module_paths(paths))
    rest = [p for p in paths if os.path.basename(p) in left]
    if not rest:
        return [(paths, False)]
    try:
        emulate.firmware_image(board, micropy_dir, 2)
    except emulate.Unavailable as e:
        out("the %d test modules the test image leaves out run mounted on it: %s" % (
            len(rest), e))
        return [(paths, False)]
    first = [p for p in paths if p not in rest]
    out("the second test image: %d test modules the first leaves out, frozen" % len(rest))
    return ([(first, False)] if first else []) + [(rest, True)]


def _run_emulated(args, paths, dual, no_threads, compiled, frozen, second):
    """``run_all`` (``run_parallel`` with ``--jobs``) on the board's emulator(s); ``second``:
    the second test image's."""
    import emulate

    tests = 2 if second else frozen
    if args.jobs > 1:
        emus = []
        try:
            for _ in range(args.jobs):
                emus.append(emulate.Emulated(args.board, args.micropy_dir, icount=args.icount,
                                             dual=dual, tests=tests).start())
            return run_parallel(emus, paths, args.verbose, source=args.source,
                                no_threads=no_threads, compiled=compiled, from_lib=args.mpy,
                                frozen=frozen, second=second)
        finally:
            for emu in emus:
                emu.stop()
    with emulate.emulated(args.board, args.micropy_dir, icount=args.icount, dual=dual,
                          tests=tests) as emu:
        return run_all(emu.path, paths, args.verbose, source=args.source,
                       no_threads=no_threads, restart=emu.restart, compiled=compiled,
                       from_lib=args.mpy, frozen=frozen, second=second)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("board", nargs="?", default=os.environ.get("BOARD") or "qemu")
    ap.add_argument("paths", nargs="*")
    ap.add_argument("--micropy-dir", default=os.environ.get("MICROPY_DIR") or "")
    ap.add_argument("--port", help="a board (or emulator) already running MicroPython")
    ap.add_argument("--source", action="store_true",
                    help="mount firmware/shimeji too: test the working copy, not the frozen one")
    ap.add_argument("--no-threads", metavar="WHY",
                    help="skip the tests that start a thread, saying WHY (the board hangs)")
    ap.add_argument("--mpy", action="store_true", default=os.environ.get("MPY", "") not in (
        "", "0"), help="rp2040: shimeji from .mpy files in the board's /lib (mpy-cross "
        "-march=armv6m, a littlefs image in the emulator's flash), not the frozen copy")
    ap.add_argument("--dual", action="store_true", default=None,
                    help="rp2040: both cores (the two-core emulator): threads run on core 1")
    ap.add_argument("--jobs", type=int, default=int(os.environ.get("JOBS") or 1),
                    help="emulators running modules at once (each takes a core)")
    ap.add_argument("--compile", dest="compiled", action="store_true", default=None,
                    help="mount the test modules compiled to .mpy (the default for stm32 "
                    "and --mpy)")
    ap.add_argument("--no-compile", dest="compiled", action="store_false")
    ap.add_argument("--frozen", dest="frozen", action="store_true", default=None,
                    help="the firmware has the tests frozen in (stm32's test image, its "
                    "default): one line crosses the link per module, nothing is mounted")
    ap.add_argument("--no-frozen", dest="frozen", action="store_false",
                    help="stm32: boot the plain image and mount the tests (slow)")
    ap.add_argument("--timeout", type=int, default=0,
                    help="seconds a module may take before it counts as hung (default 900; "
                    "two cores: 2400)")
    ap.add_argument("--icount", action="store_true",
                    help="qemu boards: emulated time counts guest instructions (-icount; "
                    "the C3: shift=3), not the host's clock, whatever its load")
    ap.add_argument("-v", "--verbose", action="store_true")
    args = ap.parse_intermixed_args(argv)
    sys.stdout.reconfigure(line_buffering=True)  # progress shows while a long run goes on
    if args.board.endswith(".py"):  # fwtest.py --port P host_tests/test_x.py: no board given
        args.paths.insert(0, args.board)
        args.board = os.environ.get("BOARD") or "qemu"
    import emulate

    # The STM32L475 in qemu: an 87 KB heap and a slow USART (emulate.py): compiled tests.
    # --mpy (the deploy path) too: a program deployed with shimeji's .mpy files is compiled
    # as well, and a test module compiled on the board cuts up the heap its code needs
    compiled = args.compiled if args.compiled is not None else (
        args.board in SMALL_BOARDS or args.mpy)
    frozen = args.frozen
    if frozen is None:  # a board given by --port has the tests frozen only if told so
        frozen = args.board in FROZEN_BOARDS and not (args.port or args.source or args.mpy)
    dual = emulate.dual_from_env() if args.dual is None else args.dual
    global MODULE_TIMEOUT_S
    if dual:  # two cores stepped in lockstep: each module takes 2-3x longer
        MODULE_TIMEOUT_S = 2400
    if args.timeout:
        MODULE_TIMEOUT_S = args.timeout
    try:
        if args.mpy and not args.port:
            mpy_image(args.board)
        if args.port:  # with --mpy: the board's /lib holds them (`make deploy`)
            counts = run_all(args.port, args.paths, args.verbose, source=args.source,
                             no_threads=args.no_threads, compiled=compiled,
                             from_lib=args.mpy, frozen=frozen)
        else:
            no_threads = args.no_threads
            if not dual:
                no_threads = no_threads or emulate.NO_SECOND_THREAD.get(args.board)
            groups = [(args.paths, False)]
            if frozen:  # stm32: the first test image's modules, then the second's
                groups = image_groups(args.board, args.micropy_dir, args.paths)
            counts = {"PASS": 0, "FAIL": 0, "SKIP": 0}
            for paths, second in groups:
                got = _run_emulated(args, paths, dual, no_threads, compiled, frozen, second)
                for k in counts:
                    counts[k] += got[k]
    except emulate.Unavailable as e:
        counts = skip_all(args.paths, str(e))
    print("firmware %s: %d passed, %d failed, %d skipped" % (
        (args.port or args.board) + (" (two cores)" if dual else "") + (
            " (shimeji from /lib/*.mpy)" if args.mpy else ""), counts["PASS"],
        counts["FAIL"], counts["SKIP"]))
    return 1 if counts["FAIL"] else 0


if __name__ == "__main__":
    sys.exit(main())
