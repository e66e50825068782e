"""The programs behind the bench's end-to-end rows: ordinary ``multiprocessing`` code.

Each workload runs in a fresh interpreter, started by ``_bench_end_to_end`` either plainly
(stock) or with the override directory first on ``PYTHONPATH`` (ours, as
``python -m multiprocessing_rs run`` starts it), so every child process of the workload gets
the same implementation as its parent. The program times the workload itself, after its pool,
manager or child process is up (interpreter start-up is not counted, and neither is the
start-up of a pool; only the start+join row is about starting processes), and prints one JSON
line: ``{"seconds": ..., "items": ...}``.

``python -m multiprocessing_rs._bench_workloads WORKLOAD METHOD EXPECT SCALE``, where EXPECT is
``stock`` or ``ours`` (the program fails if the parent or a child runs the other one) or
``floor`` (the bare-pipe reference of the ``Pipe`` rows: no ``Connection`` at all), and SCALE
divides the item counts (10 for ``--quick``).
"""

import contextlib
import json
import mmap
import multiprocessing
import os
import struct
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import connection

MiB = 1 << 20


def implementation():
    """``"ours"`` if ``multiprocessing.connection`` runs on the Rust transport, else ``"stock"``."""
    return "ours" if getattr(connection, "__multiprocessing_rs_patched__", False) else "stock"


def _double(x):
    return 2 * x


def _check(expect, got, where):
    if expect != "floor" and got != expect:
        raise SystemExit(f"bench workload: the {where} runs {got}, expected {expect}")


# Pools. The pool is started, and each worker has run a task, before the clock starts.


@contextlib.contextmanager
def _started_pool(ctx, expect):
    """``Pool(2)`` once each worker has run a task (and said which implementation it runs)."""
    with ctx.Pool(2) as pool:
        for got in pool.map(_child_implementation, range(4), chunksize=1):
            _check(expect, got, "pool worker")
        yield pool


def pool_map(ctx, expect, scale):
    count = int(5_000 / scale)
    with _started_pool(ctx, expect) as pool:
        start = time.perf_counter()
        pool.map(_double, range(count), chunksize=1)
        return time.perf_counter() - start, count


def pool_imap_unordered(ctx, expect, scale):
    # 400,000 items: about 0.2 s. With 100,000 (50 ms) a scheduling hiccup of either side moved
    # the paired ratio from 0.85x to 1.45x, and a round could show ours slower than stock.
    count = int(400_000 / scale)
    with _started_pool(ctx, expect) as pool:
        start = time.perf_counter()
        for _ in pool.imap_unordered(_double, range(count), chunksize=64):
            pass
        return time.perf_counter() - start, count


def executor_map(ctx, expect, scale):
    count = int(2_000 / scale)
    with ProcessPoolExecutor(2, mp_context=ctx) as executor:
        for got in executor.map(_child_implementation, range(4)):
            _check(expect, got, "executor worker")
        start = time.perf_counter()
        for _ in executor.map(_double, range(count), chunksize=1):
            pass
        return time.perf_counter() - start, count


def _child_implementation(_=None):
    return implementation()


# Queues: one producer process, the parent consumes. The producer waits for the go.


def _produce(queue, go, count, item, expect):
    _check(expect, implementation(), "producer")
    go.wait()
    for _ in range(count):
        queue.put(item)
    queue.put(None)


def _consume_queue(ctx, expect, queue, count, item):
    go = ctx.Event()
    producer = ctx.Process(target=_produce, args=(queue, go, count, item, expect))
    producer.start()
    start = time.perf_counter()
    go.set()
    while queue.get() is not None:
        pass
    seconds = time.perf_counter() - start
    producer.join()
    if producer.exitcode != 0:
        raise SystemExit("bench workload: the producer failed")
    return seconds


def queue_small(ctx, expect, scale):
    count = int(20_000 / scale)
    return _consume_queue(ctx, expect, ctx.Queue(), count, 12345), count


def queue_large(ctx, expect, scale):
    count = max(20, int(200 / scale))
    return _consume_queue(ctx, expect, ctx.Queue(maxsize=8), count, b"x" * MiB), count


# A manager: a dict proxy, one set and one get per item.


def manager_dict(ctx, expect, scale):
    count = int(3_000 / scale)
    with ctx.Manager() as manager:
        shared = manager.dict()
        start = time.perf_counter()
        for i in range(count):
            shared[i] = i
            shared[i]
        return time.perf_counter() - start, count


