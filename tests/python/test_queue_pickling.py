"""Under the override, ``Queue`` and ``SimpleQueue`` pickle items with a reused pickler
(``_pickling.QueuePickling``): the same scenario on stock and on ours must put the same bytes
on the wire, deliver the same items, and report the same failures; a ``Queue`` shared by
several producers and consumers loses and duplicates nothing."""

import textwrap

import pytest

from conftest import run_json_both

SCENARIO = textwrap.dedent(
    """
    import json, multiprocessing, sys, threading
    from multiprocessing import queues, reduction

    ForkingPickler = reduction.ForkingPickler

    class Point:
        def __init__(self, x, y):
            self.x, self.y = x, y

    class Tagged:
        def __init__(self, tag):
            self.tag = tag

    def stock_bytes(obj):
        return bytes(ForkingPickler.dumps(obj))

    def put_and_read(q, obj):
        # SimpleQueue.put writes at once: read while it does, or a large item would block it.
        putter = threading.Thread(target=q.put, args=(obj,))
        putter.start()
        raw = q._reader.recv_bytes()
        putter.join()
        return raw

    def shared():
        part = [1, 2]
        loop = [part, part]
        loop.append(loop)
        return loop

    OBJECTS = [None, 7, "text", (0, 1, (True, [2])), {"p": [Point(1, 2)] * 3}, shared(),
               b"x" * (1 << 20), list(range(50_000))]

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
    """
)


def test_queues_put_what_stock_puts_on_the_wire(version):
    stock, ours = run_json_both(version, ["-c", SCENARIO])
    assert stock["pickling"] == "type" and ours["pickling"] == "QueuePickling"
    for side in (stock, ours):
        assert side["wire_as_stock"] and all(side["wire_as_stock"]), side
        assert all(side["round_trip"]), side
        assert side["after_error"] == "after"
    assert ours["feeder_error"] == stock["feeder_error"]


SHARED_QUEUE = textwrap.dedent(
    """
    import json, multiprocessing, sys

    PRODUCERS, CONSUMERS, ITEMS = 2, 3, 3000

    def produce(q, start):
        for i in range(start, start + ITEMS):
            q.put((i, b"z" * (i % 300)))
        for _ in range(CONSUMERS):
            q.put(None)

    def consume(q, out):
        got = []
        done = 0
        while done < PRODUCERS:
            item = q.get(timeout=60)
            if item is None:
                done += 1
            else:
                assert item[1] == b"z" * (item[0] % 300)
                got.append(item[0])
        out.put(got)

    if __name__ == "__main__":
        ctx = multiprocessing.get_context(sys.argv[1])
        q, out = ctx.Queue(maxsize=50), ctx.SimpleQueue()
        procs = [ctx.Process(target=produce, args=(q, n * ITEMS)) for n in range(PRODUCERS)]
        procs += [ctx.Process(target=consume, args=(q, out)) for _ in range(CONSUMERS)]
        for p in procs:
            p.start()
        received = [i for _ in range(CONSUMERS) for i in out.get()]  # each consumer's list
        for p in procs:
            p.join(60)
        print(json.dumps({"received": len(received), "distinct": len(set(received)),
                          "expected": PRODUCERS * ITEMS, "exitcodes": [p.exitcode for p in procs]}))
    """
)


@pytest.mark.parametrize("method", ["fork", "forkserver"])
def test_a_queue_shared_by_several_consumers_loses_and_duplicates_nothing(method, tmp_path):
    script = tmp_path / "shared_queue.py"  # a file: forkserver children import its functions
    script.write_text(SHARED_QUEUE)
    stock, ours = run_json_both("3.11", [str(script), method], timeout=180)
    for side in (stock, ours):
        assert side["received"] == side["distinct"] == side["expected"], side
        assert side["exitcodes"] == [0] * 5, side
