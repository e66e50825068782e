"""The wheel `make wheel` builds is what users get, and what every suite runs against.

It is abi3 and manylinux_2_17 alias manylinux2014 (no libc symbol newer than glibc 2.17, none
unversioned that an older glibc would lack at import, and the system's libgcc_s.so.1 as the
unwinder, not a bundled copy); it installs with pip from the file alone into fresh venvs
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

#: The wheel's tags, in the order maturin writes them (and names the file with).
TAGS = ["cp310-abi3-manylinux2014_x86_64", "cp310-abi3-manylinux_2_17_x86_64"]
#: The unwinding functions Rust's panics and its personality routine call.
UNWIND = {
    "_Unwind_RaiseException",
    "_Unwind_Resume",
    "_Unwind_DeleteException",
    "_Unwind_GetLanguageSpecificData",
    "_Unwind_GetIPInfo",
    "_Unwind_GetRegionStart",
    "_Unwind_SetGR",
    "_Unwind_SetIP",
}
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
    platforms = ".".join(tag.removeprefix("cp310-abi3-") for tag in TAGS)
    assert wheel.name == f"multiprocessing_rs-0.1.0-cp310-abi3-{platforms}.whl"
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
        metadata = archive.read("multiprocessing_rs-0.1.0.dist-info/WHEEL").decode().splitlines()
        assert [line.removeprefix("Tag: ") for line in metadata if line.startswith("Tag: ")] == TAGS
    missing = [name for name in SHIPPED if name not in names]
    assert not missing
    assert {"LICENSE-APACHE", "LICENSE-MIT"} <= {name.rsplit("/", 1)[-1] for name in names if "/licenses/" in name}


@pytest.fixture
def extension(wheel, tmp_path):
    """The wheel's extension, unpacked."""
    path = tmp_path / "_native.abi3.so"
    path.write_bytes(native_bytes(wheel))
    return path


def output(*command):
    return subprocess.run(command, capture_output=True, text=True, check=True).stdout


def test_the_extension_needs_nothing_newer_than_glibc_2_17(extension):
    symbols = output("objdump", "-T", extension)
    undefined = [line.split() for line in symbols.splitlines() if "*UND*" in line]
    versions = {tuple(map(int, v.split("."))) for v in re.findall(r"\(GLIBC_([\d.]+)\)", symbols)}
    assert versions and max(versions) <= (2, 17), sorted(versions)
    # An unversioned, non-weak libc symbol (a glibc 2.26 function such as preadv2, linked
    # against 2.17's stubs) would pass the tag check and fail at import on an older glibc.
    # Python's own symbols are the only unversioned ones the extension may need.
    loose = [
        f[-1] for f in undefined if not f[-2].startswith("(") and f[1] != "w" and not f[-1].startswith(("Py", "_Py"))
    ]
    assert not loose, loose


def test_the_extension_unwinds_with_the_systems_libgcc_s(extension):
    """The unwinder glibc's pthread_exit uses (libgcc_s.so.1) is the extension's too: every
    unwinding function Rust calls is imported from it, none bundled (a bundled copy defines
    them locally, and the extension then imports none). See the Makefile's `wheel`."""
    assert "Shared library: [libgcc_s.so.1]" in output("readelf", "-d", extension)
    imported = {}
    for line in output("objdump", "-T", extension).splitlines():
        fields = line.split()
        if "*UND*" in fields and fields[-1].startswith("_Unwind_"):
            imported[fields[-1]] = fields[-2]
    assert UNWIND <= imported.keys(), sorted(UNWIND - imported.keys())
    # The versions manylinux2014 allows of libgcc_s on x86_64 go up to GCC_4.2.0.
    versions = {tuple(map(int, v.strip("()").removeprefix("GCC_").split("."))) for v in imported.values()}
    assert all(version <= (4, 2, 0) for version in versions), imported


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
