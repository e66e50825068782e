"""`python -m multiprocessing_rs bench` runs and reports every row the README shows, for both
implementations. A smoke test of the command, not a performance test: it checks the shape
and sanity of the numbers (positive, finite, ours really measured), never their size."""

import json
import math
import subprocess
import sys

from multiprocessing_rs._bench_end_to_end import start_methods
from multiprocessing_rs._bench_messages import placements

#: The Connection rows: measured against a floor without Connection too.
PIPE_ROWS = [
    "Pipe one-way 64 B messages",
    "Pipe one-way 4 KiB messages",
    "Pipe one-way 1 MiB messages",
    "Pipe one-way 64 MiB messages",
    *(f"Pipe 64 B round trip, {where}" for where in placements()),
    "receiver peak memory, 64 MiB message",
]

MICRO_ROWS = [
    "Lock acquire+release",
    "RLock acquire+release",
    "Semaphore acquire+release",
    "file-backend Lock acquire+release",
    *PIPE_ROWS,
    *(f"handshake (mutual, default digest), {where}" for where in placements()),
]

WORKLOAD_ROWS = [
    "Pool(2).map, chunksize=1",
    "Pool(2).imap_unordered, chunksize=64",
    "ProcessPoolExecutor(2).map, chunksize=1",
    "Queue, small ints",
    "Queue(maxsize=8), 1 MiB bytes",
    "Manager().dict() set+get",
    "Process start+join",
    "Pipe(duplex=False) 64 B",
    "Pipe(duplex=False) 1 MiB",
    "Pipe(duplex=False) 64 MiB",
]

#: Rows whose reference column is measured (a floor without Connection).
ROWS_WITH_FLOOR = {
    "file-backend Lock acquire+release",
    *PIPE_ROWS,
    *(f"{row} [{method}]" for row in WORKLOAD_ROWS[-3:] for method in start_methods()),
}


def test_bench_reports_every_row_for_stock_and_ours():
    proc = subprocess.run(
        [sys.executable, "-m", "multiprocessing_rs", "bench", "--quick", "--json"],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout)
    methods = start_methods()
    assert "fork" in methods and len(methods) == 2
    expected = MICRO_ROWS + [f"{row} [{method}]" for method in methods for row in WORKLOAD_ROWS]
    assert [row["name"] for row in report["results"]] == expected
    for row in report["results"]:
        for side in ("stock", "ours"):
            assert math.isfinite(row[side]) and row[side] > 0, row
        # The ratio is the median of paired rounds: positive and finite.
        assert math.isfinite(row["ratio"]) and row["ratio"] > 0, row
        assert min(row["ratios"]) <= row["ratio"] <= max(row["ratios"]), row
        if row["name"] in ROWS_WITH_FLOOR:
            assert math.isfinite(row["reference"]) and row["reference"] > 0, row
        else:
            assert row["reference"] is None, row
        for goal in row["goals"]:
            assert goal["met"] == (
                goal["ratio"] <= goal["target"] if row["lower_is_better"] else goal["ratio"] >= goal["target"]
            )
