"""Ctrl-C at a safe point on the MicroPython unix port, through ``tools/mp_launch.py``.

The PyPI unix port raises ``KeyboardInterrupt`` from its SIGINT handler, at any machine
instruction of whichever thread the kernel picks (``MICROPY_ASYNC_KBD_INTR``): in the middle of
``gc.collect()`` that corrupts the heap (docs/repl.md, "Ctrl-C"). Python code cannot change
that handler, but the launcher can keep it from ever running: it blocks SIGINT in every thread
and passes a Linux ``signalfd`` that receives the SIGINTs instead (``SHIMEJI_SIGINT_FD``).

``guard_ctrl_c`` (called by ``RunLoop.run()`` on the main thread) then returns a
``SigintWatch``: a ``_thread`` that waits in ``poll`` for that descriptor. On a Ctrl-C it calls
``loop.stop()`` (the loop's idle ends at once through the wake socket) and ``run()`` raises
``KeyboardInterrupt`` after the current tick, exactly as CPython's guard (sigguard.py) does for a
Ctrl-C inside shimeji's code. A second Ctrl-C before the loop stopped (a task that never
yields) ends the process with SIGTERM, as the port without async interrupts exits on a second
Ctrl-C. Without the launcher's descriptor (plain ``micropython``, boards) there is no guard.
Nothing here runs in the loop's iterations: the watch costs the loop nothing per tick.
"""

from micropython import const

try:
    import _thread
    import os
    import select
except ImportError:  # (boards without threads, os or select: no launcher there either)
    _thread = None

_ENV = "SHIMEJI_SIGINT_FD"
_POLLIN = const(0x0001)
_active = [None]  # the SigintWatch of the running loop: one at a time
_MAIN = _thread.get_ident() if _thread is not None else None  # (imported at the start)


def _launcher_fd():
    # (the launcher's signalfd, -1 without one; a file on it to read from, made once for the
    # whole program: a file object closes its descriptor when collected)
    if _thread is None:
        return -1, None
    try:
        value = os.getenv(_ENV)
        if value:
            return int(value), open(int(value), "rb")
    except (AttributeError, ValueError, OSError):
        pass
    return -1, None


_FD, _FILE = _launcher_fd()  # looked up at import: run() allocates nothing to ask


def guard_ctrl_c(loop, sections=None, idles=None):
    """A started ``SigintWatch`` for ``loop`` if this program was started by
    ``tools/mp_launch.py``, this is the main thread and no other loop is watched; else None.
    Not ISR-safe. (``sections`` and ``idles``: as CPython's guard takes them, unused here.)"""
    if _FD < 0 or _active[0] is not None or _thread.get_ident() != _MAIN:
        return None
    watch = SigintWatch(loop, _FD)
    _active[0] = watch
    return watch


class SigintWatch:
    """Waits in a ``_thread`` for SIGINTs on the launcher's signalfd ``fd`` and stops ``loop``
    on one. ``pending``: a Ctrl-C came and ``run()`` must raise it. ``close()`` ends the
    thread. Not ISR-safe."""

    def __init__(self, loop, fd):
        from ..io.waker import WakeSocket

        self.loop = loop
        self.fd = fd
        self.pending = False
        self.sigints = 0
        self._quit = False
        self._buf = bytearray(128)  # one signalfd_siginfo
        self._file = _FILE
        self._waker = WakeSocket.open()  # ends the thread's poll on close()
        self._poll = select.poll()
        self._poll.register(fd, _POLLIN)
        if self._waker is not None:
            self._poll.register(self._waker.rx, _POLLIN)
        self.running = True
        _thread.start_new_thread(self._main, ())

    def _main(self):
        slice_ms = -1 if self._waker is not None else 50
        try:
            while not self._quit:
                for obj, _ev in self._poll.poll(slice_ms):
                    if obj == self.fd:
                        self._take()
                    elif self._waker is not None:
                        self._waker.drain()
        finally:
            self.running = False

    def _take(self):
        try:
            n = self._file.readinto(self._buf)
        except OSError:
            n = None
        if not n:
            return  # (read by someone else already)
        self.sigints += 1
        if self.pending:
            print("shimeji: second Ctrl-C before the loop stopped: ending the process")
            os.system("kill -TERM $PPID")  # (sh's parent: this process)
            return
        self.pending = True
        self.loop.stop()

    def close(self, timeout_ms=2000):
        """End the watching thread (waits up to ``timeout_ms``); True if a Ctrl-C is pending
        (``run()`` raises ``KeyboardInterrupt`` then). Not ISR-safe."""
        from .runloop import sleep_idle

        self._quit = True
        if self._waker is not None:
            self._waker.signal()
        while self.running and timeout_ms > 0:
            sleep_idle(1000)
            timeout_ms -= 1
        if not self.running:
            self._poll.unregister(self.fd)
            if self._waker is not None:
                self._waker.close()
        if _active[0] is self:
            _active[0] = None
        return self.pending
