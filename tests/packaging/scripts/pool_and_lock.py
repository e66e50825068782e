"""A `Pool` whose workers add to a shared counter under a `Lock`, under each start method named on
the command line. Prints one JSON document: which `_multiprocessing` the parent and the workers
ran, the total, and where the package was imported from (for test_wheel.py)."""

import json
import multiprocessing
import sys

import multiprocessing_rs


def ours():
    import _multiprocessing

    return bool(getattr(_multiprocessing, "__multiprocessing_rs__", False))


def share(lock, counter):
    global shared
    shared = (lock, counter)


def add(n):
    lock, counter = shared
    with lock:
        counter.value += n
    return ours()


def run(method):
    ctx = multiprocessing.get_context(method)
    lock = ctx.Lock()
    counter = ctx.RawValue("q", 0)
    with ctx.Pool(2, initializer=share, initargs=(lock, counter)) as pool:
        workers = pool.map(add, range(1, 101), chunksize=5)
    return {"total": counter.value, "workers_ours": sorted(set(workers))}


if __name__ == "__main__":
    report = {"parent_ours": ours(), "package": multiprocessing_rs.__file__}
    report.update({method: run(method) for method in sys.argv[1:]})
    print(json.dumps(report))
