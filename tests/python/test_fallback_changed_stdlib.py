"""On a CPython whose `multiprocessing.connection` renamed or reshaped a private name the patches
read, importing it still works: the piece that needs the name stays stock, the other piece is
patched, and one `RuntimeWarning` names what changed.

`multiprocessing.connection` is imported stock, changed as a newer CPython might have it, and
then the override is installed (which patches the modules already imported). Today's CPython
3.10-3.13 all have the names, so the change is simulated.
"""

import json
from pathlib import Path

import pytest

from conftest import run_python

SCRIPT = Path(__file__).parent / "scripts" / "changed_stdlib_names.py"

# case: (transport patched, handshake patched, words the warning must contain)
CASES = {
    "_ForkingPickler renamed": (False, True, ["_ForkingPickler"]),
    "ForkingPickler without its reducer tables": (False, True, ["_extra_reducers", "_copyreg_dispatch_table"]),
    "Connection._recv_bytes takes another parameter": (False, True, ["Connection._recv_bytes"]),
    "deliver_challenge takes another parameter": (True, False, ["deliver_challenge"]),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_the_changed_piece_stays_stock_with_one_warning(version, case):
    transport, handshake, words = CASES[case]
    proc = run_python(version, [str(SCRIPT), case], ours=False)
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout)
    assert report["transport is ours"] is transport
    assert report["handshake is ours"] is handshake
    assert report["pipe works"] and report["authentication works"]
    assert len(report["warnings"]) == 1, report["warnings"]
    category, message = report["warnings"][0]
    assert category == "RuntimeWarning"
    assert message.startswith("multiprocessing-rs")
    for word in words + ["stock", "PYTHONWARNINGS=ignore:multiprocessing-rs"]:
        assert word in message, (word, message)
