"""PPP frames read back from the bytes of a link (HDLC escapes, FCS-16 of RFC 1662), and
one line per frame: tools/netboard.py's ``--trace`` of the board's link."""


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
