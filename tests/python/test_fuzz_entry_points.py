"""No native entry point lets a Rust panic out or crashes the interpreter, whatever it is given.

`scripts/fuzz_entry_points.py` calls every function of `multiprocessing_rs._native`, every
`SemLock` method and attribute, the patched `Connection` methods and the handshake with
arbitrary arguments (Hypothesis), under the override, in a process of its own: a crash is seen
as its exit signal, a `PanicException` (or any `BaseException` that is not an `Exception`) as
a failure shrunk to the smallest call that raises it. MPRS_FUZZ_EXAMPLES sets the examples per
target (default 200: about 15 s here); a bigger run by hand: ``MPRS_FUZZ_EXAMPLES=20000 pytest
tests/python/test_fuzz_entry_points.py``.
"""

import json
import os
import subprocess
import sys
from pathlib import Path

SCRIPT = Path(__file__).parent / "scripts" / "fuzz_entry_points.py"
EXAMPLES = int(os.environ.get("MPRS_FUZZ_EXAMPLES", "200"))
TARGETS = {
    "native_send_bytes",
    "native_recv_bytes",
    "native_recv_bytes_into",
    "native_poll",
    "native_wrong_arity",
    "native_auth",
    "native_sem_unlink",
    "semlock_new",
    "semlock_acquire",
    "semlock_methods",
    "semlock_rebuild",
    "connection_methods",
    "connection_poll",
    "handshake",
}


def fuzz_semaphores():
    return set(Path("/dev/shm").glob("sem.mprs-fuzz-*"))


def test_no_entry_point_panics_or_crashes(tmp_path):
    report_path = tmp_path / "report.json"
    before = fuzz_semaphores()
    command = [sys.executable, "-m", "multiprocessing_rs", "run", str(SCRIPT), str(EXAMPLES), str(report_path)]
    proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        _, stderr = proc.communicate(timeout=60 + EXAMPLES)
    except subprocess.TimeoutExpired:  # a call that waits forever (poll(2) of a bad descriptor)
        proc.kill()
        _, stderr = proc.communicate()
    running = [line for line in stderr.splitlines() if line.startswith("fuzzing ")][-1:]
    assert proc.returncode == 0, f"exit status {proc.returncode} while {running}\n{stderr[-3000:]}"
    report = json.loads(report_path.read_text())
    assert set(report) == TARGETS
    assert all(result["calls"] > 0 for result in report.values())
    failures = {name: result["failure"] for name, result in report.items() if result["failure"]}
    assert not failures
    assert fuzz_semaphores() == before
