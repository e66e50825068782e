"""Where `make wheel` leaves what a package index would carry, and the interpreters to install
it into."""

import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "tests"))
import interpreters  # noqa: E402

#: `make wheel`'s output: one wheel and one sdist.
DIST = REPO / "build" / "dist"
#: The wheel unpacked for the other interpreters (see the Makefile's build).
PKG_DIR = Path(os.environ.get("MPRS_PKG_DIR", REPO / "build" / "pkg"))
SCRIPTS = Path(__file__).resolve().parent / "scripts"

INTERPRETERS = interpreters.find_interpreters()


def interpreter(version):
    return interpreters.interpreter(version, INTERPRETERS)


def built(pattern):
    """The one file of `make wheel`'s output that matches `pattern`."""
    found = sorted(DIST.glob(pattern))
    assert len(found) == 1, f"expected one {pattern} in {DIST} (run `make wheel`), found {found}"
    return found[0]


def run(command, **kwargs):
    """Runs `command` to completion, failing the test with its output if it fails. Returns its
    stdout. No PYTHONPATH: what runs must come from the environment under test alone."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    env["PIP_DISABLE_PIP_VERSION_CHECK"] = "1"
    env.update(kwargs.pop("env", {}))
    proc = subprocess.run(
        [str(part) for part in command], env=env, capture_output=True, text=True, timeout=600, **kwargs
    )
    assert proc.returncode == 0, f"{command}: exit {proc.returncode}\n{proc.stdout}\n{proc.stderr}"
    return proc.stdout
