# ESP32-C3 without the radio (no binary blobs), built with ESP-IDF v5.5 installed and exported;
# docs/boards.md says what differs from MicroPython's ESP32_GENERIC_C3.
# make firmware BOARD=esp32 CHIP=c3 MICROPY_DIR=...
set(IDF_TARGET esp32c3)
# no btree module: the build then needs no lib/berkeley-db-1.xx submodule
set(MICROPY_PY_BTREE OFF)

# the port includes mdns.h in every network build; mDNS itself is off (mpconfigboard.h).
# ESP-IDF's component manager brings espressif/mdns (the port's idf_component.yml); with the
# manager off (IDF_COMPONENT_MANAGER=0), SHIMEJI_ESP_EXTRAS names a directory holding
# mdns/include/mdns.h from espressif/esp-protocols.
if(DEFINED ENV{SHIMEJI_ESP_EXTRAS})
    if(NOT EXISTS "$ENV{SHIMEJI_ESP_EXTRAS}/mdns/include/mdns.h")
        message(FATAL_ERROR "SHIMEJI_ESP_EXTRAS=$ENV{SHIMEJI_ESP_EXTRAS} has no "
            "mdns/include/mdns.h: unset it to let ESP-IDF's component manager bring mdns")
    endif()
    set(USER_C_MODULES ${CMAKE_CURRENT_LIST_DIR}/mdns_header.cmake)
endif()

set(SDKCONFIG_DEFAULTS
    boards/sdkconfig.base
    boards/sdkconfig.riscv
    boards/ESP32_GENERIC_C3/sdkconfig.c3usb
    ${CMAKE_CURRENT_LIST_DIR}/sdkconfig.board
)
