// shimeji's Pico: MicroPython's RPI_PICO with a smaller filesystem, so that the firmware with
// shimeji frozen fits the code space before it (docs/boards.md, "RP2040, session 19").
// RPI_PICO keeps the last 1408 KB of the 2 MB flash for littlefs (code space 640 KB); this
// board keeps 1280 KB (code space 768 KB, the filesystem from 0xc0000). The build fails when
// the firmware reaches into the filesystem (mpconfigboard.cmake's linker check).
#define MICROPY_HW_BOARD_NAME                   "Raspberry Pi Pico"
#define MICROPY_HW_FLASH_STORAGE_BYTES          (1280 * 1024)
