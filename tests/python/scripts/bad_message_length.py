"""A message longer than `maxlength`, on stock and under the override: printed as JSON for
`test_bad_message_length.py`. Stock's `recv_bytes` calls `self._bad_message_length()`, which a
program may replace; its private `_recv_bytes` returns None for such a message."""

import json
from multiprocessing import Pipe
from multiprocessing.connection import Connection

calls = []
original = Connection._bad_message_length


def recording(self):
    calls.append("called")
    return original(self)


def describe(exc):
    return {
        "type": type(exc).__qualname__,
        "args": repr(exc.args),
        "context": type(exc.__context__).__qualname__ if exc.__context__ is not None else None,
    }


def too_long(receive):
    a, b = Pipe()
    a.send_bytes(b"0123456789")
    try:
        value = {"value": repr(receive(b))}
    except Exception as exc:
        value = {"raised": describe(exc)}
    value["state"] = [b.closed, b.readable, b.writable]
    return value


results = {"default": too_long(lambda b: b.recv_bytes(5))}
Connection._bad_message_length = recording
results["replaced"] = too_long(lambda b: b.recv_bytes(5))
results["calls"] = list(calls)
Connection._bad_message_length = original
results["private _recv_bytes"] = too_long(lambda b: b._recv_bytes(5))
results["transport"] = "multiprocessing_rs" in Connection.recv_bytes.__code__.co_filename
print(json.dumps(results))
