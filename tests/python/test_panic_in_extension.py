"""A Rust panic inside the built extension unwinds to the binding's `catch_unwind` and reaches
Python as `PanicException`, the process going on, with the unwinder the wheel links (the
system's libgcc_s.so.1: see the Makefile's `wheel`); the panic's backtrace walks the stack.

The panic is provoked from outside: an LD_PRELOAD library makes `clock_gettime` fail for the
extension alone, and Rust's `Instant::now()` panics on that failure."""

import json
import os
import re
import subprocess
from pathlib import Path

import pytest

from conftest import run_python, script

PRELOAD_SOURCE = Path(__file__).resolve().parent / "preload" / "clock_fails_in_extension.c"


@pytest.fixture(scope="module")
def clock_fails_in_extension(tmp_path_factory):
    library = tmp_path_factory.mktemp("preload") / "clock_fails_in_extension.so"
    subprocess.run(["cc", "-shared", "-fPIC", "-O2", "-o", library, PRELOAD_SOURCE, "-ldl"], check=True)
    return library


def test_a_panic_in_the_extension_becomes_PanicException(version, clock_fails_in_extension):
    env = dict(os.environ, LD_PRELOAD=str(clock_fails_in_extension), RUST_BACKTRACE="full")
    proc = run_python(version, [script("panic_in_poll.py")], ours=True, env=env)
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout)
    assert report["then"] == "after the panic"
    name, message = report["caught"]
    assert name == "PanicException"
    assert "code: 22" in message, message  # the EINVAL the library returned
    # The backtrace std prints walked through the extension's frames into the interpreter's.
    frames = re.findall(r"^\s*\d+:\s+0x[0-9a-f]+", proc.stderr, re.MULTILINE)
    assert len(frames) >= 10, proc.stderr
