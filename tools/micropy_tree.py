"""The MicroPython source tree ``make firmware`` builds in: is it one, its version, the
submodules each port's build reads (named with the commit the tree pins when empty, and how to
fetch them), and the lwIP checkout of a network build (tools/firmware.py builds)."""

import os
import re
import subprocess

NO_TREE = (
    "make firmware needs a MicroPython source tree. Get one once, then point MICROPY_DIR at it:\n"
    "    git clone https://github.com/micropython/micropython ~/micropython\n"
    "    make -C ~/micropython/ports/%s submodules   # for ports that need them\n"
    "    make firmware BOARD=%s MICROPY_DIR=~/micropython\n"
    "No toolchain? `make run` runs the demo on the unix port, and `make deploy PORT=...` puts "
    "shimeji on a board that already runs MicroPython (docs/boards.md).")


def check_tree(micropy_dir, board):
    import firmware

    port_dir = firmware.PORTS[board][0]
    if not micropy_dir:  # make firmware skips then (exit status 0), saying what to fetch
        e = firmware.FirmwareError(NO_TREE % (port_dir, board))
        e.no_tree = True
        raise e
    micropy_dir = os.path.abspath(os.path.expanduser(micropy_dir))
    if not os.path.exists(os.path.join(micropy_dir, "py", "mpconfig.h")):
        raise firmware.FirmwareError(
            "%s is not a MicroPython source tree (no py/mpconfig.h).\n\n%s"
            % (micropy_dir, NO_TREE % (port_dir, board)))
    if not os.path.isdir(os.path.join(micropy_dir, "ports", port_dir)):
        raise firmware.FirmwareError("%s has no ports/%s" % (micropy_dir, port_dir))
    if not os.path.exists(os.path.join(micropy_dir, "lib", "micropython-lib", "README.md")):
        check_submodules(micropy_dir, board, os.environ)  # names every one the board needs
        raise firmware.FirmwareError(
            "freezing needs the micropython-lib submodule of %s, which is empty.\n%s"
            % (micropy_dir, fetch_hint(micropy_dir, board, ["lib/micropython-lib"])))
    return micropy_dir


# Submodules each port's build reads (checked before building, so a missing one is named).
# The stm32 port's Makefile links tinyusb's device stack into every v1.28.0 board, USB on or
# off (without it, a link error naming tinyusb's .o files).
NEEDS = {
    "rp2040": ("lib/pico-sdk", "lib/tinyusb", "lib/mbedtls", "lib/micropython-lib"),
    "stm32": ("lib/stm32lib", "lib/tinyusb", "lib/micropython-lib"),
    "esp32": ("lib/micropython-lib",),
    "qemu": ("lib/micropython-lib",),
    "unix": ("lib/micropython-lib",),
}


# The submodules MicroPython v1.28.0 pins that these builds read (`git ls-tree v1.28.0 lib/`
# in a clone), for a tree that is not a git checkout (copied, or unpacked from an archive
# without its submodules): there `make submodules` cannot work and git cannot name the pins.
PINS_V1_28_0 = {
    "lib/micropython-lib": ("https://github.com/micropython/micropython-lib",
                            "8380c7bb8f9e5e5260e9539156742925e00366b2"),
    "lib/pico-sdk": ("https://github.com/raspberrypi/pico-sdk",  # tag 2.2.0
                     "a1438dff1d38bd9c65dbd693f0e5db4b9ae91779"),
    "lib/tinyusb": ("https://github.com/hathach/tinyusb",
                    "aa0fc2e08f1c2dd6f026a431e8989357fbb4c5bf"),
    "lib/mbedtls": ("https://github.com/Mbed-TLS/mbedtls",
                    "107ea89daaefb9867ea9121002fbbdf926780e98"),
    "lib/stm32lib": ("https://github.com/micropython/stm32lib",
                     "07619754261b571fb2f7c9f36ab94c203880d9fb"),
    "lib/lwip": ("https://github.com/lwip-tcpip/lwip",
                 "77dcd25a72509eb83f72b033d219b1d40cd8eb95"),
}


