# Motor control beside a slow background task. The control loop (every 2 ms) and the limit
# switch run at the interrupt level (an InterruptScheduler, docs/preemption.md); a logger that
# computes statistics for 30 ms at a time without yielding runs at the thread level. On
# MicroPython the control loop keeps its period while the logger computes: the interrupt level
# preempts it. CPython cannot preempt a poll, so there the control steps wait for the logger.
# On the unix board a thread presses the limit switch at 700 ms; on a board, wire a switch to
# the button pin. Here: make example NAME=motor_control  (RUNTIME=cpython for CPython)
import shimeji_board

from shimeji import Interval, WaitCell, port, sleep_ms

board = shimeji_board.Board()
sched = board.scheduler(4)  # thread level: logging and statistics
isr = board.interrupt_scheduler(4, sched)  # interrupt level: control and the limit switch
limit = WaitCell(sched.critical_section)
LOG_ROUNDS = 8


class Motor:
    """A simulated motor: its speed follows the drive, its position integrates the speed."""

    def __init__(self):
        self.position = 0
        self.speed = 0
        self.stopped = False
        self.steps = 0
        self.steps_while_logging = 0

    def step(self, target):
        self.speed += (target - self.position) // 64 - self.speed // 4
        self.position += self.speed
        self.steps += 1


motor = Motor()
logging = [False]  # True while the logger computes


def on_limit_switch(pin):
    limit.wake()  # interrupt context: an ISR-safe wake, nothing else


async def control():  # interrupt level
    iv = Interval(2)
    target = 10000
    while not motor.stopped:
        await iv
        if logging[0]:
            motor.steps_while_logging += 1  # preempting the logger's computation
        motor.step(target)
    return iv.missed


async def limit_switch():  # interrupt level
    await limit.wait()
    motor.stopped = True
    motor.speed = 0
    print("limit switch: motor stopped at position %d" % motor.position)


def statistics(ms):
    # 30 ms of arithmetic that never yields: what a slow background job looks like
    t0 = port.ticks_ms()
    acc = 0
    n = 0
    while port.ticks_diff(port.ticks_ms(), t0) < ms:
        acc = (acc * 31 + motor.position + n) & 0xFFFF
        n += 1
    return acc


async def logger():  # thread level
    for r in range(LOG_ROUNDS):
        await sleep_ms(100)
        before = motor.steps
        logging[0] = True
        statistics(30)
        logging[0] = False
        print("log %d: position %d, %d control steps during the statistics"
              % (r + 1, motor.position, motor.steps - before))


print("motor control: control every 2 ms at the interrupt level, logger at the thread level")
ctl = isr.spawn(control(), "control")
stop = isr.spawn(limit_switch(), "limit")
button = board.button(on_limit_switch)
try:
    board.run(logger(), sched)
finally:
    button.stop()
while not (ctl.is_complete() and stop.is_complete()):
    isr.service()
    board.idle(1000)
print("done: %d control steps, %d while the logger computed, %d periods missed; motor %s"
      % (motor.steps, motor.steps_while_logging, ctl.result(),
         "stopped by the limit switch" if motor.stopped else "still running"))
