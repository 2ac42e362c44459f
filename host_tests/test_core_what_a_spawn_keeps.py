"""What a firmware that only spawns and joins keeps in its heap: not the error classes only some
programs raise (``shimeji/_rare.py``, made at their first use), and no lazy-name table built at
import (each package's table is a constant tuple, which a frozen package keeps in flash).
docs/boards.md, "STM32 and qemu mps2, session 20": the 26.6 KB shimeji's imports kept on the
STM32, and what of it was cut."""

import sys

from shimeji import _lazy

RARE = "shimeji._rare"


def _fresh():
    """Forget every shimeji module (the caller puts them back)."""
    saved = {k: v for k, v in sys.modules.items() if k == "shimeji" or k.startswith("shimeji.")}
    for key in saved:
        del sys.modules[key]
    return saved


def _restore(saved):
    for key in [k for k in sys.modules if k == "shimeji" or k.startswith("shimeji.")]:
        del sys.modules[key]
    sys.modules.update(saved)


def _spawn_and_join():
    from shimeji import StaticScheduler, join_all

    s = StaticScheduler(3)

    async def child(n):
        return n * 2

    async def main():
        return await join_all(s.spawn(child(1)), s.spawn(child(2)))

    return s.run_until_complete(main())


def test_spawning_and_joining_makes_none_of_the_rarer_errors():
    saved = _fresh()
    try:
        assert _spawn_and_join() == [2, 4]
        assert RARE not in sys.modules
        # nor the poll accounting only a measuring policy uses (session 24: ~580 B on the STM32)
        assert "shimeji.policy.accounting" not in sys.modules
        errors = sys.modules["shimeji.errors"]
        assert "Timeout" not in errors.__dict__ and "IOBusy" not in errors.__dict__
        assert not hasattr(errors, "__path__")  # (CPython's import asks: it loads nothing)
        assert RARE not in sys.modules
    finally:
        _restore(saved)


def test_a_rarer_error_is_made_at_its_first_use_and_is_the_same_everywhere():
    saved = _fresh()
    try:
        import shimeji
        from shimeji.errors import ShimejiError, Timeout

        assert RARE in sys.modules and issubclass(Timeout, ShimejiError)
        from shimeji import errors

        # Every rarer class was copied into errors at once, with its hierarchy.
        assert errors.Timeout is Timeout and shimeji.Timeout is Timeout
        assert issubclass(errors.IOBusy, errors.WaiterBusy)
        assert issubclass(errors.ExecutorClosed, errors.SchedulerClosed)
        assert issubclass(errors.BadPriority, errors.PolicyError)
        assert issubclass(errors.DeadlineExpired, BaseException)
        assert not issubclass(errors.DeadlineExpired, Exception)
        del sys.modules[RARE]  # (a test that unloads modules): the classes stay the same
        assert errors.StreamClosed is shimeji.StreamClosed
        assert RARE not in sys.modules
        try:
            getattr(errors, "NoSuchError")  # noqa: B009 (the look-up is the test)
        except AttributeError as e:
            assert "NoSuchError" in str(e)
        else:
            raise AssertionError("a name errors does not have was found")
    finally:
        _restore(saved)


def test_every_lazy_table_is_a_tuple_of_pairs():
    for package in ("shimeji", "shimeji.sched", "shimeji.task", "shimeji.sync",
                    "shimeji.time", "shimeji.policy", "shimeji.asyncio"):
        __import__(package)
        table = _lazy.TABLES[package]
        assert type(table) is tuple and len(table) % 2 == 0, package
        names = _lazy.entries(package)
        assert len(names) * 2 == len(table)  # (no name listed twice)
        assert all(where.startswith("shimeji.") for where in names.values())
    # The facade's __all__ (a constant tuple too) is its table's names and its own function.
    facade = sys.modules["shimeji.asyncio"]
    assert type(facade.__all__) is tuple and len(set(facade.__all__)) == len(facade.__all__)
    assert set(facade.__all__) == set(_lazy.entries("shimeji.asyncio")) | {"run_until_complete"}
