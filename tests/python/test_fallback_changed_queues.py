"""On a CPython whose ``multiprocessing.queues`` reshaped a ``get`` the queues patch replaces,
both ``get`` methods stay stock (the reused pickler still goes in), queues still work, and one
``RuntimeWarning`` names what changed. Today's CPython 3.10-3.13 all match, so the change is
simulated (see ``scripts/changed_queue_names.py``)."""

import json

import pytest

from conftest import run_python, script

CASES = ["Queue.get takes another parameter", "SimpleQueue.get reads other names"]


@pytest.mark.parametrize("case", CASES)
def test_a_changed_get_stays_stock_with_one_warning(version, case):
    proc = run_python(version, [script("changed_queue_names.py"), case], ours=False)
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout)
    assert report["gets unchanged"] == [True, True]
    assert report["pickling"] == "QueuePickling"
    assert report["Queue works"] and report["SimpleQueue works"]
    assert len(report["warnings"]) == 1, report["warnings"]
    category, message = report["warnings"][0]
    assert category == "RuntimeWarning"
    for word in [case.split()[0], "stock Queue.get and SimpleQueue.get", "PYTHONWARNINGS=ignore:multiprocessing-rs"]:
        assert word in message, (word, message)
