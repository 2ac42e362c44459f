# The classic ESP32 (Xtensa LX6, dual core) without the radio (no binary blobs), built with
# ESP-IDF v5.5 installed and exported; docs/boards.md says what differs from MicroPython's
# ESP32_GENERIC. make firmware BOARD=esp32 CHIP=esp32 MICROPY_DIR=...
set(IDF_TARGET esp32)
# no btree module: the build then needs no lib/berkeley-db-1.xx submodule
set(MICROPY_PY_BTREE OFF)

# mdns.h for the port's sources when ESP-IDF's component manager is off: as boards/esp32/c3
if(DEFINED ENV{SHIMEJI_ESP_EXTRAS})
    if(NOT EXISTS "$ENV{SHIMEJI_ESP_EXTRAS}/mdns/include/mdns.h")
        message(FATAL_ERROR "SHIMEJI_ESP_EXTRAS=$ENV{SHIMEJI_ESP_EXTRAS} has no "
            "mdns/include/mdns.h: unset it to let ESP-IDF's component manager bring mdns")
    endif()
    set(USER_C_MODULES ${CMAKE_CURRENT_LIST_DIR}/../c3/mdns_header.cmake)
endif()

set(SDKCONFIG_DEFAULTS
    boards/sdkconfig.base
    ${CMAKE_CURRENT_LIST_DIR}/../c3/sdkconfig.board
    ${CMAKE_CURRENT_LIST_DIR}/sdkconfig.board
)
