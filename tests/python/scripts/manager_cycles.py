"""`BaseManager` servers started with spawn, called once and shut down, N times (argv[1]). A
server ends with daemon threads (one per client connection) blocked in a `Connection` receive,
which the shutdown wakes while the server's interpreter exits. Prints one JSON document: whether
the servers ran our `_multiprocessing`, the results of the calls, and the exit codes of the
servers that did not exit with 0."""

import json
import multiprocessing
import sys
from multiprocessing.managers import BaseManager


def ours():
    import _multiprocessing

    return bool(getattr(_multiprocessing, "__multiprocessing_rs__", False))


class Counter:
    def __init__(self):
        self.total = 0

    def add(self, n):
        self.total += n
        return self.total


class CounterManager(BaseManager):
    pass


CounterManager.register("Counter", Counter)
CounterManager.register("ours", ours)


def main(cycles):
    ctx = multiprocessing.get_context("spawn")
    results, servers_ours, failed_exits = [], set(), []
    for _ in range(cycles):
        manager = CounterManager(ctx=ctx)
        manager.start()
        counter = manager.Counter()
        results.append(counter.add(2))
        servers_ours.add(manager.ours()._getvalue())
        del counter
        server = manager._process  # no public handle on the server's exit code
        manager.shutdown()
        server.join()
        if server.exitcode != 0:
            failed_exits.append(server.exitcode)
    return {"servers_ours": sorted(servers_ours), "results": sorted(set(results)), "failed_exits": failed_exits}


if __name__ == "__main__":
    print(json.dumps(main(int(sys.argv[1]))))
