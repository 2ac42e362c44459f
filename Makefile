# shimeji — every target sets up what it needs (a .venv with the pinned tools) by itself.
#   make run    the demo on the MicroPython unix port (the board when none is attached)
#   make test   CPython tests + the same tests on MicroPython + mpy-cross + lint

PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
MICROPYTHON := $(VENV)/bin/micropython
STAMP := $(VENV)/.installed-$(shell cksum < requirements.txt | cut -d' ' -f1)
ARCHS ?= x64,armv6m,armv7emsp,xtensawin

.PHONY: venv run test test-cpython test-micropython test-mpy lint clean bench

$(STAMP): requirements.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --disable-pip-version-check -r requirements.txt
	rm -f $(VENV)/.installed-*
	touch $@

venv: $(STAMP)

run: $(STAMP)
	MICROPYPATH=.frozen:firmware $(MICROPYTHON) examples/hello_tasks.py

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

# Benchmarks (not part of `make test`): shimeji vs MicroPython's asyncio, table + build/bench.json
bench: $(STAMP)
	$(PY) tools/bench.py --micropython $(MICROPYTHON)
