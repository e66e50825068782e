"""File-backed semaphores and SharedMemory where ``/dev/shm`` cannot hold them.

* On simulated hosts (``tests/hostshape.py``: a read-only ``/dev/shm``, no ``/dev/shm``), what a
  new user tries first (``scripts/host_check.py``) fails on stock, every case with every start method
  (the baseline), and works on ours, which chose the file backend by itself.
* The resource tracker removes file-backed semaphores and shared memory that a killed process
  leaked, as it removes POSIX ones.
* On a normal host ours keeps POSIX semaphores (so stock ``-E`` children interoperate), and
  ``MPRS_SEMAPHORES`` forces either backend; forced to files, ours still passes the SemLock
  parity and signal suites against stock, case for case.

Every test gives ours a private directory of its own (``MPRS_SEMAPHORE_DIR``) and checks that
nothing is left in it.
"""

import json
import os
import signal
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from conftest import REPO, python_command, run_python, script

sys.path.insert(0, str(REPO / "tests"))
import hostshape  # noqa: E402

HERE = Path(__file__).resolve().parent
HOST_CHECK = script("host_check.py")
VERSIONS = ("3.11", "3.13")


def require_shapes():
    why_not = hostshape.available()
    if why_not:
        pytest.fail(f"these tests need simulated hosts: {why_not}")


def private_env(directory, **extra):
    return dict(os.environ, MPRS_SEMAPHORE_DIR=str(directory), **extra)


def leftovers(directory):
    return sorted(os.listdir(directory)) if os.path.isdir(directory) else []


def run_in_shape(shape, version, args, *, ours, env, timeout=300):
    command, environ = python_command(version, args, ours=ours, env=env)
    return hostshape.run(shape, command, env=environ, capture_output=True, text=True, timeout=timeout)


@pytest.fixture(scope="module")
def host_checks(tmp_path_factory):
    """{(shape, version, side): report} of host_check.py, every combination, two at a time."""
    require_shapes()
    jobs = {}
    for shape in hostshape.PROBLEM_SHAPES:
        for version in VERSIONS:
            for side in ("stock", "ours"):
                private = tmp_path_factory.mktemp(f"{shape}-{version}-{side}") / "private"
                jobs[shape, version, side] = private

    def check(key):
        shape, version, side = key
        proc = run_in_shape(shape, version, [HOST_CHECK], ours=side == "ours", env=private_env(jobs[key]))
        assert proc.returncode == 0, f"{key}: exit {proc.returncode}\n{proc.stderr[-3000:]}"
        return dict(json.loads(proc.stdout), left=leftovers(jobs[key]))

    with ThreadPoolExecutor(max_workers=2) as pool:
        return dict(zip(jobs, pool.map(check, jobs)))


@pytest.mark.parametrize("version", VERSIONS)
@pytest.mark.parametrize("shape", hostshape.PROBLEM_SHAPES)
def test_stock_fails_everything_on_the_simulated_host(host_checks, shape, version):
    report = host_checks[shape, version, "stock"]
    assert report["module"] == "stock"
    worked = [(m, case) for m, cases in report["results"].items() for case, r in cases.items() if r == "ok"]
    assert worked == [], f"stock worked on {shape}: the host shape no longer reproduces the problem"
    assert len(report["results"]) == 3


@pytest.mark.parametrize("version", VERSIONS)
@pytest.mark.parametrize("shape", hostshape.PROBLEM_SHAPES)
def test_ours_works_on_the_simulated_host_with_every_start_method(host_checks, shape, version):
    report = host_checks[shape, version, "ours"]
    assert report["module"] == "ours"
    assert report["backend"] == "file", "ours did not switch to file-backed semaphores by itself"
    failed = {f"{m} {case}": r for m, cases in report["results"].items() for case, r in cases.items() if r != "ok"}
    assert failed == {}
    assert sorted(report["results"]) == ["fork", "forkserver", "spawn"]
    assert report["left"] == [], "left in the private directory"


LEAKER = r"""
import multiprocessing as mp, sys, time
from multiprocessing import shared_memory
mp.set_start_method("spawn")
lock = mp.Lock()                     # a named semaphore, registered with the resource tracker
shm = shared_memory.SharedMemory(create=True, size=16)
print(lock._semlock.name, shm._name, flush=True)
time.sleep(60)
"""


