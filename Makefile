# shimeji — every target sets up what it needs (a .venv with the pinned tools) by itself.
#   make run    the demo on the MicroPython unix port (the board when none is attached)
#   make example NAME=blink [RUNTIME=cpython]   one example here, on the unix board
#   make test   CPython tests + the same tests on MicroPython + mpy-cross + lint

PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
MICROPYTHON := $(VENV)/bin/micropython
STAMP := $(VENV)/.installed-$(shell cksum < requirements.txt | cut -d' ' -f1)
ARCHS ?= x64,armv6m,armv7emsp,xtensawin
DEMO_SECONDS ?= 4

.PHONY: venv run example test test-cpython test-micropython test-mpy lint clean

# The stamp's name is the requirements' checksum, so the venv is made again when they change,
# not when requirements.txt is merely newer (a checkout, or a .venv linked to another tree's
# venv made before it). A linked venv made from other requirements is not touched.
$(STAMP):
	@if [ -L $(VENV) ]; then echo "$(VENV) is a link to $$(readlink $(VENV)), a venv made from other requirements than this tree's requirements.txt: remove the link and run make venv (each tree makes its own)"; exit 2; fi
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --disable-pip-version-check -r requirements.txt
	rm -f $(VENV)/.installed-*
	touch $@

venv: $(STAMP)

run: $(STAMP)
	@$(PY) tools/run_demo.py --seconds $(DEMO_SECONDS) $(if $(PORT),--port $(PORT)) $(if $(BOARD),--board $(BOARD))

# make example NAME=policies [RUNTIME=micropython|cpython] [ARGS="2"]   (examples/NAME.py)
RUNTIME ?= micropython
example: $(STAMP)
	@$(PY) tools/run_example.py --runtime "$(RUNTIME)" "$(NAME)" $(ARGS)

test: $(STAMP)
	@rc=0; \
	$(MAKE) --no-print-directory test-cpython || rc=1; \
	$(MAKE) --no-print-directory test-micropython || rc=1; \
	$(MAKE) --no-print-directory test-mpy || rc=1; \
	$(MAKE) --no-print-directory lint || rc=1; \
	if [ $$rc -eq 0 ]; then echo "make test: all parts passed"; \
	else echo "make test: FAILED (see above)"; fi; \
	exit $$rc

test-cpython: $(STAMP)
	$(PY) -m pytest -q host_tests

test-micropython: $(STAMP)
	$(PY) tools/mptest.py --micropython $(MICROPYTHON)

test-mpy: $(STAMP)
	$(PY) tools/mpy_compile.py --arch $(ARCHS) --out build/mpy-check

lint: $(STAMP)
	$(VENV)/bin/ruff check firmware host_tests tools

clean:
	rm -rf build .pytest_cache

# -- boards, firmware and device tooling (issue 6) ------------------------------------------
# Board stubs live in their own directories (.venv/stubs/<package>): each ships a `machine`.
# The stamp names the stubs' checksum (as the venv's: made again when they change).
STUBS_STAMP := $(VENV)/stubs/.installed-$(shell cksum < requirements-stubs.txt | cut -d' ' -f1)

.PHONY: typecheck lint-more

$(STUBS_STAMP): | $(STAMP)
	$(PY) tools/typecheck.py --install-only
	touch $@

typecheck: $(STUBS_STAMP)
	$(PY) tools/typecheck.py

test-cpython: $(STUBS_STAMP)

lint: lint-more

