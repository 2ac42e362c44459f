# The stm32 firmware with a network over PPP (make firmware BOARD=stm32 NETWORK=ppp; the qemu
# board with EMULATED=1): the board's usual freeze, ppp_link (network.PPP over a UART) and the
# two network examples, run on the board as ppp_link.run_example("echo_server", ...).
include("manifest.py")
module("ppp_link.py")
module("echo_server.py", base_path="../../examples")
module("http_status.py", base_path="../../examples")
