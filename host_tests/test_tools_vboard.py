# shimeji: cpython-only (drives the MicroPython unix port on a pty with mpremote)
# The device tooling against a virtual board: tools/vboard.py runs the unix port on a pty and
# tools/device.py talks to it through mpremote, exactly as it talks to a board on USB.
import os
import re
import shutil
import subprocess
import sys
import tempfile

import device
import vboard

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TIMEOUT_S = 30  # every mpremote call in these tests; a hang fails instead of stalling CI


def _vboard():
    return vboard.VirtualBoard(tempfile.mkdtemp(prefix="shimeji-vboard-"))


def _cleanup(board):
    board.stop()
    assert not board.alive()
    shutil.rmtree(board.directory, ignore_errors=True)


def _exec(board, code):
    return device.mpremote(board.path, "exec", code, timeout=TIMEOUT_S)


def _tree(top, ext):
    """Every file under ``top`` ending in ``ext``, as sorted paths relative to it."""
    found = []
    for dirpath, _dirs, names in os.walk(top):
        rel = os.path.relpath(dirpath, top)
        found += [n if rel == "." else rel + "/" + n for n in names if n.endswith(ext)]
    return sorted(found)


def test_deploy_compiles_for_the_boards_architecture_and_imports():
    board = _vboard().start()
    try:
        lines = []
        info = device.deploy(board.path, out=lines.append)
        assert (info["board"], info["arch"], info["mpy_version"]) == ("unix", "x64", (6, 3))
        lib = os.path.join(board.directory, "lib")
        files = _tree(os.path.join(lib, "shimeji"), ".mpy")
        src = os.path.join(ROOT, "firmware", "shimeji")
        modules = [f[:-3] + ".mpy" for f in _tree(src, ".py")]
        assert "sync/mutex.mpy" in files
        assert files == modules
        assert sorted(os.listdir(lib)) == ["shimeji", "shimeji_board.mpy"]
        with open(os.path.join(lib, "shimeji", "core.mpy"), "rb") as f:
            assert f.read(2) == b"M\x06"  # .mpy version 6, what the board loads
        # compiled with -march=x64, the architecture the board reported: a module with native
        # code says so in its header (byte 2: arch << 2 | sub-version; x64 is arch 2). The
        # build directory itself is the deploy's own and removed after (tools/device.py).
        with open(os.path.join(lib, "shimeji", "sched", "fastpath.mpy"), "rb") as f:
            assert f.read(3)[2] >> 2 == 2
        assert lines[0] == "board on %s: unix, MicroPython %s, x64" % (board.path,
                                                                     info["version"])
        assert lines[1] == "shimeji 0.2.0 on unix"
        out = _exec(board, "import shimeji.core\nprint(shimeji.core.__file__)")
        assert out.strip().endswith("lib/shimeji/core.mpy")
    finally:
        _cleanup(board)


def test_deploy_then_run_an_example():
    board = _vboard().start()
    try:
        device.deploy(board.path, out=lambda line: None)
        out = device.run(board.path, os.path.join(ROOT, "examples", "hello_tasks.py"),
                         timeout=TIMEOUT_S)
        assert "all joined" in out
        assert "flaky failed, scheduler unharmed: sensor unplugged" in out
    finally:
        _cleanup(board)


def test_redeploy_replaces_sources_left_by_mip():
    board = _vboard().start()
    try:
        device.deploy(board.path, source=True, out=lambda line: None)
        lib = os.path.join(board.directory, "lib")
        assert "core.py" in os.listdir(os.path.join(lib, "shimeji"))
        device.deploy(board.path, out=lambda line: None)
        assert "core.py" not in os.listdir(os.path.join(lib, "shimeji"))
        assert sorted(os.listdir(lib)) == ["shimeji", "shimeji_board.mpy"]
    finally:
        _cleanup(board)


def test_mip_installs_the_package_json():
    board = _vboard().start()
    try:
        out = device.mpremote(board.path, "mip", "install", "--target", "lib",
                              os.path.join(ROOT, "package.json"), timeout=TIMEOUT_S)
        assert "Installing: lib/shimeji/core.py" in out
        out = device.mpremote(board.path, "mip", "install", "--target", "lib",
                              os.path.join(ROOT, "boards", "unix", "package.json"),
                              timeout=TIMEOUT_S)
        assert "Installing: lib/shimeji_board.py" in out
        out = _exec(board, "import shimeji, shimeji_board\n"
                    "print(shimeji.__version__, shimeji_board.Board.NAME)")
        assert out.strip().splitlines()[-1] == "0.2.0 unix"
    finally:
        _cleanup(board)


