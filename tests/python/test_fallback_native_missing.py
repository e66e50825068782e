"""A broken install never breaks multiprocessing: without a loadable native extension, the
override gives every process stock's `_multiprocessing` and warns once.

A copy of the installed package is made, and its `_native` extension is deleted (as a broken
install or a free-threaded 3.13t, which cannot load abi3 extensions, would see it) or replaced
by a file that is not a shared library (as a future ABI would). A program with a `Pool` under
each start method then runs under `python -m multiprocessing_rs run` on that copy: it must
complete on the stock module, in the parent and in every worker, with exactly one
`RuntimeWarning` on stderr for the whole process tree, which says why and how to silence it;
and silenced as it says, nothing on stderr.
"""

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from conftest import PKG_DIR, interpreter

SCRIPT = Path(__file__).parent / "scripts" / "pool_program.py"
SILENCE = "PYTHONWARNINGS=ignore:multiprocessing-rs"


@pytest.fixture(params=["missing", "not a library"])
def broken_install(request, tmp_path):
    """A copy of the installed package whose native extension is missing or unloadable."""
    copy = tmp_path / "pkg"
    shutil.copytree(PKG_DIR, copy, ignore=shutil.ignore_patterns("__pycache__"))
    natives = list((copy / "multiprocessing_rs").glob("_native*.so"))
    assert natives, f"no native extension in {PKG_DIR}"
    for native in natives:
        if request.param == "missing":
            native.unlink()
        else:
            native.write_bytes(b"\x7fELF this is not a shared library of any ABI")
    return copy


def run_on(copy, version, env_extra=None):
    env = {key: value for key, value in os.environ.items() if key != "PYTHONWARNINGS"}
    env.update(PYTHONPATH=str(copy), **(env_extra or {}))
    command = [interpreter(version), "-m", "multiprocessing_rs", "run", str(SCRIPT)]
    return subprocess.run(command, env=env, capture_output=True, text=True, timeout=180)


def test_a_pool_program_completes_on_stock_with_one_warning(broken_install, version):
    proc = run_on(broken_install, version)
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout)
    parent_is_ours, parent_file = report.pop("parent module")
    assert not parent_is_ours
    assert "lib-dynload" in parent_file and str(broken_install) not in parent_file
    for method, result in report.items():
        assert result["squares"] == [x * x for x in range(8)], method
        assert result["queue"] == method
        assert result["worker modules"] == [[False, parent_file]], method
    warnings = [line for line in proc.stderr.splitlines() if "RuntimeWarning" in line]
    assert len(warnings) == 1, proc.stderr
    assert "multiprocessing-rs" in warnings[0] and "stock" in warnings[0] and SILENCE in warnings[0]
    assert ("_native" in warnings[0]) or ("not a shared library" in warnings[0]) or ("ELF" in warnings[0])


def test_the_warning_is_silenced_as_it_says(broken_install):
    name, value = SILENCE.split("=", 1)
    proc = run_on(broken_install, "3.11", {name: value})
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == ""
    assert json.loads(proc.stdout)["fork"]["squares"] == [x * x for x in range(8)]
