# shimeji: cpython-only (starts the examples as MicroPython and CPython processes and talks to
# them from this process over real sockets; the examples themselves run on both runtimes)
# examples/echo_server.py and examples/http_status.py, each on both runtimes, driven by real
# socket clients on 127.0.0.1: concurrent echo clients, and HTTP requests for the task table.
import json
import re
import signal
import socket
import subprocess
import threading

import pytest
import run_example

TIMEOUT_S = 60


def _default_sigint():
    # a shell that started us in the background may have set SIGINT to "ignore", which a child
    # inherits: give the example the default handler, as a terminal would
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def _start(name, runtime, *args):
    cmd, env = run_example.command(name, runtime, list(args))
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            text=True, preexec_fn=_default_sigint)
    first = proc.stdout.readline()
    m = re.search(r"127\.0\.0\.1:(\d+)", first)
    if m is None:
        proc.kill()
        raise AssertionError(first + proc.communicate()[0])
    return proc, int(m.group(1))


def _finish(proc):
    try:
        out, _ = proc.communicate(timeout=TIMEOUT_S)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, out
    return out.splitlines()


def _echo_client(port, name, results):
    with socket.create_connection(("127.0.0.1", port), timeout=TIMEOUT_S) as c:
        got = []
        f = c.makefile("rb")
        for i in range(5):
            c.sendall(b"%s says %d\n" % (name, i))
            got.append(f.readline())
        big = bytes(range(256)) * 64  # 16 KiB in one go: partial writes on the server side
        c.sendall(big)
        back = b""
        while len(back) < len(big):
            back += c.recv(65536)
        results[name] = (got, back == big)


@pytest.mark.parametrize("runtime", run_example.RUNTIMES)
def test_echo_server_serves_concurrent_real_clients(runtime):
    proc, port = _start("echo_server", runtime, "0", "4")
    results = {}
    names = [b"n%d" % i for i in range(4)]
    threads = [threading.Thread(target=_echo_client, args=(port, n, results)) for n in names]
    for t in threads:
        t.start()
    for t in threads:
        t.join(TIMEOUT_S)
    lines = _finish(proc)
    for n in names:
        assert results[n] == ([b"%s says %d\n" % (n, i) for i in range(5)], True)
    per_client = 5 * len(b"n0 says 0\n") + 16384
    assert lines == ["served 4 connections, %d bytes echoed" % (4 * per_client)]


def _get(port, path):
    with socket.create_connection(("127.0.0.1", port), timeout=TIMEOUT_S) as c:
        c.sendall(b"GET %s HTTP/1.0\r\nHost: test\r\n\r\n" % path)
        data = b""
        while True:
            chunk = c.recv(65536)
            if not chunk:
                break
            data += chunk
    head, body = data.split(b"\r\n\r\n", 1)
    status = head.split(b"\r\n")[0]
    length = int(re.search(rb"Content-Length: (\d+)", head).group(1))
    assert length == len(body)
    return status, body


@pytest.mark.parametrize("runtime", run_example.RUNTIMES)
def test_http_status_serves_the_task_table(runtime):
    proc, port = _start("http_status", runtime, "0", "3")
    status, body = _get(port, b"/tasks")
    assert status == b"HTTP/1.0 200 OK"
    rows = json.loads(body)
    by_name = {r["name"]: r for r in rows}
    assert sorted(by_name) == ["conn", "fast", "main", "server", "slow"]
    assert by_name["conn"]["state"] == "running"  # the task answering is the one running
    assert by_name["server"]["state"] == "waiting" and by_name["server"]["waits_on"] == "io"
    assert by_name["main"]["waits_on"] == "primitive"  # the Event that ends the example
    assert all(isinstance(r["polls"], int) and r["polls"] >= 1 for r in rows)
    status, text = _get(port, b"/")
    assert status == b"HTTP/1.0 200 OK"
    assert text.split(b"\n")[0].split()[:4] == [b"id", b"name", b"state", b"waits"]
    status, _ = _get(port, b"/missing")
    assert status == b"HTTP/1.0 404 Not Found"
    assert _finish(proc) == ["answered 3 requests"]


@pytest.mark.parametrize("name,says", [
    # a connection (a request) is counted when its task has closed it, which may come after
    # the Ctrl-C: 0 or 1 of them
    ("echo_server", r"stopped by Ctrl-C: served [01] connections, (0|6) bytes echoed$"),
    ("http_status", r"stopped by Ctrl-C: answered [01] requests$")])
@pytest.mark.parametrize("runtime", run_example.RUNTIMES)
def test_a_server_run_for_ever_stops_cleanly_on_ctrl_c(name, says, runtime):
    proc, port = _start(name, runtime, "0")  # no count: it serves until Ctrl-C
    if name == "echo_server":
        with socket.create_connection(("127.0.0.1", port), timeout=TIMEOUT_S) as c:
            c.sendall(b"hello\n")
            assert c.makefile("rb").readline() == b"hello\n"
    else:
        assert _get(port, b"/tasks")[0] == b"HTTP/1.0 200 OK"
    proc.send_signal(signal.SIGINT)
    lines = _finish(proc)  # exit status 0: the example caught it and closed its scheduler
    assert re.match(says, lines[-1]), lines
