# WaitMap: a wake whose waiter is cancelled before it runs is kept for the next wait on that key
# (it used to return True and lose the value).
from shimeji import StaticScheduler, WaitMap
from synchelp import drain


def test_a_wake_for_a_cancelled_waiter_is_kept_for_the_next_wait_on_its_key():
    s = StaticScheduler(4)
    wm = WaitMap()
    log = []

    async def waiter(tag):
        log.append((tag, await wm.wait(7)))

    h = s.spawn(waiter("first"))
    drain(s)
    assert wm.wake(7, "response") is True
    assert h.cancel() is True  # cancelled before it ran: it never sees the value
    drain(s)
    assert h.is_cancelled() and log == []
    assert wm.kept() == (7, "response")
    s.spawn(waiter("retry"))
    drain(s)
    assert log == [("retry", "response")]  # the retry gets it at once
    assert wm.kept() is None
    s.spawn(waiter("next"))  # and the map works on as before
    drain(s)
    assert wm.waiters() == 1
    assert wm.wake(7, 2) is True
    drain(s)
    assert log == [("retry", "response"), ("next", 2)]


def test_a_kept_value_is_not_given_to_another_key():
    s = StaticScheduler(4)
    wm = WaitMap()
    log = []

    async def waiter(key):
        log.append((key, await wm.wait(key)))

    h = s.spawn(waiter(1))
    drain(s)
    wm.wake(1, "one")
    h.cancel()
    drain(s)
    s.spawn(waiter(2))
    drain(s)
    assert log == [] and wm.waiters() == 1
    wm.wake(2, "two")
    drain(s)
    assert log == [(2, "two")] and wm.kept() == (1, "one")
