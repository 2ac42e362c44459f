# shimeji: cpython-only (boots the networked stm32 firmware in qemu, slirp in a namespace)
# The emulated STM32L475 on a network (tools/netboard.py): lwIP's PPP on its USART2, slirp at
# the host end, the examples' echo server and HTTP status endpoint running ON the board and
# driven by real TCP clients here. Without MICROPY_DIR (and lwIP, slirp, a network namespace,
# qemu 9+) the board test is skipped, saying which is missing.
import json
import os

import micropy_tree
import netboard
import ppp_trace
import pytest
import qemu_boot
import slirp_link

import firmware

MICROPY_DIR = os.environ.get("MICROPY_DIR", "")


def _frame(payload):
    """An HDLC-framed PPP frame (address, control, FCS, every control byte escaped)."""
    body = b"\xff\x03" + payload
    fcs = 0xFFFF
    for b in body:
        fcs ^= b
        for _ in range(8):
            fcs = (fcs >> 1) ^ 0x8408 if fcs & 1 else fcs >> 1
    fcs ^= 0xFFFF
    body += bytes([fcs & 0xFF, fcs >> 8])
    out = bytearray(b"\x7e")
    for b in body:
        out += bytes([0x7D, b ^ 0x20]) if b < 0x20 or b in (0x7D, 0x7E) else bytes([b])
    return bytes(out + b"\x7e")


LCP_CONFREQ = bytes([0xC0, 0x21, 1, 1, 0, 10, 5, 6, 0x12, 0x34, 0x56, 0x78])  # magic number


def test_the_link_trace_decodes_frames_split_across_datagrams():
    syn = bytes.fromhex("21450000280001000040060000c00002010a00020fc8b41e61"
                        "00000000000000005002200000000000")
    stream = _frame(LCP_CONFREQ) + _frame(syn)
    chunks = [(i * 0.01, stream[i:i + 3]) for i in range(0, len(stream), 3)]  # 3 bytes each
    frames = ppp_trace.ppp_frames(chunks)
    assert [ppp_trace.describe(f) for _t, f in frames] == [
        "LCP code 1 id 1", "TCP 192.0.2.1:51380 > 10.0.2.15:7777 flags 02, 40 bytes"]
    assert frames[0][1] == b"\xff\x03" + LCP_CONFREQ  # escapes undone, FCS dropped


def test_a_network_build_with_new_cflags_empties_its_lwip_objects_too(tmp_path, monkeypatch):
    # lwIP's objects of a network build sit beside its fw/ when lwIP is next to the tree
    # (<variant>/lwip): compiled with another MEM_SIZE they would disagree with fw/'s about
    # lwIP's pools, so a change of CFLAGS_EXTRA empties the whole variant, not fw/ alone.
    import stm32_build

    variant = tmp_path / "stm32-qemu-ppp"
    (variant / "lwip" / "core").mkdir(parents=True)
    (variant / "lwip" / "core" / "tcp.o").write_text("")
    (variant / "fw").mkdir()
    (variant / stm32_build.CFLAGS_STAMP).write_text("CFLAGS_EXTRA=-DMICROPY_PY_NETWORK_PPP_LWIP=1")
    mp = tmp_path / "mp"
    (mp / "mpy-cross" / "build").mkdir(parents=True)
    (mp / "mpy-cross" / "build" / "mpy-cross").write_text("")
    monkeypatch.setattr(firmware, "build_dir", lambda b, emulated=False, tests=False,
                        network=None: str(variant / "fw"))
    monkeypatch.setattr(micropy_tree, "check_tree", lambda path, board: path)
    monkeypatch.setattr(micropy_tree, "lwip_tree", lambda path: str(tmp_path / "lwip"))
    monkeypatch.setattr(micropy_tree, "check_submodules", lambda *a: None)
    monkeypatch.setattr(stm32_build, "write_stm32_qemu_board", lambda *a: None)
    monkeypatch.setattr(firmware, "_run_keeping_tail", lambda cmd, env, tail: 2)
    said = []
    with pytest.raises(firmware.FirmwareError):  # the stand-in make fails: no image
        firmware.build(str(mp), "stm32", emulated=True, network="ppp", out=said.append)
    assert sorted(os.listdir(variant)) == [stm32_build.CFLAGS_STAMP]
    assert "built with other CFLAGS_EXTRA" in said[0]
    assert "-DMEM_SIZE=5000" in (variant / stm32_build.CFLAGS_STAMP).read_text()