REPL_SETUP = """
from shimeji import sleep_ms, yield_now
import shimeji_board
board = shimeji_board.Board()
sched = board.scheduler(4)
counts = {}
async def worker(name, n):
    counts[name] = 0
    for i in range(n):
        counts[name] += 1
        await yield_now()
    return name
async def ticker(name):
    counts[name] = 0
    while True:
        await sleep_ms(2)
        counts[name] += 1
h = sched.spawn(worker('stepped', 3), 'stepped')
t = sched.tick(1)
print('after one tick:', counts['stepped'], t.polled, sched.tasks())
"""

REPL_BACKGROUND = """
bg = board.background(sched)
h2 = bg.spawn(ticker('bg'), 'sleeper')
print('running:', bg.running, type(bg).__name__)
"""

# The REPL waits for the loop thread to make progress (bounded: 10 s) rather than a fixed time:
# on a loaded machine the thread can be kept off the CPU for tens of ms; and for the sleeper to
# be seen waiting, since between its timer's expiry and its poll it is briefly queued.
REPL_WHILE_RUNNING = """
import time
c0 = counts['bg']
for _ in range(1000):
    if counts['bg'] > c0 and h.is_complete():
        break
    time.sleep_ms(10)
print('progress:', counts['bg'] > c0, 'stepped done:', h.result())
for _ in range(1000):
    tasks = bg.tasks()
    if tasks[0][2] == 'waiting':
        break
    time.sleep_ms(1)
print('tasks:', tasks)
"""

REPL_STOP = """
print('stopped:', bg.stop())
c1 = counts['bg']
time.sleep_ms(30)
print('still:', counts['bg'] == c1, 'live:', sched.live_count())
h2.cancel()
sched.tick()
print('cancelled:', h2.is_cancelled(), sched.tasks())
"""


def test_repl_driving_step_then_background_then_stop():
    board = _vboard().start()
    try:
        device.deploy(board.path, out=lambda line: None)
        out = _exec(board, REPL_SETUP)
        assert out.strip().splitlines()[-1] == "after one tick: 1 1 [(1, 'stepped', 'queued')]"
        out = _exec(board, REPL_BACKGROUND)
        assert out.strip().splitlines()[-1] == "running: True ThreadBackground"
        # a separate mpremote session: the REPL is free while the tasks run behind it
        out = _exec(board, REPL_WHILE_RUNNING)
        assert out.strip().splitlines()[-2:] == [
            "progress: True stepped done: stepped", "tasks: [(2, 'sleeper', 'waiting')]"]
        out = _exec(board, REPL_STOP)
        assert out.strip().splitlines()[-3:] == [
            "stopped: True", "still: True live: 1", "cancelled: True []"]
    finally:
        _cleanup(board)


def test_no_board_found_says_what_to_do():
    real = device.find_boards
    device.find_boards = lambda: []
    try:
        try:
            device.choose_port(None)
        except device.DeviceError as e:
            msg = str(e)
        else:
            raise AssertionError("expected DeviceError")
    finally:
        device.find_boards = real
    assert msg.startswith("no MicroPython board found on USB")
    assert "PORT=/dev/ttyACM0" in msg and "make vboard" in msg
    proc = subprocess.run([sys.executable, os.path.join(ROOT, "tools", "device.py"), "deploy",
                           "--port", ""], capture_output=True, text=True,
                          env=dict(os.environ, PORT=""), timeout=TIMEOUT_S)
    if not device.find_boards():  # a machine with a board plugged in would deploy to it
        assert proc.returncode == 2
        assert proc.stderr.startswith("error: no MicroPython board found on USB")


def test_several_boards_found_asks_for_one():
    real = device.find_boards
    device.find_boards = lambda: [("/dev/ttyACM0", "rp2040", "Board in FS mode"),
                                  ("/dev/ttyUSB0", "esp32", "CP2102")]
    try:
        try:
            device.choose_port(None)
        except device.DeviceError as e:
            msg = str(e)
    finally:
        device.find_boards = real
    assert msg == ("several boards found; choose one with PORT=...:\n"
                   "  /dev/ttyACM0  rp2040  Board in FS mode\n  /dev/ttyUSB0  esp32  CP2102")


