// shimeji's Pico: MicroPython's RPI_PICO with a smaller filesystem, so that the firmware with
// shimeji frozen fits the code space before it (docs/boards.md, "RP2040, session 19").
// RPI_PICO keeps the last 1408 KB of the 2 MB flash for littlefs (code space 640 KB); this
// board keeps 1280 KB (code space 768 KB, the filesystem from 0xc0000). The build fails when
// the firmware reaches into the filesystem (mpconfigboard.cmake's linker check).
#define MICROPY_HW_BOARD_NAME                   "Raspberry Pi Pico"
#define MICROPY_HW_FLASH_STORAGE_BYTES          (1280 * 1024)

// MicroPython's map look-up cache with 1024 entries, not the port's 128 (+896 B of RAM), as
// the stm32 builds have it (tools/stm32_build.py). A name's entry is picked by its qstr number
// (py/map.c; on this object model only every other entry: 64 of 128), and the frozen pool is
// sorted by name, so with 128 entries one frozen name more renumbered every later one and
// moved the spawn rows by up to 5 % (docs/boards.md, "RP2040, session 24").
#define MICROPY_OPT_MAP_LOOKUP_CACHE_SIZE       (1024)
