# shimeji's Pico: MicroPython's RPI_PICO (pico-sdk board "pico", RP2040, 2 MB flash, its pins)
# with the filesystem of mpconfigboard.h. make firmware BOARD=rp2040 builds it through the
# port's BOARD_DIR (tools/firmware.py).
set(PICO_BOARD "pico")
set(PICO_PLATFORM "rp2040")
set(MICROPY_BOARD_PINS "${MICROPY_PORT_DIR}/boards/RPI_PICO/pins.csv")

# The link fails when the firmware's last byte lies past the filesystem's first: the port's
# linker script, and an ASSERT on its __flash_binary_end, at the base mpconfigboard.h gives.
file(STRINGS "${CMAKE_CURRENT_LIST_DIR}/mpconfigboard.h" SHIMEJI_FS_LINE
     REGEX "#define MICROPY_HW_FLASH_STORAGE_BYTES +\\([0-9]+ \\* 1024\\)")
string(REGEX MATCH "\\(([0-9]+) \\* 1024\\)" SHIMEJI_FS_MATCH "${SHIMEJI_FS_LINE}")
if(NOT CMAKE_MATCH_1)
    message(FATAL_ERROR "${CMAKE_CURRENT_LIST_DIR}/mpconfigboard.h: no "
                        "MICROPY_HW_FLASH_STORAGE_BYTES (N * 1024) line")
endif()
math(EXPR SHIMEJI_FS_BASE "2048 * 1024 - ${CMAKE_MATCH_1} * 1024" OUTPUT_FORMAT HEXADECIMAL)
file(WRITE "${CMAKE_BINARY_DIR}/shimeji_pico_memmap.ld"
"INCLUDE \"${MICROPY_PORT_DIR}/memmap_mp_rp2040.ld\"
ASSERT(__flash_binary_end <= ORIGIN(FLASH) + ${SHIMEJI_FS_BASE},
       \"the firmware runs past ${SHIMEJI_FS_BASE}, into the filesystem (mpconfigboard.h): a \
first boot would format it and erase the firmware's tail. Freeze less, or make \
MICROPY_HW_FLASH_STORAGE_BYTES smaller\")
")
set(MICROPY_BOARD_LINKER_SCRIPT "${CMAKE_BINARY_DIR}/shimeji_pico_memmap.ld")

# Native and viper code's attribute loads and stores by the bytecode VM's instance fast path
# (../attrs: a user C module with no Python names, linked with --wrap; docs/boards.md).
list(APPEND USER_C_MODULES "${CMAKE_CURRENT_LIST_DIR}/../attrs/micropython.cmake")
