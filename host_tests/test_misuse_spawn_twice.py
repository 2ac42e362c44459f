# A coroutine object spawned twice (left by sessions 23-25). A spawn cannot tell on either
# runtime at no cost (docs/sync.md, "Session 26"), so the refusal is at the failure point.
# On CPython the second task to resume it fails with RuntimeError ("cannot reuse already
# awaited coroutine"): now NotACoroutine saying to give each task a coroutine of its own
# (the RuntimeError as its __cause__); the other task keeps its value and the scheduler runs
# on. On MicroPython a finished generator resumed again just ends (the second task completes
# with None) and a live one is driven by both: nothing fails there to be said, and this
# module pins that, so a change on either side shows.
from shimeji import NotACoroutine, StaticScheduler, yield_now
from support import IS_MICROPYTHON, raises


async def _work(log):
    log.append("started")
    await yield_now()
    return 7


def _drain(s):
    while s.tick().polled:
        pass


def test_a_finished_coroutine_spawned_again():
    s = StaticScheduler(4)
    log = []
    c = _work(log)
    h = s.spawn(c)
    _drain(s)
    assert h.result() == 7 and log == ["started"]
    h2 = s.spawn(c)
    _drain(s)
    if IS_MICROPYTHON:
        assert h2.result() is None  # (the limitation: the generator just ends)
    else:
        with raises(NotACoroutine, "give each task a coroutine of its own"):
            h2.result()
    assert log == ["started"]  # it did not run again
    h3 = s.spawn(_work(log))  # the scheduler and its slots are as before
    _drain(s)
    assert h3.result() == 7 and s.live_count() == 0


def test_a_coroutine_spawned_twice_before_it_ran():
    s = StaticScheduler(4)
    log = []
    c = _work(log)
    a = s.spawn(c)
    b = s.spawn(c)
    _drain(s)
    assert log == ["started"]  # one body ran, once
    if IS_MICROPYTHON:
        assert (a.result(), b.result()) == (None, 7)  # (both drove it; the first ended last)
    else:
        assert b.result() == 7
        with raises(NotACoroutine, "spawned twice, or spawned and awaited") as r:
            a.result()
        assert isinstance(r.value.__cause__, RuntimeError)
    assert s.live_count() == 0
