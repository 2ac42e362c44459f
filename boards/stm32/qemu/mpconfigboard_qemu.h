// shimeji: MicroPython's B_L475E_IOT01A board, changed to boot in qemu's b-l475e-iot01a
// machine (qemu >= 9.0). tools/firmware.py appends this file to a copy of the board's
// mpconfigboard.h (written to build/, never into the MicroPython tree): --emulated.
// qemu models the STM32L4x5's RCC, EXTI, SYSCFG, GPIO and USARTs, but not its PWR block or its
// FLASH interface (both read as 0), nor USB, RNG or RTC. So:
// - flash latency 0: the HAL reads the latency back after setting it, and a FLASH interface
//   that reads 0 would fail HAL_RCC_ClockConfig (fatal at boot) for any other value;
// - the RTC on LSI and off: its clock lives in the backup domain, which the PWR block's DBP
//   bit opens, and that bit never reads back set (qemu_fixups.c keeps the RTC clock out of
//   the peripheral clock set-up for the same reason);
// - no USB (the REPL is USART1, qemu's first serial port), no RNG.
#undef MICROPY_HW_FLASH_LATENCY
#define MICROPY_HW_FLASH_LATENCY (FLASH_LATENCY_0)
#undef MICROPY_HW_RTC_USE_LSE
#define MICROPY_HW_RTC_USE_LSE (0)
#undef MICROPY_HW_ENABLE_RTC
#define MICROPY_HW_ENABLE_RTC (0)
#undef MICROPY_HW_ENABLE_USB
#define MICROPY_HW_ENABLE_USB (0)
#undef MICROPY_HW_USB_FS
#undef MICROPY_HW_ENABLE_RNG
#define MICROPY_HW_ENABLE_RNG (0)
// The USR switch (PC13) reads 0 in qemu, which is "pressed" on the board: at boot the firmware
// would wait in its reset-mode selection for the switch to be released. Pressed = 1 here.
#undef MICROPY_HW_USRSW_PRESSED
#define MICROPY_HW_USRSW_PRESSED (1)
// No filesystem in the internal flash: programming it goes through the FLASH interface, which
// qemu does not model (the first write at boot faulted). mpremote mount works without one.
#undef MICROPY_HW_ENABLE_INTERNAL_FLASH_STORAGE
#define MICROPY_HW_ENABLE_INTERNAL_FLASH_STORAGE (0)
// The board's name says where it runs (sys.implementation._machine, os.uname().machine:
// "B-L475E-IOT01A in qemu with STM32L475"): a test of time itself can tell qemu's machine from
// the board (in qemu, time.sleep_us(1000) measured ~320 us of time.ticks_us with -icount).
#undef MICROPY_HW_BOARD_NAME
#define MICROPY_HW_BOARD_NAME "B-L475E-IOT01A in qemu"
