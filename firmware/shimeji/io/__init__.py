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

__getattr__ = lazy_names(
    "shimeji.io",
    (  # (name, where) pairs: a constant tuple, in flash when frozen (_lazy.py)
        "IOPoller", "shimeji.io.poller",
        "poller_for", "shimeji.io.poller",
        "POLLIN", "shimeji.io.poller",
        "POLLOUT", "shimeji.io.poller",
        "POLLERR", "shimeji.io.poller",
        "POLLHUP", "shimeji.io.poller",
        "wait_readable", "shimeji.io.wait",
        "wait_writable", "shimeji.io.wait",
        "wait_io", "shimeji.io.wait",
        "Stream", "shimeji.io.streams",
        "StreamReader", "shimeji.io.streams",
        "StreamWriter", "shimeji.io.streams",
        "Server", "shimeji.io.servers",
        "open_connection", "shimeji.io.servers",
        "start_server", "shimeji.io.servers",
    ),
)