# Starting processes: one at a time, each started and joined (after one that warms up the
# start method: the fork server's own start is not counted).


def _noop():
    pass


def process_start_join(ctx, expect, scale):
    count = max(5, int(20 / scale))
    warm = ctx.Process(target=_child_implementation)
    warm.start()
    warm.join()
    start = time.perf_counter()
    for _ in range(count):
        process = ctx.Process(target=_noop)
        process.start()
        process.join()
    return time.perf_counter() - start, count


# Pipe(duplex=False): one-way messages from the parent to a child, timed from the first send
# to the child's word that it holds the last message. The floor does the same over the same
# pipe with bare os.write/os.read: the 4-byte header and the payload written at once, read back
# with the two reads a framed message costs (header, then payload), into one reused buffer for
# large payloads, or (FRESH) into new memory for every message, as a received bytes object is.


def _receive(reader, done, count, expect, fresh):
    _check(expect, implementation(), "receiver")
    if expect == "floor":
        _receive_bare(reader.fileno(), count, fresh)
    else:
        for _ in range(count):
            reader.recv_bytes()
    done.send_bytes(b"done")


def _receive_bare(fd, count, fresh):
    reused = None
    with open(fd, "rb", buffering=0, closefd=False) as pipe:
        for _ in range(count):
            (size,) = struct.unpack("!i", _read_exactly(pipe, 4))
            if size < 64 * 1024:
                _read_exactly(pipe, size)
                continue
            if fresh:
                buffer = mmap.mmap(-1, size)
            else:
                reused = reused if reused is not None and len(reused) == size else bytearray(size)
                buffer = reused
            fill(memoryview(buffer), pipe.readinto)


def _read_exactly(pipe, size):
    data = pipe.read(size)
    if len(data) == size:
        return data
    rest = bytearray(size - len(data))
    fill(memoryview(rest), pipe.readinto)
    return data + rest


def fill(view, read_into):
    """Fills ``view`` with ``read_into`` calls (a file's ``readinto``, a socket's
    ``recv_into``); ``EOFError`` if the data ends first."""
    while view:
        n = read_into(view)
        if not n:
            raise EOFError
        view = view[n:]


def _pipe_one_way(size, count):
    def workload(ctx, expect, scale, fresh=False):
        n = max(2, int(count / scale))
        reader, writer = ctx.Pipe(duplex=False)
        done_reader, done_writer = ctx.Pipe(duplex=False)
        child = ctx.Process(target=_receive, args=(reader, done_writer, n, expect, fresh))
        child.start()
        reader.close()
        done_writer.close()
        payload = b"x" * size
        start = time.perf_counter()
        if expect == "floor":
            _send_bare(writer.fileno(), payload, n)
        else:
            for _ in range(n):
                writer.send_bytes(payload)
        done_reader.recv_bytes()
        seconds = time.perf_counter() - start
        child.join()
        return seconds, n

    return workload


def _send_bare(fd, payload, count):
    header = struct.pack("!i", len(payload))
    if len(payload) < 64 * 1024:
        message = header + payload
        for _ in range(count):
            os.write(fd, message)
        return
    for _ in range(count):
        os.write(fd, header)
        view = memoryview(payload)
        while view:
            view = view[os.write(fd, view) :]


#: Every workload by name: ``(ctx, expect, scale) -> (seconds, items)``.
WORKLOADS = {
    "pool_map": pool_map,
    "pool_imap_unordered": pool_imap_unordered,
    "executor_map": executor_map,
    "queue_small": queue_small,
    "queue_1mib": queue_large,
    "manager_dict": manager_dict,
    "process_start_join": process_start_join,
    "pipe_64b": _pipe_one_way(64, 100_000),
    "pipe_1mib": _pipe_one_way(MiB, 300),
    "pipe_64mib": _pipe_one_way(64 * MiB, 4),
}


def main(argv):
    name, method, expect, scale = argv[:4]
    _check(expect, implementation(), "parent")
    ctx = multiprocessing.get_context(method)
    options = {"fresh": True} if "fresh" in argv[4:] else {}
    seconds, items = WORKLOADS[name](ctx, expect, float(scale), **options)
    print(json.dumps({"seconds": seconds, "items": items}))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
