"""Many lock operations from several processes on one shared counter: ``lock_stress.py METHOD
PROCESSES OPERATIONS``. Each process increments a shared (unsynchronised) counter OPERATIONS
times under each kind of lock, acquiring in several ways (blocking, with a timeout, non-blocking
with retries, and an RLock twice over). Prints, as JSON, each counter's final value and whether
every child ran on the Rust module: a lock that let two processes in at once loses updates."""

import json
import multiprocessing
import os
import sys


def acquire(lock, how):
    if how == 0:
        lock.acquire()
    elif how == 1:
        while not lock.acquire(True, 0.05):
            pass
    else:
        while not lock.acquire(False):
            os.sched_yield()


def work(lock, counter, operations, recursive, ours, start):
    import _multiprocessing

    ours.value = int(bool(getattr(_multiprocessing, "__multiprocessing_rs__", False)))
    start.wait()
    for i in range(operations):
        how = i % 3
        acquire(lock, how)
        if recursive:
            acquire(lock, (how + 1) % 3)  # the owner again: at once
        value = counter.value
        os.sched_yield()  # invites the others in, if the lock lets them
        counter.value = value + 1
        if recursive:
            lock.release()
        lock.release()


def main():
    method, processes, operations = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    ctx = multiprocessing.get_context(method)
    locks = {"Lock": ctx.Lock(), "RLock": ctx.RLock(), "BoundedSemaphore(1)": ctx.BoundedSemaphore(1)}
    report = {}
    for name, lock in locks.items():
        counter = ctx.RawValue("q", 0)
        ours = [ctx.RawValue("b", 0) for _ in range(processes)]
        start = ctx.Event()
        workers = [
            ctx.Process(target=work, args=(lock, counter, operations, name == "RLock", ours[i], start))
            for i in range(processes)
        ]
        for worker in workers:
            worker.start()
        start.set()  # all at once
        for worker in workers:
            worker.join(120)
        report[name] = {
            "counter": counter.value,
            "exit codes": sorted({worker.exitcode for worker in workers}),
            "children on ours": sum(flag.value for flag in ours),
        }
    print(json.dumps(report))


if __name__ == "__main__":
    main()
