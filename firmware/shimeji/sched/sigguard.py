"""Ctrl-C at a safe point on CPython: ``guard_ctrl_c``, which ``RunLoop.run()`` calls there
(``sigint.py`` is the MicroPython unix port's, through ``tools/mp_launch.py``).

CPython raises KeyboardInterrupt at any bytecode check point, inside a critical section or
half-way through the tick's bookkeeping too. While ``RunLoop.run()`` runs on the main thread
a handler of its own decides: in a task's own code (or an idle wait) it raises at once, as
before; inside shimeji's code or a critical section this thread holds, it only stops the loop
and run() raises KeyboardInterrupt once the tick has ended (docs/repl.md). MicroPython has
no signal hook: run() can only repair afterwards (``leave_interrupted``, see critical.py).

Its own module since port.py reached 350 lines (it was there); only CPython loads it.
"""

try:
    import os
except ImportError:  # (a port without os: only CPython calls guard_ctrl_c)
    os = None

_package_dir = [None]  # shimeji's directory: code there is "inside shimeji" (set at first use)


class _CtrlCGuard:
    def __init__(self, loop, sections, idles, signal, previous):
        self.loop = loop
        self.sections = sections
        self.pending = False
        self._signal = signal
        self._previous = previous
        codes = []
        for idle in idles:
            idle = getattr(idle, "__func__", idle)  # (a board's bound method)
            codes.append(getattr(idle, "__code__", None))
        self._safe_codes = codes
        signal.signal(signal.SIGINT, self._on_sigint)

    def _on_sigint(self, signum, frame):
        if self.safe(frame):
            self.pending = False
            raise KeyboardInterrupt
        self.pending = True  # run() raises it once iterate() returns
        self.loop.stop()

    def safe(self, frame):
        """True if a KeyboardInterrupt may be raised in ``frame`` now."""
        for cs in self.sections:
            if cs.held():
                return False
        if frame is None:
            return True
        code = frame.f_code
        if code in self._safe_codes:  # an idle wait: nothing half-done
            return True
        return not code.co_filename.startswith(_package_dir[0])

    def close(self):
        """Put the previous SIGINT handler back; True if a Ctrl-C waits to be raised."""
        self._signal.signal(self._signal.SIGINT, self._previous)
        return self.pending


def guard_ctrl_c(loop, sections, idles):
    """Install the safe-point SIGINT handler for ``loop.run()``; returns the guard (its
    ``close()`` restores the previous handler) or None where it does not apply: not on the
    main thread, or SIGINT has a handler other than Python's default. ``sections``: the
    critical sections to check; ``idles``: functions in which it may raise at once."""
    try:
        import signal
    except ImportError:
        return None
    if _package_dir[0] is None:
        _package_dir[0] = os.path.dirname(os.path.dirname(os.path.abspath(__file__))) + os.sep
    previous = signal.getsignal(signal.SIGINT)
    if previous is not signal.default_int_handler:
        return None
    try:
        return _CtrlCGuard(loop, sections, idles, signal, previous)
    except ValueError:  # signal only works in the main thread of the main interpreter
        return None
