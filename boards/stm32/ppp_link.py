"""A network for a board without one: lwIP's PPP over a UART (``network.PPP``).

Needs firmware built with lwIP and PPP (``make firmware BOARD=stm32 NETWORK=ppp``). The other
end of the UART speaks PPP: on a PC, ``slirp`` or ``pppd`` on a USB-serial adapter; in qemu,
``tools/netboard.py`` (slirp behind a UDP bridge to USART2). Then ``socket`` works on the
board, and so do shimeji's streams (``start_server``, ``open_connection``) and the examples::

    import ppp_link
    ppp = ppp_link.up()                                   # UART(2), 115200 baud
    ppp_link.run_example("echo_server", "7777", "2")      # examples/echo_server.py, frozen

``up()`` also starts a soft timer that feeds what the UART received to lwIP (``ppp.poll``)
every ``poll_ms``: MicroPython's PPP reads the UART from its RX-idle interrupt, which qemu's
STM32L4 USART model never raises; on a real board the interrupt does it and the timer only
adds polls that find nothing. The UART's ``timeout`` is 0: ``poll`` reads what is there and
never waits. Nothing here is ISR-safe (set-up).
"""

import sys
import time

import machine
import network


class PppUnavailable(Exception):
    pass


_link = {}  # what must stay alive while the link is up: the PPP object, its UART and timer


def up(uart_id=2, baudrate=115200, timeout_ms=120000, poll_ms=2):
    """Bring the PPP link up on ``UART(uart_id)`` and return the ``network.PPP`` once it has
    an address; raises ``PppUnavailable`` after ``timeout_ms`` (board time) without one."""
    if _link.get("ppp") is not None and _link["ppp"].isconnected():
        return _link["ppp"]
    uart = machine.UART(uart_id, baudrate, rxbuf=1024, timeout=0)
    ppp = network.PPP(uart)
    ppp.connect()
    pump = machine.Timer(-1, period=poll_ms, callback=ppp.poll)  # poll(timer): arg ignored
    _link.update(ppp=ppp, uart=uart, pump=pump)
    start = time.ticks_ms()
    while not ppp.isconnected():
        if time.ticks_diff(time.ticks_ms(), start) > timeout_ms:
            down()
            raise PppUnavailable("PPP on UART(%d): no address after %d ms: is the other end "
                                 "(slirp, pppd) talking PPP at %d baud?" % (uart_id, timeout_ms,
                                                                            baudrate))
        machine.idle()
    return ppp


def down():
    """Stop the poll timer and drop the link."""
    pump = _link.pop("pump", None)
    if pump is not None:
        pump.deinit()
    ppp = _link.pop("ppp", None)
    if ppp is not None:
        ppp.disconnect()
    _link.pop("uart", None)


def address():
    """The board's IPv4 address on the link (None while down)."""
    ppp = _link.get("ppp")
    return ppp.ipconfig("addr4")[0] if ppp is not None and ppp.isconnected() else None


def run_example(name, *args):
    """Run the frozen example ``name`` (examples/<name>.py) with ``args`` as its arguments,
    as ``make example NAME=<name> ARGS="..."`` does on the unix board."""
    sys.argv[:] = [name] + list(args)
    sys.modules.pop(name, None)
    __import__(name)
    sys.modules.pop(name, None)
