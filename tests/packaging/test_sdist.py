"""The sdist `make wheel` builds is complete: unpacked in a scratch directory, away from the
repository, it builds a wheel (offline, from the crates cargo already has) with the same files
as the wheel built from the checkout."""

import sys
import tarfile
import zipfile
from pathlib import Path

from conftest import built, run


def test_a_wheel_builds_from_the_sdist(tmp_path):
    sdist = built("*.tar.gz")
    with tarfile.open(sdist) as archive:
        archive.extractall(tmp_path, filter="data")
    source = tmp_path / sdist.name.removesuffix(".tar.gz")
    assert not (source / ".git").exists()
    maturin = Path(sys.executable).parent / "maturin"
    # The dev profile: this proves the sources are all there, not the release optimisations.
    run(
        [maturin, "build", "--quiet", "--profile", "dev", "--offline", "--out", tmp_path / "wheels"],
        cwd=source,
        env={"CARGO_TARGET_DIR": str(tmp_path / "target")},
    )
    [rebuilt] = (tmp_path / "wheels").glob("*.whl")
    assert package_files(rebuilt) == package_files(built("*.whl"))


def package_files(wheel):
    with zipfile.ZipFile(wheel) as archive:
        return sorted(name for name in archive.namelist() if name.startswith("multiprocessing_rs/"))
