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
    and listens on qemu's instead (tools/netboard.py: the board's PPP link). ``esp32c3`` (the
    ESP32-C3 firmware in Espressif's qemu fork, ``ESP32_QEMU``): ``image`` is the flash image
    (``esp32c3_flash``), UART0 is ``serial``. ``esp32`` (the classic, Xtensa ESP32 firmware in
    the same fork's qemu-system-xtensa, ``ESP32_XTENSA_QEMU``): the same, as ESP-IDF's
    ``idf.py qemu`` boots it (``esp32_flash``; the machine's strapping pins say "boot from
    flash" unless told otherwise: ``strap_mode=0x0f`` is ESP-IDF's download mode); ``cable``
    (a free TCP port) wires its UART1 to UART2 (UART0 is its REPL; the machine gives its three
    UARTs the first three serial ports) over a TCP connection, not udp (``_tcp_cable``). On the
    C3, which has no UART but UART1 besides its REPL, ``cable`` (a 1-tuple: the port of a
    ``UartEcho``) makes UART1 a TCP client of that echo: what it sends comes back to it. On
    ``mps2-an385`` (the qemu board) ``cable`` (a free TCP port) wires UART1 to UART2 as on the
    classic ESP32 (the machine gives its five CMSDK UARTs the serial ports in order)."""
    if machine == ESP32_QEMU_MACHINE:
        return [esp32_qemu(), "-machine", machine, "-display", "none", "-monitor", "null",
                "-serial", serial] + _tcp_cable(cable) + [
                "-drive", "file=%s,if=mtd,format=raw" % image,
                "-drive", "file=%s,if=none,format=raw,id=efuse" % esp32c3_efuse_path(image),
                "-global", "driver=nvram.esp32.efuse,property=drive,value=efuse"] + (
                    ["-icount", ESP32C3_ICOUNT] if icount else [])
    if machine == ESP32C3_QEMU_MACHINE:
        loop = ["-serial", "tcp:127.0.0.1:%d" % cable[0]] if cable else []
        return [esp32c3_qemu(), "-machine", machine, "-display", "none", "-monitor", "null",
                "-serial", serial] + loop + ["-drive", "file=%s,if=mtd,format=raw" % image,
                "-drive", "file=%s,if=none,format=raw,id=efuse" % esp32c3_efuse_path(image),
                "-global", "driver=nvram.esp32c3.efuse,property=drive,value=efuse"] + (
                    ["-icount", ESP32C3_ICOUNT] if icount else [])
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
            "-semihosting", "-serial", serial] + _tcp_cable(cable) + ["-kernel", image] + (
                ["-icount", "shift=0"] if icount else [])


def _tcp_cable(cable):
    """The classic ESP32's UART1 joined to its UART2, TX to RX both ways: the fork's esp32
    machine's second serial port a TCP server on 127.0.0.1 (``cable``: a 1-tuple, a free
    port), its third a client of it (not two udp chardevs, as the STM32's: the fork's
    UART drops every byte it sends to a chardev whose backend is not open, which a udp chardev
    never is (qemu's char-udp.c opens it "not connected"): over udp nothing crossed)."""
    if not cable:
        return []
    return ["-serial", "tcp:127.0.0.1:%d,server=on,wait=off" % cable[0],
            "-serial", "tcp:127.0.0.1:%d" % cable[0]]


STM32_QEMU_MACHINE = "b-l475e-iot01a"
ESP32C3_QEMU_MACHINE = "esp32c3"
# -icount for the C3: 8 ns of emulated time per instruction (125 MIPS, near a 160 MHz C3's
# pace); with shift=0 (1 ns) the firmware never reached its banner in 120 s
ESP32C3_ICOUNT = "shift=3"
# The C3 board's flash (sdkconfig: CONFIG_ESPTOOLPY_FLASHSIZE_4MB); qemu's esp32c3 machine
# takes an image of exactly 2, 4, 8 or 16 MB
ESP32C3_FLASH_BYTES = 4 * 1024 * 1024
# The classic ESP32 in the fork's qemu-system-xtensa: its 4 MB flash holds the firmware from
# 0x1000 (``esptool.py write_flash 0x1000 firmware.bin``: the ROM loads the bootloader there)
ESP32_QEMU_MACHINE = "esp32"
ESP32_FIRMWARE_OFFSET = 0x1000


class UartEcho:
    """The host end of the C3's UART1 loop: a TCP server on 127.0.0.1 (``port``, free: bound
    before qemu starts, so no other program can take it meanwhile) that sends every byte its
    one client (qemu's UART1 chardev) sends back to it, on a daemon thread, until the client
    hangs up or ``close()``. Not a udp chardev, as the STM32's cable: the fork's UART drops
    what it sends while its chardev is not open, and qemu's udp chardev never is.
    ``echoed``: bytes sent back so far."""

    def __init__(self):
        import socket
        import threading

        self.listener = socket.socket()
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(1)
        self.listener.settimeout(0.2)
        self.port = self.listener.getsockname()[1]
        self.echoed = 0
        self.closed = False
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self):
        import socket

        conn = None
        while conn is None:
            if self.closed:
                return
            try:
                conn = self.listener.accept()[0]
            except socket.timeout:
                continue
            except OSError:
                return
        conn.settimeout(0.2)
        with conn:
            while not self.closed:
                try:
                    data = conn.recv(256)
                except socket.timeout:
                    continue
                except OSError:
                    return
                if not data:  # qemu ended
                    return
                conn.sendall(data)
                self.echoed += len(data)

    def close(self):
        self.closed = True
        self.listener.close()
        self._thread.join(2)


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


def free_tcp_port():
    """A TCP port on 127.0.0.1 free a moment ago (the classic ESP32's UART cable)."""
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def stm32_qemu():
    """The qemu-system-arm that has the b-l475e-iot01a machine: ``STM32_QEMU``, else the one
    on the path if it has it; raises FirmwareError saying how to get one."""
    return _qemu_with(STM32_QEMU_MACHINE, "STM32_QEMU", "qemu-system-arm", (
        "no qemu-system-arm with the b-l475e-iot01a machine (qemu 9.0 or later; Debian "
        "bookworm has 7.2): install bookworm-backports' qemu-system-arm, or unpack its .deb "
        "(apt-get download qemu-system-arm/bookworm-backports; dpkg-deb -x) and set "
        "STM32_QEMU=.../usr/bin/qemu-system-arm (docs/boards.md)"))


def esp32c3_qemu():
    """The qemu-system-riscv32 that has the esp32c3 machine (Espressif's qemu fork):
    ``ESP32_QEMU``, else the one on the path if it has it; raises FirmwareError saying how
    to get one."""
    return _qemu_with(ESP32C3_QEMU_MACHINE, "ESP32_QEMU", "qemu-system-riscv32", (
        "no qemu-system-riscv32 with the esp32c3 machine: mainline qemu has none. Espressif's "
        "fork (github.com/espressif/qemu) has it; ESP-IDF installs its build with `python "
        "$IDF_PATH/tools/idf_tools.py install qemu-riscv32`. Set ESP32_QEMU to its "
        "qemu-system-riscv32 (docs/boards.md, ESP32)"))


def esp32_qemu():
    """The qemu-system-xtensa that has the (classic) esp32 machine, Espressif's qemu fork:
    ``ESP32_XTENSA_QEMU``, else the one on the path if it has it; raises FirmwareError saying
    how to get one."""
    return _qemu_with(ESP32_QEMU_MACHINE, "ESP32_XTENSA_QEMU", "qemu-system-xtensa", (
        "no qemu-system-xtensa with the esp32 machine: mainline qemu has none. Espressif's "
        "fork (github.com/espressif/qemu) has it; ESP-IDF installs its build with `python "
        "$IDF_PATH/tools/idf_tools.py install qemu-xtensa`. Set ESP32_XTENSA_QEMU to its "
        "qemu-system-xtensa (docs/boards.md, ESP32)"))


def _qemu_with(machine, env_name, exe, missing):
    for q in (os.environ.get(env_name, ""), shutil.which(exe) or ""):
        if not q or not os.path.exists(q):
            continue
        try:
            machines = subprocess.run([q, "-machine", "help"], capture_output=True, text=True,
                                      timeout=30).stdout
        except (OSError, subprocess.TimeoutExpired):
            continue
        if re.search(r"^%s\s" % re.escape(machine), machines, re.M):
            return q
    raise FirmwareError(missing)


def esp32c3_flash(firmware_bin, out_path):
    """The C3's 4 MB flash as qemu reads it: ``firmware_bin`` (bootloader, partition table
    and app from 0x0, as ``esptool.py write_flash 0x0`` puts it) padded with 0xff (erased
    flash), and its eFuses next to it (``esp32c3_efuses``). Written fresh each boot: the
    firmware formats its filesystem in the flash."""
    with open(firmware_bin, "rb") as f:
        data = f.read()
    if len(data) > ESP32C3_FLASH_BYTES:
        raise FirmwareError("%s is %d bytes, more than the C3's %d-byte flash" % (
            firmware_bin, len(data), ESP32C3_FLASH_BYTES))
    with open(out_path, "wb") as f:
        f.write(data + b"\xff" * (ESP32C3_FLASH_BYTES - len(data)))
    with open(esp32c3_efuse_path(out_path), "wb") as f:
        f.write(esp32c3_efuses())
    return out_path


def esp32_flash(firmware_bin, out_path):
    """The classic ESP32's 4 MB flash as qemu reads it: erased (0xff) but for
    ``firmware_bin`` at 0x1000, and its eFuses next to it (``esp32_efuses``)."""
    with open(firmware_bin, "rb") as f:
        data = b"\xff" * ESP32_FIRMWARE_OFFSET + f.read()
    if len(data) > ESP32C3_FLASH_BYTES:
        raise FirmwareError("%s is %d bytes from 0x1000, more than the ESP32's %d-byte flash"
                            % (firmware_bin, len(data) - ESP32_FIRMWARE_OFFSET,
                               ESP32C3_FLASH_BYTES))
    with open(out_path, "wb") as f:
        f.write(data + b"\xff" * (ESP32C3_FLASH_BYTES - len(data)))
    with open(esp32c3_efuse_path(out_path), "wb") as f:
        f.write(esp32_efuses())
    return out_path


def esp32_efuses():
    """The classic ESP32's eFuses (124 bytes, blocks 0-3) as ESP-IDF v5.5's ``idf.py qemu``
    writes them: chip revision 3 (block 0 word 3 bit 15, word 5 bit 20), nothing else."""
    efuses = bytearray(124)
    efuses[0x0d] = 0x80  # BLK0 word 3 bit 15: CHIP_VER_REV1
    efuses[0x16] = 0x10  # BLK0 word 5 bit 20: CHIP_VER_REV2
    return bytes(efuses)


def esp32c3_efuse_path(flash_path):
    return flash_path[:-len(".bin")] + "-efuse.bin" if flash_path.endswith(".bin") else (
        flash_path + "-efuse")


# The eFuse file of the fork's esp32c3 machine: its eFuse registers from EFUSE_RD_WR_DIS
# (0x2c) on, 1,024 bytes; block 1 starts at 0x18, block 2 at 0x30 in the file.
_EFUSE_BYTES = 1024
_EFUSE_WAFER_MINOR_LOW = 0x26  # block 1 word 3 bits 18-20: WAFER_VERSION_MINOR_LO
_EFUSE_BLK2_WORD4 = 0x40  # block 2 bits 128-129: BLK_VERSION_MAJOR


def esp32c3_efuses():
    """The C3's eFuses as a chip leaves the factory, for what ESP-IDF reads at boot: chip
    revision v0.3 (the same bytes as ESP-IDF's ``idf.py qemu``) and block 2 marked "with
    calibration" (BLK_VERSION_MAJOR 1, init codes 0). Without that mark ESP-IDF calibrates
    the ADC itself before ``app_main`` (the ADC2 constructor) and waits for a conversion the
    emulator never finishes: MicroPython hung there, silent, before its banner."""
    efuses = bytearray(_EFUSE_BYTES)
    efuses[_EFUSE_WAFER_MINOR_LOW] = 3 << 2
    efuses[_EFUSE_BLK2_WORD4] = 1
    return bytes(efuses)


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
        self.echo = None  # the C3's UART1 loop (UartEcho)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    def start(self, timeout=20.0):
        if not shutil.which("qemu-system-arm") and self.machine == "mps2-an385":
            raise FirmwareError("qemu-system-arm not found (Debian: apt-get install "
                                "qemu-system-arm)")
        cable = None
        if self.machine == STM32_QEMU_MACHINE:
            cable = free_udp_ports()
        elif self.machine in (ESP32_QEMU_MACHINE, "mps2-an385"):
            cable = (free_tcp_port(),)
        elif self.machine == ESP32C3_QEMU_MACHINE:
            self.echo = UartEcho()
            cable = (self.echo.port,)
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
        if self.echo is not None:
            self.echo.close()
            self.echo = None