def test_usb_ids_name_the_board():
    class Port:
        def __init__(self, vid, pid):
            self.device, self.vid, self.pid, self.description = "/dev/x", vid, pid, "d"

    from serial.tools import list_ports

    real = list_ports.comports
    list_ports.comports = lambda: [Port(0x2E8A, 0x0005), Port(0x10C4, 0xEA60),
                                   Port(0x1A86, 0x7523), Port(0x303A, 0x1001),
                                   Port(0xF055, 0x9800), Port(0x0483, 0x5740),
                                   Port(0x10C4, 0x1234), Port(0x1234, 0x5678), Port(None, None)]
    try:
        found = device.find_boards()
    finally:
        list_ports.comports = real
    assert [b for _, b, _ in found] == ["rp2040", "esp32", "esp32", "esp32", "stm32", "stm32"]


def _info(version, mpy):
    return {"version": version, "mpy_version": mpy}


def test_too_old_micropython_is_refused_with_a_clear_error():
    local = device.local_mpy_version()
    assert local == (6, 3)
    device.check_mpy(_info("1.29.0", (6, 3)), local)
    device.check_mpy(_info("1.22.2", (6, 2)), local)  # bytecode loads across minor versions
    for info, words in [
        (_info("1.18.0", None), "too old to say which .mpy files it loads"),
        (_info("1.18.0", (5, 0)), "loads .mpy v5, but mpy-cross writes v6.3: its MicroPython "
                                  "is too old"),
    ]:
        try:
            device.check_mpy(info, local)
        except device.DeviceError as e:
            assert words in str(e), str(e)
            assert "Flash MicroPython 1.23 or later" in str(e)
        else:
            raise AssertionError("expected DeviceError for %r" % (info,))


def test_a_port_with_no_repl_is_a_clear_error():
    import pty

    master, slave = pty.openpty()  # a serial port with nothing behind it
    try:
        try:
            device.mpremote(os.ttyname(slave), "exec", "print(1)", timeout=3)
        except device.DeviceError as e:
            msg = str(e)
        else:
            raise AssertionError("expected DeviceError")
    finally:
        os.close(master)
        os.close(slave)
    assert msg.startswith("no MicroPython REPL answered on /dev/pts/"), msg
    assert "nothing for 3 s" in msg and "reset" in msg


def test_a_call_ends_when_it_prints_nothing_for_its_timeout_not_while_it_prints():
    # mpremote's timeout is the seconds it may go without printing (a hang), so a mip install
    # of the whole package that keeps printing on a loaded machine is not cut at 30 s; a
    # limit bounds the whole call all the same.
    rc, out, err = device.run_watched([sys.executable, "-c", "import sys; print('a'); "
                                       "print('b', file=sys.stderr); sys.exit(3)"], 30)
    assert (rc, out, err) == (3, "a\n", "b\n")
    for cmd, timeout, limit in (([sys.executable, "-c", "import time; time.sleep(60)"], 1, 30),
                                ([sys.executable, "-c", "while 1: print(1, flush=True)"], 30, 1)):
        try:
            device.run_watched(cmd, timeout, limit)
        except subprocess.TimeoutExpired:
            pass
        else:
            raise AssertionError("expected TimeoutExpired: %r" % (cmd,))


def test_make_run_with_a_port_runs_the_demo_on_that_board():
    board = _vboard().start()
    try:
        proc = subprocess.run(
            [sys.executable, os.path.join(ROOT, "tools", "run_demo.py"), "--port", board.path],
            capture_output=True, text=True, timeout=TIMEOUT_S * 4,
        )
        out = proc.stdout
        assert proc.returncode == 0, out + proc.stderr
        assert out.startswith("running the demo on the board at %s" % board.path)
        assert "shimeji 0.2.0 on unix" in out
        assert "LED" in out and "done after" in out and "8 of 8 task slots free" in out
    finally:
        _cleanup(board)


def test_make_run_without_a_board_runs_here():
    proc = subprocess.run(
        [sys.executable, os.path.join(ROOT, "tools", "run_demo.py"), "--board", "unix",
         "--seconds", "0.6"],
        capture_output=True, text=True, timeout=TIMEOUT_S,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    lines = proc.stdout.splitlines()
    assert lines[0] == ("no board attached: the demo runs on the MicroPython unix port "
                        "(boards/unix)")
    assert re.match(r"done after \d+\.\d s: ", lines[-1]), lines[-1]  # ran, never how long
