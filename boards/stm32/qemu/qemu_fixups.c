// shimeji: linked into the B_L475E_IOT01A firmware built for qemu's b-l475e-iot01a machine
// (tools/firmware.py --emulated; see mpconfigboard_qemu.h). qemu models no PWR block, so the
// backup domain never opens (PWR_CR1.DBP reads 0), and the HAL times out waiting for it on
// the LSE (which SystemClock_Config always configures on the STM32L4, on or off) and on the
// RTC clock (always selected there): a fatal error at boot. These wrappers (linked with
// -Wl,--wrap) leave both out; everything else is passed on unchanged.
//
// Nor does qemu map the STM32L4's factory-programmed unique ID (0x1FFF7590): a read of it is a
// bus fault, and the firmware resets. Without the RNG (not modelled either) MicroPython's
// rng_get(), which seeds the random module at its import, reads that ID: `import random` reset
// the board, so a test module importing random never answered (make test-firmware waited
// 15 minutes). __wrap_rng_get is a xorshift32 seeded from the SysTick counter and the ms tick
// instead. (machine.unique_id() still reads the ID: do not call it in qemu.)
#include "py/mpconfig.h"
#include STM32_HAL_H

uint32_t __wrap_rng_get(void);
HAL_StatusTypeDef __real_HAL_RCC_OscConfig(RCC_OscInitTypeDef *init);
HAL_StatusTypeDef __real_HAL_RCCEx_PeriphCLKConfig(RCC_PeriphCLKInitTypeDef *init);

HAL_StatusTypeDef __wrap_HAL_RCC_OscConfig(RCC_OscInitTypeDef *init) {
    init->OscillatorType &= ~RCC_OSCILLATORTYPE_LSE;
    return __real_HAL_RCC_OscConfig(init);
}

HAL_StatusTypeDef __wrap_HAL_RCCEx_PeriphCLKConfig(RCC_PeriphCLKInitTypeDef *init) {
    init->PeriphClockSelection &= ~RCC_PERIPHCLK_RTC;
    return __real_HAL_RCCEx_PeriphCLKConfig(init);
}

uint32_t __wrap_rng_get(void) {
    static uint32_t state = 0;
    uint32_t x = state ^ SysTick->VAL ^ (HAL_GetTick() << 8) ^ 0x2545F491;
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    state = x;
    return x;
}