lint-more: $(STAMP)
	$(VENV)/bin/ruff check boards/*/shimeji_board.py examples

# make firmware BOARD=qemu MICROPY_DIR=~/micropython   (boards/: rp2040 esp32 stm32 unix qemu)
# make firmware BOARD=stm32 EMULATED=1 MICROPY_DIR=...  (B_L475E_IOT01A for qemu >= 9.0)
# make firmware BOARD=esp32 CHIP=c3 MICROPY_DIR=...    (ESP32-C3: ESP-IDF v5.5 exported first)
# make firmware BOARD=esp32 CHIP=esp32 MICROPY_DIR=... (classic Xtensa ESP32, no radio: the same)
# make firmware BOARD=rp2040|qemu|stm32 RAM=1 ...      (then boots it: RAM after import, as footprint)
# make qemu-boot MICROPY_DIR=...                        (build, then boot on a pty)
# make deploy [PORT=/dev/ttyACM0] [EXAMPLE=examples/blink.py]
# make repl [PORT=...]       make vboard   (the unix port on a pty, a board to deploy to)
# Without MICROPY_DIR, firmware and qemu-boot say what to fetch and skip (exit status 0).
.PHONY: firmware qemu-boot deploy repl vboard package-json

firmware: $(STAMP)
	@$(PY) tools/firmware.py "$(BOARD)" --micropy-dir "$(MICROPY_DIR)" $(if $(EMULATED),--emulated) $(if $(NETWORK),--network $(NETWORK)) $(if $(CHIP),--chip $(CHIP)) $(if $(filter-out 0,$(RAM)),--ram)

qemu-boot: $(STAMP)
	@$(PY) tools/firmware.py qemu --micropy-dir "$(MICROPY_DIR)" --boot

deploy: $(STAMP)
	@$(PY) tools/device.py deploy $(if $(PORT),--port $(PORT)) $(if $(EXAMPLE),--example $(EXAMPLE))

repl: $(STAMP)
	@$(PY) tools/device.py repl $(if $(PORT),--port $(PORT))

vboard: $(STAMP)
	@$(PY) tools/vboard.py

package-json: $(STAMP)
	$(PY) tools/package_json.py

# The qemu firmware tests (host_tests/test_tools_qemu_firmware.py) run when MICROPY_DIR is given.
export MICROPY_DIR

# make test-firmware BOARD=qemu|rp2040|stm32|esp32 [MICROPY_DIR=...]   the host tests on firmware
#   [TESTS="host_tests/test_x.py ..."] some modules only; [DUAL=1] (rp2040) both cores, in the
#   two-core emulator (RP2040JS_DUAL_DIR): the executor's tests run on core 1 too; [MPY=1]
#   (rp2040) shimeji from armv6m .mpy files in /lib (a flash image), not the frozen copy;
#   stm32 boots a test image with the tests frozen in (build/firmware/stm32-qemu-tests, rebuilt
#   when a test changed), then a second with those past its flash budget (stm32-qemu-tests2):
#   qemu's STM32 USART is too slow to mount them (docs/boards.md)
# make emulate BOARD=rp2040|qemu|stm32|esp32 [MICROPY_DIR=...]   the firmware's REPL in an emulator
#   (esp32: the ESP32-C3 firmware, CHIP=c3, in Espressif's qemu fork named by ESP32_QEMU;
#   CHIP=esp32: the classic ESP32 in the same fork's qemu-system-xtensa, ESP32_XTENSA_QEMU)
# Without firmware or emulator both say why and skip (exit status 0).
.PHONY: test-firmware emulate
test-firmware: $(STAMP)
	@$(PY) tools/fwtest.py "$(or $(BOARD),qemu)" --micropy-dir "$(MICROPY_DIR)" $(if $(PORT),--port $(PORT)) $(if $(JOBS),--jobs $(JOBS)) $(if $(filter-out 0,$(DUAL)),--dual) $(if $(filter-out 0,$(MPY)),--mpy) $(TESTS)

# make netboard [MICROPY_DIR=...]   the stm32 qemu board on a network (lwIP PPP on USART2, slirp
#   in its own network namespace): the echo server and HTTP status examples run on the board,
#   real TCP clients here; prints the figures (tools/netboard.py, docs/boards.md)
.PHONY: netboard
netboard: $(STAMP)
	@$(PY) tools/netboard.py --micropy-dir "$(MICROPY_DIR)"

emulate: $(STAMP)
	@$(PY) tools/emulate.py "$(or $(BOARD),rp2040)" --micropy-dir "$(MICROPY_DIR)" $(if $(filter-out 0,$(DUAL)),--dual)

# Benchmarks (not part of `make test`): shimeji vs MicroPython's asyncio, table + build/bench.json
.PHONY: bench
# make bench BOARD=qemu|stm32|rp2040|esp32: the same workloads on the firmware
# (tools/fwbench.py), against the asyncio frozen into it; qemu, stm32 (qemu's b-l475e-iot01a,
# STM32_QEMU) and esp32 (the C3 in Espressif's qemu, ESP32_QEMU) count instructions (-icount),
# rp2040 runs in rp2040js; esp32 CHIP=esp32 (the classic ESP32, which does not boot with
# -icount) runs on the host's clock: take ranges over runs.
bench: $(STAMP)
	$(if $(filter qemu stm32 rp2040 esp32,$(BOARD)),$(PY) tools/fwbench.py $(BOARD) --micropy-dir "$(MICROPY_DIR)",$(PY) tools/bench.py --micropython $(MICROPYTHON))

# make footprint BOARD=qemu|rp2040|stm32 [RAM=1]: flash (and RAM) of shimeji in the firmware
#   [MODULES=shimeji.asyncio] each module of a subpackage too; [MPY=1] (rp2040) the RAM with
#   shimeji from armv6m .mpy files in /lib (the make deploy path), not the frozen copy;
#   [EMULATED=1] (stm32) the build for qemu (make firmware BOARD=stm32 EMULATED=1)
.PHONY: footprint
footprint: $(STAMP)
	@$(PY) tools/footprint.py "$(or $(BOARD),qemu)" $(if $(filter-out 0,$(RAM)),--ram) $(if $(MODULES),--modules $(MODULES)) $(if $(filter-out 0,$(MPY)),--mpy) $(if $(filter-out 0,$(EMULATED)),--emulated)

# Traces (issue 17): make trace EXAMPLE=examples/demo.py [SECONDS=2] -> build/trace/<name>.json/.png
#                    make top PORT=...   the live task table of a board's (or vboard's) scheduler
.PHONY: trace top
trace: $(STAMP)
	$(PY) tools/trace.py run $(or $(EXAMPLE),examples/demo.py) --seconds $(or $(SECONDS),2)

top: $(STAMP)
	@$(PY) tools/trace.py top $(if $(PORT),--port $(PORT))

# -- MicroPython's own asyncio suite on shimeji.asyncio (issue 13) ---------------------------
# make test-asyncio-suite MICROPY_DIR=/path/to/micropython (a source tree, tag v1.28.0); without
# it the target says it is skipped and why. The tests are run from that tree, never copied here.
.PHONY: test-asyncio-suite
test-asyncio-suite: $(STAMP)
	@$(PY) tools/asyncio_suite.py $(if $(MICROPY_DIR),--micropy-dir $(MICROPY_DIR)) --micropython $(MICROPYTHON)

# -- MicroPython with a GIL (ESP32's threading model, on the host) ---------------------------
# make micropython-gil MICROPY_DIR=...   the unix port built with MICROPY_PY_THREAD_GIL=1 into
#   GIL_BUILD (default: $(MICROPY_DIR)/ports/unix/build-gil, outside this repo)
#   (a tree without submodules: add MICROPY_PY_SSL=0, and FROZEN_MANIFEST= or a manifest and
#   an MPY_LIB_DIR holding a README.md: docs/executor.md, "One core with a GIL")
# make test-gil [MICROPY_GIL_BIN=...]    host_tests/test_platform_gil.py (an idle thread hands
#   the GIL over) and the thread-heavy modules on that build, on both cores and then on one
#   CPU under each real-time policy (GIL_ONE_CORE: as FreeRTOS runs threads on a one-core
#   ESP32-C3); without a binary: skipped, why; without the right to use chrt: that pass, why
GIL_ONE_CORE ?= taskset -c 0 chrt -f 1,taskset -c 0 chrt -r 1
GIL_BUILD ?= $(if $(MICROPY_DIR),$(abspath $(MICROPY_DIR))/ports/unix/build-gil)
MICROPY_GIL_BIN ?= $(if $(GIL_BUILD),$(wildcard $(GIL_BUILD)/micropython))
GIL_TESTS ?= host_tests/test_executor.py host_tests/test_executor_races.py \
	host_tests/test_executor_stress.py host_tests/test_sched_background.py \
	host_tests/test_time_ring_sleep_threads.py host_tests/test_sched_irq_wake.py \
	host_tests/test_platform_idle_wait.py host_tests/test_executor_softirq.py \
	host_tests/test_executor_misuse.py host_tests/test_executor_trace.py \
	host_tests/test_executor_injector.py host_tests/test_executor_gil.py \
	host_tests/test_executor_stealing.py host_tests/test_executor_sharing.py \
	host_tests/test_executor_rings.py host_tests/test_executor_section_heap.py \
	host_tests/test_executor_trace_heap.py host_tests/test_errors_in_sections.py \
	host_tests/test_executor_context.py host_tests/test_executor_context_io.py \
	host_tests/test_executor_levels.py host_tests/test_executor_facade.py \
	host_tests/test_executor_facade_sync.py host_tests/test_executor_facade_streams.py
.PHONY: micropython-gil test-gil
micropython-gil:
ifeq ($(MICROPY_DIR),)
	@echo "micropython-gil: skipped: give MICROPY_DIR (a MicroPython v1.28 source tree; docs/executor.md, \"One core with a GIL\")"
else
	$(MAKE) -C $(MICROPY_DIR)/mpy-cross  # first: BUILD= below would reach its sub-make too
	$(MAKE) -C $(MICROPY_DIR)/ports/unix VARIANT=standard BUILD=$(GIL_BUILD) \
		MICROPY_PY_THREAD_GIL=1 MICROPY_PY_BTREE=0 MICROPY_PY_FFI=0
	@$(GIL_BUILD)/micropython -c "import sys; print('built', sys.implementation)"
endif

test-gil: $(STAMP)
	@if [ -z "$(MICROPY_GIL_BIN)" ]; then \
		echo "test-gil: skipped: no MicroPython with a GIL (MICROPY_GIL_BIN=..., or make micropython-gil MICROPY_DIR=... first)"; \
	else \
		MICROPY_GIL_BIN=$(MICROPY_GIL_BIN) $(PY) -m pytest -q host_tests/test_platform_gil.py && \
		$(PY) tools/mptest.py --micropython $(MICROPY_GIL_BIN) $(GIL_TESTS) && \
		modes='$(GIL_ONE_CORE)'; IFS=,; for wrap in $$modes; do IFS=' '; \
			if $$wrap true 2>/dev/null; then echo "test-gil: one CPU: $$wrap"; \
				$(PY) tools/mptest.py --micropython $(MICROPY_GIL_BIN) --wrap "$$wrap" \
					--timeout 120 $(GIL_TESTS) || exit 1; \
			else echo "test-gil: one-CPU pass skipped: '$$wrap' is not permitted here" \
				"(chrt needs root or CAP_SYS_NICE; taskset must exist)"; fi; \
		done; \
	fi
