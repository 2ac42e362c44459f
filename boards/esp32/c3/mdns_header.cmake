# mdns.h for the port's sources when ESP-IDF's component manager is off (SHIMEJI_ESP_EXTRAS)
target_include_directories(usermod INTERFACE $ENV{SHIMEJI_ESP_EXTRAS}/mdns/include)
