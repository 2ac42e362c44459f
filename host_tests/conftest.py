# pytest set-up: the firmware package and the test helpers on the path, as MICROPYPATH does
# for the MicroPython runner (tools/mptest.py).
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
for p in (os.path.join(ROOT, "firmware"), HERE, os.path.join(ROOT, "tools")):
    if p not in sys.path:
        sys.path.insert(0, p)