def test_network_build_reads_lwip_where_it_is(tmp_path):
    tree, lwip = tmp_path / "micropython", tmp_path / "lwip"
    (tree / "lib" / "lwip").mkdir(parents=True)  # the tree's submodule, empty
    (lwip / "src" / "core").mkdir(parents=True)
    (lwip / "src" / "core" / "tcp.c").write_text("")
    assert micropy_tree.lwip_tree(str(tree), env={}) == str(lwip)  # next to the tree
    cmd = firmware.make_args(str(tree), "stm32", emulated=True, network="ppp", lwip=str(lwip))
    assert "MICROPY_PY_LWIP=1" in cmd and "LWIP_DIR=../lwip/src" in cmd
    assert ("CFLAGS_EXTRA=-DMICROPY_OPT_MAP_LOOKUP_CACHE_SIZE=1024 "
            "-DMICROPY_PY_NETWORK_PPP_LWIP=1 -DMEM_SIZE=5000") in cmd
    assert any(a.startswith("FROZEN_MANIFEST=") and a.endswith("manifest_ppp.py") for a in cmd)
    build = [a for a in cmd if a.startswith("BUILD=")][0]
    assert build.endswith(os.path.join("stm32-qemu-ppp", "fw"))  # lwIP's objects: ../lwip
    (lwip / "src" / "core" / "tcp.c").unlink()
    with pytest.raises(firmware.FirmwareError, match="LWIP_TREE"):
        micropy_tree.lwip_tree(str(tree), env={})
    with pytest.raises(firmware.FirmwareError, match="only NETWORK=ppp, for BOARD=stm32"):
        firmware.build(str(tree), "rp2040", network="ppp")


def test_qemu_puts_usart2_on_the_bridge(monkeypatch):
    monkeypatch.setattr(qemu_boot, "stm32_qemu", lambda: "qemu-system-arm")
    cmd = qemu_boot.qemu_command("fw.elf", machine=qemu_boot.STM32_QEMU_MACHINE,
                                 cable=(1, 2), ppp=(5001, 5002))
    serials = [cmd[i + 1] for i, a in enumerate(cmd) if a == "-serial"]
    assert serials == ["pty", "udp:127.0.0.1:5001@127.0.0.1:5002"]  # USART1 REPL, USART2 PPP


def _slirp_or_skip():
    link = slirp_link.SlirpLink()
    try:
        return link.start()
    except slirp_link.Unavailable as e:
        pytest.skip(str(e))


def test_slirp_talks_ppp_in_its_own_namespace():
    import select

    link = _slirp_or_skip()
    try:
        os.write(link.master, _frame(LCP_CONFREQ))
        got = b""
        while got.count(b"\x7e") < 4:  # two frames back
            assert select.select([link.master], [], [], 20)[0], got
            got += os.read(link.master, 4096)
        codes = sorted(ppp_trace.describe(f) for _t, f in ppp_trace.ppp_frames([(0, got)]))
        assert codes == ["LCP code 1 id 1", "LCP code 2 id 1"]  # its request, our ack
        assert os.readlink("/proc/%d/ns/net" % link.pid) != os.readlink("/proc/self/ns/net")
    finally:
        link.stop()


def _board_or_skip():
    if not MICROPY_DIR:
        pytest.skip("no MicroPython source tree: `make test MICROPY_DIR=...` (with lwIP, "
                    "slirp and qemu 9+) builds the networked stm32 firmware and boots it")
    try:
        qemu_boot.stm32_qemu()
        micropy_tree.lwip_tree(os.path.abspath(MICROPY_DIR))
        return netboard.NetBoard(netboard.ppp_image(MICROPY_DIR, out=lambda line: None))
    except (netboard.Unavailable, firmware.FirmwareError) as e:
        pytest.skip(str(e))


def test_examples_serve_real_clients_on_the_networked_stm32():
    board = _board_or_skip()
    try:
        board.start()
    except netboard.Unavailable as e:
        pytest.skip(str(e))
    seen = []
    try:
        proc = board.run(netboard.BOARD_CODE % (netboard.ECHO_PORT, 2, netboard.HTTP_PORT, 2))
        netboard.expect(proc, r"PPP-UP 10\.0\.2\.15", 300, seen)
        netboard.expect(proc, r"echo server listening on 0\.0\.0\.0:7777", 120, seen)
        got, rtts = netboard.echo_round_trips(board, 2, 3)
        netboard.expect(proc, r"served \d+ connections", 120, seen)
        netboard.expect(proc, r"http status on", 120, seen)
        status, body = netboard.http_get(board, b"/tasks")
        rows = json.loads(body)
        status2, text = netboard.http_get(board, b"/")
        netboard.expect(proc, r"BOARD-DONE", 120, seen)
        assert proc.wait(30) == 0
        assert board.bridge.drops() == 0  # the wire lost nothing (qemu sends a byte a datagram)
    finally:
        board.stop()
    assert got == [b"client %d line %d\n" % (c, i) for c in range(2) for i in range(3)]
    assert len(rtts) == 6 and all(t > 0 for t in rtts)
    assert "served 2 connections, 96 bytes echoed" in seen and "answered 2 requests" in seen
    assert status == b"HTTP/1.0 200 OK" and status2 == b"HTTP/1.0 200 OK"
    by_name = {r["name"]: r for r in rows}
    assert sorted(by_name) == ["conn", "fast", "main", "server", "slow"]
    assert by_name["conn"]["state"] == "running"  # the task answering, on the board
    assert by_name["server"]["waits_on"] == "io"  # its accept: select.poll on an lwIP socket
    assert text.split(b"\n")[0].split()[:4] == [b"id", b"name", b"state", b"waits"]
