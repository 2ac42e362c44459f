"""The copy of the checkout a firmware test run mounts (tools/fwtest.py): each run's own
directory under build/, the tests in it optionally compiled to ``.mpy``, or with ``--source``
the tests beside the working copy of shimeji; the test modules a run takes, the ``--mpy``
flash image with shimeji in /lib, and the run reported skipped when no board can be had."""

import os
import re
import subprocess

import mptest

ROOT = mptest.ROOT
TESTS = mptest.TESTS


def stage_source(out_dir):
    """A directory with the tests and the working copy of shimeji, to mount instead of
    host_tests/ (``--source``: test edits without rebuilding the firmware)."""
    import shutil

    if os.path.isdir(out_dir):
        shutil.rmtree(out_dir)
    shutil.copytree(TESTS, out_dir, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    shutil.copytree(os.path.join(ROOT, "firmware", "shimeji"), os.path.join(out_dir, "shimeji"),
                    ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    return out_dir


def stage_checkout(out_dir):
    """A copy of the checkout's files (``git ls-files``, as they are in the working tree) to
    mount: editing the checkout while a long run goes on cannot break the modules still to
    come (a half-written support.py once failed a module)."""
    import shutil

    if os.path.isdir(out_dir):
        shutil.rmtree(out_dir)
    files = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True,
                           check=True).stdout.split()
    for rel in files:
        src = os.path.join(ROOT, rel)
        if not os.path.isfile(src):
            continue
        dst = os.path.join(out_dir, rel)
        os.makedirs(os.path.dirname(dst), exist_ok=True)
        shutil.copy2(src, dst)
    return out_dir


def compile_tests(tests_dir, mpy_cross=None, out=print):
    """Compile every module of the staged ``tests_dir`` to ``.mpy`` (bytecode, no -march) and
    remove its source, so the board imports the compiled one (``--compile``). Two things a
    small board gains: the compiler's parse tree, which for a 400-line test module takes more
    of the heap than the module itself and leaves it fragmented, is never built there (the
    STM32L475's ~87 KB heap could not fit the asyncio facade's tests next to it), and half
    the bytes cross the link (qemu's STM32 USART takes ~100-1,000 bytes a second). A module
    mpy-cross refuses stays a source file."""
    import mpy_compile

    cross = mpy_cross or mpy_compile.find_mpy_cross()
    if not cross:
        out("mpy-cross not found: the tests are mounted as sources")
        return 0
    n = 0
    for f in sorted(os.listdir(tests_dir)):
        if not f.endswith(".py") or f == "conftest.py":
            continue
        src = os.path.join(tests_dir, f)
        cmd = [cross, "-s", "host_tests/" + f, "-o", src[:-3] + ".mpy", src]
        if subprocess.run(cmd, capture_output=True).returncode == 0:
            os.remove(src)
            n += 1
    return n


def is_source_stage(mount):
    return os.path.basename(mount.rstrip(os.sep)).startswith("fwtest-source")


def _pid_alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process: alive
        return True
    return True


def stage_dir(kind, pid=None):
    """``build/fwtest-KIND-PID``: each run stages its own copy (two runs in one worktree, say
    the ESP32 and the C3 at once, shared one ``build/fwtest-checkout`` and the second run's
    ``rmtree`` pulled the files from under the first's mount). The copy is removed when its
    run ends (``atexit``); a copy whose run died is removed by the next run's ``stage``."""
    import atexit
    import shutil

    pid = os.getpid() if pid is None else pid
    build = os.path.join(ROOT, "build")
    prefix = "fwtest-%s-" % kind
    if os.path.isdir(build):
        for name in os.listdir(build):
            if name.startswith(prefix) and name[len(prefix):].isdigit():
                other = int(name[len(prefix):])
                if other != pid and not _pid_alive(other):  # its run died: nobody mounts it
                    shutil.rmtree(os.path.join(build, name), ignore_errors=True)
    path = os.path.join(build, prefix + str(pid))
    atexit.register(shutil.rmtree, path, True)
    return path


def stage(source=False, out=print, compiled=False):
    """The directory to mount: a copy of the checkout, or with ``source`` the working copy of
    shimeji with the tests; with ``compiled`` the tests in it are ``.mpy`` files. The copy is
    this run's own (``stage_dir``)."""
    if source:
        mount = stage_source(stage_dir("source"))
        out("testing the working copy of shimeji (mounted from %s), not the frozen one" % mount)
        tests = mount
    else:
        mount = stage_checkout(stage_dir("checkout"))
        tests = os.path.join(mount, "host_tests")
    if compiled:
        out("test modules compiled to .mpy on the host: %d" % compile_tests(tests, out=out))
    return mount


def mpy_image(board, out=print):
    """``--mpy`` on an emulated board: shimeji compiled for it into /lib of a flash image the
    emulator loads (tools/flash_image.py; rp2040js does not write flash, so no fs cp)."""
    import emulate
    import flash_image

    if board != "rp2040":
        raise emulate.Unavailable("--mpy (MPY=1) needs BOARD=rp2040 (its emulator loads a "
                                  "flash image) or --port of a board `make deploy` filled")
    import rp2040_build

    build = emulate.firmware.build_dir("rp2040")
    uf2 = os.path.join(build, "firmware.uf2")
    had = rp2040_build.configured_board(build)
    if had and had != os.path.abspath(rp2040_build.BOARD_DIR):
        raise emulate.Unavailable(
            "%s was built for %s, whose filesystem is not where the /lib image goes (0x%x, "
            "boards/rp2040/pico's): build it with make firmware BOARD=rp2040" % (
                uf2, had, flash_image.FS_OFFSET))
    over = flash_image.overlap(uf2) if os.path.exists(uf2) else 0
    if over > 0:  # the image would overwrite the firmware's tail: it never boots
        raise emulate.Unavailable(
            "%s ends %d B past 0x%x, where the board's filesystem begins: /lib cannot be "
            "loaded beside it (a firmware of MicroPython's RPI_PICO? make firmware BOARD=rp2040 "
            "builds boards/rp2040/pico; docs/boards.md, \"RP2040, session 19\")"
            % (uf2, over, flash_image.FS_OFFSET))
    image = os.path.join(ROOT, "build", "flash", "rp2040-lib.img")
    files = flash_image.lib_files("armv6m")
    flash_image.write_image(files, image)
    os.environ["RP2040_FLASH_IMAGE"] = flash_image.env_value(image)
    out("shimeji from /lib: %d .mpy files (mpy-cross -march=armv6m) in %s" % (len(files), image))


def module_paths(paths):
    return paths or sorted(os.path.join(TESTS, f) for f in os.listdir(TESTS)
                           if f.startswith("test_") and f.endswith(".py"))


def skip_all(paths, reason, out=print):
    n = 0
    for path in module_paths(paths):
        with open(path) as f:
            n += len(re.findall(r"^def (test_\w+)", f.read(), re.M))
    out("SKIP every host test module on firmware: %s" % reason)
    return {"PASS": 0, "FAIL": 0, "SKIP": n}
