"""What a new user tries first, with every start method: ``Pool``, ``Queue``, ``Lock``,
``Event`` + ``Barrier``, ``Value``/``Array`` and ``SharedMemory``, each across processes.

Prints one JSON document: which ``_multiprocessing`` ran, and for each start method and case
``"ok"`` or the exception it raised (``"OSError: [Errno 30] Read-only file system"``).
Run on stock and under the override, on a normal host and on the simulated ones (hostshape.py).
"""

import json
import multiprocessing
import sys
import traceback
from multiprocessing import shared_memory


def square(x):
    return x * x


def put_items(queue):
    for i in range(100):
        queue.put(i)


def bump(lock, counter):
    for _ in range(200):
        with lock:
            counter.value += 1


def meet(event, barrier):
    event.wait(30)
    barrier.wait(30)


def fill(values):
    for i in range(len(values)):
        values[i] = i * 2


def write_hello(name):
    shm = shared_memory.SharedMemory(name)
    shm.buf[:5] = b"hello"
    shm.close()


def pool(ctx):
    with ctx.Pool(2) as p:
        assert p.map(square, range(20)) == [x * x for x in range(20)]


def queue(ctx):
    q = ctx.Queue()
    p = ctx.Process(target=put_items, args=(q,))
    p.start()
    got = [q.get(timeout=30) for _ in range(100)]
    p.join(30)
    assert got == list(range(100)) and p.exitcode == 0


def lock(ctx):
    lock = ctx.Lock()
    counter = ctx.Value("i", 0, lock=False)
    workers = [ctx.Process(target=bump, args=(lock, counter)) for _ in range(3)]
    for w in workers:
        w.start()
    for w in workers:
        w.join(60)
    assert counter.value == 600, counter.value


def event_barrier(ctx):
    event, barrier = ctx.Event(), ctx.Barrier(3)
    workers = [ctx.Process(target=meet, args=(event, barrier)) for _ in range(2)]
    for w in workers:
        w.start()
    event.set()
    barrier.wait(30)
    for w in workers:
        w.join(30)
    assert [w.exitcode for w in workers] == [0, 0]


def value_array(ctx):
    values = ctx.Array("i", 10)
    p = ctx.Process(target=fill, args=(values,))
    p.start()
    p.join(30)
    assert list(values) == [i * 2 for i in range(10)], list(values)


def shared_memory_block(ctx):
    shm = shared_memory.SharedMemory(create=True, size=64)
    try:
        p = ctx.Process(target=write_hello, args=(shm.name,))
        p.start()
        p.join(30)
        assert bytes(shm.buf[:5]) == b"hello"
    finally:
        shm.close()
        shm.unlink()


CASES = {
    "Pool": pool,
    "Queue": queue,
    "Lock": lock,
    "Event+Barrier": event_barrier,
    "Value/Array": value_array,
    "SharedMemory": shared_memory_block,
}


def main():
    import _multiprocessing

    results = {}
    for method in multiprocessing.get_all_start_methods():
        ctx = multiprocessing.get_context(method)
        results[method] = {}
        for name, case in CASES.items():
            try:
                case(ctx)
                results[method][name] = "ok"
            except Exception as exc:
                results[method][name] = f"{type(exc).__name__}: {exc}"
                traceback.print_exc()
    report = {
        "module": "ours" if getattr(_multiprocessing, "__multiprocessing_rs__", False) else "stock",
        "backend": _multiprocessing._native.semaphore_backend() if hasattr(_multiprocessing, "_native") else "posix",
        "results": results,
    }
    print(json.dumps(report))
    return 0


if __name__ == "__main__":
    sys.exit(main())
