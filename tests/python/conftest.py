"""Shared fixtures: the CPython interpreters on this machine, and how to run a script (the
files in `scripts/`) on the stock `_multiprocessing` or on ours in a separate interpreter."""

import json
import os
import queue
import subprocess
import sys
import threading
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "tests"))
import interpreters  # noqa: E402

#: The installed package for interpreters other than the venv's (see the Makefile's build).
PKG_DIR = Path(os.environ.get("MPRS_PKG_DIR", REPO / "build" / "pkg"))

#: The programs the tests run in other interpreters, one file each.
SCRIPTS = Path(__file__).resolve().parent / "scripts"


def script(name):
    """The path of `scripts/NAME`, as a command-line argument."""
    path = SCRIPTS / name
    assert path.is_file(), f"no script {path}"
    return str(path)


# The modules the scripts share (`pickled_objects`, ...) are the tests' too.
sys.path.append(str(SCRIPTS))


INTERPRETERS = interpreters.find_interpreters()


def interpreter(version):
    return interpreters.interpreter(version, INTERPRETERS)


def python_command(version, args, *, ours, env=None):
    """The command line and environment that run `python<version> ARGS` on the stock module
    (ours=False) or under the override (ours=True: `python -m multiprocessing_rs run ARGS`),
    with the built package importable."""
    python = interpreter(version)
    environ = dict(os.environ if env is None else env)
    environ["PYTHONPATH"] = os.pathsep.join(p for p in [str(PKG_DIR), environ.get("PYTHONPATH", "")] if p)
    command = [python, "-m", "multiprocessing_rs", "run", *args] if ours else [python, *args]
    return command, environ


def run_python(version, args, *, ours, env=None, timeout=120, **kwargs):
    """Runs :func:`python_command` to completion. Returns the CompletedProcess."""
    command, environ = python_command(version, args, ours=ours, env=env)
    return subprocess.run(command, env=environ, capture_output=True, text=True, timeout=timeout, **kwargs)


def run_json(version, args, *, ours, **kwargs):
    """`run_python`, expecting the script to print one JSON document on stdout."""
    proc = run_python(version, args, ours=ours, **kwargs)
    assert proc.returncode == 0, f"exit {proc.returncode}\nstdout:\n{proc.stdout}\nstderr:\n{proc.stderr}"
    return json.loads(proc.stdout)


@pytest.fixture(params=sorted(INTERPRETERS))
def version(request):
    """Each CPython version found on the machine."""
    return request.param


def run_json_both(version, args, **kwargs):
    """`run_json` on the stock module and on ours, side by side (two interpreters at once).
    Returns ``(stock, ours)``."""
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(max_workers=2) as pool:
        stock = pool.submit(run_json, version, args, ours=False, **kwargs)
        ours = pool.submit(run_json, version, args, ours=True, **kwargs)
        return stock.result(), ours.result()


#: Prefix of every semaphore name the SemLock tests create: this pytest process's own, so a
#: leftover check never sees another run's semaphores.
SEM_PREFIX = f"/mprs-t-{os.getpid()}-"


def leftover_semaphores():
    """Semaphores with :data:`SEM_PREFIX` still in /dev/shm (Linux names them ``sem.NAME``)."""
    return sorted(p.name for p in Path("/dev/shm").glob(f"sem.{SEM_PREFIX.lstrip('/')}*"))


@pytest.fixture(scope="module")
def no_leftover_semaphores():
    """Fails the module's last test if it left a semaphore with :data:`SEM_PREFIX` behind."""
    before = leftover_semaphores()
    yield
    after = leftover_semaphores()
    assert after == before, f"semaphores left in /dev/shm: {sorted(set(after) - set(before))}"


def popen_python(version, args, *, ours, env=None, **kwargs):
    """`run_python`, started in the background: returns the Popen (text pipes for stdout and
    stderr, and stdin unless given). The caller waits with a timeout and kills on failure."""
    command, environ = python_command(version, args, ours=ours, env=env)
    kwargs.setdefault("stdin", subprocess.DEVNULL)
    return subprocess.Popen(command, env=environ, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, **kwargs)


class Peer:
    """A script started with `popen_python` that reports one JSON document per stdout line.
    `event()` waits for the next one, `finish()` for the exit status; neither waits forever,
    and leaving the `with` block kills the process if it is still running."""

    def __init__(self, version, args, *, ours):
        self.proc = popen_python(version, args, ours=ours)
        self.what = f"{'ours' if ours else 'stock'} {version} {' '.join(args)}"
        self._lines = queue.Queue()
        self._stderr = []
        self._threads = [
            threading.Thread(target=self._pump, daemon=True),
            threading.Thread(target=lambda: self._stderr.append(self.proc.stderr.read()), daemon=True),
        ]
        for thread in self._threads:
            thread.start()

    def _pump(self):
        for line in self.proc.stdout:
            self._lines.put(line)
        self._lines.put(None)

    def stderr(self):
        self._threads[1].join(5)
        return "".join(self._stderr)

    def event(self, timeout=30):
        """The next JSON line."""
        try:
            line = self._lines.get(timeout=timeout)
        except queue.Empty:
            self.kill()
            pytest.fail(f"no report within {timeout} s from {self.what}\n{self.stderr()}")
        if line is None:
            self.proc.wait(10)
            pytest.fail(f"{self.what} exited ({self.proc.returncode}) without a report\n{self.stderr()}")
        return json.loads(line)

    def finish(self, timeout=30):
        """Waits for the exit and returns the status."""
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            pytest.fail(f"{self.what} did not exit within {timeout} s\n{self.stderr()}")

    def kill(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.kill()


class BackgroundRuns:
    """Scripts started together in the background and collected later by key: they spend most
    of their time waiting, so they overlap well. `report(key)` waits (at most `timeout`
    seconds) for one to exit and returns the JSON document it printed, failing the test if it
    hung or failed; leaving the `with` block kills whatever was not collected."""

    def __init__(self, timeout=120):
        self.timeout = timeout
        self._running = {}
        self._reports = {}

    def start(self, key, version, args, *, ours):
        self._running[key] = popen_python(version, args, ours=ours)

    def report(self, key):
        if key not in self._reports:
            proc = self._running.pop(key)
            try:
                out, err = proc.communicate(timeout=self.timeout)
            except subprocess.TimeoutExpired:
                proc.kill()
                out, err = proc.communicate()
                pytest.fail(f"run {key} did not finish within {self.timeout} s\n{err}")
            assert proc.returncode == 0, f"run {key}: exit {proc.returncode}\n{out}\n{err}"
            self._reports[key] = json.loads(out)
        return self._reports[key]

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        for proc in self._running.values():
            proc.kill()
            proc.communicate()
        self._running.clear()
