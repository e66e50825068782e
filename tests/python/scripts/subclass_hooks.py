"""A `Connection` subclass that hooks the lowest level of the transport, `_send` and `_recv`,
as tracing and byte-counting code does. Prints, as JSON, what each step returned or raised and
what the hooks saw: the same on stock and under the override."""

import json
import multiprocessing.connection as mc
from multiprocessing import Pipe


class Hooked(mc.Connection):
    seen = []

    def _send(self, buf, *args):
        self.seen.append(["_send", bytes(buf).hex()])
        super()._send(buf, *args)

    def _recv(self, size, *args):
        result = super()._recv(size, *args)
        self.seen.append(["_recv", size, result.getvalue().hex()])
        return result


def hooked_pair():
    a, b = Pipe()
    ha, hb = Hooked(a._handle), Hooked(b._handle)
    a._handle = b._handle = None
    return ha, hb


def step(fn):
    try:
        value = fn()
    except Exception as exc:
        return {"raised": [type(exc).__name__, str(exc)]}
    return {"value": repr(value)}


def main():
    a, b = hooked_pair()
    into = bytearray(8)
    steps = {
        "send_bytes": step(lambda: a.send_bytes(b"abcdef", 1, 3)),
        "recv_bytes": step(lambda: b.recv_bytes()),
        "send": step(lambda: a.send({"k": [1, 2]})),
        "recv": step(lambda: b.recv()),
        "send_bytes large": step(lambda: a.send_bytes(b"L" * 20000)),
        "recv_bytes large": step(lambda: len(b.recv_bytes())),
        "send_bytes again": step(lambda: a.send_bytes(b"into")),
        "recv_bytes_into": step(lambda: (b.recv_bytes_into(into, 2), bytes(into))),
        "private _send_bytes": step(lambda: a._send_bytes(b"private")),
        "private _recv_bytes": step(lambda: b._recv_bytes().getvalue()),
        # Last: a message over maxlength leaves its payload unread, and the stream out of step.
        "send_bytes too long": step(lambda: a.send_bytes(b"toolong")),
        "recv_bytes maxlength": step(lambda: b.recv_bytes(3)),
    }
    a.close()
    b.close()
    print(json.dumps({"steps": steps, "hooks saw": Hooked.seen}))


if __name__ == "__main__":
    main()
