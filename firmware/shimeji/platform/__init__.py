"""Platforms: what a board gives the runtime.

- ``bsp``: ``BoardBase`` and the pieces boards share (``PinLed``, ``TextLed``, ``PinButton``);
  each board module in ``boards/`` subclasses ``BoardBase``.
"""
