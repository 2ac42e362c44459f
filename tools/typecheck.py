"""Type-check each board module against its port's MicroPython stubs, with mypy.

Usage: python tools/typecheck.py [--install-only] [BOARD ...]

Each board's stub package (pinned in requirements-stubs.txt) is installed into its own
directory, ``.venv/stubs/<board>``, and used as mypy's typeshed, so ``machine``, ``pyb``,
``time`` and ``_thread`` are the port's own. Errors inside the stubs themselves are not ours
and are ignored; every error in ``boards/`` fails the check. Prints
``typecheck: N passed, N failed``; exit 1 on any failure.
"""

import argparse
import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
STUBS_FILE = os.path.join(ROOT, "requirements-stubs.txt")
STUBS_DIR = os.path.join(ROOT, ".venv", "stubs")
# board -> (stub package, stubs directory name). qemu has no stub package: the unix port's
# stubs describe the same modules it uses (time, no machine.Timer, no _thread).
BOARDS = {
    "rp2040": "micropython-rp2-stubs",
    "esp32": "micropython-esp32-stubs",
    "stm32": "micropython-stm32-stubs",
    "unix": "micropython-unix-stubs",
    "qemu": "micropython-unix-stubs",
}


STDLIB_STUBS = "micropython-stdlib-stubs"  # what every port's stubs depend on


def pinned():
    """{package: "package==version"} from requirements-stubs.txt."""
    pins = {}
    with open(STUBS_FILE) as f:
        for line in f:
            line = line.split("#", 1)[0].strip()
            if line:
                pins[line.split("==")[0]] = line
    return pins


def stub_dir(package):
    return os.path.join(STUBS_DIR, pinned()[package].replace("==", "-"))


def install(package):
    """Install the pinned ``package`` into its own directory (once); returns the directory."""
    target = stub_dir(package)
    stamp = os.path.join(target, ".installed")
    if not os.path.exists(stamp):
        pins = pinned()
        cmd = [sys.executable, "-m", "pip", "install", "-q", "--disable-pip-version-check",
               "--no-compile", "--target", target, pins[package], pins[STDLIB_STUBS]]
        subprocess.run(cmd, check=True)
        open(stamp, "w").close()
    return target


def mypy(paths, package):
    """Run mypy on ``paths`` against ``package``'s stubs; returns (our errors, all output)."""
    stubs = install(package)
    env = dict(os.environ)
    env["MYPYPATH"] = os.pathsep.join([stubs, os.path.join(ROOT, "firmware")])
    cache = os.path.join(ROOT, "build", "mypy-cache", os.path.basename(stubs))
    cmd = [sys.executable, "-m", "mypy", "--custom-typeshed-dir", stubs,
           "--follow-imports=silent", "--no-error-summary", "--show-error-codes",
           "--cache-dir", cache] + list(paths)
    proc = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True)
    out = proc.stdout + proc.stderr
    ours = [line for line in out.splitlines()
            if ": error:" in line and line.split(":", 1)[0] in paths]
    return ours, out


def check_board(board):
    """mypy errors in ``boards/<board>/shimeji_board.py`` (an empty list when it checks)."""
    path = "boards/%s/shimeji_board.py" % board
    errors, _ = mypy([path], BOARDS[board])
    return errors


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("boards", nargs="*", default=sorted(BOARDS))
    ap.add_argument("--install-only", action="store_true")
    args = ap.parse_args(argv)
    if args.install_only:
        for board in args.boards:
            install(BOARDS[board])
        print("typecheck: stubs installed in %s" % os.path.relpath(STUBS_DIR, ROOT))
        return 0
    passed = failed = 0
    for board in args.boards:
        errors = check_board(board)
        if errors:
            failed += 1
            print("FAIL %s (%s)\n%s" % (board, BOARDS[board], "\n".join(errors)))
        else:
            passed += 1
            print("ok   %s (%s)" % (board, pinned()[BOARDS[board]]))
    print("typecheck: %d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
