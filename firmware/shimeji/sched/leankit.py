"""``KIT``: what ``run_lean`` (leanloop.py) reads from one tuple, by index (a viper function
reads a module's global by a hashed look-up, an item of a tuple in a local by a load)."""

import sys

from .. import core, port
from ..task.words import addr_of
from ..time.timerturn import fire, peek
from .endtick import end_lean, poll_interrupted, poll_outcome
from .foreign import shield

KIT = (None, core.NO_KIT, core.SLEEP, core.PARK, core.JOIN, StopIteration, port.CORO_TYPE.send,
       getattr, end_lean, poll_outcome, poll_interrupted, peek, fire, shield, sys.modules, len,
       1 if type(addr_of(bytearray(4))) is int else 0)  # (16: slots' words' addresses are ints)
RP2 = sys.platform == "rp2"  # (run_lean is None there: the native tick of fastpath.py)
