"""Shared fixtures: the CPython interpreters on this machine, and how to run a script on the
stock `_multiprocessing` or on ours in a separate interpreter."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
#: The installed package for interpreters other than the venv's (see the Makefile's build).
PKG_DIR = Path(os.environ.get("MPRS_PKG_DIR", REPO / "build" / "pkg"))

VERSIONS = ("3.10", "3.11", "3.12", "3.13")


def _pyenv_root():
    try:
        return Path(subprocess.run(["pyenv", "root"], capture_output=True, text=True, check=True).stdout.strip())
    except (OSError, subprocess.CalledProcessError):
        return Path.home() / ".pyenv"


def find_interpreters():
    """{"3.11": "/path/to/python3.11", ...} for each CPython 3.10-3.13 present."""
    found = {}
    versions_dir = _pyenv_root() / "versions"
    for version in VERSIONS:
        candidates = sorted(versions_dir.glob(f"{version}.*/bin/python{version}")) if versions_dir.is_dir() else []
        if candidates:
            found[version] = str(candidates[-1])
    here = f"{sys.version_info.major}.{sys.version_info.minor}"
    found.setdefault(here, sys.executable)
    return found


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


def popen_python(version, args, *, ours, env=None, **kwargs):
    """`run_python`, started in the background: returns the Popen (text pipes for stdout and
    stderr, and stdin unless given). The caller waits with a timeout and kills on failure."""
    python = interpreter(version)
    environ = dict(os.environ if env is None else env)
    environ["PYTHONPATH"] = os.pathsep.join(p for p in [str(PKG_DIR), environ.get("PYTHONPATH", "")] if p)
    command = [python, "-m", "multiprocessing_rs", "run", *args] if ours else [python, *args]
    kwargs.setdefault("stdin", subprocess.DEVNULL)
    return subprocess.Popen(command, env=environ, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, **kwargs)
