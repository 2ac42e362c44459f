// shimeji: the networked qemu board (make firmware BOARD=stm32 EMULATED=1 NETWORK=ppp) talks
// PPP to slirp (tools/netboard.py). slirp asks for 0.0.0.0 as its own address and expects its
// peer to name one (an IPCP Nak); lwIP's IPCP, with no address configured for the peer,
// rejects the option instead, and slirp then closes IPCP ("Could not determine local IP
// address"). MicroPython's network.PPP has no way to set the peer's address, so this wraps
// lwIP's ppp_connect (-Wl,--wrap=ppp_connect, mpconfigboard_qemu.mk) to give the peer
// SHIMEJI_PPP_PEER_ADDR (slirp's host alias, 10.0.2.2) when none is set. Empty without PPP.
#include "py/mpconfig.h"

#if MICROPY_PY_NETWORK_PPP_LWIP

#include "lwip/ip4_addr.h"
#include "netif/ppp/ppp.h"

#ifndef SHIMEJI_PPP_PEER_ADDR
#define SHIMEJI_PPP_PEER_ADDR (PP_HTONL(LWIP_MAKEU32(10, 0, 2, 2)))
#endif

err_t __real_ppp_connect(ppp_pcb *pcb, u16_t holdoff);

err_t __wrap_ppp_connect(ppp_pcb *pcb, u16_t holdoff) {
    if (pcb->ipcp_wantoptions.hisaddr == 0) {
        ip4_addr_t peer;
        ip4_addr_set_u32(&peer, SHIMEJI_PPP_PEER_ADDR);
        ppp_set_ipcp_hisaddr(pcb, &peer);
    }
    return __real_ppp_connect(pcb, holdoff);
}

#endif
