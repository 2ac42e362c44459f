# Review: the timer-driven background loop survives a full micropython.schedule queue.
from shimeji import StaticScheduler, yield_now
from shimeji.sched import background as bgmod
from shimeji.sched.background import TimerBackground
from shimeji.sched.runloop import RunLoop


class Board:
    def __init__(self):
        self.callback = None

    def start_ticker(self, callback):
        self.callback = callback

    def stop_ticker(self):
        self.callback = None


class FakeMicropython:
    """``schedule`` refuses while ``full`` (MicroPython raises RuntimeError then), else
    keeps the callback for ``run()``."""

    def __init__(self):
        self.full = False
        self.queue = []

    def schedule(self, fn, arg):
        if self.full:
            raise RuntimeError("schedule queue full")
        self.queue.append((fn, arg))

    def run(self):
        q = self.queue
        self.queue = []
        for fn, arg in q:
            fn(arg)


def test_a_full_schedule_queue_does_not_stop_the_background_loop():
    fake = FakeMicropython()
    real = bgmod.micropython
    bgmod.micropython = fake
    try:
        s = StaticScheduler(2)
        board = Board()
        bg = TimerBackground(board, RunLoop(s, tick_size=1)).start()
        box = [0]

        async def counter():
            for _ in range(3):
                box[0] += 1
                await yield_now()

        bg.spawn(counter())
        fake.full = True
        try:
            board.callback(None)  # the interrupt finds the queue full
        except RuntimeError:
            pass
        fake.full = False
        for _ in range(3):
            board.callback(None)
            fake.run()
        assert (box[0], bg.steps) == (3, 3)
        bg.stop()
    finally:
        bgmod.micropython = real
