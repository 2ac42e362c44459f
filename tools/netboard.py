"""The emulated STM32L475 on a network: lwIP's PPP on its USART2, slirp at the host end.

Usage: python tools/netboard.py [--micropy-dir DIR] [--round-trips N]   (make netboard)

Boots the stm32 firmware built with ``--emulated --network ppp`` (built first if missing)
in qemu's ``b-l475e-iot01a``, joins its USART2 to ``slirp`` (a user-mode PPP peer: no root,
no tun device) through a UDP bridge, and runs the examples' TCP echo server and HTTP status
endpoint on the board (``ppp_link.run_example``), driven by real TCP clients here. Prints what
the board printed and the figures (round trips, bytes).

The pieces (``SlirpLink``, ``UdpBridge``, ``netns_connect`` in tools/slirp_link.py; the
``--trace`` frame decoder in tools/ppp_trace.py):

- ``SlirpLink``: ``slirp-fullbolt ppp`` on a pty, in its own network namespace (``unshare
  --net``, loopback only) so that its port redirections (``redir PORT 10.0.2.15:PORT``) and
  anything the board connects to stay there. ``slirp`` itself cannot run on amd64 with glibc
  2.34 or later: its select timeout is ``(u_int)-1`` stored in a 64-bit ``tv_usec``, which
  glibc refuses (EINVAL) and slirp exits; the ``fullbolt`` build skips that computation.
- ``UdpBridge``: qemu's USART2 is a udp chardev; the bridge copies its datagrams to slirp's
  pty and back.
- ``netns_connect``: a TCP connection made inside slirp's namespace (``setns`` in a thread of
  its own: a socket keeps the namespace it was made in), to ``CLIENT_ADDR`` (see there).

Tests: host_tests/test_tools_netboard.py. docs/boards.md, "A network on the emulated STM32".
"""

import os
import re
import select
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import qemu_boot  # noqa: E402
from ppp_trace import trace_lines  # noqa: E402
from slirp_link import SlirpLink, UdpBridge, Unavailable, netns_connect  # noqa: E402

import firmware  # noqa: E402

ROOT = firmware.ROOT
ECHO_PORT = 7777
HTTP_PORT = 8080

# What the networked image freezes or compiles from this checkout: rebuilt when one is newer.
IMAGE_SOURCES = ("firmware/shimeji", "boards/stm32", "examples/echo_server.py",
                 "examples/http_status.py")


def stale_sources(image):
    """The files of IMAGE_SOURCES changed since ``image`` was built."""
    content = os.path.join(os.path.dirname(image), "frozen_content.c")
    built = os.path.getmtime(content if os.path.exists(content) else image)
    newer = []
    for rel in IMAGE_SOURCES:
        top = os.path.join(ROOT, rel)
        paths = [top] if os.path.isfile(top) else [
            os.path.join(d, f) for d, _dirs, files in os.walk(top) for f in files
            if f.endswith((".py", ".c", ".h", ".mk", ".ld"))]
        newer += [os.path.relpath(p, ROOT) for p in paths if os.path.getmtime(p) > built]
    return sorted(newer)


def ppp_image(micropy_dir, out=print):
    """The networked qemu firmware: the one built before if no source changed since, else
    built now (needs ``micropy_dir``; without it, an old image is used with a warning)."""
    image = os.path.join(firmware.build_dir("stm32", emulated=True, network="ppp"),
                         "firmware.elf")
    if os.path.exists(image):
        newer = stale_sources(image)
        if not newer:
            return image
        if not micropy_dir:
            out("warning: %s is older than %s; give MICROPY_DIR to rebuild it" % (
                image, ", ".join(newer[:5])))
            return image
    if not micropy_dir:
        raise Unavailable("no networked stm32 firmware in %s and no MicroPython tree to build "
                          "it: give MICROPY_DIR (and lwIP: LWIP_TREE)" % os.path.dirname(image))
    try:
        return firmware.build(micropy_dir, "stm32", emulated=True, network="ppp", out=out)
    except firmware.FirmwareError as e:
        raise Unavailable("building the networked stm32 firmware failed: %s" % e) from e


class NetBoard:
    """The networked firmware in qemu, its USART2 on slirp (``self.slirp``), its REPL on a pty
    (``self.qemu.path``). ``redirs``: (host port, board port) pairs slirp forwards."""

    def __init__(self, image, redirs=((ECHO_PORT, ECHO_PORT), (HTTP_PORT, HTTP_PORT))):
        self.image = image
        self.slirp = SlirpLink(redirs)
        self.bridge = None
        self.qemu = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    def start(self):
        self.slirp.start()
        try:
            ours, qemus = qemu_boot.free_udp_ports()
            self.bridge = UdpBridge(self.slirp.master, ours, qemus)
            self.qemu = qemu_boot.QemuBoard(self.image, machine=qemu_boot.STM32_QEMU_MACHINE,
                                            ppp=(ours, qemus)).start()
        except BaseException:
            self.stop()
            raise
        return self

    def connect(self, port, timeout=60.0):
        """A TCP connection from here to ``port`` (redirected by slirp to the board)."""
        return netns_connect(self.slirp.pid, port, timeout=timeout)

    def run(self, code):
        """Start ``code`` on the board (mpremote exec, after a soft reset); returns the
        process, whose stdout (text, line-buffered) is what the board prints."""
        import device

        return subprocess.Popen([device.mpremote_exe(), "connect", self.qemu.path, "exec",
                                 code], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                text=True, bufsize=1)

    def stop(self):
        if self.qemu is not None:
            self.qemu.stop()
        if self.bridge is not None:
            self.bridge.stop()
        self.slirp.stop()


