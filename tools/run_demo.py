"""``make run``: the demo firmware on an attached board, or on the unix board when none is.

Usage: python tools/run_demo.py [--port PORT] [--board unix] [--seconds N]

With ``--port`` (``make run PORT=...``), or when exactly one MicroPython board is found on USB,
shimeji and the board module are deployed to it as ``.mpy`` files and ``examples/demo.py`` runs
there (it runs for its default 4 s). Otherwise, or with ``--board unix`` (``make run
BOARD=unix``), the demo runs here on the MicroPython unix port with ``boards/unix``, started
through ``tools/mp_launch.py`` (Ctrl-C at the run loop's safe point: docs/repl.md, "Ctrl-C").
"""

import argparse
import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tools"))

import device  # noqa: E402

DEMO = os.path.join(ROOT, "examples", "demo.py")


def pick_port(port):
    if port:
        return port
    try:
        boards = device.find_boards()
    except Exception as e:  # no pyserial backend, no /dev access: behave as if none attached
        print("(could not look for USB boards: %s)" % e)
        return None
    if len(boards) > 1:
        raise device.DeviceError("several boards found; choose one with PORT=...:\n" + "\n".join(
            "  %s  %s  %s" % b for b in boards))
    return boards[0][0] if boards else None


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--port")
    ap.add_argument("--board", help="'unix' to run here even when a board is attached; "
                    "another name: the board module to deploy to the attached board")
    ap.add_argument("--seconds", default="4")
    args = ap.parse_args(argv)
    try:
        port = None if args.board == "unix" else pick_port(args.port)
        if port:
            print("running the demo on the board at %s (make run BOARD=unix runs it here)" % port)
            device.deploy(port, board=args.board, example=DEMO)
            return 0
        if args.board not in (None, "unix"):  # BOARD=rp2040 with no board: it ran here
            print("make run: BOARD=%s, but no board was found on USB: plug it in or name its "
                  "port (PORT=/dev/ttyACM0); BOARD=unix (or no BOARD) runs the demo here"
                  % args.board)
            return 2
    except device.DeviceError as e:
        print("make run: %s" % e)
        return 2
    print("no board attached: the demo runs on the MicroPython unix port (boards/unix)")
    sys.stdout.flush()
    env = dict(os.environ)
    env["MICROPYPATH"] = os.pathsep.join(
        [".frozen", os.path.join(ROOT, "firmware"), os.path.join(ROOT, "boards", "unix")])
    # the unix port through tools/mp_launch.py: Ctrl-C stops the loop at a safe point
    launch = os.path.join(ROOT, "tools", "mp_launch.py")
    os.execve(sys.executable, [sys.executable, launch, DEMO, args.seconds], env)


if __name__ == "__main__":
    sys.exit(main())
