# Every target sets itself up from a fresh machine: a venv with maturin, pytest, mypy and ruff, the
# extension built in release mode and installed into it, and a copy of the package in build/pkg
# for the other CPython versions (the wheel is abi3: one build serves 3.10 to 3.13).

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   := .venv
PY     := $(VENV)/bin/python
WHEELS := build/wheels
PKG    := build/pkg

export MPRS_PKG_DIR := $(abspath $(PKG))

.PHONY: demo test test-steps build lint cross-check rust-test rust-bench stubtest py-test cpython-test bench clean

demo: build
	$(PY) -m multiprocessing_rs demo
	$(PY) tests/demo_on_hosts.py
	$(PY) -m multiprocessing_rs bench

# Every test, in one run that fails if it leaves a named semaphore behind in /dev/shm.
test:
	scripts/no-leftover-semaphores.sh $(MAKE) --no-print-directory test-steps

test-steps: build lint cross-check rust-test stubtest py-test cpython-test

$(VENV)/.ready: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q "maturin>=1.9,<2" "pytest>=8" "mypy>=1.10" "ruff==0.17.6"
	touch $@

build: $(VENV)/.ready
	rm -rf $(WHEELS) $(PKG)
	$(VENV)/bin/maturin build --release --quiet --out $(WHEELS)
	$(PY) -m pip install -q --force-reinstall --no-deps $(WHEELS)/*.whl
	$(PY) -m pip install -q --no-deps --target $(PKG) $(WHEELS)/*.whl

lint: $(VENV)/.ready
	cargo fmt --all --check
	cargo clippy --workspace --all-targets -- -D warnings
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

# Type-checks both crates for Windows and macOS (installs Debian's rustc-web when missing).
cross-check:
	scripts/cross-check.sh

rust-test:
	cargo test --workspace

# Rust micro-benchmarks of mpcore (frame headers, SemLock fast paths, Connection over a
# socketpair); built only here, behind mpcore's `bench` feature. One area, or divan options:
# `make rust-bench BENCH_ARGS='--bench semaphore'`, `BENCH_ARGS='-- --sample-count 500'`.
rust-bench:
	cargo bench -p mpcore --features bench $(BENCH_ARGS)

stubtest: build
	$(PY) -m mypy.stubtest multiprocessing_rs

py-test: build
	$(PY) -m pytest

# CPython's own multiprocessing suite under the override, beside stock (see tests/cpython/run.py).
cpython-test: build
	$(PY) tests/cpython/run.py

bench: build
	$(PY) -m multiprocessing_rs bench

clean:
	rm -rf $(VENV) build target
