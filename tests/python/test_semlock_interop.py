"""Our SemLock and stock CPython's share one kernel object: a lock created and held by one
module excludes a process that opened it by name with the other module, the holder's release
lets that process in (and the other way round), a counting semaphore's value is seen by both,
and each module's `sem_unlink` removes names the other created.

Each test runs a parent on one module (`scripts/semlock_interop_parent.py`) that drives a child
on the other (`scripts/semlock_interop_child.py`), line by line over pipes (every read has a
timeout, and the child is killed if anything goes wrong). The child reports which
`_multiprocessing` it imported, so a test cannot pass with both on the same one.
"""

import json
import os

import pytest

from conftest import INTERPRETERS, PKG_DIR, SCRIPTS, SEM_PREFIX, interpreter, run_json, script

pytestmark = pytest.mark.usefixtures("no_leftover_semaphores")

NOT_FOUND = {"error": ["FileNotFoundError", "[Errno 2] No such file or directory"]}


def child_command(version, ours, child_path):
    python = interpreter(version)
    if ours:
        # PYTHONPATH (inherited from the parent, see run_python) holds the package.
        return [python, "-m", "multiprocessing_rs", "run", str(child_path)]
    # -E ignores PYTHONPATH, and with it the override (and the package): the stock module.
    return [python, "-E", str(child_path)]


def run_pair(parent_version, parent_ours, child_version):
    command = child_command(child_version, not parent_ours, SCRIPTS / "semlock_interop_child.py")
    prefix = f"{SEM_PREFIX}i{parent_version.replace('.', '')}{child_version.replace('.', '')}-"
    return run_json(
        parent_version,
        [script("semlock_interop_parent.py"), json.dumps(command), prefix],
        ours=parent_ours,
        timeout=90,
    )


def check_report(report, parent_ours, parent_version, child_version):
    v = lambda s: [int(p) for p in s.split(".")]  # noqa: E731
    # Each side really ran the module it was meant to.
    assert report["parent_ours"] is parent_ours
    assert report["child_ours"] == {"value": not parent_ours}
    assert report["parent_version"] == v(parent_version)
    assert report["child_version"] == {"value": v(child_version)}

    # Held here: the child is excluded, for a non-blocking try and for a whole timed wait.
    assert report["parent_acquires"] is True
    assert report["child_opens"] == {"value": [1, 1, True, 0]}
    assert report["child_nonblocking_while_held"] == {"value": False}
    acquired, waited = report["child_timed_while_held"]["value"]
    assert acquired is False and 0.29 <= waited < 5, report["child_timed_while_held"]
    # Released here: the child gets it at once.
    assert report["parent_releases"] is None
    acquired, waited, count, mine = report["child_after_release"]["value"]
    assert [acquired, count, mine] == [True, 1, True] and waited < 5
    # Held there: this side is excluded.
    assert report["parent_nonblocking_while_child_holds"] == {"value": False}
    acquired, waited = report["parent_timed_while_child_holds"]["value"]
    assert acquired is False and 0.29 <= waited < 5
    assert report["child_releases"] == {"value": None}
    assert report["parent_after_child_release"] == {"value": [True, 1]}
    assert report["child_sees_released"] == {"value": [1, False]}

    # Counting semaphore: one kernel value.
    assert report["child_sem"] == {"value": [3, True, True, 1]}
    assert report["parent_sem"] == [1, True, False, True]
    assert report["child_sem_empty"] == {"value": [False, True, True]}
    assert report["child_sem_release"] == {"value": [None, None, None]}
    assert report["parent_sem_after"] == [3, 1]

    # The child's RLock excludes this side, which cannot release it either.
    assert report["child_rlock"] == {"value": [True, True, 2]}
    assert report["parent_rlock_while_child_holds"] == [
        False,
        {"error": ["AssertionError", "attempt to release recursive lock not owned by thread"]},
    ]
    assert report["child_rlock_release"] == {"value": [None, None, 0]}
    assert report["parent_rlock_after"] == [True, True, None]

    # Each module's sem_unlink removes the other's names; an open semaphore survives it.
    assert report["child_unlinks_parents_name"] == {"value": None}
    assert report["parent_opens_unlinked"] == NOT_FOUND
    assert report["child_opens_unlinked"] == NOT_FOUND
    assert report["still_usable_after_unlink"] == [True, None]
    assert report["child_creates"] == {"value": True}
    assert report["parent_opens_childs"] == [0, False]
    assert report["child_posts"] == {"value": None}
    assert report["parent_takes_childs"] == [1, True, 0]
    assert report["parent_unlinks_childs_name"] == {"value": None}
    assert report["child_opens_unlinked_own"] == NOT_FOUND
    assert report["parent_opens_unlinked_childs"] == NOT_FOUND
    assert report["parent_unlinks_again"] == NOT_FOUND
    assert report["child_exit"] == 0


@pytest.mark.parametrize("parent_ours", [True, False], ids=["ours-parent-stock-child", "stock-parent-ours-child"])
def test_same_version(version, parent_ours):
    report = run_pair(version, parent_ours, version)
    check_report(report, parent_ours, version, version)


@pytest.mark.parametrize(
    "parent_version, child_version, parent_ours",
    [("3.11", "3.13", True), ("3.13", "3.11", True), ("3.11", "3.13", False), ("3.13", "3.11", False)],
)
def test_across_versions(parent_version, child_version, parent_ours):
    """Named semaphores do not depend on the interpreter: 3.11 and 3.13 share them too."""
    report = run_pair(parent_version, parent_ours, child_version)
    check_report(report, parent_ours, parent_version, child_version)


def test_the_versions_required_are_present():
    for required in ("3.11", "3.13"):
        assert os.path.exists(interpreter(required))
    assert PKG_DIR.is_dir(), "run `make build` first: the package for the other interpreters is missing"
    assert set(INTERPRETERS) >= {"3.11", "3.13"}
