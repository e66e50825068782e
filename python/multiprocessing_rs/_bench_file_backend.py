"""The bench row of file-backed semaphores: ``Lock`` acquire+release with ours on files.

Which backend ours creates with is chosen once per process, and the bench process uses POSIX
semaphores, so the file-backed lock lives in a child process forced to files
(``MPRS_SEMAPHORES=file``, a private directory of its own). The child waits for a request,
runs one round of the same loop the other lock rows time, and answers the nanoseconds per
pair; the bench asks it in the rounds it would have measured ours in, so stock and ours still
alternate, round by round.
"""

import atexit
import os
import shutil
import subprocess
import sys
import tempfile


def serve(iterations):
    """The child: one answer (ns per acquire+release) per line read, until stdin closes."""
    from . import _native
    from .bench import _acquire_release_loop

    lock = _native.SemLock(1, 1, 1, f"/mprs-bench-file-{os.getpid()}", True)
    print(_native.semaphore_backend(), flush=True)
    one_round = _acquire_release_loop(lock.acquire, lock.release, iterations)
    for _ in sys.stdin:
        print(one_round(), flush=True)


class FileBackendLock:
    """A child process holding a file-backed ``Lock``, started at the first :meth:`round`
    (so a bench run whose ``--only`` leaves the row out starts none); :meth:`round` times one
    round in it."""

    def __init__(self, iterations):
        self._iterations = int(iterations)
        self._proc = None
        self._dir = None

    def _start(self):
        self._dir = tempfile.mkdtemp(prefix="mprs-bench-")
        env = dict(os.environ, MPRS_SEMAPHORES="file", MPRS_SEMAPHORE_DIR=os.path.join(self._dir, "private"))
        code = f"from multiprocessing_rs._bench_file_backend import serve; serve({self._iterations})"
        self._proc = subprocess.Popen(
            [sys.executable, "-c", code], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env=env
        )
        atexit.register(self.close)
        backend = self._proc.stdout.readline().strip()
        if backend != "file":
            self.close()
            raise RuntimeError(f"the file-backend bench child runs on {backend or 'nothing'!r} semaphores")

    def round(self):
        if self._proc is None:
            self._start()
        self._proc.stdin.write("\n")
        self._proc.stdin.flush()
        return float(self._proc.stdout.readline())

    def close(self):
        if self._proc is not None and self._proc.poll() is None:
            self._proc.stdin.close()
            try:
                self._proc.wait(10)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait()
        if self._dir is not None:
            shutil.rmtree(self._dir, ignore_errors=True)
