"""``python -m multiprocessing_rs bench``: stock CPython and ours, side by side, in one run.

Both implementations are loaded into the same process and measured in alternating rounds
(stock first in even rounds, ours first in odd ones), so drift in machine load hits both
alike. Each row reports the median of each side's rounds and, as ours/stock, the median of the
per-round ratios (each round pairs two back-to-back measurements, which cancels slow drift).
Absolute numbers on shared machines are noisy; the ratios are what to read. The reference
column is what the socket pair itself does without framing (for the rate, throughput and
latency rows) or the message's own size (for the memory row).
"""

import json
import os
import platform
import statistics
import sys
import time

from ._fallback import stock_multiprocessing


class Case:
    """One benchmark row.

    ``measure(label)`` runs one round on implementation ``label`` (``"stock"`` or ``"ours"``)
    and returns its value in ``unit``; ``reference()``, if given, measures the raw socket pair
    for the last column.
    """

    def __init__(self, name, unit, lower_is_better, measure, reference=None, rounds=None, goal=None):
        self.name = name
        self.unit = unit
        self.lower_is_better = lower_is_better
        self.measure = measure
        self.reference = reference
        self.rounds = rounds
        #: The project's targets, each ``(against, ratio)``: ours/stock (``"stock"``) or
        #: ours/reference (``"reference"``) at most ``ratio`` if lower is better, else at least.
        self.goals = goal if isinstance(goal, list) else ([("stock", goal)] if goal else [])


def _semlock_case(title, kind, value, maxvalue, modules, iterations, rounds):
    """ns per acquire()+release() pair through bound methods, as multiprocessing calls them."""
    rounders = {}
    for label, module in modules.items():
        name = f"/mprs-bench-{os.getpid()}-{label}-{kind}-{maxvalue}"
        lock = module.SemLock(kind, value, maxvalue, name, True)
        rounders[label] = _acquire_release_loop(lock.acquire, lock.release, iterations)
    return Case(title, "ns", True, lambda label: rounders[label](), rounds=rounds, goal=1.0)


def _acquire_release_loop(acquire, release, iterations):
    perf = time.perf_counter_ns

    def one_round():
        start = perf()
        for _ in range(iterations):
            acquire()
            release()
        return (perf() - start) / iterations

    return one_round


def lock_cases(modules, quick):
    # Many short rounds: each pairs stock and ours back to back, which the ratio needs.
    iterations, rounds = (10_000, 11) if quick else (50_000, 61)
    return [
        _semlock_case("Lock acquire+release", 1, 1, 1, modules, iterations, rounds),
        _semlock_case("RLock acquire+release", 0, 1, 1, modules, iterations, rounds),
        _semlock_case("Semaphore acquire+release", 1, 1, 2147483647, modules, iterations, rounds),
    ]


def file_backend_cases(modules, quick):
    """The Lock row with ours on file-backed semaphores (in a child process forced to them, see
    ``_bench_file_backend``); the reference column is ours on POSIX semaphores."""
    from ._bench_file_backend import FileBackendLock

    iterations, rounds = (10_000, 11) if quick else (50_000, 61)
    file_lock = FileBackendLock(iterations)
    posix_lock = modules["ours"].SemLock(1, 1, 1, f"/mprs-bench-{os.getpid()}-posix-reference", True)
    stock_lock = modules["stock"].SemLock(1, 1, 1, f"/mprs-bench-{os.getpid()}-stock-file-row", True)
    stock_round = _acquire_release_loop(stock_lock.acquire, stock_lock.release, iterations)
    measure = {"stock": stock_round, "ours": file_lock.round}
    reference = _acquire_release_loop(posix_lock.acquire, posix_lock.release, iterations)
    return [
        Case(
            "file-backend Lock acquire+release",
            "ns",
            True,
            lambda label: measure[label](),
            reference,
            rounds=rounds,
            goal=1.0,
        )
    ]