def tree_version(micropy_dir):
    """(major, minor, micro) from the tree's py/mpconfig.h, or None."""
    try:
        with open(os.path.join(micropy_dir, "py", "mpconfig.h")) as f:
            text = f.read()
    except OSError:
        return None
    parts = [re.search(r"#define MICROPY_VERSION_%s \(?(\d+)" % p, text)
             for p in ("MAJOR", "MINOR", "MICRO")]
    return tuple(int(m.group(1)) for m in parts) if all(parts) else None


def is_git_tree(micropy_dir):
    return os.path.exists(os.path.join(micropy_dir, ".git"))


def pinned_commit(micropy_dir, path):
    """The commit the MicroPython tree pins for submodule ``path``: from git in a checkout,
    from PINS_V1_28_0 in a v1.28.0 tree that is not one; else None."""
    if is_git_tree(micropy_dir):
        try:
            out = subprocess.run(["git", "-C", micropy_dir, "ls-tree", "HEAD", path],
                                 capture_output=True, text=True, timeout=30).stdout.split()
        except (OSError, subprocess.TimeoutExpired):
            return None
        return out[2] if len(out) >= 3 and out[1] == "commit" else None
    if tree_version(micropy_dir) == (1, 28, 0) and path in PINS_V1_28_0:
        return PINS_V1_28_0[path][1]
    return None


def fetch_hint(micropy_dir, board, paths):
    """How to fill the empty submodules ``paths`` of the tree: `make submodules` in a git
    checkout; in a tree without git, a clone of each at its pinned commit."""
    import firmware

    if is_git_tree(micropy_dir):
        return ("Fetch them with `make -C %s/ports/%s submodules` (docs/boards.md)."
                % (micropy_dir, firmware.PORTS[board][0]))
    lines = ["%s is not a git checkout, so `make submodules` cannot fetch them; clone each "
             "at the commit the tree pins (docs/boards.md, \"Getting the sources\"):"
             % micropy_dir]
    for path in paths:
        url_commit = PINS_V1_28_0.get(path) if tree_version(micropy_dir) == (1, 28, 0) else None
        if url_commit:
            where = os.path.join(micropy_dir, path)
            lines.append("    git clone %s %s && git -C %s checkout %s"
                         % (url_commit[0], where, where, url_commit[1]))
        else:
            lines.append("    %s: the commit in .gitmodules' history of your MicroPython "
                         "version (`git ls-tree vX.Y.Z %s` in a clone)" % (path, path))
    return "\n".join(lines)


def check_submodules(micropy_dir, board, env):
    import firmware

    missing = []
    for path in NEEDS.get(board, ()):
        where = os.path.join(micropy_dir, path)
        if path == "lib/pico-sdk" and env.get("PICO_SDK_PATH"):
            where = env["PICO_SDK_PATH"]
        if not os.path.isdir(where) or not os.listdir(where):
            missing.append(path)
    if missing:
        named = ["%s%s" % (p, " (pinned at %s)" % c if c else "")
                 for p, c in ((p, pinned_commit(micropy_dir, p)) for p in missing)]
        raise firmware.FirmwareError(
            "the %s build needs these submodules of %s, which are empty: %s.\n%s"
            % (board, micropy_dir, ", ".join(named), fetch_hint(micropy_dir, board, missing)))


def lwip_tree(micropy_dir, env=None):
    """The lwIP checkout to build with: the tree's lib/lwip if it has one, else ``LWIP_TREE``,
    else ``lwip`` next to the MicroPython tree; raises FirmwareError saying how to get it."""
    import firmware

    env = os.environ if env is None else env
    for where in (os.path.join(micropy_dir, "lib", "lwip"), env.get("LWIP_TREE", ""),
                  os.path.join(os.path.dirname(micropy_dir), "lwip")):
        if where and os.path.exists(os.path.join(where, "src", "core", "tcp.c")):
            return os.path.abspath(where)
    commit = pinned_commit(micropy_dir, "lib/lwip")
    raise firmware.FirmwareError(
        "NETWORK=ppp needs lwIP: %s/lib/lwip is empty. Fetch it (`git -C %s submodule update "
        "--init lib/lwip`), or clone https://github.com/lwip-tcpip/lwip%s elsewhere and set "
        "LWIP_TREE to it." % (micropy_dir, micropy_dir,
                              " at %s" % commit if commit else ""))
