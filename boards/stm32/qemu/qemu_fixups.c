// shimeji: linked into the B_L475E_IOT01A firmware built for qemu's b-l475e-iot01a machine
// (tools/firmware.py --emulated; see mpconfigboard_qemu.h). qemu models no PWR block, so the
// backup domain never opens (PWR_CR1.DBP reads 0), and the HAL times out waiting for it on
// the LSE (which SystemClock_Config always configures on the STM32L4, on or off) and on the
// RTC clock (always selected there): a fatal error at boot. These wrappers (linked with
// -Wl,--wrap) leave both out; everything else is passed on unchanged.
#include "py/mpconfig.h"
#include STM32_HAL_H

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
