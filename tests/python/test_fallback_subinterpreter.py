"""`import _multiprocessing` in a subinterpreter gets a working module under the override.

PyO3 (0.30) does not support subinterpreters: a PyO3 module keeps its types in process-wide
statics, which one interpreter must not hand to another. From 3.12 CPython refuses to load it
in an isolated subinterpreter ("does not support loading in subinterpreters"), so
`import multiprocessing.synchronize` failed there under the override; on 3.10/3.11 it loaded
and shared the main interpreter's objects. A subinterpreter must get the stock module
(quietly: there is nothing to fix), a Lock and a Pipe must work in it, and the main
interpreter keeps ours.
"""

import json
from pathlib import Path

from conftest import run_python

SCRIPT = Path(__file__).parent / "scripts" / "subinterpreter_import.py"


def test_a_subinterpreter_gets_the_stock_module_and_the_main_one_keeps_ours(version):
    proc = run_python(version, [str(SCRIPT)], ours=True)
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout)
    working = {"lock works": True, "pipe works": True}
    for main in ("main before", "main after"):
        assert report[main]["ours"], main
        assert {k: report[main][k] for k in working} == working, main
    sub = report["subinterpreter"]
    assert "raised" not in sub, sub.get("raised")
    assert not sub["ours"]
    assert "lib-dynload" in sub["file"]
    assert {k: sub[k] for k in working} == working
    assert proc.stderr == ""
