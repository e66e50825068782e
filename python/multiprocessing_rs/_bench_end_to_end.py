"""The bench's end-to-end rows: what users run (pools, queues, a manager, process start-up,
``Pipe(duplex=False)``), stock against ours, each round in fresh interpreters.

The override has to be in every child process too, so these rows cannot share one process as
the micro rows do: each round of a row starts one interpreter per implementation (stock:
plain; ours: with the override directory first on ``PYTHONPATH``, as
``python -m multiprocessing_rs run`` starts a program), in alternating order, and each runs one
workload of ``_bench_workloads`` and reports the time the workload itself took. The ``Pipe``
rows also run a third, bare-pipe program each round: the floor (see ``_bench_workloads``).
"""

import json
import multiprocessing
import os
import subprocess
import sys

from ._install import OVERRIDE_DIR, environ_with_override

MiB = 1 << 20


def start_methods():
    """fork, and the interpreter's default start method; forkserver (the default from 3.14)
    where the default is fork, so that both methods the goals name are always measured."""
    default = multiprocessing.get_start_method()
    methods = ["fork"]
    methods.append(default if default != "fork" else "forkserver")
    return methods


def run_workload(name, method, expect, scale, *extra):
    """Runs one workload in a fresh interpreter; returns ``(seconds, items)``."""
    env = environ_with_override() if expect == "ours" else _environ_without_override()
    command = [sys.executable, "-m", "multiprocessing_rs._bench_workloads", name, method, expect, str(scale), *extra]
    proc = subprocess.run(command, env=env, capture_output=True, text=True, timeout=600)
    if proc.returncode != 0:
        raise RuntimeError(f"bench workload {name} ({method}, {expect}) failed:\n{proc.stderr}")
    result = json.loads(proc.stdout.splitlines()[-1])
    return result["seconds"], result["items"]


def _environ_without_override():
    env = dict(os.environ)
    path = [p for p in env.get("PYTHONPATH", "").split(os.pathsep) if p and p != OVERRIDE_DIR]
    if path:
        env["PYTHONPATH"] = os.pathsep.join(path)
    else:
        env.pop("PYTHONPATH", None)
    return env


def workload_cases(Case, quick):
    """The end-to-end rows, for each start method (``Case`` is ``bench.Case``)."""
    scale = 10 if quick else 1
    rounds = 1 if quick else 5

    def rate(title, name, method, goal=None, unit="items/s", floor=None):
        def measure(label):
            seconds, items = run_workload(name, method, label, scale)
            return items / seconds

        def reference():
            seconds, items = run_workload(name, method, "floor", scale, *floor)
            return items / seconds

        return Case(
            f"{title} [{method}]",
            unit,
            False,
            measure,
            reference if floor is not None else None,
            rounds=rounds,
            goal=goal,
        )

    def throughput(title, name, method, size, floor):
        def measure(label):
            seconds, items = run_workload(name, method, label, scale)
            return size * items / seconds / 1e9

        def reference():
            seconds, items = run_workload(name, method, "floor", scale, *floor)
            return size * items / seconds / 1e9

        return Case(f"{title} [{method}]", "GB/s", False, measure, reference, rounds=rounds)

    def start_join(method):
        def measure(label):
            seconds, items = run_workload("process_start_join", method, label, scale)
            return seconds / items * 1e3

        return Case(f"Process start+join [{method}]", "ms", True, measure, rounds=rounds, goal=1.0)

    cases = []
    for method in start_methods():
        cases += [
            rate("Pool(2).map, chunksize=1", "pool_map", method, goal=2.0),
            rate("Pool(2).imap_unordered, chunksize=64", "pool_imap_unordered", method, goal=2.0),
            rate("ProcessPoolExecutor(2).map, chunksize=1", "executor_map", method, goal=2.0),
            rate("Queue, small ints", "queue_small", method, goal=1.5),
            rate("Queue(maxsize=8), 1 MiB bytes", "queue_1mib", method, goal=3.0),
            rate("Manager().dict() set+get", "manager_dict", method, goal=1.5, unit="pairs/s"),
            start_join(method),
            rate("Pipe(duplex=False) 64 B", "pipe_64b", method, [("reference", 0.9)], "msgs/s", floor=()),
            throughput("Pipe(duplex=False) 1 MiB", "pipe_1mib", method, MiB, floor=()),
            throughput("Pipe(duplex=False) 64 MiB", "pipe_64mib", method, 64 * MiB, floor=("fresh",)),
        ]
    return cases
