"""``make demo``'s second part: the demo on hosts where stock multiprocessing cannot run.

For each simulated host of ``hostshape.py`` (a read-only ``/dev/shm``, no ``/dev/shm``), it
prints what stock does with what a new user tries first (``python/scripts/host_check.py``: Pool, Queue,
Lock, Event+Barrier, Value/Array, SharedMemory, with every start method), then runs the demo
there on ours. Needs root (a private mount namespace); says so and does nothing otherwise.
"""

import collections
import json
import os
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import hostshape  # noqa: E402

HOST_CHECK = HERE / "python" / "scripts" / "host_check.py"


def stock_summary(shape):
    """One line: how many of host_check's cases stock got through on ``shape``, and its errors."""
    env = dict(os.environ)
    env.pop("PYTHONPATH", None)
    proc = hostshape.run(shape, [sys.executable, "-E", str(HOST_CHECK)], env=env, capture_output=True, text=True)
    try:
        results = json.loads(proc.stdout)["results"]
    except ValueError:
        return f"stock: no result (exit {proc.returncode})"
    outcomes = [r for cases in results.values() for r in cases.values()]
    errors = collections.Counter(r.split(":", 2)[0] + ":" + r.split(":", 2)[1] for r in outcomes if r != "ok")
    worked = outcomes.count("ok")
    common = ", ".join(error for error, _ in errors.most_common(2))
    return f"stock: {worked} of {len(outcomes)} work ({common})"


def main():
    why_not = hostshape.available()
    if why_not:
        print(f"demo on simulated hosts: skipped ({why_not})")
        return 0
    failures = 0
    for shape in hostshape.PROBLEM_SHAPES:
        print()
        print(f"=== on a simulated host with {hostshape.SHAPES[shape]} ({shape}) ===")
        print(stock_summary(shape), flush=True)
        with tempfile.TemporaryDirectory(prefix="mprs-demo-") as scratch:
            env = dict(os.environ, MPRS_SEMAPHORE_DIR=os.path.join(scratch, "private"))
            proc = hostshape.run(shape, [sys.executable, "-m", "multiprocessing_rs", "demo"], env=env)
        failures += proc.returncode != 0
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
