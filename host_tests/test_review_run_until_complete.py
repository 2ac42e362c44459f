# Review: run_until_complete and JoinHandle recycling.
from shimeji import StaticScheduler, yield_now


def test_run_until_complete_returns_its_own_result_when_the_slot_is_reused():
    # main() finishes; in the same tick another task spawns into main's freed slot. The
    # handle run_until_complete waits on must keep main's outcome.
    s = StaticScheduler(2)
    log = []

    async def child():
        log.append("child")
        return "child"

    async def spawner():
        await yield_now()  # main finishes during this tick, before we resume
        s.spawn(child())
        log.append("spawned")

    async def main():
        s.spawn(spawner())
        await yield_now()
        log.append("main")
        return "main"

    assert s.run_until_complete(main(), idle=lambda: None) == "main"
    while s.tick().has_remaining:
        pass
    assert log == ["main", "spawned", "child"]
