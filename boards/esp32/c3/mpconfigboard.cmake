# ESP32-C3 built with what package registries and public repositories give (no Espressif
# toolchain download): tools/esp32c3_setup.sh makes the pieces, docs/boards.md says what
# differs from MicroPython's ESP32_GENERIC_C3. make firmware BOARD=esp32 CHIP=c3 MICROPY_DIR=...
set(IDF_TARGET esp32c3)
# no btree module: the build then needs no lib/berkeley-db-1.xx submodule
set(MICROPY_PY_BTREE OFF)

if(NOT EXISTS "$ENV{SHIMEJI_ESP_EXTRAS}/mdns/include/mdns.h")
    message(FATAL_ERROR "SHIMEJI_ESP_EXTRAS is not the components directory made by "
        "tools/esp32c3_setup.sh (source the env.sh it writes first)")
endif()
# the port includes mdns.h in every network build; mDNS itself is off (mpconfigboard.h)
set(USER_C_MODULES ${CMAKE_CURRENT_LIST_DIR}/mdns_header.cmake)

set(SDKCONFIG_DEFAULTS
    boards/sdkconfig.base
    boards/sdkconfig.riscv
    boards/ESP32_GENERIC_C3/sdkconfig.c3usb
    ${CMAKE_CURRENT_LIST_DIR}/sdkconfig.board
)
