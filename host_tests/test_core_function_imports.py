# shimeji: cpython-only (parses the package's source files with ast; what a function imports
# is a property of the source, the same on both runtimes)
"""No function of the package imports an extensible built-in module (``time``, ``select``...).

On MicroPython those modules may be overridden by a file of the same name, so an ``import
time`` inside a function searches every directory of ``sys.path`` for ``time.py`` on each call
(a built-in module is not kept in ``sys.modules``). On the firmware, with a directory mounted
over USB (``mpremote mount``), each search allocated 592 B: the facade loop's idle, which
imported ``time`` inside ``sleep_idle``, allocated 1,120 B per idle and hung the heap-locked
test on the qemu and RP2040 firmware. Import them once, at module level; a function may import
one only where it is set-up code that runs on hosted ports alone (listed below, with why).
``core._ring_yield`` was listed as "once, at import", but ``new_yield_ring()`` runs it per
task slot and per worker thread: on the ESP32-C3 under ``mpremote mount`` a worker's search
and the main thread's spoke the mount's protocol at once and both waited for ever.
"""

import ast
import os

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PKG = os.path.join(ROOT, "firmware", "shimeji")

# MicroPython v1.28's extensible built-in modules (MP_REGISTER_EXTENSIBLE_MODULE).
EXTENSIBLE = {"array", "binascii", "collections", "errno", "hashlib", "heapq", "io", "json",
              "os", "platform", "random", "re", "select", "socket", "ssl", "struct", "time",
              "zlib"}

# (module path, function): imports allowed there, and why.
SET_UP_ONLY = {
    ("io/waker.py", "_socket_pair"): "makes the wake socket pair once, on hosted ports only",
    ("io/sockets.py", "_bind_free_port"): "binds a listening socket: set-up, never per round",
    ("io/servers.py", "_wrap_client"): "wraps a socket in TLS: once per connection",
}


def function_imports():
    found = []
    for dirpath, _, files in os.walk(PKG):
        for f in files:
            if not f.endswith(".py"):
                continue
            path = os.path.join(dirpath, f)
            rel = os.path.relpath(path, PKG).replace(os.sep, "/")
            with open(path) as fh:
                tree = ast.parse(fh.read(), path)
            for fn in ast.walk(tree):
                if not isinstance(fn, (ast.FunctionDef, ast.AsyncFunctionDef)):
                    continue
                for node in ast.walk(fn):
                    if isinstance(node, ast.Import):
                        names = [a.name.split(".")[0] for a in node.names]
                    elif isinstance(node, ast.ImportFrom) and not node.level:
                        names = [(node.module or "").split(".")[0]]
                    else:
                        continue
                    for name in names:
                        if name in EXTENSIBLE:
                            found.append((rel, fn.name, name, node.lineno))
    return found


def test_no_function_imports_an_extensible_builtin_module():
    bad = [f for f in function_imports() if (f[0], f[1]) not in SET_UP_ONLY]
    assert bad == [], (
        "import these at module level (on MicroPython each call searches sys.path): %s" % bad)


def test_the_checker_sees_imports_inside_functions():
    found = function_imports()
    assert ("io/waker.py", "_socket_pair", "socket") in [f[:3] for f in found]
    for key in SET_UP_ONLY:
        assert key in [f[:2] for f in found], "%s no longer imports: drop it from the list" % (
            key,)
