"""Large items through ``Queue.get``, ``SimpleQueue.get`` and ``Connection.recv``, which under
the override unpickle messages of 64 KiB to 4 MiB out of a buffer each thread reuses
(``_reused_buffer``); prints one JSON report (tests/python/test_reused_receive_buffer.py).

Every item is ``(index, payload)`` with a payload that says its index, of sizes on both sides
of the reuse limits, and each consumer keeps every item until the end, then checks them all:
an item that shared memory with the reused buffer would show a later message's bytes.
Argument: the start method."""

import json
import multiprocessing
import os
import pickle
import signal
import struct
import sys
import threading
import time

PRODUCERS, CONSUMERS, ITEMS = 2, 3, 40
SIZES = [100, 70_000, 65_536, 300_000, 1 << 20, (3 << 20) + 5, 4 << 20, (4 << 20) + 1]


def make_item(index):
    size = SIZES[index % len(SIZES)]
    return index, bytes([index % 251]) * size


def intact(item):
    index, payload = item
    return type(payload) is bytes and payload == make_item(index)[1]


def produce(queue, first, consumers):
    for index in range(first, first + ITEMS):
        queue.put(make_item(index))
    for _ in range(consumers):
        queue.put(None)


def consume(queue, producers, out):
    kept, ends = [], 0
    while ends < producers:
        item = queue.get()
        if item is None:
            ends += 1
        else:
            kept.append(item)
    out.put(([index for index, _ in kept], sum(not intact(item) for item in kept)))


def shared(ctx, make_queue, producers, consumers):
    """Indices received (in all), and how many items arrived changed."""
    queue, out = make_queue(), ctx.SimpleQueue()
    procs = [ctx.Process(target=produce, args=(queue, n * ITEMS, consumers)) for n in range(producers)]
    procs += [ctx.Process(target=consume, args=(queue, producers, out)) for _ in range(consumers)]
    for proc in procs:
        proc.start()
    received, changed = [], 0
    for _ in range(consumers):
        indices, bad = out.get()
        received += indices
        changed += bad
    for proc in procs:
        proc.join(120)
    return {
        "received": len(received),
        "distinct": len(set(received)),
        "expected": producers * ITEMS,
        "changed": changed,
        "exitcodes": [proc.exitcode for proc in procs],
    }


# Unpickling a message that receives another on the same thread (a reducer's callable reads
# from the same connection or queue): the inner message must not land where the outer one is
# still being read from.

SOURCE = None


def receive_inner():
    return SOURCE()


class ReceivesWhileUnpickled:
    def __reduce__(self):
        return receive_inner, ()


def nested(get, put):
    """Sends ``(ReceivesWhileUnpickled(), outer payload)`` and then an inner item, and
    receives the first: whether both payloads arrived intact."""
    global SOURCE
    SOURCE = get
    # 3 MiB, then 1 MiB: both in the reused range, and the inner one would fit where the outer is
    outer, inner = make_item(5), make_item(4)

    def send():
        put((ReceivesWhileUnpickled(), outer[1]))
        put(inner)

    sender = threading.Thread(target=send)
    sender.start()
    got_inner, got_outer = get()
    sender.join()
    return got_outer == outer[1] and intact(got_inner)


def interrupted(ctx):
    """A 3 MiB message arrives in two parts; between them a signal handler receives a 1 MiB
    message on another pipe (on the same thread, while the first is being written into the
    buffer): whether both arrive intact."""
    outer, inner = make_item(5), make_item(4)
    reader, writer = ctx.Pipe(duplex=False)
    other_reader, other_writer = ctx.Pipe(duplex=False)
    got = {}
    previous = signal.signal(signal.SIGUSR1, lambda *_: got.setdefault("inner", other_reader.recv()))
    main_thread = threading.get_ident()
    message = pickle.dumps(outer)
    framed = struct.pack("!i", len(message)) + message
    half = len(framed) // 2

    def send():
        os.write(writer.fileno(), framed[:half])  # the pipe takes 64 KiB: waits for the reader
        time.sleep(0.2)  # the receiver is now waiting in the middle of the message
        signal.pthread_kill(main_thread, signal.SIGUSR1)
        other_writer.send(inner)
        time.sleep(0.2)
        rest = memoryview(framed)[half:]
        while rest:
            rest = rest[os.write(writer.fileno(), rest) :]

    sender = threading.Thread(target=send)
    sender.start()
    got["outer"] = reader.recv()
    sender.join()
    signal.signal(signal.SIGUSR1, previous)
    return got.get("outer") == outer and intact(got.get("inner", (0, b"")))


def main():
    ctx = multiprocessing.get_context(sys.argv[1])
    report = {
        "Queue": shared(ctx, lambda: ctx.Queue(maxsize=4), PRODUCERS, CONSUMERS),
        "SimpleQueue": shared(ctx, ctx.SimpleQueue, 1, 2),
    }
    reader, writer = ctx.Pipe(duplex=False)
    report["nested recv"] = nested(reader.recv, writer.send)
    report["recv in a signal handler"] = interrupted(ctx)
    queue = ctx.Queue()
    report["nested Queue.get"] = nested(queue.get, queue.put)
    simple = ctx.SimpleQueue()
    report["nested SimpleQueue.get"] = nested(simple.get, simple.put)
    queue.close()
    try:
        queue.get()
    except Exception as exc:
        report["get after close"] = [type(exc).__name__, str(exc).replace(repr(queue), "Q")]
    writer.send(make_item(0))
    reader.close()
    try:
        reader.recv()
    except Exception as exc:
        report["recv after close"] = [type(exc).__name__, str(exc)]
    # Which code ran: under the override, the buffer this thread reused (grown to the largest
    # message it held), and where Queue.get comes from.
    reused = sys.modules.get("multiprocessing_rs._reused_buffer")
    report["reused buffer size"] = len(reused.thread_buffer.buffer) if reused else None
    report["Queue.get from"] = os.path.basename(multiprocessing.queues.Queue.get.__code__.co_filename)
    print(json.dumps(report))


if __name__ == "__main__":
    main()