# The board's side of the demo: the link, then each example serving a given number of clients.
# gc.threshold(4096) first, as a main.py on a small heap should (docs/boards.md, "make deploy"):
# loading the examples' modules takes 43 KB of the 64 KB heap this build leaves, and without a
# collection every 4 KB their garbage cut the rest into ~900 single blocks, so the echo server's
# scheduler found no 232 B block with 18 KB free (session 26).
BOARD_CODE = ("import ppp_link,gc\ngc.threshold(4096)\nppp=ppp_link.up()\n"
              "print('PPP-UP', ppp_link.address())\n"
              "gc.collect()\nprint('FREE',gc.mem_free())\n"
              "ppp_link.run_example('echo_server','%d','%d')\n"
              "gc.collect()\nprint('FREE',gc.mem_free())\n"
              "ppp_link.run_example('http_status','%d','%d')\nprint('BOARD-DONE')\n")


def expect(proc, pattern, timeout, seen):
    """Read the board's lines until one matches ``pattern``; returns the match."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not select.select([proc.stdout], [], [], 0.5)[0]:
            if proc.poll() is not None:
                break
            continue
        line = proc.stdout.readline()
        if not line:
            break
        seen.append(line.rstrip("\n"))
        m = re.search(pattern, line)
        if m:
            return m
    raise AssertionError("the board never printed %r within %d s; it printed:\n%s" % (
        pattern, timeout, "\n".join(seen)))


def drain(proc, seen, seconds=5.0):
    """Keep what the board prints in ``seconds`` more (after a failure here: its traceback)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline and proc.poll() is None:
        if select.select([proc.stdout], [], [], 0.5)[0]:
            line = proc.stdout.readline()
            if not line:
                break
            seen.append(line.rstrip("\n"))


def echo_round_trips(board, clients, lines, pause=0.0):
    """``clients`` connections to the board's echo server, ``lines`` lines each, one after
    another; returns (echoed lines, round-trip seconds per line)."""
    got, rtts = [], []
    for c in range(clients):
        s = board.connect(ECHO_PORT)
        f = s.makefile("rb")
        for i in range(lines):
            line = b"client %d line %d\n" % (c, i)
            t0 = time.monotonic()
            s.sendall(line)
            got.append(f.readline())
            rtts.append(time.monotonic() - t0)
            time.sleep(pause)
        f.close()
        s.close()
    return got, rtts


def http_get(board, path):
    """GET ``path`` from the board's status endpoint: (status line, body)."""
    s = board.connect(HTTP_PORT)
    s.sendall(b"GET %s HTTP/1.0\r\nHost: board\r\n\r\n" % path)
    reply = b""
    while True:
        data = s.recv(4096)
        if not data:
            break
        reply += data
    s.close()
    head, _, body = reply.partition(b"\r\n\r\n")
    return head.split(b"\r\n")[0], body


def main(argv=None):
    import argparse
    import json

    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--micropy-dir", default=os.environ.get("MICROPY_DIR") or "")
    ap.add_argument("--clients", type=int, default=2)
    ap.add_argument("--round-trips", type=int, default=3, help="lines per echo client")
    ap.add_argument("--pause", type=float, default=0.0, help="seconds between two lines")
    ap.add_argument("--trace", action="store_true", help="print every PPP frame of the link")
    args = ap.parse_args(argv)
    try:
        image = ppp_image(args.micropy_dir)
        board = NetBoard(image).start()
    except (Unavailable, firmware.FirmwareError) as e:
        print("netboard: skipped: %s" % e)
        return 0
    seen = []
    if args.trace:
        board.bridge.log = []
    t0 = time.monotonic()
    proc = None
    try:
        proc = board.run(BOARD_CODE % (ECHO_PORT, args.clients, HTTP_PORT, 2))
        expect(proc, r"PPP-UP (\S+)", 300, seen)
        t_up = time.monotonic() - t0
        expect(proc, r"echo server listening", 120, seen)
        got, rtts = echo_round_trips(board, args.clients, args.round_trips, args.pause)
        expect(proc, r"served \d+ connections", 120, seen)
        expect(proc, r"http status on", 120, seen)
        status, body = http_get(board, b"/tasks")
        rows = json.loads(body)
        status2, text = http_get(board, b"/")
        expect(proc, r"BOARD-DONE", 120, seen)
        proc.wait(30)
    except BaseException:
        if proc is not None:
            drain(proc, seen)
        raise
    finally:
        bridge = board.bridge
        drops = bridge.drops()
        board.stop()
        print("\n".join(seen))
        if bridge.log is not None:
            print("\n".join(trace_lines(bridge.log, t0)))
    print("link up after %.1f s; echo: %d lines back of %d, round trip %.2f-%.2f s (median "
          "%.2f); GET /tasks %s: %s; GET / %s, %d lines; bytes to the board %d, from it %d" % (
              t_up, sum(1 for g in got if g), len(got), min(rtts), max(rtts),
              sorted(rtts)[len(rtts) // 2], status.decode(), [r["name"] for r in rows],
              status2.decode(), len(text.splitlines()), bridge.to_board, bridge.from_board))
    print("datagrams dropped at the bridge: %s" % drops)
    return 0


if __name__ == "__main__":
    sys.exit(main())
