"""A `Queue`, a `Pool` and a `Manager` under each start method named on the command line, every
child reporting which `Connection` code it runs. Prints one JSON document (for
test_connection_behaviour.py)."""

import json
import multiprocessing
import os
import sys
from multiprocessing.managers import BaseManager, DictProxy


def transport():
    import multiprocessing.connection as mc

    patched = bool(getattr(mc, "__multiprocessing_rs_patched__", False))
    code = mc.Connection.recv_bytes.__code__.co_filename
    return f"{patched}:{os.path.basename(os.path.dirname(code))}"


def transport_dict():
    return {"transport": transport(), "pid": os.getpid()}


class ProbeManager(BaseManager):
    pass


ProbeManager.register("probe", callable=transport_dict, proxytype=DictProxy)


def square(x):
    return x * x, transport()


def echo(inbox, outbox):
    while (item := inbox.get()) is not None:
        outbox.put((item, transport()))


def run(method):
    ctx = multiprocessing.get_context(method)
    result = {}
    inbox, outbox = ctx.Queue(), ctx.Queue()
    worker = ctx.Process(target=echo, args=(inbox, outbox))
    worker.start()
    payloads = [b"", b"q", bytes(range(256)) * 4096, {"n": list(range(1000))}]
    for item in payloads:
        inbox.put(item)
    echoed = [outbox.get(timeout=60) for _ in payloads]
    inbox.put(None)
    worker.join(60)
    result["queue"] = {
        "intact": [item for item, _ in echoed] == payloads,
        "transports": sorted({t for _, t in echoed}),
        "exitcode": worker.exitcode,
    }
    with ctx.Pool(2) as pool:
        squares = pool.map(square, range(20), chunksize=3)
        big = pool.apply_async(len, (b"z" * (3 << 20),)).get(60)
    result["pool"] = {"squares": [s for s, _ in squares], "big": big, "transports": sorted({t for _, t in squares})}
    with ctx.Manager() as manager:
        d = manager.dict()
        d["blob"] = b"m" * 200000
        shared = manager.list(range(5))
        shared.append(5)
        lock = manager.Lock()
        with lock:
            d["n"] = len(shared)
        result["manager"] = {"blob": d["blob"] == b"m" * 200000, "n": d["n"], "list": list(shared)}
    with ProbeManager(ctx=ctx) as probes:
        probe = probes.probe().copy()
        result["manager"]["server transport"] = probe["transport"]
        result["manager"]["server is another process"] = probe["pid"] != os.getpid()
    return result


if __name__ == "__main__":
    print(json.dumps({"parent": transport(), **{m: run(m) for m in sys.argv[1:]}}))
