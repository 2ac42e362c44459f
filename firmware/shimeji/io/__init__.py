"""I/O: tasks wait for sockets, UARTs, pipes and streams without blocking the scheduler.

- ``poller``: ``IOPoller``, the scheduler's ``select.poll`` and the run loop's idle in it;
- ``dispatch``: ``IOPoller.poll`` and ``wait_us``, waking the tasks whose objects are ready;
- ``entry``: ``WatchEntry``, one watched object, and registering it with ``select.poll``;
- ``wait``: ``wait_readable(obj)`` / ``wait_writable(obj)``, allocation-free I/O waits;
- ``streams``: ``Stream`` (asyncio's StreamReader/StreamWriter);
- ``servers``: ``open_connection``, ``start_server`` and ``Server`` (TCP, giving ``Stream``s);
- ``readop``: ``ReadOp``, the reused awaitable of a ``Stream``'s reads.
"""

from .._lazy import lazy_names

_P = "shimeji.io.poller"
_W = "shimeji.io.wait"
_S = "shimeji.io.streams"
_T = "shimeji.io.servers"

__getattr__ = lazy_names(
    "shimeji.io",
    {
        "IOPoller": _P,
        "poller_for": _P,
        "POLLIN": _P,
        "POLLOUT": _P,
        "POLLERR": _P,
        "POLLHUP": _P,
        "wait_readable": _W,
        "wait_writable": _W,
        "wait_io": _W,
        "Stream": _S,
        "StreamReader": _S,
        "StreamWriter": _S,
        "Server": _T,
        "open_connection": _T,
        "start_server": _T,
    },
)
