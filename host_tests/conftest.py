# pytest set-up: the firmware package and the test helpers on the path, as MICROPYPATH does
# for the MicroPython runner (tools/mptest.py).
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
for p in (os.path.join(ROOT, "firmware"), HERE, os.path.join(ROOT, "tools")):
    if p not in sys.path:
        sys.path.insert(0, p)


def pytest_runtest_teardown(item):
    # An interrupt-level scheduler a test left open: CPython's micropython.schedule stand-in
    # runs callbacks at once again for the next test, as in a fresh process (port.py).
    from shimeji import port

    for owner in list(port._owners):
        port.release_check_points(owner)
