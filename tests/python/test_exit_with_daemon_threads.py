"""A program exits cleanly while daemon threads wait in our native calls.

Before 3.14, a thread that comes back from a wait without the GIL while the interpreter is
finalizing is ended with pthread_exit, a forced unwind through the frames of the native call.
PyO3 makes that thread hang instead, but only if the unwind reaches Rust's personality routine
through the same unwinder: an extension linked with a static unwinder of its own (zig's, for the
manylinux wheel) and not the system's libgcc_s crashed there, every time (status -11), and so
did manager processes at shutdown. Run several times, on stock and under the override.
"""

from pathlib import Path

from conftest import run_python

SCRIPT = Path(__file__).parent / "scripts" / "daemon_threads_at_exit.py"


def test_exit_status_is_zero_with_daemon_threads_waiting(version):
    for ours in (False, True):
        for _ in range(3):
            proc = run_python(version, [str(SCRIPT)], ours=ours, timeout=60)
            assert (proc.returncode, proc.stdout) == (0, "main exits\n"), (ours, proc.stderr[-2000:])
