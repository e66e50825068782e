"""`import _multiprocessing` in a subinterpreter, under the override. Prints, as JSON, what the
main interpreter and the subinterpreter got, and whether a Lock and a Pipe work in each.

PyO3 modules cannot load in a subinterpreter (PyO3 0.30 refuses them), so the subinterpreter
must get the stock module, and the main interpreter keeps ours."""

import json
import os
import sys
import tempfile

try:
    import _interpreters as interpreters  # 3.13+
except ImportError:
    import _xxsubinterpreters as interpreters  # 3.10-3.12

PROBE = """
import json, multiprocessing, multiprocessing.synchronize, _multiprocessing
lock = multiprocessing.Lock()
a, b = multiprocessing.Pipe()
a.send({"x": 1})
result = {
    "ours": bool(getattr(_multiprocessing, "__multiprocessing_rs__", False)),
    "file": getattr(_multiprocessing, "__file__", ""),
    # Positional: stock 3.12.1's acquire(timeout=...), called with keywords first in a
    # subinterpreter, corrupts the main interpreter's memory (a CPython bug, on stock alone).
    "lock works": lock.acquire(True, 1) and (lock.release() is None),
    "pipe works": b.recv() == {"x": 1},
}
"""


def probe_here():
    namespace = {}
    exec(PROBE, namespace)
    return namespace["result"]


def probe_in_subinterpreter():
    fd, path = tempfile.mkstemp(suffix=".json")
    os.close(fd)
    code = PROBE + f"\nwith open({path!r}, 'w') as f:\n    json.dump(result, f)\n"
    interp = interpreters.create()
    try:
        failure = interpreters.run_string(interp, code)
        if failure is not None:  # 3.13 returns what was raised instead of raising it
            return {"raised": repr(failure)}
        with open(path) as f:
            return json.load(f)
    except Exception as exc:
        return {"raised": f"{type(exc).__name__}: {exc}"}
    finally:
        interpreters.destroy(interp)
        os.unlink(path)


def main():
    report = {"main before": probe_here()}
    report["subinterpreter"] = probe_in_subinterpreter()
    report["main after"] = probe_here()
    json.dump(report, sys.stdout)


if __name__ == "__main__":
    main()
