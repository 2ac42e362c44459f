"""slirp in a network namespace of its own, and the UDP bridge that joins it to qemu's
USART2 (tools/netboard.py's link; see its docstring for why slirp-fullbolt, why a namespace).

- ``SlirpLink``: ``slirp-fullbolt ppp`` on a pty, in its own network namespace, with port
  redirections to the board (``BOARD_ADDR``);
- ``UdpBridge``: copies qemu's udp chardev datagrams to slirp's pty and back;
- ``netns_connect``: a TCP connection made inside slirp's namespace, from ``CLIENT_ADDR``.
"""

import ctypes
import os
import select
import shutil
import socket
import subprocess
import threading
import time
import tty

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BOARD_ADDR = "10.0.2.15"  # what slirp gives its PPP peer
# The clients' address in slirp's namespace (TEST-NET-1, RFC 5737: never routed). slirp sends
# a redirected connection from the client's own address, and lwIP has no route back to a
# 127.x one (ip4_route: "No route"), so the clients connect from this one, on the loopback.
CLIENT_ADDR = "192.0.2.1"
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
