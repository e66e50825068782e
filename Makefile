# Every target sets itself up from a fresh machine: a venv with maturin, zig, pytest, mypy, ruff
# and hypothesis; the wheel and sdist a package index would carry (build/dist); that wheel
# installed into the venv, and into build/pkg for the other CPython versions (abi3: one wheel
# serves 3.10 to 3.13). Every test runs against that installed wheel.

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   := .venv
PY     := $(VENV)/bin/python
DIST   := build/dist
PKG    := build/pkg

export MPRS_PKG_DIR := $(abspath $(PKG))

.PHONY: demo test test-steps wheel build lint cross-check windows-test rust-test rust-bench stubtest py-test cpython-test package-test bench fuzz clean

demo: build
	$(PY) -m multiprocessing_rs demo
	$(PY) tests/demo_on_hosts.py
	$(PY) -m multiprocessing_rs bench

# Every test, in one run that fails if it leaves a named semaphore behind in /dev/shm.
test:
	scripts/no-leftover-semaphores.sh $(MAKE) --no-print-directory test-steps

test-steps: build lint cross-check windows-test rust-test stubtest py-test package-test cpython-test

$(VENV)/.ready: pyproject.toml Makefile
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q "maturin>=1.9,<2" "ziglang==0.17.1" "pytest>=8" "mypy>=1.10" "ruff==0.17.6" "hypothesis>=6.100"
	touch $@

# The abi3 wheel, tagged manylinux_2_17 (manylinux2014: glibc 2.17, 2012: RHEL/CentOS 7,
# Amazon Linux 2 and with it AWS Lambda's python3.10 and 3.11, Debian 8, Ubuntu 14.04 and later):
# maturin links it with zig against glibc 2.17's symbols, whatever this machine's glibc. Its
# compliance check fails the build on a newer versioned symbol, but a function 2.17 lacks links
# unversioned and passes it (tests/packaging/test_wheel.py catches those): preadv2 and pwritev2,
# glibc 2.26, are raw system calls for that reason.
# The unwinder is the system's libgcc_s.so.1, linked by path as a native build links it, not
# the copy of LLVM's libunwind that zig would bundle (cargo-zigbuild turns rustc's -lgcc_s into
# -lunwind). glibc's pthread_exit, which CPython 3.10-3.13 call to end a daemon thread that
# wakes up during interpreter exit, unwinds that thread with libgcc_s.so.1 through our frames;
# our personality routine then called the bundled _Unwind_* functions with libgcc's context and
# the process died of SIGSEGV at exit (a Manager's server in one run in four; see
# tests/python/test_exit_with_blocked_threads.py). libgcc_s.so.1 is on the manylinux allow-list.
# The flags live here, not in pyproject.toml, so that building the sdist on a user's machine
# needs no zig.
# The bench and demo ship in the wheel: `python -m multiprocessing_rs bench` lets a user measure
# stock against ours on their own machine before adopting it, the demo shows the override at
# work, both are stdlib-only and imported only when run (about 20 KB).
LIBGCC_S = $(shell cc -print-file-name=libgcc_s.so.1 2>/dev/null)

wheel: $(VENV)/.ready
	@test -f "$(LIBGCC_S)" || { echo "make wheel: no libgcc_s.so.1 (cc -print-file-name=libgcc_s.so.1)" >&2; exit 1; }
	rm -rf $(DIST)
	PATH="$(abspath $(VENV))/bin:$$PATH" $(VENV)/bin/maturin build --release --quiet --zig \
		--compatibility manylinux_2_17 --out $(DIST) -- -C link-arg=$(LIBGCC_S)
	$(VENV)/bin/maturin sdist --out $(DIST)

# The wheel `make wheel` built, installed as a user would: into the venv, and unpacked into
# build/pkg, which the tests put on PYTHONPATH for the other interpreters.
build: wheel
	rm -rf $(PKG)
	$(PY) -m pip install -q --force-reinstall --no-deps --no-index $(DIST)/*.whl
	$(PY) -m pip install -q --no-deps --no-index --target $(PKG) $(DIST)/*.whl

lint: $(VENV)/.ready
	cargo fmt --all --check
	cargo clippy --workspace --all-targets -- -D warnings
	RUSTDOCFLAGS="-D warnings" cargo doc -p mpcore --no-deps --quiet
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

# Lints both crates for Windows and macOS with clippy (installs Debian's rustc-web when missing).
cross-check:
	scripts/cross-check.sh

# Runs mpcore's Windows test binaries under Wine and links the extension into a Windows wheel
# (installs Wine and mingw-w64 when missing).
windows-test: $(VENV)/.ready
	MATURIN=$(abspath $(VENV))/bin/maturin scripts/wine-test.sh

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

# What users install: the wheel in fresh 3.10 and 3.13 venvs (no index), a wheel built from the
# sdist, and mpcore as `cargo package` makes it for crates.io.
package-test: build
	cargo package -p mpcore --allow-dirty --quiet
	$(PY) -m pytest -q tests/packaging

# CPython's own multiprocessing suite under the override, beside stock (see tests/cpython/run.py).
cpython-test: build
	$(PY) tests/cpython/run.py

bench: build
	$(PY) -m multiprocessing_rs bench

# The cargo-fuzz targets of fuzz/ (frame headers, the resumable receive, both handshake
# sides), FUZZ_SECONDS each (default 30); installs nightly and cargo-fuzz when missing. Not
# part of `make test`: `cargo test` replays the inputs kept in
# crates/mpcore/tests/fuzz_regressions/ instead.
fuzz:
	scripts/fuzz.sh

clean:
	rm -rf $(VENV) build target
