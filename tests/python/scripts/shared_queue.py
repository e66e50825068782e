"""A Queue shared by 2 producers and 3 consumers (start method: argv[1]); prints how many items
arrived and how many distinct ones (tests/python/test_queue_pickling.py)."""

import json
import multiprocessing
import sys

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
    print(
        json.dumps(
            {
                "received": len(received),
                "distinct": len(set(received)),
                "expected": PRODUCERS * ITEMS,
                "exitcodes": [p.exitcode for p in procs],
            }
        )
    )
