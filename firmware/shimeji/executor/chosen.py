"""The ``Executor`` this port gets: executor.py's where ``_thread`` exists; elsewhere one that
only refuses, saying why.

Design note: an ``Executor`` needs threads for all it does (its workers, the injector, the
steal protocol and the idle bells), and executor.py imports all of them when it loads: 10
modules, ~5 KB of the STM32's 92 KB heap, kept by any program that merely resolves the name
(``from shimeji import *``, every name of the package used). On a port without ``_thread``
(the STM32 and qemu firmwares, many boards) none of that could ever run, so the name resolves
to the class below and nothing else loads; making one raises ``NoThreads`` as executor.py's
does there. ``shimeji.Executor`` and ``shimeji.executor.Executor`` come from here (their
lazy tables); importing ``shimeji.executor.executor`` itself still loads the real one.
"""

try:
    import _thread
except ImportError:  # (a port without threads: an import error here, none at run time)
    _thread = None

if _thread is not None:
    from .executor import Executor  # noqa: F401 (the lazy tables' name)
else:
    from ..errors import NoThreads

    class Executor:
        """``Executor(...)`` on a port without ``_thread``: raises ``NoThreads`` (run your
        tasks on one ``StaticScheduler``; docs/executor.md)."""

        def __init__(self, *args, **kwargs):
            raise NoThreads("Executor needs _thread, which this port lacks: run "
                            "your tasks on one StaticScheduler")

del _thread
