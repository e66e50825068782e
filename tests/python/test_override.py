"""The override puts our `_multiprocessing` under a program and every child it starts."""

import json

import pytest

from conftest import SCRIPTS, run_json, run_python, script


@pytest.mark.parametrize("ours", [False, True], ids=["stock", "ours"])
def test_run_reaches_every_start_method(version, ours):
    result = run_json(version, [script("override_children.py")], ours=ours)
    assert result == {"parent": ours, "fork": ours, "spawn": ours, "forkserver": ours}


def test_run_dash_m_passes_arguments():
    proc = run_python("3.11", ["-m", "override_echo_args", "a", "--b", "-m"], ours=True, cwd=SCRIPTS)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout) == [["a", "--b", "-m"], True]


def test_run_propagates_the_exit_status():
    assert run_python("3.11", [script("exit_with_status_7.py")], ours=True).returncode == 7


def test_install_after_multiprocessing_was_imported(version):
    result = run_json(version, [script("override_install_late.py")], ours=False)
    assert result == {
        "installed": True,
        "stock_before": True,
        "synchronize": True,
        "new_lock_type": True,
        "old_lock_type": True,
        "tracker_cleanup": True,
        "spawn_child": True,
    }


def test_a_child_started_with_dash_E_gets_the_stock_module():
    assert run_json("3.11", [script("override_dash_e.py")], ours=True) == [True, "False"]
