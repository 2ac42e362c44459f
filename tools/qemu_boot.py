"""Booting a built firmware in qemu: the command line, the qemu that has the stm32 machine,
and ``QemuBoard`` (the firmware on a pty, for mpremote). ``tools/firmware.py`` builds the
images; ``tools/emulate.py`` and the firmware tests boot them through this module.
"""

import os
import re
import shutil
import subprocess
import time

from firmware import FirmwareError  # tools/ is the scripts' own directory


def qemu_command(image, serial="pty", icount=False, machine="mps2-an385", cable=None,
                 ppp=None):
    """qemu-system-arm booting ``image`` on ``machine``, its (first) UART on ``serial``.
    ``icount``: one guest instruction per emulated nanosecond (``-icount shift=0``), for
    benchmarks that repeat from run to run whatever the host's load. ``b-l475e-iot01a`` (the
    stm32 build for qemu) runs the qemu named by ``STM32_QEMU`` (9.0 or later); ``cable``, two
    free UDP ports (a, b) on 127.0.0.1, wires its USART2 to USART3, TX to RX both ways (qemu's
    udp chardev: each sends to the other's port), as host_tests/test_io_uart.py wants;
    ``ppp``, two UDP ports (ours, qemu's), puts its USART2 on a udp chardev that sends to ours
    and listens on qemu's instead (tools/netboard.py: the board's PPP link)."""
    if machine == STM32_QEMU_MACHINE:
        wires = []
        if ppp:
            wires = ["-serial", "udp:127.0.0.1:%d@127.0.0.1:%d" % ppp]
        elif cable:
            a, b = cable
            wires = ["-serial", "udp:127.0.0.1:%d@127.0.0.1:%d" % (b, a),
                     "-serial", "udp:127.0.0.1:%d@127.0.0.1:%d" % (a, b)]
        return [stm32_qemu(), "-machine", machine, "-display", "none", "-audio", "none",
                "-monitor", "null", "-serial", serial] + wires + ["-kernel", image] + (
                    ["-icount", "shift=0"] if icount else [])
    return ["qemu-system-arm", "-machine", machine, "-nographic", "-monitor", "null",
            "-semihosting", "-serial", serial, "-kernel", image] + (
                ["-icount", "shift=0"] if icount else [])


STM32_QEMU_MACHINE = "b-l475e-iot01a"


def free_udp_ports(n=2):
    """``n`` UDP ports on 127.0.0.1 free a moment ago (for the stm32 machine's UART cable)."""
    import socket

    socks = [socket.socket(socket.AF_INET, socket.SOCK_DGRAM) for _ in range(n)]
    try:
        for s in socks:
            s.bind(("127.0.0.1", 0))
        return tuple(s.getsockname()[1] for s in socks)
    finally:
        for s in socks:
            s.close()


def stm32_qemu():
    """The qemu-system-arm that has the b-l475e-iot01a machine: ``STM32_QEMU``, else the one
    on the path if it has it; raises FirmwareError saying how to get one."""
    for q in (os.environ.get("STM32_QEMU", ""), shutil.which("qemu-system-arm") or ""):
        if not q or not os.path.exists(q):
            continue
        try:
            machines = subprocess.run([q, "-machine", "help"], capture_output=True, text=True,
                                      timeout=30).stdout
        except (OSError, subprocess.TimeoutExpired):
            continue
        if STM32_QEMU_MACHINE in machines:
            return q
    raise FirmwareError(
        "no qemu-system-arm with the b-l475e-iot01a machine (qemu 9.0 or later; Debian "
        "bookworm has 7.2): install bookworm-backports' qemu-system-arm, or unpack its .deb "
        "(apt-get download qemu-system-arm/bookworm-backports; dpkg-deb -x) and set "
        "STM32_QEMU=.../usr/bin/qemu-system-arm (docs/boards.md)")


class QemuBoard:
    """The qemu firmware booted in ``qemu-system-arm`` with its UART on a pty (``self.path``,
    for ``mpremote connect PATH resume ...``). ``stop()`` ends qemu."""

    def __init__(self, image, icount=False, machine="mps2-an385", ppp=None):
        self.image = image
        self.ppp = ppp
        self.icount = icount
        self.machine = machine
        self.proc = None
        self.path = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    def start(self, timeout=20.0):
        if not shutil.which("qemu-system-arm") and self.machine == "mps2-an385":
            raise FirmwareError("qemu-system-arm not found (Debian: apt-get install "
                                "qemu-system-arm)")
        cable = free_udp_ports() if self.machine == STM32_QEMU_MACHINE else None
        self.proc = subprocess.Popen(qemu_command(self.image, icount=self.icount,
                                                  machine=self.machine, cable=cable,
                                                  ppp=self.ppp),
                                     stdin=subprocess.DEVNULL,
                                     stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                     start_new_session=True)
        deadline = time.monotonic() + timeout
        seen = b""
        while time.monotonic() < deadline and self.proc.poll() is None:
            seen += self.proc.stdout.readline()
            m = re.search(rb"redirected to (/dev/pts/\d+)", seen)
            if m:
                self.path = m.group(1).decode()
                return self
        self.stop()
        raise FirmwareError("qemu did not open a pty for the UART: %s" % seen.decode())

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def stop(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        if self.proc is not None and self.proc.stdout is not None:
            self.proc.stdout.close()