@pytest.mark.parametrize("shape", hostshape.PROBLEM_SHAPES)
def test_the_resource_tracker_removes_what_a_killed_process_leaked(tmp_path, shape):
    require_shapes()
    private = tmp_path / "private"
    command, environ = python_command("3.11", ["-c", LEAKER], ours=True, env=private_env(private))
    proc = hostshape.popen(shape, command, env=environ, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        names = proc.stdout.readline().split()
        assert len(names) == 2, proc.stderr.read()
        made = leftovers(private)
        proc.send_signal(signal.SIGKILL)
        proc.wait(30)
        # The tracker notices its last client is gone, unlinks what was registered, and says so.
        deadline = time.monotonic() + 30
        while leftovers(private) and time.monotonic() < deadline:
            time.sleep(0.1)
        tracker = proc.stderr.read()
    finally:
        proc.kill()
        proc.wait()
    semaphore, memory = names
    assert sorted(made) == sorted(["sem." + semaphore.lstrip("/"), memory.lstrip("/")])
    assert leftovers(private) == [], "the resource tracker left them"
    assert "leaked semaphore objects" in tracker and "leaked shared_memory objects" in tracker, tracker


@pytest.mark.parametrize("version", VERSIONS)
def test_a_normal_host_keeps_posix_semaphores(tmp_path, version):
    script = (
        "import json, os, _multiprocessing as m\n"
        "lock = m.SemLock(1, 1, 1, '/mp-fb-normal-%d' % os.getpid(), False)\n"
        "on_shm = os.path.exists('/dev/shm/sem.mp-fb-normal-%d' % os.getpid())\n"
        "m.sem_unlink(lock.name)\n"
        "print(json.dumps([m._native.semaphore_backend(), on_shm]))\n"
    )
    proc = run_python(version, ["-c", script], ours=True, env=private_env(tmp_path / "private"))
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout) == ["posix", True]
    assert not (tmp_path / "private").exists(), "the file backend made its directory on a normal host"


@pytest.mark.parametrize("version", VERSIONS)
def test_the_environment_forces_file_backed_semaphores(tmp_path, version):
    private = tmp_path / "private"
    script = (
        "import json, os, _multiprocessing as m\n"
        "name = '/mp-fb-forced-%d' % os.getpid()\n"
        "lock = m.SemLock(1, 1, 1, name, False)\n"
        "where = [os.path.exists('/dev/shm/sem' + name.replace('/', '.')),\n"
        "         sorted(os.listdir(os.environ['MPRS_SEMAPHORE_DIR']))]\n"
        "mode = oct(os.stat(os.environ['MPRS_SEMAPHORE_DIR']).st_mode & 0o777)\n"
        "m.sem_unlink(name)\n"
        "print(json.dumps([m._native.semaphore_backend(), where, mode]))\n"
    )
    proc = run_python(version, ["-c", script], ours=True, env=private_env(private, MPRS_SEMAPHORES="file"))
    assert proc.returncode == 0, proc.stderr
    backend, (on_dev_shm, in_private), mode = json.loads(proc.stdout)
    assert backend == "file" and not on_dev_shm and mode == "0o700"
    assert len(in_private) == 1 and in_private[0].startswith("sem.mp-fb-forced-"), in_private
    assert leftovers(private) == []


def test_a_bad_backend_name_fails_creation_with_a_clear_message(tmp_path):
    script = "import _multiprocessing as m\nm.SemLock(1, 1, 1, '/mp-fb-bad', True)\n"
    proc = run_python("3.11", ["-c", script], ours=True, env=private_env(tmp_path / "p", MPRS_SEMAPHORES="fast"))
    assert proc.returncode != 0
    assert 'OSError: MPRS_SEMAPHORES="fast": expected posix, file or auto' in proc.stderr


@pytest.mark.parametrize("module", ["test_semlock_parity.py", "test_semlock_signals.py"])
def test_stock_parity_holds_on_file_backed_semaphores(tmp_path, module):
    """The SemLock parity and signal suites, with ours forced to files (stock ignores the
    variable): every value, error, timeout and signal case still matches stock."""
    private = tmp_path / "private"
    env = private_env(private, MPRS_SEMAPHORES="file")
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(HERE / module)],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        cwd=REPO,
    )
    assert proc.returncode == 0, proc.stdout[-4000:]
    assert " passed" in proc.stdout and "failed" not in proc.stdout.splitlines()[-1]
    assert leftovers(private) == []
