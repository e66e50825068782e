"""The wheel `make wheel` builds is what users get, and what every suite runs against.

It is abi3 and manylinux_2_28 (no libc symbol newer than glibc 2.28, and none unversioned that
an older glibc would lack at import); it installs with pip from the file alone into fresh venvs
of the oldest and the newest CPython supported, where a Pool and a Lock run on our module under
`python -m multiprocessing_rs run` with fork and spawn; and the extension the test suites
import (the venv's and build/pkg's) is that wheel's.
"""

import hashlib
import json
import re
import subprocess
import zipfile

import pytest

from conftest import PKG_DIR, SCRIPTS, built, interpreter, run

TAG = "cp310-abi3-manylinux_2_28_x86_64"
NATIVE = "multiprocessing_rs/_native.abi3.so"
#: What a user runs or imports: the package, the override, the stubs, bench and demo.
SHIPPED = [
    NATIVE,
    "multiprocessing_rs/__init__.py",
    "multiprocessing_rs/__main__.py",
    "multiprocessing_rs/_native.pyi",
    "multiprocessing_rs/py.typed",
    "multiprocessing_rs/_override/_multiprocessing.py",
    "multiprocessing_rs/_override/sitecustomize.py",
    "multiprocessing_rs/_override/_posixshmem.py",
    "multiprocessing_rs/semaphores.py",
    "multiprocessing_rs/bench.py",
    "multiprocessing_rs/demo.py",
]


@pytest.fixture(scope="module")
def wheel():
    return built("*.whl")


def native_bytes(wheel):
    with zipfile.ZipFile(wheel) as archive:
        return archive.read(NATIVE)


def test_the_wheel_is_abi3_manylinux_and_complete(wheel):
    assert wheel.name == f"multiprocessing_rs-0.1.0-{TAG}.whl"
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
        assert f"Tag: {TAG}" in archive.read("multiprocessing_rs-0.1.0.dist-info/WHEEL").decode().splitlines()
    missing = [name for name in SHIPPED if name not in names]
    assert not missing
    assert {"LICENSE-APACHE", "LICENSE-MIT"} <= {name.rsplit("/", 1)[-1] for name in names if "/licenses/" in name}


def test_the_extension_needs_nothing_newer_than_glibc_2_28(wheel, tmp_path):
    extension = tmp_path / "_native.abi3.so"
    extension.write_bytes(native_bytes(wheel))
    symbols = subprocess.run(["objdump", "-T", extension], capture_output=True, text=True, check=True).stdout
    undefined = [line.split() for line in symbols.splitlines() if "*UND*" in line]
    versions = {tuple(map(int, v.split("."))) for v in re.findall(r"\(GLIBC_([\d.]+)\)", symbols)}
    assert versions and max(versions) <= (2, 28), sorted(versions)
    # An unversioned, non-weak libc symbol (preadv2 linked against 2.17's headers, say) would
    # pass the tag check and fail at import on an older glibc. Python's own symbols are the
    # only unversioned ones the extension may need.
    loose = [f[-1] for f in undefined if "GLIBC" not in f[-2] and f[1] != "w" and not f[-1].startswith(("Py", "_Py"))]
    assert not loose, loose


@pytest.mark.parametrize("version", ["3.10", "3.13"])
def test_installs_offline_into_a_fresh_venv_and_runs(wheel, tmp_path, version):
    venv = tmp_path / "venv"
    run([interpreter(version), "-m", "venv", venv])
    python = venv / "bin" / "python"
    run([python, "-m", "pip", "install", "--quiet", "--no-index", "--no-deps", wheel])
    run([python, "-c", "import multiprocessing_rs, multiprocessing_rs._native"])
    report = json.loads(run([python, "-m", "multiprocessing_rs", "run", SCRIPTS / "pool_and_lock.py", "fork", "spawn"]))
    assert report["package"].startswith(str(venv)), report
    assert report["parent_ours"] is True
    for method in ("fork", "spawn"):
        assert report[method] == {"total": 5050, "workers_ours": [True]}, (method, report)


def test_the_suites_import_this_wheels_extension(wheel):
    """`make build` installs this very wheel: the venv running the tests and build/pkg (the
    other interpreters' PYTHONPATH) hold its extension, byte for byte."""
    import multiprocessing_rs._native as native

    expected = hashlib.sha256(native_bytes(wheel)).hexdigest()
    for installed in (native.__file__, PKG_DIR / NATIVE):
        with open(installed, "rb") as f:
            assert hashlib.sha256(f.read()).hexdigest() == expected, installed
