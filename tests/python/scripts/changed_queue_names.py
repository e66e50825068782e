"""`multiprocessing.queues` as a CPython we have not verified might have it: ``Queue.get``
takes another parameter, or ``SimpleQueue.get`` no longer reads ``_reader``. Run as
``changed_queue_names.py CASE`` without the override; it changes the stock module, installs the
override, and prints as JSON the warnings, whether each ``get`` is still the one it set, whether
the reused pickler is in, and whether both queues still carry a large item."""

import json
import multiprocessing
import multiprocessing.queues as mq
import sys
import warnings


def queue_get_takes_another_parameter():
    stock = mq.Queue.get

    def get(self, block=True, timeout=None, *, sentinel=None):
        return stock(self, block, timeout)

    mq.Queue.get = get


def simple_queue_get_reads_other_names():
    stock = mq.SimpleQueue.get

    def get(self):
        return stock(self)

    mq.SimpleQueue.get = get


CASES = {
    "Queue.get takes another parameter": queue_get_takes_another_parameter,
    "SimpleQueue.get reads other names": simple_queue_get_reads_other_names,
}


def carries_large_item(queue):
    item = b"q" * (1 << 20)
    queue.put(item)
    return queue.get() == item


def main():
    CASES[sys.argv[1]]()
    changed = (mq.Queue.get, mq.SimpleQueue.get)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        import multiprocessing_rs

        multiprocessing_rs.install()
    ctx = multiprocessing.get_context("fork")
    print(
        json.dumps(
            {
                "warnings": [[w.category.__name__, str(w.message)] for w in caught],
                "gets unchanged": [mq.Queue.get is changed[0], mq.SimpleQueue.get is changed[1]],
                "pickling": type(mq._ForkingPickler).__name__,
                "Queue works": carries_large_item(ctx.Queue()),
                "SimpleQueue works": carries_large_item_simple(ctx.SimpleQueue()),
            }
        )
    )


def carries_large_item_simple(queue):
    # SimpleQueue.put writes at once: a reader must be there for a message over the pipe's size.
    import threading

    item = b"s" * (1 << 20)
    writer = threading.Thread(target=queue.put, args=(item,))
    writer.start()
    got = queue.get()
    writer.join()
    return got == item


if __name__ == "__main__":
    main()
