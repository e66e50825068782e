"""``python -m multiprocessing_rs bench``: stock CPython and ours, side by side, in one run.

Both implementations are loaded into the same process and measured in alternating rounds
(stock first in even rounds, ours first in odd ones), so drift in machine load hits both
alike. Each row reports the median of the rounds and the ratio ours/stock. Absolute numbers on
shared machines are noisy; the ratios are what to read.
"""

import json
import os
import platform
import statistics
import sys
import time

from ._stock import load_stock_module


class Case:
    """One benchmark row: ``measure(impl, rounds_hint)`` returns one round's value."""

    def __init__(self, name, unit, lower_is_better, make_round):
        self.name = name
        self.unit = unit
        self.lower_is_better = lower_is_better
        self.make_round = make_round


def _semlock_round(module, kind, value, maxvalue, iterations):
    """ns per acquire()+release() pair through bound methods, as multiprocessing calls them."""
    name = f"/mprs-bench-{os.getpid()}-{kind}-{maxvalue}"
    lock = module.SemLock(kind, value, maxvalue, name, True)
    acquire, release = lock.acquire, lock.release
    perf = time.perf_counter_ns

    def one_round():
        start = perf()
        for _ in range(iterations):
            acquire()
            release()
        return (perf() - start) / iterations

    return one_round


def semlock_cases(iterations):
    def case(title, kind, value, maxvalue):
        return Case(
            title,
            "ns",
            True,
            lambda module: _semlock_round(module, kind, value, maxvalue, iterations),
        )

    return [
        case("Lock acquire+release", 1, 1, 1),
        case("RLock acquire+release", 0, 1, 1),
        case("Semaphore acquire+release", 1, 1, 2147483647),
    ]


def run_cases(cases, implementations, rounds):
    """Measures every case on every implementation in alternating rounds.

    Returns ``[{name, unit, lower_is_better, <impl>: median, ratio}]``.
    """
    results = []
    for case in cases:
        rounders = {label: case.make_round(module) for label, module in implementations}
        samples = {label: [] for label, _ in implementations}
        order = [label for label, _ in implementations]
        for i in range(rounds):
            for label in order if i % 2 == 0 else reversed(order):
                samples[label].append(rounders[label]())
        row = {"name": case.name, "unit": case.unit, "lower_is_better": case.lower_is_better}
        for label in order:
            row[label] = statistics.median(samples[label])
        row["ratio"] = row["ours"] / row["stock"] if row["stock"] else float("nan")
        results.append(row)
    return results


def machine_description():
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    return f"{cpu}, {os.cpu_count()} CPUs, {platform.system()} {platform.release()}, CPython {platform.python_version()}"


def _format(value, unit):
    return f"{value:,.1f} {unit}" if value < 100 else f"{value:,.0f} {unit}"


def print_table(results, rounds):
    print(f"multiprocessing-rs bench: stock vs ours, medians of {rounds} alternating rounds")
    print(f"machine: {machine_description()}")
    print()
    print(f"| {'what':<34} | {'stock':>14} | {'ours':>14} | {'ours/stock':>10} | {'better':<6} |")
    print(f"|{'-' * 36}|{'-' * 15}:|{'-' * 15}:|{'-' * 11}:|{'-' * 8}|")
    for r in results:
        better = "lower" if r["lower_is_better"] else "higher"
        print(
            f"| {r['name']:<34} | {_format(r['stock'], r['unit']):>14} | {_format(r['ours'], r['unit']):>14} "
            f"| {r['ratio']:>9.2f}x | {better:<6} |"
        )


def main(json_output=False, quick=False):
    from . import _multiprocessing as ours

    stock = load_stock_module()
    rounds = 5 if quick else 21
    iterations = 20_000 if quick else 200_000
    implementations = [("stock", stock), ("ours", ours)]
    results = run_cases(semlock_cases(iterations), implementations, rounds)
    if json_output:
        json.dump(
            {"machine": machine_description(), "rounds": rounds, "results": results},
            sys.stdout,
            indent=2,
        )
        print()
    else:
        print_table(results, rounds)
    return 0
