"""``python -m multiprocessing_rs demo``: an ordinary multiprocessing workload, on the Rust module.

Nothing here knows about Rust: it is plain ``multiprocessing`` code (a Pool, Locks around a
shared counter, a Queue between producers and consumers, an Event that releases waiters),
run once per start method. Every child reports which ``_multiprocessing`` it imported, and the
demo fails if any of them got the stock one.
"""

import hashlib
import importlib
import multiprocessing
import os
import sys
import time

from ._install import OVERRIDE_DIR
from ._run import run_program

WORKERS = 4
INCREMENTS = 250
QUEUE_ITEMS = 2000


def module_in_use():
    """``'rust'`` or ``'stock'``: which ``_multiprocessing`` this process imported."""
    module = importlib.import_module("_multiprocessing")
    return "rust" if getattr(module, "__multiprocessing_rs__", False) else "stock"


def semaphores_in_use():
    """Where this process's semaphores live, in words."""
    native = getattr(importlib.import_module("_multiprocessing"), "_native", None)
    if not hasattr(native, "semaphore_backend"):
        return "POSIX named semaphores"
    if native.semaphore_backend() == "file":
        return f"file-backed futex semaphores in {native.private_directory()} (no usable /dev/shm)"
    return "POSIX named semaphores in /dev/shm"


def _digest_chain(seed):
    """A little CPU work for the pool: 20,000 rounds of SHA-256."""
    value = str(seed).encode()
    for _ in range(20_000):
        value = hashlib.sha256(value).digest()
    return seed, value.hex()[:12], os.getpid(), module_in_use()


def _count_under_lock(lock, counter, report):
    for _ in range(INCREMENTS):
        with lock:
            counter.value += 1  # a read and a write: only the lock keeps it exact
    report.put(module_in_use())


def _produce(queue, start, stop):
    for item in range(start, stop):
        queue.put(item)
    queue.put(None)


def _wait_for_event(event, report):
    released = event.wait(timeout=30)
    report.put((released, module_in_use()))


def run_method(method):
    """Runs the workload with one start method; returns a dict of what happened."""
    ctx = multiprocessing.get_context(method)
    started = time.perf_counter()
    modules = []

    with ctx.Pool(2) as pool:
        results = pool.map(_digest_chain, range(8))
    pool_pids = {pid for _, _, pid, _ in results}
    modules += [module for *_, module in results]

    lock = ctx.Lock()
    counter = ctx.Value("i", 0, lock=False)
    report = ctx.Queue()
    workers = [ctx.Process(target=_count_under_lock, args=(lock, counter, report)) for _ in range(WORKERS)]
    for w in workers:
        w.start()
    modules += [report.get(timeout=60) for _ in workers]
    for w in workers:
        w.join()

    queue = ctx.Queue(maxsize=100)
    half = QUEUE_ITEMS // 2
    producers = [
        ctx.Process(target=_produce, args=(queue, 0, half)),
        ctx.Process(target=_produce, args=(queue, half, QUEUE_ITEMS)),
    ]
    for p in producers:
        p.start()
    received, done = [], 0
    while done < len(producers):
        item = queue.get(timeout=60)
        if item is None:
            done += 1
        else:
            received.append(item)
    for p in producers:
        p.join()

    event = ctx.Event()
    waiters = [ctx.Process(target=_wait_for_event, args=(event, report)) for _ in range(3)]
    for w in waiters:
        w.start()
    time.sleep(0.2)
    event.set()
    released = [report.get(timeout=60) for _ in waiters]
    for w in waiters:
        w.join()
    modules += [module for _, module in released]

    return {
        "method": method,
        "pool_tasks": len(results),
        "pool_workers": len(pool_pids),
        "pool_ok": [seed for seed, *_ in results] == list(range(8)),
        "count": counter.value,
        "count_expected": WORKERS * INCREMENTS,
        "queue_items": len(received),
        "queue_ok": sorted(received) == list(range(QUEUE_ITEMS)),
        "event_released": sum(1 for ok, _ in released if ok),
        "children": len(modules),
        "children_rust": modules.count("rust"),
        "seconds": time.perf_counter() - started,
    }


def main():
    if module_in_use() != "rust":
        # Start again with the override on, so that every child gets the Rust module too.
        return run_program(["-m", "multiprocessing_rs", "demo"])

    _multiprocessing = importlib.import_module("_multiprocessing")
    print("multiprocessing-rs demo: plain multiprocessing code, running on the Rust _multiprocessing")
    print(f"  python {sys.version.split()[0]}, _multiprocessing from {_multiprocessing.__file__}")
    print(f"  (override directory {OVERRIDE_DIR} is first on PYTHONPATH for every child)")
    print(f"  semaphores: {semaphores_in_use()}")
    print()
    failures = 0
    for method in multiprocessing.get_all_start_methods():
        r = run_method(method)
        ok = (
            r["pool_ok"]
            and r["count"] == r["count_expected"]
            and r["queue_ok"]
            and r["event_released"] == 3
            and r["children_rust"] == r["children"]
        )
        failures += not ok
        print(f"[{method}] {'ok' if ok else 'FAILED'} in {r['seconds']:.2f} s")
        workers = f"{r['pool_workers']} worker process" + ("es" if r["pool_workers"] != 1 else "")
        print(f"  Pool(2)  : {r['pool_tasks']} SHA-256 chains in {workers}")
        print(
            f"  Lock     : {WORKERS} processes x {INCREMENTS} locked increments = {r['count']} (expected {r['count_expected']})"
        )
        print(
            f"  Queue    : {r['queue_items']} items from 2 producers through a Queue(maxsize=100), none lost or doubled: {r['queue_ok']}"
        )
        print(f"  Event    : released {r['event_released']}/3 waiting processes")
        print(f"  children that imported the Rust module: {r['children_rust']}/{r['children']}")
    print()
    print("demo: all start methods ok" if not failures else f"demo: {failures} start method(s) FAILED")
    return 1 if failures else 0
