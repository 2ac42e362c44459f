// MicroPython's ESP32_GENERIC_C3 less what needs Espressif's binary blobs that were not
// available: no WiFi (esp32-wifi-lib), no BLE (NimBLE at ESP-IDF v5.5.1's pin), no mDNS.
#define MICROPY_HW_BOARD_NAME               "ESP32C3 module (shimeji, Debian gcc)"
#define MICROPY_HW_MCU_NAME                 "ESP32C3"

#define MICROPY_HW_ENABLE_UART_REPL         (1)
#define MICROPY_PY_NETWORK_WLAN             (0)
#define MICROPY_PY_ESPNOW                   (0)
#define MICROPY_PY_BLUETOOTH                (0)
#define MICROPY_HW_ENABLE_MDNS_QUERIES      (0)
#define MICROPY_HW_ENABLE_MDNS_RESPONDER    (0)
