# shimeji: host-only (loopback sockets: firmware without networking has no socket module)
# A slot that used a timeout and an I/O wait keeps the larger attribute table, the deadline's
# TimerEntry and the poller's entry for its later waits: in steady state it allocates nothing
# (heap_lock AND a zero gc.mem_alloc delta). (The slot's size: test_task_slot_size.)
from iohelp import close, tcp_pair
from shimeji import StaticScheduler, Timer, TimerEntry, timeout, wait_readable
from support import alloc_delta, heap_locked, micropython_only


def _rounds(a, s, p, n):
    for _ in range(n):
        a.write(b"x")
        for _ in range(100):
            if p.poll(0):
                break
        s.tick()


@micropython_only
def test_a_slot_with_a_timeout_and_an_io_wait_allocates_nothing_after_its_first():
    s = StaticScheduler(2, timer=Timer())
    a, b = tcp_pair()
    buf = bytearray(8)
    got = [0]

    async def reader():
        while True:
            await timeout(wait_readable(b), 10000)
            got[0] += b.readinto(buf)

    s.spawn(reader())
    s.tick()
    p = s.poller
    _rounds(a, s, p, 3)  # warm up: the poller's entry, the deadline entry, the slot's table
    slot = s.slots[0]
    assert {"deadline", "timeout_guard", "io_obj", "io_mask", "io_entry"} <= set(slot.__dict__)
    assert type(slot.deadline) is TimerEntry and slot.io_obj is b
    heap_locked(_rounds, a, s, p, 20)
    assert alloc_delta(_rounds, a, s, p, 20) == 0
    assert got[0] == 43
    close(a, b)
