"""The handshake over a `Connection` subclass whose `recv_bytes` returns a `bytearray` (as a
wrapper that post-processes messages may): stock's handshake takes any bytes-like message, so
ours must too. Prints, as JSON, how each side of each handshake ended: the same on stock and
under the override."""

import json
import multiprocessing.connection as mc
import threading
from multiprocessing import Pipe


class ByteArrays(mc.Connection):
    def recv_bytes(self, maxlength=None):
        return bytearray(super().recv_bytes(maxlength))


def pair(subclass_side):
    """A duplex pipe; the end named by ``subclass_side`` ("deliver" or "answer") is a ByteArrays."""
    ends = list(Pipe())
    index = 0 if subclass_side == "deliver" else 1
    plain = ends[index]
    ends[index] = ByteArrays(plain._handle)
    plain._handle = None  # the descriptor is the subclass's now
    return ends


def outcome(fn, *args):
    try:
        fn(*args)
    except Exception as exc:
        return [type(exc).__name__, str(exc)]
    return "ok"


def handshake(subclass_side, deliver_key, answer_key):
    """Both sides in threads of their own; a side still waiting 5 s after the other ended is
    woken by closing both ends (it then reports what the close made it raise)."""
    deliverer, answerer = pair(subclass_side)
    ended = {}
    sides = [
        threading.Thread(target=lambda: ended.update(deliver=outcome(mc.deliver_challenge, deliverer, deliver_key))),
        threading.Thread(target=lambda: ended.update(answer=outcome(mc.answer_challenge, answerer, answer_key))),
    ]
    for side in sides:
        side.daemon = True
        side.start()
    for side in sides:
        side.join(5)
    deliverer.close()
    answerer.close()
    for side in sides:
        side.join(5)
    return ended


def main():
    results = {
        f"{side}, {keys}": handshake(side, b"key", b"key" if keys == "same key" else b"other")
        for side in ("deliver", "answer")
        for keys in ("same key", "wrong key")
    }
    print(json.dumps(results))


if __name__ == "__main__":
    main()
