# Two commands do everything on a fresh clone: `make lab` and `make test`.
# Both create .venv on first use and are no-ops to re-run once it is current.
# `make test-fast` is the inner loop: the in-process tests on the real models, without a browser,
# a server or a child process (tests/marks.py sets those marks from what each test runs).

PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# llama-cpp-python ships as source only and compiles llama.cpp on install, here for the CPU it runs on
# (-march=native): on the 2-core Xeon, AVX-512 reads prompts 1.4x faster than a portable AVX2 build
# (docs/benchmarks.md). AMX is left out where the CPU has it: its kernels crash llama.cpp's decode on
# Sapphire Rapids VMs (segfault in ggml_backend_amx_mul_mat, llama.cpp issue 20824, unfixed upstream).
# The wheel is built once per CPU and set of flags and kept in WHEELS, so a fresh clone installs it in
# seconds; a different CPU gets its own wheel instead of one that could stop on an unknown instruction.
LLAMA_CMAKE_ARGS ?= -DGGML_NATIVE=ON
LLAMA_CFLAGS ?= $(shell grep -qw amx_tile /proc/cpuinfo 2>/dev/null && echo -mno-amx-tile -mno-amx-int8 -mno-amx-bf16)
LLAMA_REQUIREMENT := $(shell grep -i '^llama-cpp-python' requirements.txt)
CPU_FEATURES := $(shell grep -m1 -E '^(flags|Features)' /proc/cpuinfo 2>/dev/null || uname -m)
WHEELS := $(HOME)/.cache/raglab/wheels/$(shell echo '$(LLAMA_REQUIREMENT) $(LLAMA_CMAKE_ARGS) $(LLAMA_CFLAGS) $(CPU_FEATURES)' | cksum | cut -d' ' -f1)

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
	ls $(WHEELS)/llama_cpp_python-*.whl >/dev/null 2>&1 || CMAKE_ARGS="$(LLAMA_CMAKE_ARGS)" \
		CFLAGS="$(LLAMA_CFLAGS)" CXXFLAGS="$(LLAMA_CFLAGS)" $(BIN)/python -m pip wheel \
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