def message_cases(quick):
    from . import _bench_messages as m

    scale = 10 if quick else 1
    MiB = 1 << 20

    def rate(size, count, goal=None):
        return Case(
            f"Pipe one-way {_size_name(size)} messages",
            "msgs/s",
            False,
            lambda label: count / m.one_way(label, size, count)[0],
            lambda: count / m.raw_one_way(size, count),
            goal=goal,
        )

    def throughput(size, count, goal):
        return Case(
            f"Pipe one-way {_size_name(size)} messages",
            "GB/s",
            False,
            lambda label: size * count / m.one_way(label, size, count)[0] / 1e9,
            lambda: size * count / m.raw_one_way(size, count) / 1e9,
            goal=goal,
        )

    return [
        rate(64, 100_000 // scale, goal=[("reference", 0.9)]),
        rate(4096, 30_000 // scale),
        throughput(MiB, 300 // scale, goal=[("stock", 2.5), ("reference", 0.7)]),
        Case(
            "Pipe one-way 64 MiB messages",
            "GB/s",
            False,
            lambda label: 64 * MiB * max(2, 4 // scale) / m.one_way(label, 64 * MiB, max(2, 4 // scale))[0] / 1e9,
            lambda: 64 * MiB * max(2, 4 // scale) / m.raw_one_way(64 * MiB, max(2, 4 // scale), fresh=True) / 1e9,
            goal=4.0,
        ),
        *(
            Case(
                f"Pipe 64 B round trip, {where}",
                "us",
                True,
                lambda label, where=where: m.round_trips(label, 64, 5_000 // scale, where) / (5_000 // scale) * 1e6,
                lambda where=where: m.raw_round_trips(64, 5_000 // scale, where) / (5_000 // scale) * 1e6,
                goal=[("reference", 1.05)],
            )
            for where in m.placements()
        ),
        Case(
            "receiver peak memory, 64 MiB message",
            "MiB",
            True,
            lambda label: m.one_way(label, 64 * MiB, 1)[1] / 1024,
            lambda: 64.0,
            rounds=3,
            goal=[("reference", 1.2)],
        ),
        *(
            Case(
                f"handshake (mutual, default digest), {where}",
                "us",
                True,
                lambda label, where=where: m.handshakes(label, 300 // scale, where) / (300 // scale) * 1e6,
                goal=0.8,
            )
            for where in m.placements()
        ),
    ]


def _size_name(size):
    for unit, factor in (("MiB", 1 << 20), ("KiB", 1 << 10)):
        if size >= factor:
            return f"{size // factor} {unit}"
    return f"{size} B"


def run_cases(cases, labels, rounds):
    """Measures every case on every implementation in alternating rounds (stock first in
    even rounds, ours first in odd ones). Returns one dict per case: medians, ratio, reference.
    """
    results = []
    for case in cases:
        samples = {label: [] for label in labels}
        ratios = []
        reference = []
        started = time.perf_counter()
        for i in range(case.rounds or rounds):
            for label in labels if i % 2 == 0 else list(reversed(labels)):
                samples[label].append(case.measure(label))
            if samples["stock"][-1]:
                ratios.append(samples["ours"][-1] / samples["stock"][-1])
            if case.reference is not None:
                reference.append(case.reference())
        row = {"name": case.name, "unit": case.unit, "lower_is_better": case.lower_is_better}
        for label in labels:
            row[label] = statistics.median(samples[label])
        row["ratio"] = statistics.median(ratios) if ratios else float("nan")
        row["ratios"] = ratios
        row["reference"] = statistics.median(reference) if reference else None
        row["bench_seconds"] = time.perf_counter() - started
        row["goals"] = []
        for against, target in case.goals:
            base = row["stock"] if against == "stock" else row["reference"]
            ratio = row["ratio"] if against == "stock" else row["ours"] / base
            met = ratio <= target if case.lower_is_better else ratio >= target
            row["goals"].append({"against": against, "target": target, "ratio": ratio, "met": met})
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
    return (
        f"{cpu}, {os.cpu_count()} CPUs, {platform.system()} {platform.release()}, CPython {platform.python_version()}"
    )


def _format(value, unit):
    if value is None:
        return ""
    if value >= 100_000:
        return f"{value / 1e6:,.2f} M {unit}"
    return f"{value:,.1f} {unit}" if value < 100 else f"{value:,.0f} {unit}"


def print_table(results, rounds):
    print(
        f"multiprocessing-rs bench: stock vs ours in one run, medians of alternating rounds "
        f"({rounds} for most micro rows; [method] rows: fresh interpreters each round)"
    )
    print(f"machine: {machine_description()}")
    print()
    print(
        f"| {'what':<52} | {'stock':>15} | {'ours':>15} | {'ours/stock':>10} | {'range':>11} | {'better':<6} "
        f"| {'reference':>15} | {'ours/ref':>8} | {'goal':<30} |"
    )
    print(f"|{'-' * 54}|{'-' * 16}:|{'-' * 16}:|{'-' * 11}:|{'-' * 12}:|{'-' * 8}|{'-' * 16}:|{'-' * 9}:|{'-' * 32}|")
    for r in results:
        better = "lower" if r["lower_is_better"] else "higher"
        sign = "<=" if r["lower_is_better"] else ">="
        goal = "; ".join(
            f"{'' if g['against'] == 'stock' else 'ref '}{sign} {g['target']:.2f}x: {'met' if g['met'] else 'MISSED'}"
            for g in r["goals"]
        )
        to_ref = f"{r['ours'] / r['reference']:.2f}x" if r["reference"] else ""
        print(
            f"| {r['name']:<52} | {_format(r['stock'], r['unit']):>15} | {_format(r['ours'], r['unit']):>15} "
            f"| {r['ratio']:>9.2f}x | {_spread(r['ratios']):>11} | {better:<6} | {_format(r['reference'], r['unit']):>15} | {to_ref:>8} "
            f"| {goal:<30} |"
        )
    print()
    for line in REFERENCE_NOTES:
        print(line)


def _spread(ratios):
    """The lowest and highest paired ratio, where there are several."""
    return f"{min(ratios):.2f}-{max(ratios):.2f}" if len(ratios) > 1 else ""


#: What the reference column holds, printed under the table.
REFERENCE_NOTES = [
    "ours/stock: median of the paired rounds' ratios; range: the lowest and highest of them.",
    "reference: the same messages without Connection (socket pair or pipe): the sender writes header",
    "and payload at once, the receiver makes the two reads a framed message costs (os.read, or",
    "recv_into a reused buffer, or for 64 MiB new memory per message, as a new bytes object is); for",
    "the round trip, the same two reads on each side; for the memory row, the message itself.",
    "one CPU / two CPUs: both processes pinned to one CPU, or one to each of two (left to the",
    "scheduler, rounds land either way, and a hand-over costs far more across two vCPUs).",
    "[method] rows: each round a fresh interpreter per side (ours with the override in every child),",
    "timed inside the program with its pool, manager or child already started; Pipe(duplex=False)",
    "rows from the first send to the child holding the last message.",
    "file-backend row: ours on file-backed semaphores (a child process forced to them); its",
    "reference is ours on POSIX semaphores.",
]


def main(json_output=False, quick=False, only=None):
    from . import _native as ours
    from ._bench_end_to_end import workload_cases

    modules = {"stock": stock_multiprocessing(), "ours": ours}
    rounds = 3 if quick else 7
    cases = lock_cases(modules, quick) + message_cases(quick) + workload_cases(Case, quick)
    if sys.platform == "linux":
        cases[3:3] = file_backend_cases(modules, quick)
    if only:
        cases = [case for case in cases if only in case.name]
    results = run_cases(cases, ["stock", "ours"], rounds)
    if json_output:
        json.dump({"machine": machine_description(), "rounds": rounds, "results": results}, sys.stdout, indent=2)
        print()
    else:
        print_table(results, rounds)
    return 0
