"""`python -m multiprocessing_rs bench` runs and reports every row the README shows, for both
implementations. A smoke test of the command, not a performance test: it checks the shape
and sanity of the numbers (positive, finite, ours really measured), never their size."""

import json
import math
import subprocess
import sys

ROWS = [
    "Lock acquire+release",
    "RLock acquire+release",
    "Semaphore acquire+release",
    "file-backend Lock acquire+release",
    "Pipe one-way 64 B messages",
    "Pipe one-way 4 KiB messages",
    "Pipe one-way 1 MiB messages",
    "Pipe one-way 64 MiB messages",
    "Pipe 64 B round trip",
    "receiver peak memory, 64 MiB message",
    "handshake (mutual, default digest)",
]


def test_bench_reports_every_row_for_stock_and_ours():
    proc = subprocess.run(
        [sys.executable, "-m", "multiprocessing_rs", "bench", "--quick", "--json"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout)
    assert [row["name"] for row in report["results"]] == ROWS
    for row in report["results"]:
        for side in ("stock", "ours"):
            assert math.isfinite(row[side]) and row[side] > 0, row
        # The ratio is the median of paired rounds: positive and finite.
        assert math.isfinite(row["ratio"]) and row["ratio"] > 0, row
        for goal in row["goals"]:
            assert goal["met"] == (
                goal["ratio"] <= goal["target"] if row["lower_is_better"] else goal["ratio"] >= goal["target"]
            )
