"""The emulated STM32L475 on a network: lwIP's PPP on its USART2, slirp at the host end.

Usage: python tools/netboard.py [--micropy-dir DIR] [--round-trips N]   (make netboard)

Boots the stm32 firmware built with ``--emulated --network ppp`` (built first if missing)
in qemu's ``b-l475e-iot01a``, joins its USART2 to ``slirp`` (a user-mode PPP peer: no root,
no tun device) through a UDP bridge, and runs the examples' TCP echo server and HTTP status
endpoint on the board (``ppp_link.run_example``), driven by real TCP clients here. Prints what
the board printed and the figures (round trips, bytes). The pieces:

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

import ctypes
import os
import re
import select
import shutil
import socket
import subprocess
import sys
import threading
import time
import tty

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import qemu_boot  # noqa: E402

import firmware  # noqa: E402

ROOT = firmware.ROOT
BOARD_ADDR = "10.0.2.15"  # what slirp gives its PPP peer
# The clients' address in slirp's namespace (TEST-NET-1, RFC 5737: never routed). slirp sends
# a redirected connection from the client's own address, and lwIP has no route back to a
# 127.x one (ip4_route: "No route"), so the clients connect from this one, on the loopback.
CLIENT_ADDR = "192.0.2.1"
ECHO_PORT = 7777
HTTP_PORT = 8080
_CLONE_NEWNET = 0x40000000
RCVBUF = 16 << 20  # the bridge's UDP receive buffer (see UdpBridge)


class Unavailable(Exception):
    """Something the networked board needs is missing (the message says what)."""


def slirp_exe():
    """The slirp to use (``slirp-fullbolt``: see the module's docstring), or raise."""
    exe = shutil.which("slirp-fullbolt")
    if exe is None:
        raise Unavailable("slirp not found: Debian `apt-get install slirp` (1.0.17) gives "
                          "slirp-fullbolt, the host end of the board's PPP link")
    return exe


def check_netns():
    """Raise Unavailable unless this process may make a network namespace with loopback."""
    for tool in ("unshare", "ip"):
        if shutil.which(tool) is None:
            raise Unavailable("%s not found (util-linux, iproute2): slirp runs in a network "
                              "namespace of its own" % tool)
    r = subprocess.run(["unshare", "--net", "--", "ip", "link", "set", "lo", "up"],
                       capture_output=True, text=True, timeout=30)
    if r.returncode != 0:
        raise Unavailable("cannot make a network namespace (`unshare --net` needs "
                          "CAP_SYS_ADMIN): %s" % r.stderr.strip())


class SlirpLink:
    """slirp on a pty (``self.master`` is our end), talking PPP, in a network namespace of
    its own with ``redirs`` (host port, board port) forwarded to the board."""

    def __init__(self, redirs=()):
        self.redirs = list(redirs)
        self.proc = None
        self.master = None
        self.home = os.path.join(ROOT, "build", "netboard")
        self.banner = b""

    def start(self, timeout=20.0):
        exe = slirp_exe()
        check_netns()
        os.makedirs(self.home, exist_ok=True)
        master, slave = os.openpty()
        tty.setraw(slave)
        args = [exe, "ppp"] + ["redir %d %s:%d" % (h, BOARD_ADDR, b) for h, b in self.redirs]
        # unshare execs sh, which execs slirp: one process, its pid names the namespace
        self.proc = subprocess.Popen(
            ["unshare", "--net", "--", "sh", "-c", 'ip link set lo up && ip addr add %s/32 '
             'dev lo && exec "$@"' % CLIENT_ADDR, "sh"] +
            args, preexec_fn=lambda: os.login_tty(slave), pass_fds=(slave,),
            env=dict(os.environ, HOME=self.home), start_new_session=False)
        os.close(slave)
        self.master = master
        deadline = time.monotonic() + timeout
        while b"SLiRP Ready" not in self.banner:  # the banner comes before any PPP
            if time.monotonic() > deadline or self.proc.poll() is not None:
                self.stop()
                raise Unavailable("slirp did not start: %r" % self.banner[-300:])
            if select.select([master], [], [], 0.2)[0]:
                self.banner += os.read(master, 4096)
        return self

    @property
    def pid(self):
        return self.proc.pid

    def stop(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        if self.master is not None:
            os.close(self.master)
            self.master = None


class UdpBridge:
    """Copies datagrams from qemu's udp chardev (it sends to ``self.port``, listens on
    ``qemu_port``) to ``fd`` (slirp's pty) and back, in two threads; counts the bytes."""

    def __init__(self, fd, port, qemu_port):
        self.fd = fd
        self.qemu = ("127.0.0.1", qemu_port)
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        # qemu sends every byte the board transmits as a datagram of its own (~1 KB of receive
        # buffer each): the default buffer (208 KB) held ~200, and an HTTP response overflowed
        # it (hundreds of drops in /proc/net/udp, frames with a bad FCS, TCP resending them
        # after tens of seconds). 16 MB: SO_RCVBUFFORCE (root) beats net.core.rmem_max.
        for opt in (getattr(socket, "SO_RCVBUFFORCE", None), socket.SO_RCVBUF):
            try:
                self.sock.setsockopt(socket.SOL_SOCKET, opt, RCVBUF)
                break
            except (OSError, TypeError):
                continue
        self.sock.bind(("127.0.0.1", port))
        self.port = port
        self.to_board = 0
        self.from_board = 0
        self.log = None  # a list to append (direction, seconds, bytes) to: a trace of the link
        self.running = True
        self.threads = [threading.Thread(target=f, daemon=True)
                        for f in (self._from_qemu, self._to_qemu)]
        for t in self.threads:
            t.start()

    def _from_qemu(self):
        while self.running:
            if not select.select([self.sock], [], [], 0.2)[0]:
                continue
            chunks = []
            try:
                while True:  # every datagram waiting, then one write
                    chunks.append(self.sock.recv(65536, socket.MSG_DONTWAIT))
            except BlockingIOError:
                pass
            except OSError:
                return
            data = b"".join(chunks)
            try:
                view = memoryview(data)
                while view:
                    view = view[os.write(self.fd, view):]
            except OSError:
                return
            self.from_board += len(data)
            if self.log is not None:
                self.log.append(("<", time.monotonic(), data))

    def _to_qemu(self):
        while self.running:
            try:
                if not select.select([self.fd], [], [], 0.2)[0]:
                    continue
                data = os.read(self.fd, 4096)
                self.sock.sendto(data, self.qemu)
            except OSError:
                return
            self.to_board += len(data)
            if self.log is not None:
                self.log.append((">", time.monotonic(), data))

    def drops(self):
        """Datagrams the kernel dropped at our socket (its receive buffer full), from
        /proc/net/udp; None if not found there."""
        try:
            with open("/proc/net/udp") as f:
                for line in f.read().splitlines()[1:]:
                    fields = line.split()
                    if fields[1] == "0100007F:%04X" % self.port:
                        return int(fields[-1])
        except OSError:
            pass
        return None

    def stop(self):
        self.running = False
        for t in self.threads:
            t.join(2)
        self.sock.close()


def netns_connect(pid, port, host=CLIENT_ADDR, timeout=60.0):
    """A TCP socket connected to ``host:port`` inside the network namespace of ``pid``."""
    libc = ctypes.CDLL(None, use_errno=True)
    out = []

    def enter_and_connect():
        try:
            with open("/proc/%d/ns/net" % pid) as ns:
                if libc.setns(ns.fileno(), _CLONE_NEWNET) != 0:
                    raise OSError(ctypes.get_errno(), "setns into slirp's namespace")
            out.append(socket.create_connection((host, port), timeout=timeout))
        except BaseException as e:  # noqa: B036 - handed to the caller
            out.append(e)

    t = threading.Thread(target=enter_and_connect)  # setns changes this thread only
    t.start()
    t.join()
    if isinstance(out[0], BaseException):
        raise out[0]
    return out[0]


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
BOARD_CODE = ("import ppp_link,gc\nppp=ppp_link.up()\nprint('PPP-UP', ppp_link.address())\n"
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


def ppp_frames(chunks):
    """The PPP frames (HDLC escapes undone, FCS checked and dropped) in ``chunks``, one
    direction's (seconds, bytes) in order: a list of (seconds the frame ended, frame); a frame
    whose FCS is wrong comes as b"BAD FCS " + its bytes."""
    out, buf = [], b""
    for t, data in chunks:
        buf += data
        while True:
            buf = buf.lstrip(b"\x7e")
            end = buf.find(b"\x7e")
            if end < 0:
                break
            raw, buf = buf[:end], buf[end:]
            frame, esc = bytearray(), False
            for c in raw:
                if esc:
                    frame.append(c ^ 0x20)
                    esc = False
                elif c == 0x7D:
                    esc = True
                else:
                    frame.append(c)
            out.append((t, bytes(frame[:-2]) if fcs_ok(frame) else b"BAD FCS " + frame))
    return out


def fcs_ok(frame):
    """True if ``frame`` (escapes undone) ends with its right PPP FCS-16 (RFC 1662)."""
    fcs = 0xFFFF
    for b in frame:
        fcs ^= b
        for _ in range(8):
            fcs = (fcs >> 1) ^ 0x8408 if fcs & 1 else fcs >> 1
    return fcs == 0xF0B8


def describe(frame):
    """One line for a PPP frame: its protocol, and for TCP its ports, flags and length."""
    if frame.startswith(b"BAD FCS "):
        return "bad FCS, %d bytes: %s" % (len(frame) - 8, frame[8:].hex())
    f = frame[2:] if frame[:2] == b"\xff\x03" else frame
    if len(f) < 4:
        return "short frame %s" % f.hex()
    proto, f = (f[0], f[1:]) if f[0] & 1 else ((f[0] << 8) | f[1], f[2:])
    name = {0xC021: "LCP", 0x8021: "IPCP", 0x80FD: "CCP", 0x21: "IP"}.get(proto, hex(proto))
    if name != "IP":
        return "%s code %d id %d" % (name, f[0], f[1])
    if f[9] != 6 or len(f) < 40:
        return "IP proto %d, %d bytes" % (f[9], len(f))
    tcp = f[(f[0] & 15) * 4:]
    return "TCP %s:%d > %s:%d flags %02x, %d bytes" % (
        ".".join(map(str, f[12:16])), int.from_bytes(tcp[0:2], "big"),
        ".".join(map(str, f[16:20])), int.from_bytes(tcp[2:4], "big"), tcp[13], len(f))


def trace_lines(log, t0):
    """The link's frames, both directions, in time order (``UdpBridge.log``)."""
    lines = []
    for way in (">", "<"):
        chunks = [(t, d) for w, t, d in log if w == way]
        lines += [(t, "%8.2f %s %s" % (t - t0, "to board  " if way == ">" else "from board",
                                        describe(f))) for t, f in ppp_frames(chunks)]
    return [line for _t, line in sorted(lines)]


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
