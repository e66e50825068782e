"""Shared fixtures: the CPython interpreters on this machine, and how to run a script on the
stock `_multiprocessing` or on ours in a separate interpreter."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "tests"))
from interpreters import find_interpreters  # noqa: E402
#: The installed package for interpreters other than the venv's (see the Makefile's build).
PKG_DIR = Path(os.environ.get("MPRS_PKG_DIR", REPO / "build" / "pkg"))

INTERPRETERS = find_interpreters()


def interpreter(version):
    if version not in INTERPRETERS:
        pytest.fail(f"CPython {version} is not installed on this machine (pyenv)")
    return INTERPRETERS[version]


def run_python(version, args, *, ours, env=None, timeout=120, **kwargs):
    """Runs `python<version> ARGS` on the stock module (ours=False) or under the override
    (ours=True: `python -m multiprocessing_rs run ARGS`). Returns the CompletedProcess."""
    python = interpreter(version)
    environ = dict(os.environ if env is None else env)
    environ["PYTHONPATH"] = os.pathsep.join(p for p in [str(PKG_DIR), environ.get("PYTHONPATH", "")] if p)
    command = [python, "-m", "multiprocessing_rs", "run", *args] if ours else [python, *args]
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
