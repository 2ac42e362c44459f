// MicroPython's ESP32_GENERIC less what needs Espressif's binary blobs, which were not
// available: no WiFi (esp32-wifi-lib), no BLE, no mDNS. The REPL is on UART0, as on
// ESP32_GENERIC.
#define MICROPY_HW_BOARD_NAME               "ESP32 module (shimeji, no radio)"
#define MICROPY_HW_MCU_NAME                 "ESP32"

#define MICROPY_PY_NETWORK_WLAN             (0)
// Ethernet too: its LAN867x PHY driver is a component-registry package (espressif/lan867x)
#define MICROPY_PY_NETWORK_LAN              (0)
#define MICROPY_PY_ESPNOW                   (0)
#define MICROPY_PY_BLUETOOTH                (0)
#define MICROPY_HW_ENABLE_MDNS_QUERIES      (0)
#define MICROPY_HW_ENABLE_MDNS_RESPONDER    (0)
