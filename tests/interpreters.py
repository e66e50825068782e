"""The CPython interpreters the tests run on: 3.10 to 3.13 from pyenv, wherever it lives."""

import subprocess
import sys
from pathlib import Path

VERSIONS = ("3.10", "3.11", "3.12", "3.13")


def _pyenv_root():
    try:
        out = subprocess.run(["pyenv", "root"], capture_output=True, text=True, check=True).stdout
        return Path(out.strip())
    except (OSError, subprocess.CalledProcessError):
        return Path.home() / ".pyenv"


def _release(python):
    """(3, 10, 13) for .../versions/3.10.13/bin/python3.10: newest last when sorted."""
    return tuple(int(part) if part.isdigit() else -1 for part in python.parents[1].name.split("."))


def find_interpreters():
    """``{"3.11": "/path/to/python3.11", ...}`` for each CPython 3.10-3.13 present (the newest
    patch release of each), plus the running interpreter for its own version."""
    found = {}
    versions_dir = _pyenv_root() / "versions"
    for version in VERSIONS:
        pattern = f"{version}.*/bin/python{version}"
        candidates = sorted(versions_dir.glob(pattern), key=_release) if versions_dir.is_dir() else []
        if candidates:
            found[version] = str(candidates[-1])
    here = f"{sys.version_info.major}.{sys.version_info.minor}"
    if here in VERSIONS:
        found.setdefault(here, sys.executable)
    return found


def interpreter(version, found):
    """``found[version]`` (``found`` from :func:`find_interpreters`); a test that needs a
    missing version fails, it is never skipped."""
    if version not in found:
        raise AssertionError(f"CPython {version} is not installed on this machine (pyenv)")
    return found[version]
