# shimeji: appended to a copy of B_L475E_IOT01A's mpconfigboard.mk for qemu (see
# mpconfigboard_qemu.h and qemu_fixups.c).
LDFLAGS += -Wl,--wrap=HAL_RCC_OscConfig -Wl,--wrap=HAL_RCCEx_PeriphCLKConfig -Wl,--wrap=rng_get
# The whole 1 MB flash for the firmware (no internal filesystem here): stm32l475_qemu.ld.
LD_FILES = $(BOARD_DIR)/stm32l475_qemu.ld boards/common_basic.ld
# NETWORK=ppp (MICROPY_PY_LWIP=1 on make's command line): ppp_fixups.c names slirp's address.
ifeq ($(MICROPY_PY_LWIP),1)
LDFLAGS += -Wl,--wrap=ppp_connect
endif
