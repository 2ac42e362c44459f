# Freezes shimeji into MicroPython firmware:
#   make BOARD=... FROZEN_MANIFEST=/path/to/shimeji/manifest.py   (in a port directory)
# Board manifests in boards/ include this file and add their board module.
metadata(
    description="shimeji: async runtime construction kit for MicroPython firmware",
    version="0.2.0",
    license="MIT",
)
package("shimeji", base_path="firmware")
