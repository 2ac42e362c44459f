# mdns.h for the port's sources (the component manager would bring espressif/mdns; it is off)
target_include_directories(usermod INTERFACE $ENV{SHIMEJI_ESP_EXTRAS}/mdns/include)
