# A button interrupt wakes a task. The handler runs in interrupt context and only calls
# WaitCell.wake() (ISR-safe, allocation-free); the task does the work. On the unix board a
# thread "presses" the button three times; on a board, press it (rp2040: GP15 to GND, esp32:
# BOOT, stm32: USR) within 5 s.
# Here:       make example NAME=button  (on the unix board; RUNTIME=cpython for CPython)
import shimeji_board

from shimeji import Timeout, WaitCell, timeout

board = shimeji_board.Board()
sched = board.scheduler(4)
pressed = WaitCell(sched.critical_section)
led = board.led()


def on_press(pin):
    pressed.wake()  # interrupt context: nothing but ISR-safe calls here


async def button_task(presses):
    for n in range(presses):
        try:
            await timeout(pressed.wait(), 5000)
        except Timeout:
            print("no press within 5 s")
            return n
        led.toggle()
        print("button press %d woke the task" % (n + 1))
    return presses


button = board.button(on_press)
try:
    n = board.run(button_task(3), sched)
finally:
    button.stop()
print("handled %d presses" % n)
