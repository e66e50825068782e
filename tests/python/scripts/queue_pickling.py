"""What Queue and SimpleQueue put on the wire, compared with ForkingPickler.dumps, and what
reaches _on_queue_feeder_error; prints one JSON report (tests/python/test_queue_pickling.py)."""

import json
import multiprocessing
import threading
from multiprocessing import queues
from multiprocessing.reduction import ForkingPickler

from pickled_objects import OBJECTS, Point, Tagged, stock_bytes


def put_and_read(q, obj):
    # SimpleQueue.put writes at once: read while it does, or a large item would block it.
    putter = threading.Thread(target=q.put, args=(obj,))
    putter.start()
    raw = q._reader.recv_bytes()
    putter.join()
    return raw


class RecordingQueue(queues.Queue):
    failures = None

    def _on_queue_feeder_error(self, e, obj):
        self.failures.put((type(e).__name__, str(e), type(obj).__name__))


def main():
    ctx = multiprocessing.get_context("fork")
    report = {"pickling": type(queues._ForkingPickler).__name__}
    # What goes on the wire: read the raw frames behind the queues' backs.
    same = []
    for make in (ctx.Queue, ctx.SimpleQueue):
        q = make()
        for _ in range(2):
            for obj in OBJECTS:
                same.append(put_and_read(q, obj) == stock_bytes(obj))
        same.append(put_and_read(q, Tagged("plain")) == stock_bytes(Tagged("plain")))
        ForkingPickler.register(Tagged, lambda t: (str, ("reduced:" + t.tag,)))
        try:
            same.append(ForkingPickler.loads(put_and_read(q, Tagged("a"))) == "reduced:a")
        finally:
            del ForkingPickler._extra_reducers[Tagged]
        same.append(put_and_read(q, Tagged("b")) == stock_bytes(Tagged("b")))
    report["wire_as_stock"] = same
    # Items arrive whole through get().
    q = ctx.Queue()
    for obj in OBJECTS:
        q.put(obj)
    got = [q.get(timeout=30) for _ in OBJECTS]
    report["round_trip"] = [stock_bytes(a) == stock_bytes(b) for a, b in zip(got, OBJECTS)]
    # An item that cannot be pickled: the feeder reports it, the next one goes through.
    q = RecordingQueue(ctx=ctx)
    q.failures = ctx.SimpleQueue()
    q.put([Point(1, 2), b"y" * 200_000, lambda: None])
    q.put("after")
    report["feeder_error"] = list(q.failures.get())
    report["after_error"] = q.get(timeout=30)
    print(json.dumps(report))


if __name__ == "__main__":
    main()
