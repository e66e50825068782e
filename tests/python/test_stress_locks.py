"""Several processes doing many lock operations on a shared counter lose no update.

Four processes, started together, each increment one counter in shared memory 1000 times,
unsynchronised but for the lock (a `Lock`, an `RLock` taken twice over, a
`BoundedSemaphore(1)`), acquiring it in turn blocking, with a timeout and non-blocking with
retries, and yielding the CPU between reading and writing the counter, under the override, with
fork and with spawn. Two processes inside at once lose increments: with the lock calls removed
by hand, 4000 increments ended at 3000 to 5400.
"""

from pathlib import Path

import pytest

from conftest import run_json

SCRIPT = Path(__file__).parent / "scripts" / "lock_stress.py"
PROCESSES, OPERATIONS = 4, 1000


@pytest.mark.parametrize("version", ["3.11", "3.13"])
@pytest.mark.parametrize("method", ["fork", "spawn"])
def test_no_lost_update(version, method):
    report = run_json(version, [str(SCRIPT), method, str(PROCESSES), str(OPERATIONS)], ours=True, timeout=300)
    for kind, result in report.items():
        assert result["exit codes"] == [0], kind
        assert result["children on ours"] == PROCESSES, kind
        assert result["counter"] == PROCESSES * OPERATIONS, kind
