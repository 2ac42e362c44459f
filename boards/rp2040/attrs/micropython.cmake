# shimeji's RP2040 board (boards/rp2040/pico/mpconfigboard.cmake adds it to USER_C_MODULES):
# attrs.c, linked with --wrap so that native and viper code's attribute loads and stores take
# the bytecode VM's instance fast path. No Python names: nothing to import.
add_library(usermod_shimeji_attrs INTERFACE)
target_sources(usermod_shimeji_attrs INTERFACE ${CMAKE_CURRENT_LIST_DIR}/attrs.c)
target_link_options(usermod_shimeji_attrs INTERFACE
    "LINKER:--wrap=mp_load_attr" "LINKER:--wrap=mp_store_attr")
target_link_libraries(usermod INTERFACE usermod_shimeji_attrs)
