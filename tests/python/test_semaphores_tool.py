"""``python -m multiprocessing_rs semaphores``: a semaphore whose only holder was ``SIGKILL``ed
is listed as unused and removed by ``--clean``; one a live process holds is listed as in use,
with that process, and survives; a brand-new unused one is left alone. POSIX and file-backed
alike.

The scenario (``scripts/tool_scenario.py``) runs in a mount namespace with an empty ``/dev/shm`` of its
own and a private directory of its own, so the tool sees, and ``--clean`` can remove, only what
the scenario made: nothing of other runs on the machine.
"""

import json
import sys

import pytest

from conftest import REPO, python_command, script

sys.path.insert(0, str(REPO / "tests"))
import hostshape  # noqa: E402

SCENARIO = script("tool_scenario.py")


@pytest.fixture(scope="module")
def scenario(tmp_path_factory):
    why_not = hostshape.available()
    if why_not:
        pytest.fail(f"the tool's tests need an isolated /dev/shm: {why_not}")
    private = tmp_path_factory.mktemp("tool") / "private"
    command, env = python_command("3.11", [SCENARIO], ours=False)
    env["MPRS_SEMAPHORE_DIR"] = str(private)
    proc = hostshape.run("own-shm", command, env=env, capture_output=True, text=True, timeout=180)
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout)
    report["private"] = str(private)
    return report


def by_name(tool_run):
    return {sem["name"]: sem for sem in tool_run["report"]["semaphores"]}


@pytest.mark.parametrize("backend", ["posix", "file"])
def test_a_semaphore_whose_holder_was_killed_is_listed_unused(scenario, backend):
    listed = by_name(scenario["listed"])
    killed = listed[scenario["names"][f"killed-{backend}"]]
    assert killed["backend"] == backend
    assert killed["in_use"] is False and killed["pids"] == []
    assert scenario["listed"]["status"] == 1, "leaked semaphores were found: exit status 1"
    assert scenario["listed"]["report"]["leaked"] == 2


@pytest.mark.parametrize("backend", ["posix", "file"])
def test_a_semaphore_held_by_a_live_process_is_listed_with_that_process(scenario, backend):
    held = by_name(scenario["listed"])[scenario["names"][f"held-{backend}"]]
    assert held["in_use"] is True
    assert held["pids"] == [scenario["holder_pids"][backend]]
    directory = "/dev/shm" if backend == "posix" else scenario["private"]
    assert held["path"] == f"{directory}/sem.mp-held-{backend}"


@pytest.mark.parametrize("backend", ["posix", "file"])
def test_clean_removes_the_leaked_one_and_keeps_the_held_one(scenario, backend):
    cleaned = by_name(scenario["cleaned"])
    assert cleaned[scenario["names"][f"killed-{backend}"]]["removed"] is True
    held = cleaned[scenario["names"][f"held-{backend}"]]
    assert held["removed"] is False and held["in_use"] is True
    assert scenario["cleaned"]["status"] == 0, "nothing leaked is left: exit status 0"
    after = scenario["after_python_list"]
    assert scenario["names"][f"held-{backend}"] in after
    assert scenario["names"][f"killed-{backend}"] not in after


def test_clean_leaves_a_brand_new_unused_semaphore_alone(scenario):
    young = by_name(scenario["young_clean"])[scenario["names"]["young"]]
    assert young["in_use"] is False and young["removed"] is False and young["age"] < 5
    assert scenario["young_clean"]["status"] == 0
    assert scenario["names"]["young"] in scenario["after_python_list"]


def test_the_scenario_leaves_nothing(scenario):
    assert scenario["left"] == []
