# Two commands do everything on a fresh clone: `make lab` and `make test`.
# Both create .venv on first use and are no-ops to re-run once it is current.
# `make test-fast` is the inner loop: the in-process tests on the real models, without a browser,
# a server or a child process (tests/marks.py sets those marks from what each test runs).

PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# llama-cpp-python ships as source only and compiles llama.cpp on install. A native build (-march=native)
# turns on the AMX kernels of recent Xeons, which crash llama.cpp's decode (segfault, seen with 0.3.36
# on a Sapphire Rapids VM); a portable AVX2 build runs on every x86-64 CPU of the last decade. The wheel
# is built once per set of flags and kept in WHEELS, so a fresh clone installs it in seconds.
LLAMA_CMAKE_ARGS ?= -DGGML_NATIVE=OFF
LLAMA_REQUIREMENT := $(shell grep -i '^llama-cpp-python' requirements.txt)
WHEELS := $(HOME)/.cache/raglab/wheels/$(shell echo '$(LLAMA_REQUIREMENT) $(LLAMA_CMAKE_ARGS)' | cksum | cut -d' ' -f1)

FAST := not (browser or server or subprocess or slow)

.PHONY: lab test test-fast bench browser

lab: $(STAMP)
	$(BIN)/raglab lab

test: $(STAMP) browser
	HF_HUB_OFFLINE=1 $(BIN)/python -m pytest

test-fast: $(STAMP)
	HF_HUB_OFFLINE=1 $(BIN)/python -m pytest -m "$(FAST)"

bench: $(STAMP)
	$(BIN)/python bench/ingest.py
	$(BIN)/python bench/ask.py
	$(BIN)/python bench/retrieval.py

$(STAMP): requirements.txt pyproject.toml Makefile
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	ls $(WHEELS)/llama_cpp_python-*.whl >/dev/null 2>&1 || CMAKE_ARGS="$(LLAMA_CMAKE_ARGS)" $(BIN)/python -m pip wheel \
		--quiet --no-deps --no-cache-dir --no-binary llama-cpp-python -w $(WHEELS) "$(LLAMA_REQUIREMENT)"
	$(BIN)/python -m pip install --quiet --no-deps --force-reinstall $(WHEELS)/llama_cpp_python-*.whl
	$(BIN)/python -m pip install --quiet -r requirements.txt
	$(BIN)/python -m pip install --quiet --no-deps --no-build-isolation -e .
	touch $(STAMP)

# The browser tests drive Debian's Chromium; install it when it is missing (needs root or sudo).
browser:
	@command -v chromium >/dev/null 2>&1 || { \
		SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
		$$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq chromium >/dev/null; }
