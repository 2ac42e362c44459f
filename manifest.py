# Freezes shimeji into MicroPython firmware:
#   make BOARD=... FROZEN_MANIFEST=/path/to/shimeji/manifest.py   (in a port directory)
# Board manifests in boards/ include this file and add their board module.
# include("../../manifest.py", bytecode=True) freezes a bytecode-only copy instead (written to
# build/bytecode/ by tools/bytecode_copy.py): boards/rp2040 does, because frozen native code
# faults on ARMv6-M (Cortex-M0+) with MicroPython's own mpy-tool.py; see docs/boards.md.
# include("../../manifest.py", word_align_native=True) keeps native code and has the freeze run
# a copy of mpy-tool.py patched to align it to 4 bytes (tools/native_align.py): boards/rp2040;
# word_align_native="rv32imc" does the same for the ESP32-C3 (boards/esp32).
options.defaults(bytecode=False, word_align_native=False)
metadata(
    description="shimeji: async runtime construction kit for MicroPython firmware",
    version="0.2.0",
    license="MIT",
)
if options.bytecode:
    import os
    import sys

    here = os.getcwd()  # MicroPython runs a manifest in its own directory
    sys.path.insert(0, os.path.join(here, "tools"))
    import bytecode_copy

    bytecode_copy.write_copy(os.path.join(here, "firmware", "shimeji"),
                             os.path.join(here, "build", "bytecode", "shimeji"))
    package("shimeji", base_path="build/bytecode")
else:
    if options.word_align_native:
        import os
        import sys

        here = os.getcwd()
        sys.path.insert(0, os.path.join(here, "tools"))
        import native_align

        arch = options.word_align_native
        native_align.install(os.path.join(here, "build", "mpy-tool" if arch is True else
                                          "mpy-tool-" + arch), patch=native_align.patch_for(arch))
    package("shimeji", base_path="firmware")
